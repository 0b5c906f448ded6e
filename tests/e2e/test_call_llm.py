"""An open question goes to the LLM: a filler covers its thinking time, then the streamed answer
is spoken by ElevenLabs. OpenAI (chat + transcription) and ElevenLabs run as loopback twins."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from bot.twin_media import CalleeTurn, SimulatedCallee
from tests.e2e.conftest import load_log
from tests.twins.elevenlabs_http import ElevenLabsTwin as ElevenLabsRestTwin
from tests.twins.elevenlabs_ws import ElevenLabsTwin
from tests.twins.openai_api import ChatReply, OpenAITwin

pytestmark = pytest.mark.e2e

QUESTION = "¿Y eso se puede conectar con el programa de contabilidad que usamos?"
ANSWER = "Sí, se conecta con los programas de contabilidad más habituales. ¿Cuál usáis vosotros?"


async def _call(start_server, seed_call, speech, rest, openai_twin, eleven):
    server = await start_server(
        elevenlabs_base_url=rest.base_url,  # the opener is rendered through ElevenLabs' REST API
        openai_api_key=SecretStr("sk-test-twin"),
        openai_base_url=openai_twin.base_url,
        elevenlabs_api_key=SecretStr("el-test-twin"),
        elevenlabs_ws_url=eleven.ws_url,
    )
    call = await seed_call()
    callee = SimulatedCallee(
        server.media_url,
        call_control_id=call.call_control_id,
        client_state=call.client_state,
        auth_token=server.media_token(call),
        turns=[CalleeTurn(text=QUESTION, pcm=speech(QUESTION), send_transcript=False)],
        listen_secs=4.5,
        max_call_secs=30,
    )
    return await callee.run(), call, server


async def test_open_question_gets_filler_then_llm_answer(start_server, seed_call, speech, e2e_sessionmaker):
    transcripts = iter([QUESTION])
    async with (
        OpenAITwin(
            first_token_latency=0.35,
            transcription_latency=0.3,
            chat_reply=lambda body: ChatReply(text=ANSWER),
            transcript=lambda audio: next(transcripts, ""),
        ) as openai_twin,
        ElevenLabsTwin(first_byte_latency=0.2) as eleven,
    ):
        rest = ElevenLabsRestTwin().start()
        try:
            recording, call, server = await _call(start_server, seed_call, speech, rest, openai_twin, eleven)
        finally:
            rest.stop()

    end = recording.turns[0].speech_end
    first_audio = recording.first_bot_audio_after(end)
    answer_sent = [at for at, _ctx, text in eleven.first_audio if "contabilidad" in text]
    assert answer_sent, f"ElevenLabs never spoke the answer: {eleven.texts()}"
    answer_audio = recording.first_bot_audio_after(answer_sent[0])
    assert first_audio is not None and answer_audio is not None
    # The filler starts at the end of the turn, well before the LLM + TTS answer.
    assert first_audio - end < 1.0
    assert answer_audio - first_audio > 0.3

    # What the clients really sent.
    chat = openai_twin.chat_requests()[0]
    assert chat.headers["Authorization"] == "Bearer sk-test-twin"
    assert chat.body["stream"] is True
    system = " ".join(m["content"] for m in chat.body["messages"] if m["role"] in ("system", "developer"))
    assert "Conseguir una demo con un comercial" in system
    assert "Automatizamos la facturación de las pymes" in system
    assert "Muchos clientes nos usan junto a su proveedor actual" in system
    assert {t["function"]["name"] for t in chat.body["tools"]} == {
        "transfer_to_human", "schedule_callback", "end_call", "mark_do_not_call",
    }
    assert any(m["role"] == "user" and QUESTION in json.dumps(m, ensure_ascii=False) for m in chat.body["messages"])
    stt = openai_twin.transcription_requests()[0]
    assert stt.body["model"] == [server.settings.openai_stt_model] and stt.body["file"]["bytes"] > 8000
    connection = eleven.connections[0]
    assert connection.query["output_format"] == "pcm_8000"
    assert connection.headers["xi-api-key"] == "el-test-twin"
    assert server.settings.voice_id("female_professional") in connection.path

    log = await load_log(e2e_sessionmaker, call.call_log_id)
    question_start = next(t["start"] for t in log.transcript if t["speaker"] == "prospect")
    after_question = [t for t in log.transcript if t["speaker"] == "bot" and t["start"] > question_start]
    assert after_question[0]["latency_ms"] < 800, "reply latency runs to the first bot audio (the filler)"
    assert any("conecta con los programas de contabilidad" in t["text"] for t in after_question[1:])
    assert log.metadata_["services"] == {"stt": "openai", "llm": "openai", "tts": "elevenlabs"}
