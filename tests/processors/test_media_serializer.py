"""The Telnyx serializer of our calls skips malformed messages and passes twin transcripts on."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest
from pipecat.frames.frames import InputAudioRawFrame, InputTransportMessageFrame

from processors.media_serializer import CallMediaSerializer, decode_g711, encode_g711


@pytest.fixture
async def serializer() -> CallMediaSerializer:
    s = CallMediaSerializer(
        stream_id="s1", outbound_encoding="PCMA", inbound_encoding="PCMA",
        params=CallMediaSerializer.InputParams(auto_hang_up=False),
    )
    await s.setup(SimpleNamespace(audio_in_sample_rate=8000))
    return s


@pytest.mark.parametrize(
    "message",
    [
        "not json at all",
        b"\xff\xfe\x00",
        "[1, 2, 3]",
        '"just a string"',
        '{"event": "media", "media": "not an object"}',
        '{"event": "media", "media": {"payload": "***"}}',
        '{"event": "media", "media": {"payload": 12}}',
        '{"event": "dtmf", "dtmf": "x"}',
        '{"event": "x_twin_transcript", "text": 5}',
        '{"event": "stop", "stop": {}}',
        '{"no_event": true}',
    ],
)
async def test_malformed_messages_are_skipped(serializer, message):
    assert await serializer.deserialize(message) is None


async def test_media_is_decoded_with_the_call_codec(serializer):
    pcm = (b"\x10\x00\xf0\xff" * 80)
    payload = base64.b64encode(encode_g711(pcm, "PCMA")).decode()
    frame = await serializer.deserialize(json.dumps({"event": "media", "media": {"payload": payload}}))
    assert isinstance(frame, InputAudioRawFrame) and frame.sample_rate == 8000
    assert frame.audio == decode_g711(encode_g711(pcm, "PCMA"), "PCMA")


async def test_twin_transcript_becomes_a_transport_message(serializer):
    frame = await serializer.deserialize(json.dumps({"event": "x_twin_transcript", "text": "¿Cuánto cuesta?"}))
    assert isinstance(frame, InputTransportMessageFrame)
    assert frame.message["text"] == "¿Cuánto cuesta?"


@pytest.mark.parametrize("encoding", ["PCMU", "PCMA"])
async def test_the_short_audio_path_matches_pipecats_serializer_both_ways(encoding):
    from pipecat.frames.frames import OutputAudioRawFrame
    from pipecat.serializers.telnyx import TelnyxFrameSerializer

    ours = CallMediaSerializer(
        stream_id="s1", outbound_encoding=encoding, inbound_encoding=encoding,
        params=CallMediaSerializer.InputParams(auto_hang_up=False),
    )
    stock = TelnyxFrameSerializer(
        stream_id="s1", outbound_encoding=encoding, inbound_encoding=encoding,
        params=TelnyxFrameSerializer.InputParams(auto_hang_up=False),
    )
    for s in (ours, stock):
        await s.setup(SimpleNamespace(audio_in_sample_rate=8000))
    pcm = bytes(range(256)) * 2 + b"\x00\x80" * 32  # 20 ms, every byte value
    out = OutputAudioRawFrame(audio=pcm, sample_rate=8000, num_channels=1)
    assert await ours.serialize(out) == await stock.serialize(out)
    message = json.dumps({"event": "media", "media": {"payload": base64.b64encode(encode_g711(pcm, encoding)).decode()}})
    mine, theirs = await ours.deserialize(message), await stock.deserialize(message)
    assert isinstance(mine, InputAudioRawFrame)
    assert (mine.audio, mine.sample_rate, mine.num_channels) == (theirs.audio, theirs.sample_rate, theirs.num_channels)
