"""A simulated callee: a Telnyx media-stream client that plays a scripted prospect.

The carrier twin drives its personas with `SimulatedCallee`, and the pipeline tests and benchmarks
use it to talk to the bot over a real WebSocket. It speaks Telnyx's media-streaming protocol as the
bot would see it from Telnyx: `connected`, then `start` (call_control_id, client_state, encoding),
then a `media` packet every 20 ms in real time (silence between turns, like an open phone line).

Everything the bot sends (`media`, `clear`, `mark`, anything else) is recorded with a monotonic
timestamp; a `mark` is answered as Telnyx would once the audio queued before it has played.

Simulated STT: there is no offline Spanish speech recogniser, so right after a turn's last audio
packet the callee also sends its text out of band as ``{"event": "x_twin_transcript", "text": ...}``.
The bot reads it only when its STT is the clearly labelled simulated one; VAD and turn-taking still
run on the real audio.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import websockets
from loguru import logger

from bot.media_auth import MEDIA_STREAM_TOKEN_HEADER
from processors.media_serializer import TWIN_TRANSCRIPT_EVENT as TRANSCRIPT_EVENT
from processors.media_serializer import TELEPHONY_ENCODINGS as ENCODINGS
from processors.media_serializer import decode_g711, encode_g711

SAMPLE_RATE = 8000
PACKET_SECS = 0.02
PACKET_SAMPLES = int(SAMPLE_RATE * PACKET_SECS)
PACKET_BYTES_PCM = PACKET_SAMPLES * 2


def read_wav_8k_pcm(path: Path) -> bytes:
    """Read a mono 16-bit WAV file at 8 kHz (what sox -r 8000 -c 1 -b 16 writes) as raw PCM."""
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != 2 or wav.getframerate() != SAMPLE_RATE:
            raise ValueError(
                f"{path} must be mono 16-bit 8000 Hz (got {wav.getnchannels()} ch, "
                f"{8 * wav.getsampwidth()} bit, {wav.getframerate()} Hz)."
            )
        return wav.readframes(wav.getnframes())


@dataclass
class CalleeTurn:
    """One thing the prospect says.

    `pcm` (8 kHz 16-bit mono) or `wav_path` gives the audio; `text` is what it says (sent out of
    band for the simulated STT). By default the callee waits until the bot has been silent for the
    callee's `bot_silence_secs` and then `pause_before_secs` more, like a person answering. With
    `barge_in_after_secs` set, the callee instead waits for the bot to start speaking and talks over
    it that many seconds later.
    """

    text: str
    pcm: bytes | None = None
    wav_path: Path | None = None
    pause_before_secs: float = 0.0
    barge_in_after_secs: float | None = None
    send_transcript: bool = True
    #: Raw text frames sent just before the audio (tests use it for malformed messages).
    raw_before: tuple[str, ...] = ()

    def audio(self) -> bytes:
        if self.pcm is not None:
            return self.pcm
        if self.wav_path is not None:
            return read_wav_8k_pcm(Path(self.wav_path))
        raise ValueError(f"Turn {self.text[:20]!r} has neither pcm nor wav_path.")


@dataclass
class ReceivedMessage:
    """A message the bot sent, with the callee's monotonic receive time."""

    at: float
    event: str
    data: dict
    #: Decoded 16-bit PCM for `media` messages, else None.
    pcm: bytes | None = None

    @property
    def duration_secs(self) -> float:
        return len(self.pcm) / (2 * SAMPLE_RATE) if self.pcm else 0.0


@dataclass
class TurnTiming:
    """When one callee turn went on the wire (monotonic seconds)."""

    text: str
    speech_start: float
    speech_end: float
    #: When the out-of-band transcript left (right after the last packet), if it was sent.
    transcript_sent: float | None = None


@dataclass
class CallRecording:
    """What happened on the call, from the callee's side."""

    media_start: float | None = None
    closed_at: float | None = None
    closed_by: str | None = None
    messages: list[ReceivedMessage] = field(default_factory=list)
    turns: list[TurnTiming] = field(default_factory=list)

    def events(self, name: str) -> list[ReceivedMessage]:
        return [m for m in self.messages if m.event == name]

    def bot_audio(self, *, after: float = 0.0, voiced_only: bool = True) -> list[ReceivedMessage]:
        """Media messages received after `after`; by default only those with non-silent audio."""
        out = [m for m in self.events("media") if m.at >= after]
        if voiced_only:
            out = [m for m in out if m.pcm and _is_voiced(m.pcm)]
        return out

    def first_bot_audio_after(self, moment: float) -> float | None:
        """Monotonic time of the first voiced bot audio at or after `moment`."""
        audio = self.bot_audio(after=moment)
        return audio[0].at if audio else None

    def bot_pcm(self, *, after: float = 0.0, before: float = float("inf")) -> bytes:
        """The bot's audio between two moments, concatenated (16-bit PCM, 8 kHz)."""
        return b"".join(m.pcm or b"" for m in self.events("media") if after <= m.at < before)


