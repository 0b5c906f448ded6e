"""Voice generator: text to speech through ElevenLabs' REST API, or the offline espeak-ng voice.

`VoiceGenerator.generate_voice(text, voice_type=...)` is the seed's call. It speaks through the
official `elevenlabs` client (base URL from settings, so tests point it at a local twin) and
returns the audio bytes in the asked format: ``mp3_44100_128`` (the seed's default), or the
telephony formats the bot plays without transcoding, ``pcm_8000`` (16-bit LE mono) and
``ulaw_8000``.

* **Cache.** Every result is stored under ``settings.cache_dir/voice`` by a hash of everything
  that shapes the audio (engine, voice id, model, voice settings, text, format), so a phrase is
  never paid for twice. Files are written to a temporary name and renamed, so a crash or a broken
  download never leaves partial audio behind.
* **Errors.** ElevenLabs errors become a few typed errors (`VoiceError` and subclasses) with a
  sentence a person can act on. 429 ``too_many_concurrent_requests`` waits briefly and retries
  (the plan's concurrency frees up in seconds); 429 ``system_busy`` and 5xx back off
  exponentially; both are bounded by ``settings.elevenlabs_max_attempts``.
* **Offline voice.** Without ``ELEVENLABS_API_KEY`` (or with ``offline=True``) espeak-ng speaks
  Spanish (``es`` with a variant per voice type), sox resamples it, and the result is trimmed and
  loudness-normalised. MP3 is encoded with LAME (``lameenc``), since the distribution's sox has no
  MP3 writer. Everything it makes is labelled ``offline`` (`Speech.offline`, the cache key,
  `bot.assets` manifests).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import wave
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from elevenlabs import AsyncElevenLabs, ElevenLabs, VoiceSettings
from elevenlabs.core.api_error import ApiError
from loguru import logger

from bot.settings import DEFAULT_VOICE_IDS, Settings, get_settings
from bot.tls import shared_tls_context

#: Version of the offline rendering chain; bump it to invalidate cached offline audio.
OFFLINE_ENGINE = "espeak-ng+sox/1"
#: Models that accept `language_code` (multilingual_v2 refuses it).
_LANGUAGE_CODE_MODELS = ("eleven_flash_v2_5", "eleven_turbo_v2_5")
#: espeak-ng voice variant, speed (words per minute) and pitch (0-99) per voice type.
OFFLINE_VOICES: dict[str, tuple[str, int, int]] = {
    "male_professional": ("es+m4", 165, 42),
    "female_professional": ("es+f5", 165, 55),
    "male_friendly": ("es+m6", 175, 50),
    "female_friendly": ("es+f1", 175, 62),
}
#: Loudness targets for everything the bot plays: RMS level and the peak ceiling (dBFS).
TARGET_RMS_DBFS = -20.0
PEAK_CEILING_DBFS = -1.0
#: Below this level (dBFS, 10 ms windows) audio counts as silence when trimming.
SILENCE_THRESHOLD_DBFS = -45.0

_FORMAT_RE = re.compile(r"^(pcm|ulaw|alaw|mp3|wav)_(\d+)(?:_(\d+))?$")


# --- Errors ------------------------------------------------------------------------------------


class VoiceError(Exception):
    """Speech could not be generated; the message says why in words a person can act on."""


class VoiceConfigError(VoiceError):
    """Configuration is missing or wrong (no key, unknown voice type, unsupported format)."""


class VoiceAuthError(VoiceError):
    """ElevenLabs refused the key (401/403)."""


class VoiceRateLimited(VoiceError):
    """ElevenLabs said 429 and kept saying it after the bounded retries."""

    def __init__(self, message: str, *, status: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class VoiceUnavailable(VoiceError):
    """ElevenLabs failed (5xx), timed out or could not be reached."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VoiceRequestError(VoiceError):
    """ElevenLabs rejected the request itself (400/404/422): text, voice id or format."""


