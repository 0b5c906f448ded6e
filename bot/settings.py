"""The one settings object of the product (pydantic-settings, `.env` supported).

Every secret and every external address is read here and nowhere else. Unset keys switch the
matching part to its local stand-in (SQLite, the carrier twin, the offline voice, the scripted
responder); a placeholder value such as ``your_telnyx_key`` is refused at start with a sentence
naming the variable, because a placeholder silently sent to a vendor is a confusing failure.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PROJECT_ROOT / "assets"

_PLACEHOLDER_MARKERS = ("your_", "your-", "changeme", "change_me", "<", "xxx", "placeholder")

#: The four voice types of the seed, mapped to default ElevenLabs voice ids that speak Spanish
#: (multilingual premade voices; see docs/external-protocols.md, "Voice IDs (Spanish)").
DEFAULT_VOICE_IDS: dict[str, str] = {
    "male_professional": "onwK4e9ZLuTAKqWW03F9",  # Daniel
    "female_professional": "EXAVITQu4vr4xnSDxMaL",  # Sarah
    "male_friendly": "TX3LPaxmHKxFdv7VOQHJ",  # Liam
    "female_friendly": "XrExE9yKIg1WjnnlVkGX",  # Matilda
}


def default_database_url() -> str:
    """The embedded default: a SQLite file in the user's data directory."""
    data_dir = Path(user_data_dir("coldcall", appauthor=False))
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{data_dir / 'coldcall.db'}"