def _is_voiced(pcm: bytes, threshold: int = 300) -> bool:
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
    return bool(samples.size) and int(np.abs(samples).max()) > threshold


class SimulatedCallee:
    """Connects to the bot's media WebSocket and plays a scripted prospect in real time.

    ``await SimulatedCallee(url, call_control_id=..., turns=[...]).run()`` returns the
    `CallRecording` once the bot closes the socket, or once the callee hangs up: `listen_secs`
    after its last turn if set, else after `hang_up_after_secs` of bot silence following its last
    turn (None: never), and at the latest after `max_call_secs`.
    """

    def __init__(
        self,
        stream_url: str,
        *,
        call_control_id: str,
        client_state: str | None = None,
        encoding: str = "PCMU",
        turns: Sequence[CalleeTurn] = (),
        from_number: str = "+34910000000",
        to_number: str = "+34600000000",
        stream_id: str | None = None,
        bot_silence_secs: float = 0.5,
        hang_up_after_secs: float | None = 3.0,
        listen_secs: float | None = None,
        max_call_secs: float = 120.0,
        max_wait_for_bot_secs: float = 15.0,
        headers: dict[str, str] | None = None,
        auth_token: str | None = None,
    ) -> None:
        """`auth_token`: the dial's ``stream_auth_token``, sent like Telnyx does, as the upgrade
        header and in the ``connected`` message."""
        if encoding not in ENCODINGS:
            raise ValueError(f"Unsupported encoding {encoding!r}; use PCMU or PCMA.")
        self.stream_url = stream_url
        self.call_control_id = call_control_id
        self.client_state = client_state
        self.encoding = encoding
        self.turns = list(turns)
        self.from_number = from_number
        self.to_number = to_number
        self.stream_id = stream_id or str(uuid.uuid4())
        self.bot_silence_secs = bot_silence_secs
        self.hang_up_after_secs = hang_up_after_secs
        self.listen_secs = listen_secs
        self.max_call_secs = max_call_secs
        self.max_wait_for_bot_secs = max_wait_for_bot_secs
        self.headers = dict(headers or {})
        self.auth_token = auth_token
        if auth_token:
            self.headers[MEDIA_STREAM_TOKEN_HEADER] = auth_token
        self.recording = CallRecording()
        self._outgoing: bytearray = bytearray()
        self._sequence = 0
        self._chunk = 0
        #: When the bot's queued audio will have finished playing (what a phone would hear).
        self._bot_playout_end = 0.0
        self._bot_audio_seen = asyncio.Event()
        self._pending_marks: list[tuple[float, str]] = []
        self._closed = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._speech_drained_at = 0.0
        #: Set by the pacer when a turn's last packet is out (and when the stream closes).
        self._drained = asyncio.Event()
        #: The turn's transcript message, sent by the pacer right after the turn's last packet.
        self._pending_transcript: str | None = None
        self._transcript_sent_at: float | None = None

    # --- public ---------------------------------------------------------------------------
    async def run(self) -> CallRecording:
        """Place the media stream, play every turn, and return what was recorded."""
        async with websockets.connect(
            self.stream_url, additional_headers=self.headers, max_size=None, open_timeout=10
        ) as ws:
            await self._send(ws, self._connected_message())
            await self._send(ws, self._start_message())
            self.recording.media_start = time.monotonic()
            receiver = asyncio.create_task(self._receive(ws))
            pacer = asyncio.create_task(self._pace_media(ws))
            try:
                script = asyncio.create_task(self._play_script(ws))
                done, _ = await asyncio.wait(
                    {script, receiver}, timeout=self.max_call_secs, return_when=asyncio.FIRST_COMPLETED
                )
                if script in done:
                    script.result()
                else:
                    script.cancel()
                    await asyncio.gather(script, return_exceptions=True)
                if not self._closed.is_set():
                    await self._hang_up(ws)
            finally:
                pacer.cancel()
                receiver.cancel()
                await asyncio.gather(pacer, receiver, return_exceptions=True)
        if self.recording.closed_at is None:
            self.recording.closed_at = time.monotonic()
        return self.recording

    def bot_silent_for(self) -> float:
        """Seconds since the bot's queued audio finished playing (0 while it is talking)."""
        return max(0.0, time.monotonic() - self._bot_playout_end)

    # --- protocol ---------------------------------------------------------------------------
    def _next_sequence(self) -> str:
        self._sequence += 1
        return str(self._sequence)

    def _connected_message(self) -> dict:
        message = {"event": "connected", "version": "1.0.0"}
        if self.auth_token:
            message[MEDIA_STREAM_TOKEN_HEADER] = self.auth_token
        return message

    def _start_message(self) -> dict:
        return {
            "event": "start",
            "sequence_number": self._next_sequence(),
            "stream_id": self.stream_id,
            "start": {
                "user_id": str(uuid.uuid4()),
                "call_control_id": self.call_control_id,
                "call_session_id": str(uuid.uuid4()),
                "from": self.from_number,
                "to": self.to_number,
                "client_state": self.client_state,
                "custom_parameters": {},
                "media_format": {"encoding": self.encoding, "sample_rate": SAMPLE_RATE, "channels": 1},
            },
        }

    async def _send(self, ws, message: dict | str) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        async with self._send_lock:
            await ws.send(text)

    async def _pace_media(self, ws) -> None:
        """One 20 ms packet every 20 ms on an absolute schedule: speech when queued, else silence."""
        started = time.monotonic()
        silence_payload = base64.b64encode(encode_g711(b"\x00" * PACKET_BYTES_PCM, self.encoding)).decode("ascii")
        stream_id_json = json.dumps(self.stream_id)
        try:
            while True:
                speaking = bool(self._outgoing)
                if speaking:
                    chunk = bytes(self._outgoing[:PACKET_BYTES_PCM])
                    del self._outgoing[:PACKET_BYTES_PCM]
                    chunk = chunk.ljust(PACKET_BYTES_PCM, b"\x00")
                    payload = base64.b64encode(encode_g711(chunk, self.encoding)).decode("ascii")
                else:
                    payload = silence_payload
                self._chunk += 1
                # What json.dumps of the message writes (every value is a plain ASCII string: the
                # stream id, digits, Base64), put together directly: 50 packets a second per call.
                await self._send(
                    ws,
                    f'{{"event": "media", "sequence_number": "{self._next_sequence()}", '
                    f'"stream_id": {stream_id_json}, "media": {{"track": "inbound", '
                    f'"chunk": "{self._chunk}", "timestamp": "{self._chunk * 20}", "payload": "{payload}"}}}}',
                )
                if speaking and not self._outgoing:
                    self._speech_drained_at = time.monotonic()
                    self._drained.set()
                    if self._pending_transcript is not None:
                        # At once, from the pacer: a poll in `_speak` would send it up to 5 ms late.
                        transcript, self._pending_transcript = self._pending_transcript, None
                        await self._send(ws, transcript)
                        self._transcript_sent_at = time.monotonic()
                await self._answer_due_marks(ws)
                delay = started + self._chunk * PACKET_SECS - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
        except websockets.ConnectionClosed:
            self._mark_closed("bot")

    async def _answer_due_marks(self, ws) -> None:
        now = time.monotonic()
        due = [m for m in self._pending_marks if m[0] <= now]
        if not due:
            return
        self._pending_marks = [m for m in self._pending_marks if m[0] > now]
        for _, name in due:
            await self._send(ws, {"event": "mark", "stream_id": self.stream_id, "mark": {"name": name}})

    async def _receive(self, ws) -> None:
        try:
            async for raw in ws:
                now = time.monotonic()
                try:
                    data = json.loads(raw)
                except (TypeError, ValueError):
                    logger.debug("Simulated callee: non-JSON message from the bot ignored")
                    continue
                event = str(data.get("event", ""))
                pcm = None
                if event == "media":
                    try:
                        payload = base64.b64decode(data["media"]["payload"])
                        pcm = decode_g711(payload, self.encoding)
                    except (KeyError, TypeError, ValueError):
                        logger.debug("Simulated callee: malformed media message from the bot")
                        pcm = b""
                    # A phone plays queued audio in order: this packet ends after what is queued.
                    begin = max(now, self._bot_playout_end)
                    self._bot_playout_end = begin + len(pcm) / (2 * SAMPLE_RATE)
                    if pcm and _is_voiced(pcm):
                        self._bot_audio_seen.set()
                elif event == "clear":
                    # Telnyx drops queued audio and returns queued marks at once.
                    self._bot_playout_end = now
                    self._pending_marks = [(now, name) for _, name in self._pending_marks]
                elif event == "mark":
                    name = str((data.get("mark") or {}).get("name", ""))
                    self._pending_marks.append((max(now, self._bot_playout_end), name))
                self.recording.messages.append(ReceivedMessage(at=now, event=event, data=data, pcm=pcm))
        except websockets.ConnectionClosed:
            pass
        self._mark_closed("bot")

    def _mark_closed(self, by: str) -> None:
        if not self._closed.is_set():
            self._closed.set()
            self._drained.set()
            self.recording.closed_at = time.monotonic()
            self.recording.closed_by = by

    async def _hang_up(self, ws) -> None:
        """The callee hangs up: Telnyx sends `stop` and closes the stream."""
        self._mark_closed("callee")
        try:
            await self._send(
                ws,
                {
                    "event": "stop",
                    "sequence_number": self._next_sequence(),
                    "stream_id": self.stream_id,
                    "stop": {"call_control_id": self.call_control_id},
                },
            )
            await ws.close()
        except websockets.ConnectionClosed:
            pass

    # --- the prospect ---------------------------------------------------------------------------
    async def _wait_closed(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._closed.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def _wait_bot_silent(self, deadline: float) -> None:
        """Wait until the bot has spoken and then been silent for `bot_silence_secs`."""
        try:
            await asyncio.wait_for(self._bot_audio_seen.wait(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            return
        while time.monotonic() < deadline and not self._closed.is_set():
            remaining = self.bot_silence_secs - self.bot_silent_for()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, 0.02))

    async def _wait_bot_talking(self, deadline: float) -> None:
        while time.monotonic() < deadline and not self._closed.is_set():
            if self._bot_playout_end > time.monotonic():
                return
            await asyncio.sleep(0.01)

    async def _play_script(self, ws) -> None:
        for turn in self.turns:
            if self._closed.is_set():
                return
            audio = turn.audio()
            deadline = time.monotonic() + self.max_wait_for_bot_secs
            if turn.barge_in_after_secs is not None:
                await self._wait_bot_talking(deadline)
                if await self._wait_closed(turn.barge_in_after_secs):
                    return
            else:
                await self._wait_bot_silent(deadline)
                if turn.pause_before_secs and await self._wait_closed(turn.pause_before_secs):
                    return
            if self._closed.is_set():
                return
            await self._speak(ws, turn, audio)
            # The bot must answer this turn before the next default turn waits for its silence.
            self._bot_audio_seen.clear()
        if self.listen_secs is not None:
            # A prospect who hangs up a fixed time after their last words, talking or not.
            await self._wait_closed(self.listen_secs)
            return
        if self.hang_up_after_secs is None:
            await self._closed.wait()
            return
        # After the script, listen until the bot is done and then hang up like a person would.
        deadline = time.monotonic() + self.max_wait_for_bot_secs
        await self._wait_bot_silent(deadline)
        while not self._closed.is_set():
            remaining = self.hang_up_after_secs - self.bot_silent_for()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, 0.05))

    async def _speak(self, ws, turn: CalleeTurn, audio: bytes) -> None:
        """Queue a turn's audio for the pacer and send its text once the last packet is out."""
        # Align the start to a packet boundary so the end time is exact.
        padded = audio + b"\x00" * ((-len(audio)) % PACKET_BYTES_PCM)
        for raw in turn.raw_before:
            await self._send(ws, raw)
        self._speech_drained_at = 0.0
        self._transcript_sent_at = None
        if turn.send_transcript:
            self._pending_transcript = json.dumps(
                {"event": TRANSCRIPT_EVENT, "stream_id": self.stream_id, "text": turn.text}
            )
        if not self._closed.is_set():
            self._drained.clear()
        self._outgoing.extend(padded)
        speech_start = time.monotonic()
        # The pacer sets `_drained` right after this turn's last packet (the queue was empty before
        # it), or the stream closed: no 5 ms polling loop per callee, which cost the load generator
        # of `bench/concurrency.py` 200 wake-ups a second per call.
        await self._drained.wait()
        speech_end = self._speech_drained_at or time.monotonic()
        self._pending_transcript = None
        self.recording.turns.append(
            TurnTiming(
                text=turn.text, speech_start=speech_start, speech_end=speech_end,
                transcript_sent=self._transcript_sent_at,
            )
        )