def _detail(body: Any) -> tuple[str, str]:
    """(status, message) from an ElevenLabs error body ``{"detail": {"status", "message"}}``."""
    if isinstance(body, dict):
        detail = body.get("detail", body)
        if isinstance(detail, dict):
            return str(detail.get("status") or ""), str(detail.get("message") or "")
        if isinstance(detail, str):
            return "", detail
        if isinstance(detail, list) and detail:  # FastAPI-style validation errors
            first = detail[0]
            return "", str(first.get("msg") if isinstance(first, dict) else first)
    if isinstance(body, str):
        return "", body[:200]
    return "", ""


def _retry_after(headers: Any) -> float | None:
    value = (headers or {}).get("retry-after") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def translate_error(exc: ApiError) -> VoiceError:
    """An ElevenLabs SDK error as one of ours, with a sentence naming what to do."""
    status, message = _detail(exc.body)
    code = exc.status_code or 0
    said = f": {message}" if message else ""
    if code == 401:
        return VoiceAuthError(
            f"ElevenLabs refused the key in ELEVENLABS_API_KEY (401): it is wrong, revoked or out of quota{said}"
        )
    if code == 403:
        return VoiceAuthError(f"ElevenLabs refused ELEVENLABS_API_KEY for this request (403){said}")
    if code == 429:
        if status == "too_many_concurrent_requests":
            text = "ElevenLabs is already serving as many requests as the plan allows (429 too_many_concurrent_requests)"
        elif status == "system_busy":
            text = "ElevenLabs is overloaded (429 system_busy)"
        else:
            text = f"ElevenLabs rate limit (429 {status or 'rate_limited'})"
        return VoiceRateLimited(text + said, status=status, retry_after=_retry_after(exc.headers))
    if code >= 500:
        return VoiceUnavailable(f"ElevenLabs failed ({code}){said}", retry_after=_retry_after(exc.headers))
    if code == 404:
        return VoiceRequestError(f"ElevenLabs does not know this voice id or model (404){said}")
    return VoiceRequestError(f"ElevenLabs rejected the request ({code}){said}")


# --- Audio helpers -------------------------------------------------------------------------------


def parse_output_format(output_format: str) -> tuple[str, int, int | None]:
    """("pcm", 8000, None) from "pcm_8000"; ("mp3", 44100, 128) from "mp3_44100_128"."""
    match = _FORMAT_RE.match(output_format)
    if not match:
        raise VoiceConfigError(
            f"Unknown output format {output_format!r}; use e.g. pcm_8000, ulaw_8000 or mp3_44100_128."
        )
    codec, rate, bitrate = match.group(1), int(match.group(2)), match.group(3)
    return codec, rate, int(bitrate) if bitrate else None


def _samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float32)


def _dbfs_to_amplitude(dbfs: float) -> float:
    return 32768.0 * 10 ** (dbfs / 20)


