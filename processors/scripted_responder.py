"""SCRIPTED RESPONDER: a deterministic stand-in for the LLM when no LLM is configured.

With no ``OPENAI_API_KEY`` and no ``OPENAI_BASE_URL`` the product still holds a conversation, but
not a generated one: `ScriptedResponderService` answers from the campaign's own material (its
objection handling, the ICP's value proposition and key benefits, the canned replies) and uses the
same four tools as the real LLM (``transfer_to_human``, ``schedule_callback``, ``end_call``,
``mark_do_not_call``) so every downstream effect (transfer, callback, opt-out, hang-up) runs exactly
as with a model. It behaves as an LLM service in the pipeline: an `LLMContextFrame` in,
``LLMFullResponseStartFrame`` / ``LLMTextFrame`` / ``LLMFullResponseEndFrame`` and function calls
out. It is labelled as simulated in logs, metrics and the admin UI.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from loguru import logger
from pipecat.frames.frames import (
    Frame,
    FunctionCallFromLLM,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.llm_service import LLMService
from pipecat.services.settings import LLMSettings

from processors.intents import classify_intent

#: Phrases that ask to be called at another moment; the matched phrase becomes the `when`.
_CALLBACK_CUES = re.compile(
    r"\b(ll[aá]ma(?:me|dme)|vuelve a llamar|m[aá]s tarde|otro d[ií]a|otro momento|ma[nñ]ana|"
    r"la semana que viene|la pr[oó]xima semana|el lunes|el martes|el mi[eé]rcoles|el jueves|el viernes|"
    r"esta tarde|a las \d{1,2})\b[^.?!]*",
    re.IGNORECASE,
)

#: Phrases that say we reached the wrong person (matched on accent-folded, lower-cased text).
_WRONG_NUMBER_CUES = re.compile(
    r"\b(se (?:ha|han) equivocado|te has equivocado|os habeis equivocado|(?:numero|telefono) equivocado|"
    r"equivocad[oa]s? de (?:numero|telefono|persona)|aqui no (?:hay|vive|trabaja) (?:nadie|ningun[oa]?)|"
    r"no hay nadie (?:aqui )?con ese nombre|no conozco a (?:nadie|ningun[oa]?)|no es (?:aqui|este numero))\b"
)
_WRONG_NUMBER_REPLY = "Vaya, disculpa las molestias. Lo anoto para no volver a llamar a este número. Que vaya bien."


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def objection_reply(value: object) -> str | None:
    """The answer text of one objection-handling entry (a string, or a dict with a response)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, Mapping):
        for key in ("response", "reply", "respuesta", "answer", "text"):
            if isinstance(value.get(key), str) and value[key].strip():
                return value[key].strip()
    return None


@dataclass
class ScriptMaterial:
    """What the scripted responder may say, all taken from the campaign and its ICP."""

    replies: dict[str, str]
    objections: dict[str, object] = field(default_factory=dict)
    value_proposition: str | None = None
    key_benefits: Sequence[str] = ()
    goal: str | None = None


class ScriptedResponderService(LLMService):
    """Answers each user turn from the campaign's script material, deterministically."""

    def __init__(self, *, material: ScriptMaterial, **kwargs) -> None:
        # No model, no sampling: every setting is "not supported" (None), not "not given".
        settings = LLMSettings(
            model="scripted-responder",
            system_instruction=None,
            temperature=None,
            max_tokens=None,
            top_p=None,
            top_k=None,
            frequency_penalty=None,
            presence_penalty=None,
            seed=None,
            filter_incomplete_user_turns=None,
            user_turn_completion_config=None,
        )
        super().__init__(settings=settings, **kwargs)
        self._material = material
        self._benefit_index = 0
        self._turns = 0

    @property
    def is_simulated(self) -> bool:
        return True

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            await self.push_frame(LLMFullResponseStartFrame())
            await self.start_processing_metrics()
            try:
                await self._respond(frame.context)
            finally:
                await self.stop_processing_metrics()
                await self.push_frame(LLMFullResponseEndFrame())
        else:
            await self.push_frame(frame, direction)

    # --- the script ---------------------------------------------------------------------------
    def decide(self, user_text: str) -> tuple[str | None, list[tuple[str, dict]]]:
        """The reply text and tool calls for one user utterance (pure; tests use it directly)."""
        replies = self._material.replies
        intent = classify_intent(user_text, self._material.objections or None) if user_text else None
        if intent and intent in self._material.objections:
            return objection_reply(self._material.objections[intent]), []
        if intent == "opt_out":
            return None, [("mark_do_not_call", {})]
        if intent == "interested":
            return None, [("transfer_to_human", {"reason": "interested"})]
        if intent in ("adios", "no_gracias"):
            return replies.get(intent), [("end_call", {"outcome": "not_interested"})]
        if user_text and _WRONG_NUMBER_CUES.search(_fold(user_text)):
            return replies.get("wrong_number", _WRONG_NUMBER_REPLY), [("end_call", {"outcome": "wrong_number"})]
        callback = _CALLBACK_CUES.search(user_text) if user_text else None
        if intent == "cuando" or callback:
            when = callback.group(0).strip() if callback else user_text.strip()
            return None, [("schedule_callback", {"when": when})]
        if intent and intent in replies:
            return replies[intent], []
        return self._next_script_line(user_text), []

    def _next_script_line(self, user_text: str) -> str:
        benefits = [b for b in self._material.key_benefits if isinstance(b, str) and b.strip()]
        question = "?" in user_text or _fold(user_text).startswith(("que ", "como ", "cual", "por que", "quien"))
        opening = "Buena pregunta. " if question else "Te entiendo. "
        if self._benefit_index < len(benefits):
            benefit = benefits[self._benefit_index].strip().rstrip(".")
            self._benefit_index += 1
            return f"{opening}{benefit[0].upper()}{benefit[1:]}. ¿Te encaja que un compañero te lo enseñe en una llamada corta?"
        if self._material.value_proposition and self._turns < 2:
            value = self._material.value_proposition.strip().rstrip(".")
            return f"{opening}En resumen: {value[0].lower()}{value[1:]}. ¿Te interesa que lo veamos con calma?"
        return self._material.replies.get(
            "no_entiendo", "Perdona, no te he entendido bien. ¿Te interesa que te llame un compañero?"
        )

    async def _respond(self, context: LLMContext) -> None:
        user_text = _last_user_text(context)
        text, tools = self.decide(user_text)
        self._turns += 1
        logger.debug("Scripted responder (simulated LLM): {} tool call(s)", len(tools))
        if text:
            for sentence in _sentences(text):
                await self.push_frame(LLMTextFrame(sentence))
        if tools:
            await self.run_function_calls(
                [
                    FunctionCallFromLLM(
                        function_name=name, tool_call_id=f"scripted-{uuid.uuid4().hex[:12]}", arguments=args, context=context
                    )
                    for name, args in tools
                ]
            )


def _last_user_text(context: LLMContext) -> str:
    for message in reversed(context.get_messages()):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _sentences(text: str) -> list[str]:
    """Split into sentences (keeping the spaces) so the TTS can start on the first one."""
    parts = re.findall(r"[^.?!]+[.?!]*\s*", text)
    return [p for p in parts if p.strip()] or [text]
