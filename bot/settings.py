"""The one settings object of the product (pydantic-settings, `.env` supported).

Every secret and every external address is read here and nowhere else. Unset keys switch the
matching part to its local stand-in (SQLite, the carrier twin, the offline voice, the scripted
responder); a placeholder value such as ``your_telnyx_key`` is refused at start with a sentence
naming the variable, because a placeholder silently sent to a vendor is a confusing failure.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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

    @field_validator("telnyx_api_key", "elevenlabs_api_key", "openai_api_key", "session_secret")
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
        """True when no Telnyx key is set: calls go to the local carrier twin."""
        return self.telnyx_api_key is None

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own `Settings(...)` instead."""
    return Settings()