def trim_silence(
    pcm: bytes, sample_rate: int, *, threshold_dbfs: float = SILENCE_THRESHOLD_DBFS, keep_ms: int = 20
) -> bytes:
    """16-bit PCM without its leading and trailing silence (keeping `keep_ms` of air each side)."""
    samples = _samples(pcm)
    window = max(1, sample_rate // 100)  # 10 ms
    count = len(samples) // window
    if count == 0:
        return pcm
    frames = samples[: count * window].reshape(count, window)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    loud = np.nonzero(rms > _dbfs_to_amplitude(threshold_dbfs))[0]
    if len(loud) == 0:
        return pcm
    keep = keep_ms * sample_rate // 1000
    start = max(0, loud[0] * window - keep)
    end = min(len(samples), (loud[-1] + 1) * window + keep)
    return pcm[start * 2 : end * 2]


def normalise_loudness(
    pcm: bytes, *, target_rms_dbfs: float = TARGET_RMS_DBFS, peak_ceiling_dbfs: float = PEAK_CEILING_DBFS
) -> bytes:
    """16-bit PCM at a common loudness: gain to the target RMS, limited so peaks stay under the ceiling."""
    samples = _samples(pcm)
    if len(samples) == 0:
        return pcm
    rms = float(np.sqrt(np.mean(samples**2)))
    peak = float(np.max(np.abs(samples)))
    if rms < 1.0 or peak < 1.0:
        return pcm  # digital silence stays silence
    gain = min(_dbfs_to_amplitude(target_rms_dbfs) / rms, _dbfs_to_amplitude(peak_ceiling_dbfs) / peak)
    return np.clip(np.round(samples * gain), -32768, 32767).astype("<i2").tobytes()


def pcm_to_wav(pcm: bytes, sample_rate: int) -> bytes:
    """A WAV file (16-bit mono) around raw PCM."""
    buffer = BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def read_wav(path: Path) -> tuple[bytes, int]:
    """(pcm, sample_rate) of a 16-bit mono WAV file."""
    with wave.open(str(path), "rb") as src:
        if src.getsampwidth() != 2 or src.getnchannels() != 1:
            raise ValueError(f"{path} is not 16-bit mono WAV")
        return src.readframes(src.getnframes()), src.getframerate()


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise VoiceConfigError(
            f"The offline voice needs {name!r} (Debian/Ubuntu: apt-get install espeak-ng sox); "
            "or set ELEVENLABS_API_KEY to use ElevenLabs."
        )
    return path


def run_sox(args: list[str], data: bytes | None = None) -> bytes:
    """Run sox with `args` (stdin `data`), returning its stdout; a failure raises `VoiceError`."""
    # -R: repeatable dither and noise, so the same input always gives the same bytes (stable assets).
    result = subprocess.run([_require_tool("sox"), "-R", *args], input=data, capture_output=True, check=False)
    if result.returncode != 0:
        raise VoiceError(f"sox failed: {result.stderr.decode(errors='replace').strip()[:300]}")
    return result.stdout


def encode_pcm(pcm: bytes, sample_rate: int, output_format: str) -> bytes:
    """Encode 16-bit PCM at `sample_rate` into an output format (resampling when it differs)."""
    codec, rate, bitrate = parse_output_format(output_format)
    raw_in = ["-t", "raw", "-r", str(sample_rate), "-e", "signed-integer", "-b", "16", "-c", "1", "-"]
    if rate != sample_rate:
        pcm = run_sox([*raw_in, "-t", "raw", "-r", str(rate), "-e", "signed-integer", "-b", "16", "-c", "1", "-"], pcm)
        raw_in[2] = str(rate)
    if codec == "pcm":
        return pcm
    if codec == "wav":
        return pcm_to_wav(pcm, rate)
    if codec in ("ulaw", "alaw"):
        encoding = "u-law" if codec == "ulaw" else "a-law"
        return run_sox([*raw_in, "-t", "raw", "-e", encoding, "-b", "8", "-c", "1", "-"], pcm)
    import lameenc  # only the offline MP3 path needs it

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate or 128)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(2)
    return bytes(encoder.encode(pcm) + encoder.flush())


def espeak_pcm(text: str, voice_type: str, sample_rate: int = 8000) -> bytes:
    """Spanish speech from espeak-ng as trimmed, loudness-normalised 16-bit mono PCM."""
    variant, speed, pitch = OFFLINE_VOICES.get(voice_type, OFFLINE_VOICES["male_professional"])
    espeak = _require_tool("espeak-ng")
    with tempfile.TemporaryDirectory(prefix="coldcall-espeak-") as tmp:
        wav_path = Path(tmp) / "speech.wav"
        # Text on stdin: a phrase starting with "-" must not be read as an option.
        result = subprocess.run(
            [espeak, "-v", variant, "-s", str(speed), "-p", str(pitch), "-w", str(wav_path)],
            input=text.encode("utf-8"),
            capture_output=True,
            check=False,
        )
        if result.returncode != 0 or not wav_path.exists():
            raise VoiceError(f"espeak-ng failed: {result.stderr.decode(errors='replace').strip()[:300]}")
        pcm = run_sox(
            [str(wav_path), "-t", "raw", "-r", str(sample_rate), "-e", "signed-integer", "-b", "16", "-c", "1", "-",
             "highpass", "100"]
        )
    return normalise_loudness(trim_silence(pcm, sample_rate))


