"""The scripted responder: deterministic answers from the campaign's material, as an LLM service."""

from __future__ import annotations

from pipecat.frames.frames import (
    FunctionCallResultProperties,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.tests.utils import run_test

from processors.scripted_responder import ScriptedResponderService, ScriptMaterial

MATERIAL = ScriptMaterial(
    replies={"cuanto_cuesta": "Desde ciento cuarenta y nueve euros al mes.", "adios": "Un placer, adiós."},
    objections={"ya_tenemos_proveedor": {"triggers": ["ya tenemos proveedor"], "response": "Lo entiendo, muchos nos usan junto a su proveedor."}},
    value_proposition="Automatizamos la facturación de las pymes",
    key_benefits=["ahorras diez horas al mes", "cobras antes"],
)


def test_decisions_follow_the_script():
    bot = ScriptedResponderService(material=MATERIAL)
    assert bot.decide("Ya tenemos proveedor") == ("Lo entiendo, muchos nos usan junto a su proveedor.", [])
    assert bot.decide("No me llames más") == (None, [("mark_do_not_call", {})])
    assert bot.decide("Sí, me interesa") == (None, [("transfer_to_human", {"reason": "interested"})])
    text, tools = bot.decide("Adiós")
    assert text == "Un placer, adiós." and tools == [("end_call", {"outcome": "not_interested"})]
    assert bot.decide("Llámame mañana a las diez")[1] == [("schedule_callback", {"when": "Llámame mañana a las diez"})]
    first, _ = bot.decide("¿Y eso cómo funciona con nuestro banco?")
    second, _ = bot.decide("Vale, ¿y qué más?")
    assert "Ahorras diez horas al mes" in first and "Cobras antes" in second


def test_a_wrong_number_ends_the_call_as_wrong_number():
    bot = ScriptedResponderService(material=MATERIAL)
    for said in (
        "No, se ha equivocado de número, aquí no hay nadie con ese nombre.",
        "Creo que te has equivocado",
        "Aqui no trabaja ninguna María",
        "número equivocado",
    ):
        text, tools = bot.decide(said)
        assert tools == [("end_call", {"outcome": "wrong_number"})], said
        assert text and "disculpa" in text.lower()
    # Ordinary objections and questions are not mistaken for a wrong number.
    for said in ("No me interesa equivocarme de proveedor", "¿Y eso cómo funciona?", "Ya tenemos proveedor"):
        assert bot.decide(said)[1] != [("end_call", {"outcome": "wrong_number"})], said


async def test_it_speaks_like_an_llm_and_calls_tools():
    bot = ScriptedResponderService(material=MATERIAL)
    called: list[tuple[str, dict]] = []

    async def handler(params) -> None:
        called.append((params.function_name, dict(params.arguments)))
        await params.result_callback({"ok": True}, properties=FunctionCallResultProperties(run_llm=False))

    bot.register_function("transfer_to_human", handler)
    context = LLMContext(messages=[{"role": "user", "content": "¿Cómo funciona exactamente?"}])
    down, _ = await run_test(bot, frames_to_send=[LLMContextFrame(context)])
    types = [type(f) for f in down if isinstance(f, (LLMFullResponseStartFrame, LLMTextFrame, LLMFullResponseEndFrame))]
    assert types[0] is LLMFullResponseStartFrame and types[-1] is LLMFullResponseEndFrame
    spoken = "".join(f.text for f in down if isinstance(f, LLMTextFrame))
    assert "Ahorras diez horas al mes" in spoken

    context = LLMContext(messages=[{"role": "user", "content": "Sí, me interesa"}])
    await run_test(bot, frames_to_send=[LLMContextFrame(context)])
    assert called == [("transfer_to_human", {"reason": "interested"})]
