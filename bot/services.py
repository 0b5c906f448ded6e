"""The call's STT, LLM and TTS services, chosen from settings.

* STT: local Whisper (``WHISPER_MODEL_DIR``), else OpenAI transcription (``OPENAI_API_KEY`` /
  ``OPENAI_BASE_URL``), else the clearly labelled simulated STT fed by the carrier twin.
* LLM: any OpenAI-compatible endpoint (``OPENAI_BASE_URL``, streaming) with the campaign's
  instructions and the four call tools, else the deterministic scripted responder.
* TTS: ElevenLabs' multi-stream WebSocket (``ELEVENLABS_API_KEY``, ``ELEVENLABS_WS_URL``, campaign
  voice, 8 kHz PCM), else the offline espeak-ng voice.

`ServiceChoice` says which was picked, so the call log and the admin UI can say what was simulated.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openai import AsyncOpenAI, DefaultAsyncHttpxClient
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.services.elevenlabs.tts import ElevenLabsTTSService
from pipecat.services.llm_service import LLMService
from pipecat.services.openai.llm import OpenAILLMService
from pipecat.services.openai.stt import OpenAISTTService
from pipecat.services.stt_service import STTService
from pipecat.services.tts_service import TTSService
from pipecat.transcriptions.language import Language
from pipecat.utils.http import connection_limits

from bot.settings import Settings
from bot.tls import shared_tls_context
from bot.voice import VoiceGenerator
from processors.offline_tts import OfflineTTSService
from processors.phone_whisper_stt import PhoneWhisperSTTService
from processors.scripted_responder import ScriptedResponderService, ScriptMaterial, objection_reply
from processors.simulated_stt import SimulatedSTTService

#: The pipeline runs at the phone's rate both ways: no resampling between Telnyx and the services.
PHONE_SAMPLE_RATE = 8000


@dataclass(frozen=True)
class ServiceChoice:
    """Which implementation each service uses (for logs, the call log and the admin UI)."""

    stt: str
    llm: str
    tts: str

    def as_dict(self) -> dict[str, str]:
        return {"stt": self.stt, "llm": self.llm, "tts": self.tts}


def choose_services(settings: Settings) -> ServiceChoice:
    """What `build_stt` / `build_llm` / `build_tts` will build with these settings."""
    if settings.stt_provider != "auto":
        stt = settings.stt_provider
    elif settings.whisper_model_dir:
        stt = "whisper"
    elif not settings.uses_scripted_responder:
        stt = "openai"
    else:
        stt = "simulated"
    llm = "scripted" if settings.uses_scripted_responder else "openai"
    tts = "offline" if settings.uses_offline_voice else "elevenlabs"
    return ServiceChoice(stt=stt, llm=llm, tts=tts)


def build_stt(settings: Settings) -> STTService:
    """The speech recogniser for one call (pipeline input at 8 kHz)."""
    choice = choose_services(settings).stt
    if choice == "whisper":
        if not settings.whisper_model_dir:
            raise ValueError("STT_PROVIDER=whisper needs WHISPER_MODEL_DIR (a faster-whisper model directory).")
        return PhoneWhisperSTTService(model_dir=str(settings.whisper_model_dir), language=settings.whisper_language)
    if choice == "openai":
        return OpenAISTTService(
            api_key=_openai_key(settings),
            base_url=settings.openai_base_url,
            http_client=shared_http_client(),
            settings=OpenAISTTService.Settings(model=settings.openai_stt_model, language=Language.ES),
        )
    return SimulatedSTTService()


# --- LLM ----------------------------------------------------------------------------------------

CALL_TOOLS = ToolsSchema(
    standard_tools=[
        FunctionSchema(
            name="transfer_to_human",
            description=(
                "Hand the call to a human seller now. Use it when the prospect shows clear interest "
                "or asks to talk to a person. The transfer line is said for you."
            ),
            properties={"reason": {"type": "string", "description": "Why, in a few words (e.g. 'interested')."}},
            required=["reason"],
        ),
        FunctionSchema(
            name="schedule_callback",
            description="Schedule a call back when the prospect asks to be called at another time.",
            properties={
                "when": {
                    "type": "string",
                    "description": "When, as the prospect said it or as an ISO 8601 date-time (e.g. 'mañana a las 10').",
                }
            },
            required=["when"],
        ),
        FunctionSchema(
            name="end_call",
            description="End the call after your last sentence (a goodbye, a clear no, a wrong number).",
            properties={
                "outcome": {
                    "type": "string",
                    "enum": ["interested", "not_interested", "callback", "wrong_number", "answered"],
                    "description": "How the call went.",
                }
            },
            required=["outcome"],
        ),
        FunctionSchema(
            name="mark_do_not_call",
            description="The prospect asked not to be called again. Always honour it at once.",
            properties={},
            required=[],
        ),
    ]
)


def _text_list(values: Any) -> list[str]:
    if isinstance(values, str):
        return [values]
    if isinstance(values, Sequence):
        return [str(v) for v in values if str(v).strip()]
    return []


def call_instructions(*, campaign: Any, icp: Any, prospect: Any, script: str) -> str:
    """The LLM's system instruction: the campaign's goal, script, ICP, value and objections."""
    objections = getattr(campaign, "objection_handling", None) or {}
    objection_lines = []
    if isinstance(objections, Mapping):
        for key, value in objections.items():
            reply = objection_reply(value)
            if reply:
                objection_lines.append(f"- {str(key).replace('_', ' ')}: {reply}")
    benefits = _text_list(getattr(icp, "key_benefits", None))
    pains = _text_list(getattr(icp, "pain_points", None))
    parts = [
        "Eres un comercial que hace una llamada en frío por teléfono, en español de España, "
        "con un tono cercano y profesional. Frases cortas (una o dos por turno), sin listas, sin "
        "emojis, sin markdown: todo lo que escribes se lee en voz alta. Nunca inventes precios ni "
        "datos que no estén aquí. Si el prospecto pide no recibir más llamadas, llama a "
        "mark_do_not_call. Si muestra interés claro o pide hablar con una persona, llama a "
        "transfer_to_human. Si pide que le llames en otro momento, llama a schedule_callback. "
        "Cuando la conversación termine, despídete y llama a end_call.",
        f"Objetivo de la campaña: {getattr(campaign, 'goal', None) or 'conseguir una reunión con un comercial'}.",
        f"Guion con el que abriste la llamada: {script}",
    ]
    if icp is not None:
        parts.append(f"Cliente ideal: {getattr(icp, 'name', '')}. {getattr(icp, 'description', None) or ''}".strip())
        if getattr(icp, "value_proposition", None):
            parts.append(f"Propuesta de valor: {icp.value_proposition}")
        if benefits:
            parts.append("Beneficios clave: " + "; ".join(benefits) + ".")
        if pains:
            parts.append("Problemas habituales de estos clientes: " + "; ".join(pains) + ".")
    if prospect is not None:
        who = ", ".join(
            str(v) for v in (getattr(prospect, "full_name", None), getattr(prospect, "role", None), getattr(prospect, "company", None)) if v
        )
        if who:
            parts.append(f"Hablas con: {who}.")
    if objection_lines:
        parts.append("Cómo responder a las objeciones:\n" + "\n".join(objection_lines))
    return "\n\n".join(p for p in parts if p)


def build_llm(
    settings: Settings, *, instructions: str, material: ScriptMaterial
) -> LLMService:
    """The language model for one call: OpenAI-compatible streaming, or the scripted responder."""
    if settings.uses_scripted_responder:
        return ScriptedResponderService(material=material)
    return SharedClientOpenAILLMService(
        api_key=_openai_key(settings),
        base_url=settings.openai_base_url,
        settings=OpenAILLMService.Settings(
            model=settings.openai_model, system_instruction=instructions, temperature=0.4, max_completion_tokens=200
        ),
    )


#: One HTTP client per event loop (a server process has one), shared by every call's OpenAI LLM
#: and STT. Each service would otherwise build its own: an SSL context (about 130 ms of CPU on
#: this machine, on the event loop, stalling every other call at each call's start) and a cold
#: connection pool (a new TCP/TLS handshake on each call's first request).
_HTTP_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, DefaultAsyncHttpxClient] = (
    weakref.WeakKeyDictionary()
)


def shared_http_client() -> DefaultAsyncHttpxClient:
    """The running event loop's HTTP client for OpenAI-compatible endpoints (made on first use)."""
    loop = asyncio.get_running_loop()
    client = _HTTP_CLIENTS.get(loop)
    if client is None or client.is_closed:
        # Pipecat's own pool limits for its OpenAI services.
        client = DefaultAsyncHttpxClient(
            limits=connection_limits(max_keepalive_connections=100, max_connections=1000, keepalive_expiry=None),
            verify=shared_tls_context(),
        )
        _HTTP_CLIENTS[loop] = client
    return client


