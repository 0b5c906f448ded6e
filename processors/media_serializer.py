"""The Telnyx media-stream serializer of our calls: Pipecat's, made safe against bad messages.

Pipecat's `TelnyxFrameSerializer` lets an exception escape `deserialize` for some malformed messages
(a `media` field that is not an object, a payload that is not Base64, a JSON array), and the
FastAPI transport then stops reading the socket, which silently drops the call. Here every bad
message is logged (without its content: it may carry audio or numbers) and skipped.

It also turns the carrier twin's out-of-band ``x_twin_transcript`` message (see
`bot.twin_media`) into an `InputTransportMessageFrame` for the clearly labelled simulated STT,
instead of dropping it as the stock serializer does.

Audio at the carrier's own 8 kHz (every call: the pipeline runs at the phone rate) takes a short
path both ways, 50 times a second per direction and call: each message is parsed once (the
stock class parses it again), and the outgoing JSON is put together directly, byte for byte what
the stock class's ``json.dumps`` writes. Other rates and events go through the stock code.
"""

from __future__ import annotations

import base64
import binascii
import json
import warnings

from loguru import logger
from pipecat.frames.frames import AudioRawFrame, Frame, InputAudioRawFrame, InputTransportMessageFrame
from pipecat.serializers.telnyx import TelnyxFrameSerializer

with warnings.catch_warnings():
    # audioop is deprecated (removed in 3.13) but it is what Pipecat's own serializer encodes
    # with on 3.11; the same G.711 tables keep everything bit-compatible with the transport.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

#: The out-of-band transcript event the simulated callee sends after each turn's audio.
TWIN_TRANSCRIPT_EVENT = "x_twin_transcript"
TELEPHONY_ENCODINGS = ("PCMU", "PCMA")


def encode_g711(pcm: bytes, encoding: str) -> bytes:
    """16-bit LE PCM -> μ-law (PCMU) or A-law (PCMA) bytes."""
    if encoding == "PCMU":
        return audioop.lin2ulaw(pcm, 2)
    if encoding == "PCMA":
        return audioop.lin2alaw(pcm, 2)
    raise ValueError(f"Unsupported encoding {encoding!r}; use PCMU or PCMA.")


def decode_g711(payload: bytes, encoding: str) -> bytes:
    """μ-law (PCMU) or A-law (PCMA) bytes -> 16-bit LE PCM."""
    if encoding == "PCMU":
        return audioop.ulaw2lin(payload, 2)
    if encoding == "PCMA":
        return audioop.alaw2lin(payload, 2)
    raise ValueError(f"Unsupported encoding {encoding!r}; use PCMU or PCMA.")


class CallMediaSerializer(TelnyxFrameSerializer):
    """`TelnyxFrameSerializer` that never raises on input and passes twin transcripts on."""

    async def deserialize(self, data: str | bytes) -> Frame | None:
        try:
            message = json.loads(data)
        except (TypeError, ValueError, UnicodeDecodeError):
            logger.warning("Telnyx media: skipped a message that is not JSON ({} bytes)", len(data))
            return None
        if not isinstance(message, dict):
            logger.warning("Telnyx media: skipped a JSON message that is not an object")
            return None
        event = message.get("event")
        if event == TWIN_TRANSCRIPT_EVENT:
            if not isinstance(message.get("text"), str):
                logger.warning("Telnyx media: skipped a twin transcript without text")
                return None
            return InputTransportMessageFrame(message=message)
        if event == "media":
            media = message.get("media")
            if not isinstance(media, dict):
                logger.warning("Telnyx media: skipped a media message without a media object")
                return None
            if self._sample_rate == self._telnyx_sample_rate:
                return self._audio_frame(media)
        try:
            return await super().deserialize(data)
        except Exception as exc:  # noqa: BLE001 - any bad message must not end the call
            logger.warning("Telnyx media: skipped a malformed {} message ({})", event, type(exc).__name__)
            return None

    def _audio_frame(self, media: dict) -> Frame | None:
        """A media message's audio at the carrier's rate, without parsing the message again."""
        payload = media.get("payload")
        if not payload:
            return None
        try:
            pcm = decode_g711(base64.b64decode(payload, validate=False), self._params.outbound_encoding)
        except (binascii.Error, TypeError, ValueError) as exc:
            logger.warning("Telnyx media: skipped a malformed media message ({})", type(exc).__name__)
            return None
        if not pcm:
            return None
        return InputAudioRawFrame(audio=pcm, num_channels=1, sample_rate=self._sample_rate)

    async def serialize(self, frame: Frame) -> str | bytes | None:
        if isinstance(frame, AudioRawFrame) and frame.sample_rate == self._telnyx_sample_rate and frame.audio:
            payload = base64.b64encode(encode_g711(frame.audio, self._params.inbound_encoding)).decode("ascii")
            # What json.dumps({"event": "media", "media": {"payload": payload}}) writes (Base64
            # needs no escaping), without building and walking the dicts.
            return '{"event": "media", "media": {"payload": "' + payload + '"}}'
        return await super().serialize(frame)