# --- Cache ---------------------------------------------------------------------------------------


class VoiceCache:
    """Content-addressed audio files: ``<root>/<2 hex>/<sha256>.<ext>``, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def key(**parts: Any) -> str:
        canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def path(self, key: str, output_format: str) -> Path:
        return self.root / key[:2] / f"{key}.{output_format.split('_', 1)[0]}"

    def get(self, key: str, output_format: str) -> bytes | None:
        path = self.path(key, output_format)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            os.utime(path)  # recency for `prune`: a phrase in use is kept
        except OSError:
            pass
        return data

    def prune(self, max_bytes: int) -> int:
        """Delete the least recently used files until the cache holds at most `max_bytes`; returns
        how many were deleted. (Openers are unique per call, so the cache grows with every call.)"""
        files = []
        for path in self.root.glob("*/*"):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        deleted = 0
        for _, size, path in sorted(files):
            if total <= max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            deleted += 1
        return deleted

    def put(self, key: str, output_format: str, audio: bytes) -> None:
        final = self.path(key, output_format)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".partial-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(audio)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, final)  # atomic: readers see all of it or nothing
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise


# --- The generator ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Speech:
    """Generated audio and how it was made."""

    audio: bytes
    output_format: str
    voice_type: str
    offline: bool
    cached: bool


@dataclass(frozen=True, slots=True)
class _Request:
    text: str
    voice_type: str
    voice_id: str
    model_id: str
    stability: float
    similarity_boost: float
    output_format: str
    offline: bool

    def cache_key(self) -> str:
        if self.offline:
            variant = OFFLINE_VOICES.get(self.voice_type, OFFLINE_VOICES["male_professional"])
            return VoiceCache.key(engine=OFFLINE_ENGINE, voice=list(variant), text=self.text, format=self.output_format)
        return VoiceCache.key(
            engine="elevenlabs",
            voice_id=self.voice_id,
            model_id=self.model_id,
            stability=self.stability,
            similarity_boost=self.similarity_boost,
            text=self.text,
            format=self.output_format,
        )


class VoiceGenerator:
    """Text to speech with a disk cache: ElevenLabs with a key, the offline espeak-ng voice without.

    `offline=True` forces the offline voice even when a key is set (e.g. `coldcall assets
    generate --offline`); `offline=False` requires the key. The HTTP connections it opens are ours
    to close: use it as a context manager (``with`` / ``async with``) or call `close` / `aclose`.
    """

    def __init__(self, settings: Settings | None = None, *, offline: bool | None = None) -> None:
        self.settings = settings or get_settings()
        self.offline = self.settings.uses_offline_voice if offline is None else offline
        self.cache = VoiceCache(Path(self.settings.cache_dir) / "voice")
        self._http: httpx.Client | None = None
        self._async_http: httpx.AsyncClient | None = None
        self._client: ElevenLabs | None = None
        self._async_client: AsyncElevenLabs | None = None

    def close(self) -> None:
        """Close the synchronous HTTP connections (the cache stays)."""
        if self._http is not None:
            self._http.close()
        self._http, self._client = None, None

    async def aclose(self) -> None:
        """Close every HTTP connection of this generator."""
        self.close()
        if self._async_http is not None:
            await self._async_http.aclose()
        self._async_http, self._async_client = None, None

    def __enter__(self) -> "VoiceGenerator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "VoiceGenerator":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- public API (the seed's names) ----------------------------------------------------------

    def generate_voice(
        self,
        text: str,
        voice_type: str = "male_professional",
        stability: float = 0.5,
        similarity_boost: float = 0.75,
        output_format: str = "mp3_44100_128",
    ) -> bytes:
        """Audio bytes of `text` spoken by `voice_type`, in `output_format` (see the module docstring)."""
        return self.synthesize(text, voice_type, stability, similarity_boost, output_format).audio

    async def agenerate_voice(
        self,
        text: str,
        voice_type: str = "male_professional",
        stability: float = 0.5,
        similarity_boost: float = 0.75,
        output_format: str = "mp3_44100_128",
    ) -> bytes:
        """`generate_voice` for async callers (never blocks the event loop)."""
        return (await self.asynthesize(text, voice_type, stability, similarity_boost, output_format)).audio

    def synthesize(
        self,
        text: str,
        voice_type: str = "male_professional",
        stability: float = 0.5,
        similarity_boost: float = 0.75,
        output_format: str = "mp3_44100_128",
    ) -> Speech:
        """Like `generate_voice`, telling also whether it came from the cache and the offline voice."""
        request = self._request(text, voice_type, stability, similarity_boost, output_format)
        key = request.cache_key()
        cached = self.cache.get(key, output_format)
        if cached is not None:
            return Speech(cached, output_format, voice_type, request.offline, cached=True)
        audio = self._offline_audio(request) if request.offline else self._elevenlabs_sync(request)
        self._check(audio, request)
        self.cache.put(key, output_format, audio)
        return Speech(audio, output_format, voice_type, request.offline, cached=False)

    async def asynthesize(
        self,
        text: str,
        voice_type: str = "male_professional",
        stability: float = 0.5,
        similarity_boost: float = 0.75,
        output_format: str = "mp3_44100_128",
    ) -> Speech:
        """`synthesize` for async callers."""
        request = self._request(text, voice_type, stability, similarity_boost, output_format)
        key = request.cache_key()
        cached = await asyncio.to_thread(self.cache.get, key, output_format)
        if cached is not None:
            return Speech(cached, output_format, voice_type, request.offline, cached=True)
        if request.offline:
            audio = await asyncio.to_thread(self._offline_audio, request)
        else:
            audio = await self._elevenlabs_async(request)
        self._check(audio, request)
        await asyncio.to_thread(self.cache.put, key, output_format, audio)
        return Speech(audio, output_format, voice_type, request.offline, cached=False)

    def prune_cache(self) -> int:
        """Trim the disk cache to ``settings.voice_cache_max_mb`` (least recently used first)."""
        return self.cache.prune(self.settings.voice_cache_max_mb * 1024 * 1024)

    def cached_audio(
        self,
        text: str,
        voice_type: str = "male_professional",
        stability: float = 0.5,
        similarity_boost: float = 0.75,
        output_format: str = "mp3_44100_128",
    ) -> bytes | None:
        """The audio if this exact request was rendered before, else None (never calls a service)."""
        request = self._request(text, voice_type, stability, similarity_boost, output_format)
        return self.cache.get(request.cache_key(), output_format)

    # -- internals ----------------------------------------------------------------------------------

    def _request(
        self, text: str, voice_type: str, stability: float, similarity_boost: float, output_format: str
    ) -> _Request:
        text = " ".join((text or "").split())
        if not text:
            raise VoiceRequestError("There is no text to speak.")
        if voice_type not in DEFAULT_VOICE_IDS:
            raise VoiceConfigError(f"Unknown voice type {voice_type!r}; use one of {', '.join(DEFAULT_VOICE_IDS)}.")
        for name, value in (("stability", stability), ("similarity_boost", similarity_boost)):
            if not 0.0 <= value <= 1.0:
                raise VoiceConfigError(f"{name} must be between 0 and 1 (got {value}).")
        if self.offline:
            parse_output_format(output_format)  # the offline voice makes every format it can parse
        elif self.settings.elevenlabs_api_key is None:
            raise VoiceConfigError(
                "ELEVENLABS_API_KEY is not set: set it to use ElevenLabs, or use the offline voice."
            )
        return _Request(
            text=text,
            voice_type=voice_type,
            voice_id=self.settings.voice_id(voice_type),
            model_id=self.settings.elevenlabs_model,
            stability=float(stability),
            similarity_boost=float(similarity_boost),
            output_format=output_format,
            offline=self.offline,
        )

    @staticmethod
    def _check(audio: bytes, request: _Request) -> None:
        # Never cache (or play) nothing, or PCM cut in the middle of a sample.
        if not audio:
            raise VoiceUnavailable("ElevenLabs returned no audio.")
        if request.output_format.startswith("pcm_") and len(audio) % 2:
            raise VoiceUnavailable("ElevenLabs returned truncated PCM audio.")

    @staticmethod
    def _offline_audio(request: _Request) -> bytes:
        codec, rate, _ = parse_output_format(request.output_format)
        pcm_rate = 8000 if codec in ("ulaw", "alaw") else rate
        pcm = espeak_pcm(request.text, request.voice_type, pcm_rate)
        return encode_pcm(pcm, pcm_rate, request.output_format)

    def _convert_kwargs(self, request: _Request) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "text": request.text,
            "model_id": request.model_id,
            "output_format": request.output_format,
            "voice_settings": VoiceSettings(stability=request.stability, similarity_boost=request.similarity_boost),
            # Retries are ours (below), with ElevenLabs' two 429 meanings told apart.
            "request_options": {"max_retries": 0, "timeout_in_seconds": int(self.settings.elevenlabs_timeout_secs)},
        }
        if request.model_id in _LANGUAGE_CODE_MODELS:
            kwargs["language_code"] = "es"
        return kwargs

    def _key(self) -> str:
        assert self.settings.elevenlabs_api_key is not None  # checked in _request
        return self.settings.elevenlabs_api_key.get_secret_value()

    def _delay(self, error: VoiceError, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None when the error is final."""
        if attempt + 1 >= self.settings.elevenlabs_max_attempts:
            return None
        base, cap = self.settings.elevenlabs_retry_base_secs, self.settings.elevenlabs_retry_max_secs
        if isinstance(error, VoiceRateLimited):
            if error.retry_after is not None:
                return min(error.retry_after, cap)
            if error.status == "too_many_concurrent_requests":
                # A slot frees as soon as another request of ours finishes: wait briefly, in line.
                return min(base * (attempt + 1), cap)
            return min(base * 2**attempt, cap)
        if isinstance(error, VoiceUnavailable):
            return min(error.retry_after if error.retry_after is not None else base * 2**attempt, cap)
        return None

    def _elevenlabs_sync(self, request: _Request) -> bytes:
        if self._client is None:
            self._http = httpx.Client(timeout=self.settings.elevenlabs_timeout_secs, verify=shared_tls_context())
            self._client = ElevenLabs(
                api_key=self._key(),
                base_url=self.settings.elevenlabs_base_url,
                timeout=self.settings.elevenlabs_timeout_secs,
                httpx_client=self._http,
            )
        attempt = 0
        while True:
            try:
                return b"".join(self._client.text_to_speech.convert(request.voice_id, **self._convert_kwargs(request)))
            except ApiError as exc:
                error = translate_error(exc)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                error = VoiceUnavailable(f"ElevenLabs could not be reached ({type(exc).__name__}).")
            delay = self._delay(error, attempt)
            if delay is None:
                raise error
            logger.warning("ElevenLabs TTS attempt {} failed ({}); retrying in {:.2f}s", attempt + 1, error, delay)
            time.sleep(delay)
            attempt += 1

    async def _elevenlabs_async(self, request: _Request) -> bytes:
        if self._async_client is None:
            self._async_http = httpx.AsyncClient(timeout=self.settings.elevenlabs_timeout_secs, verify=shared_tls_context())
            self._async_client = AsyncElevenLabs(
                api_key=self._key(),
                base_url=self.settings.elevenlabs_base_url,
                timeout=self.settings.elevenlabs_timeout_secs,
                httpx_client=self._async_http,
            )
        attempt = 0
        while True:
            try:
                chunks = [c async for c in self._async_client.text_to_speech.convert(
                    request.voice_id, **self._convert_kwargs(request)
                )]
                return b"".join(chunks)
            except ApiError as exc:
                error = translate_error(exc)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                error = VoiceUnavailable(f"ElevenLabs could not be reached ({type(exc).__name__}).")
            delay = self._delay(error, attempt)
            if delay is None:
                raise error
            logger.warning("ElevenLabs TTS attempt {} failed ({}); retrying in {:.2f}s", attempt + 1, error, delay)
            await asyncio.sleep(delay)
            attempt += 1
