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