class Settings(BaseSettings):
    """Runtime configuration. Environment variables use the field name in upper case."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- Storage ---------------------------------------------------------------------------
    database_url: str = Field(default_factory=default_database_url)
    cache_dir: Path = Field(default_factory=lambda: Path(user_data_dir("coldcall", appauthor=False)) / "cache")

    # --- HTTP server -----------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    #: The address Telnyx (or the carrier twin) reaches us at; webhook and stream URLs derive from it.
    public_base_url: str = ""
    session_secret: SecretStr | None = None
    log_level: str = "INFO"

    # --- Telnyx ----------------------------------------------------------------------------
    telnyx_api_key: SecretStr | None = None
    telnyx_public_key: str | None = None
    telnyx_base_url: str = "https://api.telnyx.com/v2"
    telnyx_connection_id: str = ""
    #: Account-wide channel limit (Telnyx accounts have one).
    max_concurrent_calls: int = 10
    #: The carrier twin's own ed25519 key (base64 of the 32-byte seed). Generated when unset.
    carrier_twin_private_key: SecretStr | None = None
    #: Check the per-call token (`bot.media_auth`) on the media WebSocket: the dialer sends it as
    #: ``stream_auth_token`` and Telnyx returns it; a stream without the right one is closed (1008).
    #: Turn off only behind a network that already admits Telnyx alone.
    media_stream_auth: bool = True
    #: Key of those tokens. Unset: derived from SESSION_SECRET, else from DATABASE_URL, so that
    #: every process of a deployment agrees on it.
    media_stream_secret: SecretStr | None = None

    # --- ElevenLabs ------------------------------------------------------------------------
    elevenlabs_api_key: SecretStr | None = None
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    elevenlabs_ws_url: str = "wss://api.elevenlabs.io"
    elevenlabs_model: str = "eleven_flash_v2_5"
    voice_id_male_professional: str = DEFAULT_VOICE_IDS["male_professional"]
    voice_id_female_professional: str = DEFAULT_VOICE_IDS["female_professional"]
    voice_id_male_friendly: str = DEFAULT_VOICE_IDS["male_friendly"]
    voice_id_female_friendly: str = DEFAULT_VOICE_IDS["female_friendly"]

    # --- OpenAI (or any OpenAI-compatible endpoint) -----------------------------------------
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_stt_model: str = "gpt-4o-mini-transcribe"

    # --- Speech recognition ------------------------------------------------------------------
    #: A faster-whisper model directory (CTranslate2 format). Unset: OpenAI if a key is set,
    #: else the carrier twin's clearly labelled simulated STT.
    whisper_model_dir: Path | None = None

    # --- Dialer ------------------------------------------------------------------------------
    dialer_enabled: bool = True
    dialer_poll_secs: float = 2.0
    dialer_batch_size: int = 100

    @field_validator(
        "telnyx_api_key", "elevenlabs_api_key", "openai_api_key", "session_secret", "media_stream_secret"
    )
    @classmethod
    def _refuse_placeholders(cls, value: SecretStr | None, info) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        if not raw:
            return None
        lowered = raw.lower()
        if any(marker in lowered for marker in _PLACEHOLDER_MARKERS):
            raise ValueError(
                f"{info.field_name.upper()} holds a placeholder value ({raw[:12]}...); "
                "set the real key or unset the variable to use the local stand-in."
            )
        return SecretStr(raw)

    @model_validator(mode="after")
    def _normalise(self) -> "Settings":
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"
        self.public_base_url = self.public_base_url.rstrip("/")
        return self

    # --- Derived ---------------------------------------------------------------------------
    @property
    def uses_carrier_twin(self) -> bool:
        """True when calls go to the local carrier twin (no Telnyx key, or TELEPHONY=twin)."""
        return not self.uses_real_telephony

    @property
    def uses_offline_voice(self) -> bool:
        return self.elevenlabs_api_key is None

    @property
    def uses_scripted_responder(self) -> bool:
        return self.openai_api_key is None and not self.openai_base_url

    def voice_id(self, voice_type: str) -> str:
        """The ElevenLabs voice id for one of the four voice types."""
        try:
            return getattr(self, f"voice_id_{voice_type}")
        except AttributeError:
            raise ValueError(
                f"Unknown voice type {voice_type!r}; use one of {', '.join(DEFAULT_VOICE_IDS)}."
            ) from None

    @property
    def webhook_url(self) -> str:
        return f"{self.public_base_url}/telnyx/webhooks"

    @property
    def stream_url(self) -> str:
        ws = self.public_base_url.replace("https://", "wss://").replace("http://", "ws://")
        return f"{ws}/telnyx/media"

    # --- Dialer, Telnyx call control and the carrier twin (dialer issue) ----------------------
    #: "auto": Telnyx when TELNYX_API_KEY is set, else the local carrier twin; "telnyx": real
    #: telephony (a missing key is an error); "twin": always the carrier twin.
    telephony: Literal["auto", "telnyx", "twin"] = "auto"
    #: Retries of the official client on 408/409/429/5xx/timeouts (exponential backoff).
    telnyx_max_retries: int = 3
    telnyx_timeout_secs: float = 15.0
    #: Ring timeout of an outbound call and the longest a call may last.
    call_ring_timeout_secs: int = 25
    call_time_limit_secs: int = 900
    #: Codec of the media stream both ways (Pipecat's Telnyx serializer takes PCMU or PCMA).
    call_codec: Literal["PCMU", "PCMA"] = "PCMU"
    #: The carrier twin listens here (loopback) when it is in use.
    carrier_twin_host: str = "127.0.0.1"
    carrier_twin_port: int = 8790
    #: Persona speed-up for demos/tests: ring times and pauses are divided by it (1 = realistic).
    carrier_twin_time_scale: float = 1.0
    #: Technical failures of a prospect retried without spending an attempt, and how soon.
    max_technical_retries: int = 3
    technical_retry_delay_secs: int = 300
    #: A call log still "initiated" after this long is considered lost and released.
    stale_call_secs: int = 1800
    #: Render the opener's audio when dialing, so it is cached when the media stream starts.
    dialer_prerender_opener: bool = True

    @property
    def uses_real_telephony(self) -> bool:
        """True when calls go to Telnyx (TELEPHONY=telnyx, or auto with a key)."""
        return self.telephony == "telnyx" or (self.telephony == "auto" and self.telnyx_api_key is not None)

    @property
    def carrier_twin_base_url(self) -> str:
        """The carrier twin's REST base (the same path shape as https://api.telnyx.com/v2)."""
        return f"http://{self.carrier_twin_host}:{self.carrier_twin_port}/v2"

    # --- Script and voice: ElevenLabs REST TTS, offline voice, audio assets (script/voice issue) --
    #: Attempts of one TTS request on 429/5xx/timeouts before giving up (1 = no retry).
    elevenlabs_max_attempts: int = 5
    #: First backoff delay; it doubles per attempt (capped by `elevenlabs_retry_max_secs`).
    elevenlabs_retry_base_secs: float = 0.5
    elevenlabs_retry_max_secs: float = 8.0
    elevenlabs_timeout_secs: float = 30.0
    #: Where the committed offline library lives: <assets_audio_dir>/offline/<voice_type>/.
    assets_audio_dir: Path = ASSETS_DIR / "audio"
    #: Size the TTS disk cache (<cache_dir>/voice) is trimmed to, least recently used first.
    voice_cache_max_mb: int = 2048

    # --- Call pipeline: turn taking, guards, local Whisper (pipeline-runtime issue) ------------
    #: "auto": Whisper if WHISPER_MODEL_DIR, else OpenAI if an LLM endpoint is set, else the
    #: simulated STT; or name one ("whisper", "openai", "simulated").
    stt_provider: Literal["auto", "whisper", "openai", "simulated"] = "auto"
    #: Language code given to local Whisper ("es"; "en" for English-only models such as tiny.en).
    whisper_language: str = "es"
    #: Silero's silence before end of speech; smart-turn V3 then decides, falling back after
    #: `turn_fallback_secs` when it judges the sentence unfinished.
    vad_stop_secs: float = 0.2
    turn_fallback_secs: float = 1.0
    #: While the bot talks, speech shorter than this is checked for a backchannel ("ajá", "sí").
    barge_in_min_secs: float = 0.6
    #: Silence before "¿Sigues ahí?" (and again before the goodbye); maximum call length.
    call_silence_secs: float = 8.0
    call_max_secs: float = 300.0
    #: An owed answer silent this long counts as a failure (apology + goodbye).
    call_dead_air_secs: float = 1.5
    #: Pipecat's per-service metrics (STT/LLM/TTS time to first byte, processing time), logged at
    #: debug level. Off by default: the call log keeps its own per-reply latency, and each metrics
    #: frame crosses every processor behind its service for nobody to read it.
    service_metrics: bool = False

    # --- Intents and fillers (intents/fillers, part of the pipeline issue) --------------------
    #: When the turn-end filler starts: "vad_stop" (at VAD's end of speech, before the transcript;
    #: meets the latency target) or "turn_end" (after the user aggregator ends the turn).
    filler_trigger: Literal["vad_stop", "turn_end"] = "vad_stop"
    #: Hold before the turn-end filler; a pre-rendered reply arriving within it gets no filler.
    filler_delay_secs: float = Field(default=0.0, ge=0.0, le=2.0)
    #: Preferred longest turn-end filler (the LLM answer queues behind it).
    filler_max_ms: int = Field(default=450, ge=100, le=2000)
    #: A "Vale"/"Perfecto" bridge when the LLM answer has not started this long after the turn
    #: ended; 0 turns the bridge off.
    filler_bridge_secs: float = Field(default=1.2, ge=0.0, le=10.0)
    #: Probability of the seed's occasional "Perdón, quería decir..." between sentences.
    human_error_rate: float = Field(default=0.05, ge=0.0, le=1.0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own `Settings(...)` instead."""
    return Settings()
