"""Services built per call share the process's HTTP client for OpenAI-compatible endpoints."""

from __future__ import annotations

import asyncio

from bot.services import build_llm, shared_http_client
from bot.settings import Settings
from processors.scripted_responder import ScriptMaterial


def _llm_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"openai_base_url": "http://127.0.0.1:9/v1", "stt_provider": "simulated"})


async def test_every_call_of_a_loop_uses_one_http_client(settings: Settings) -> None:
    llm_settings = _llm_settings(settings)
    first = build_llm(llm_settings, instructions="Hola", material=ScriptMaterial(replies={}))
    second = build_llm(llm_settings, instructions="Hola", material=ScriptMaterial(replies={}))
    # The OpenAI client keeps its httpx client as `_client`: one pool (and one SSL context) for all.
    assert first._client._client is second._client._client is shared_http_client()
    assert str(first._client.base_url).startswith("http://127.0.0.1:9/v1")


def test_another_event_loop_gets_its_own_client() -> None:
    async def grab():
        return shared_http_client()

    one, other = asyncio.run(grab()), asyncio.run(grab())
    assert one is not other