class SharedClientOpenAILLMService(OpenAILLMService):
    """`OpenAILLMService` on the process's shared HTTP client (see `shared_http_client`)."""

    def create_client(self, api_key=None, base_url=None, organization=None, project=None, default_headers=None, **kwargs):
        return AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            organization=organization,
            project=project,
            default_headers=default_headers,
            http_client=shared_http_client(),
        )


def _openai_key(settings: Settings) -> str:
    # An OpenAI-compatible endpoint without auth still needs a token in the client.
    return settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"


# --- TTS ----------------------------------------------------------------------------------------


class SharedTLSElevenLabsTTSService(ElevenLabsTTSService):
    """`ElevenLabsTTSService` whose ``wss://`` connection uses the process's TLS context
    (`bot.tls.shared_tls_context`) instead of a new one per call."""

    async def _websocket_connect(self, uri: str, **kwargs):
        if uri.startswith("wss://"):
            kwargs.setdefault("ssl", shared_tls_context())
        return await super()._websocket_connect(uri, **kwargs)


def build_tts(settings: Settings, *, voice_type: str) -> TTSService:
    """The voice for one call: ElevenLabs streaming at 8 kHz, or the offline voice."""
    if settings.uses_offline_voice:
        generator = VoiceGenerator(settings, offline=True)

        async def synthesize(text: str) -> bytes:
            return await generator.agenerate_voice(text, voice_type, output_format="pcm_8000")

        return OfflineTTSService(synthesize=synthesize, voice=voice_type, sample_rate=PHONE_SAMPLE_RATE)
    return SharedTLSElevenLabsTTSService(
        api_key=settings.elevenlabs_api_key.get_secret_value(),
        url=settings.elevenlabs_ws_url,
        sample_rate=PHONE_SAMPLE_RATE,
        settings=ElevenLabsTTSService.Settings(
            voice=settings.voice_id(voice_type), model=settings.elevenlabs_model, stability=0.5, similarity_boost=0.75
        ),
    )


def tool_arguments(arguments: Any) -> dict:
    """Tool-call arguments as a dict (models sometimes send a JSON string)."""
    if isinstance(arguments, Mapping):
        return dict(arguments)
    if isinstance(arguments, str):
        try:
            value = json.loads(arguments)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}
