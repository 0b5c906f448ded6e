"""Guards end to end: a silent prospect gets one prompt and a goodbye; an LLM that fails or hangs
mid-call gets the apology and goodbye within two seconds, with the error in the call log."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.twin_media import CalleeTurn, SimulatedCallee
from tests.e2e.conftest import load_log
from tests.twins.openai_api import OpenAITwin

pytestmark = pytest.mark.e2e

QUESTION = "¿Y cómo funciona exactamente lo de los recordatorios?"


async def test_silence_prompts_once_then_says_goodbye(start_server, seed_call, e2e_sessionmaker):
    server = await start_server(call_silence_secs=1.0)
    call = await seed_call()
    callee = SimulatedCallee(
        server.media_url, call_control_id=call.call_control_id, client_state=call.client_state,
        auth_token=server.media_token(call), hang_up_after_secs=None, max_call_secs=20,
    )
    recording = await callee.run()

    assert recording.closed_by == "bot"
    log = await load_log(e2e_sessionmaker, call.call_log_id)
    bot_text = [t["text"] for t in log.transcript if t["speaker"] == "bot"]
    assert bot_text[1] == "¿Hola? ¿Sigues ahí?"
    assert "no te quito más tiempo" in bot_text[2]
    assert log.notes == "El prospecto no respondió."
    assert [h.call_control_id for h in server.telnyx.of("hangup")] == [call.call_control_id]


@pytest.mark.parametrize("failure", ["error", "hang"])
async def test_llm_failure_mid_call_apologises_without_dead_air(failure, start_server, seed_call, speech, e2e_sessionmaker):
    async with OpenAITwin(
        first_token_latency=30.0 if failure == "hang" else 0.0,
        transcript=lambda audio: QUESTION,
    ) as openai_twin:
        if failure == "error":
            openai_twin.chat_error_status = 500
        server = await start_server(openai_api_key=SecretStr("sk-test-twin"), openai_base_url=openai_twin.base_url)
        call = await seed_call()
        callee = SimulatedCallee(
            server.media_url, call_control_id=call.call_control_id, client_state=call.client_state,
            auth_token=server.media_token(call),
            turns=[CalleeTurn(text=QUESTION, pcm=speech(QUESTION), send_transcript=False)],
            hang_up_after_secs=None, max_call_secs=20,
        )
        recording = await callee.run()

    assert recording.closed_by == "bot"
    end = recording.turns[0].speech_end
    voiced = [m for m in recording.bot_audio(after=end)]
    assert voiced, "the bot said nothing after the failure"
    # Never more than 2 s without bot audio between the prospect's turn and the goodbye.
    moments = [end] + [m.at for m in voiced]
    gaps = [b - a for a, b in zip(moments, moments[1:])]
    assert max(gaps) < 2.0, f"dead air of {max(gaps):.2f} s"
    log = await load_log(e2e_sessionmaker, call.call_log_id)
    assert "problema técnico" in " ".join(t["text"] for t in log.transcript)
    assert log.error
    assert log.metadata_["ended_by"] == "failure"
