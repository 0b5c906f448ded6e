"""A call end to end over a real WebSocket with every service local: opener on connect, the
canned price reply, a malformed message skipped, the transcript and latencies in the call log."""

from __future__ import annotations

import numpy as np
import pytest

from bot.assets import render_opener
from bot.twin_media import CalleeTurn, SimulatedCallee, decode_g711
from db.models import CallOutcome
from tests.e2e.conftest import OPENER, VOICE_TYPE, load_log

pytestmark = pytest.mark.e2e

MALFORMED = (
    "this is not json",
    "[1, 2, 3]",
    '{"event": "media", "media": "not an object"}',
    '{"event": "media", "media": {"payload": "***not base64***"}}',
    '{"event": "x_twin_transcript"}',
    '{"event": "dtmf", "dtmf": {"digit": "Z"}}',
)


async def _price_call(server, call, speech, *, encoding="PCMU", raw_before=()):
    callee = SimulatedCallee(
        server.media_url,
        call_control_id=call.call_control_id,
        client_state=call.client_state,
        auth_token=server.media_token(call),
        encoding=encoding,
        turns=[CalleeTurn(text="¿Cuánto cuesta?", pcm=speech("¿Cuánto cuesta?"), raw_before=raw_before)],
        listen_secs=1.5,
        max_call_secs=30,
    )
    return await callee.run()


async def test_opener_price_reply_and_malformed_messages(start_server, seed_call, speech, e2e_sessionmaker):
    server = await start_server()
    call = await seed_call()
    recording = await _price_call(server, call, speech, raw_before=MALFORMED)

    opener_at = recording.first_bot_audio_after(recording.media_start)
    assert opener_at is not None, "the opener never played"
    assert opener_at - recording.media_start < 0.5
    turn = recording.turns[0]
    reply_at = recording.first_bot_audio_after(turn.speech_end)
    # The canned reply answers right after the transcript, with no filler in front of it.
    assert reply_at is not None and reply_at - turn.speech_end < 0.3
    assert recording.closed_by == "callee", "a malformed message must not end the call"

    log = await load_log(e2e_sessionmaker, call.call_log_id)
    bot_turns = [t for t in log.transcript if t["speaker"] == "bot"]
    prospect_turns = [t for t in log.transcript if t["speaker"] == "prospect"]
    assert bot_turns[0]["text"] == OPENER
    assert prospect_turns[0]["text"] == "¿Cuánto cuesta?"
    assert "ciento cuarenta y nueve euros" in bot_turns[1]["text"]
    assert 0 <= bot_turns[1]["latency_ms"] < 300
    assert log.metadata_["intents"] == ["cuanto_cuesta"]
    assert log.metadata_["services"] == {"stt": "simulated", "llm": "scripted", "tts": "offline"}
    assert log.outcome == CallOutcome.answered
    assert "Prospecto: ¿Cuánto cuesta?" in log.transcription


async def test_pcma_call(start_server, seed_call, speech, e2e_sessionmaker):
    """A-law both ways: the bot decodes the prospect and encodes its audio as A-law."""
    server = await start_server()
    call = await seed_call()
    recording = await _price_call(server, call, speech, encoding="PCMA")
    log = await load_log(e2e_sessionmaker, call.call_log_id)
    assert log.metadata_["intents"] == ["cuanto_cuesta"], "the prospect's A-law audio reached VAD and STT"

    # The opener as received equals the rendered clip only when decoded as A-law.
    opener = (await render_opener(server.settings, OPENER, VOICE_TYPE)).pcm
    payload = b"".join(
        __import__("base64").b64decode(m.data["media"]["payload"]) for m in recording.events("media")[:25]
    )
    n = min(len(payload), len(opener) // 2)
    expected = np.frombuffer(opener[: 2 * n], dtype="<i2").astype(float)

    def error(codec: str) -> float:
        got = np.frombuffer(decode_g711(payload[:n], codec), dtype="<i2").astype(float)
        return float(np.mean(np.abs(got - expected)))

    assert error("PCMA") < 0.2 * error("PCMU")
