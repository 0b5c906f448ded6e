"""bot/voice.py against a local twin of ElevenLabs' REST API, and the offline espeak-ng voice."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.settings import Settings
from bot.voice import (
    Speech,
    VoiceAuthError,
    VoiceConfigError,
    VoiceGenerator,
    VoiceRateLimited,
    VoiceRequestError,
    VoiceUnavailable,
    normalise_loudness,
    parse_output_format,
    trim_silence,
)
from tests.twins.elevenlabs_http import SYSTEM_BUSY, TOO_MANY_CONCURRENT, ElevenLabsTwin, tone_pcm

KEY = "sk_test_0123456789abcdef"
TEXT = "Hola, soy Juan de Wallie. ¿Tienes dos minutos?"


@pytest.fixture
def twin() -> Iterator[ElevenLabsTwin]:
    with ElevenLabsTwin(api_key=KEY) as server:
        yield server


def make_settings(tmp_path: Path, **overrides) -> Settings:
    values = dict(
        _env_file=None,
        cache_dir=tmp_path / "cache",
        elevenlabs_api_key=None,
        elevenlabs_retry_base_secs=0.01,
        elevenlabs_retry_max_secs=0.05,
        elevenlabs_max_attempts=4,
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def online(tmp_path: Path, twin: ElevenLabsTwin) -> Settings:
    return make_settings(tmp_path, elevenlabs_api_key=KEY, elevenlabs_base_url=twin.base_url)


def rms_dbfs(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return 20 * np.log10(np.sqrt(np.mean(samples**2)) / 32768)


def partial_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".partial-")]


# --- ElevenLabs through the official client ------------------------------------------------------


def test_request_carries_voice_model_settings_format_and_key(online: Settings, twin: ElevenLabsTwin) -> None:
    audio = VoiceGenerator(online).generate_voice(
        TEXT, voice_type="female_friendly", stability=0.3, similarity_boost=0.9, output_format="pcm_8000"
    )
    assert audio == tone_pcm(8000, TEXT)
    (request,) = twin.tts_requests
    assert request.path == f"/v1/text-to-speech/{online.voice_id_female_friendly}"
    assert request.voice_id == "XrExE9yKIg1WjnnlVkGX"  # the Spanish-capable default for the type
    assert request.output_format == "pcm_8000"
    assert request.api_key == KEY
    assert request.body["text"] == TEXT
    assert request.body["model_id"] == online.elevenlabs_model == "eleven_flash_v2_5"
    assert request.body["language_code"] == "es"
    assert request.body["voice_settings"] == {"stability": 0.3, "similarity_boost": 0.9}


def test_seed_defaults_ask_for_mp3(online: Settings, twin: ElevenLabsTwin) -> None:
    audio = VoiceGenerator(online).generate_voice("Hola, soy Juan de Wallie...")
    assert audio.startswith(b"ID3")
    (request,) = twin.tts_requests
    assert request.output_format == "mp3_44100_128"
    assert request.voice_id == online.voice_id_male_professional
    assert request.body["voice_settings"] == {"stability": 0.5, "similarity_boost": 0.75}


def test_ulaw_for_telephony(online: Settings, twin: ElevenLabsTwin) -> None:
    audio = VoiceGenerator(online).generate_voice(TEXT, output_format="ulaw_8000")
    assert audio and twin.tts_requests[0].output_format == "ulaw_8000"


def test_second_identical_request_hits_the_cache(online: Settings, twin: ElevenLabsTwin) -> None:
    generator = VoiceGenerator(online)
    first = generator.synthesize(TEXT, output_format="pcm_8000")
    second = generator.synthesize(TEXT, output_format="pcm_8000")
    assert not first.cached and second.cached
    assert first.audio == second.audio
    assert len(twin.tts_requests) == 1
    # A fresh generator (another process) finds it on disk too.
    assert VoiceGenerator(online).generate_voice(TEXT, output_format="pcm_8000") == first.audio
    assert len(twin.tts_requests) == 1
    # Anything that shapes the audio is part of the key.
    generator.generate_voice(TEXT, stability=0.6, output_format="pcm_8000")
    generator.generate_voice(TEXT, voice_type="female_professional", output_format="pcm_8000")
    generator.generate_voice(TEXT, output_format="ulaw_8000")
    generator.generate_voice(TEXT + " Vale.", output_format="pcm_8000")
    assert len(twin.tts_requests) == 5


def test_too_many_concurrent_requests_then_success_is_retried(online: Settings, twin: ElevenLabsTwin) -> None:
    twin.respond(429, TOO_MANY_CONCURRENT)
    audio = VoiceGenerator(online).generate_voice(TEXT, output_format="pcm_8000")
    assert audio == tone_pcm(8000, TEXT)
    assert len(twin.tts_requests) == 2
    assert twin.tts_requests[0].body == twin.tts_requests[1].body


def test_system_busy_backs_off_exponentially(tmp_path: Path, twin: ElevenLabsTwin) -> None:
    settings = make_settings(tmp_path, elevenlabs_api_key=KEY, elevenlabs_base_url=twin.base_url,
                             elevenlabs_retry_base_secs=0.1, elevenlabs_retry_max_secs=1.0)
    twin.respond(429, SYSTEM_BUSY)
    twin.respond(429, SYSTEM_BUSY)
    started = time.monotonic()
    VoiceGenerator(settings).generate_voice(TEXT, output_format="pcm_8000")
    assert time.monotonic() - started >= 0.1 + 0.2  # 0.1 s, then 0.2 s
    assert len(twin.tts_requests) == 3


def test_retry_after_header_is_honoured(online: Settings, twin: ElevenLabsTwin) -> None:
    twin.respond(503, {"detail": {"status": "service_unavailable", "message": "Try later"}}, headers={"Retry-After": "0"})
    assert VoiceGenerator(online).generate_voice(TEXT, output_format="pcm_8000")
    assert len(twin.tts_requests) == 2


def test_persistent_429_is_bounded_and_nothing_is_cached(online: Settings, twin: ElevenLabsTwin) -> None:
    for _ in range(online.elevenlabs_max_attempts):
        twin.respond(429, TOO_MANY_CONCURRENT)
    generator = VoiceGenerator(online)
    with pytest.raises(VoiceRateLimited) as raised:
        generator.generate_voice(TEXT, output_format="pcm_8000")
    assert raised.value.status == "too_many_concurrent_requests"
    assert "too_many_concurrent_requests" in str(raised.value)
    assert len(twin.tts_requests) == online.elevenlabs_max_attempts
    assert generator.cached_audio(TEXT, output_format="pcm_8000") is None
    generator.generate_voice(TEXT, output_format="pcm_8000")  # the service is back: asked again
    assert len(twin.tts_requests) == online.elevenlabs_max_attempts + 1


def test_wrong_key_says_so_and_is_not_retried(tmp_path: Path, twin: ElevenLabsTwin) -> None:
    settings = make_settings(tmp_path, elevenlabs_api_key="sk_wrong_key_42", elevenlabs_base_url=twin.base_url)
    with pytest.raises(VoiceAuthError) as raised:
        VoiceGenerator(settings).generate_voice(TEXT)
    assert "ELEVENLABS_API_KEY" in str(raised.value) and "401" in str(raised.value)
    assert "sk_wrong_key_42" not in str(raised.value)
    assert len(twin.tts_requests) == 1


def test_missing_key_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(VoiceConfigError, match="ELEVENLABS_API_KEY"):
        VoiceGenerator(make_settings(tmp_path), offline=False).generate_voice(TEXT)


def test_bad_requests_are_refused_before_any_call(online: Settings, twin: ElevenLabsTwin) -> None:
    generator = VoiceGenerator(online)
    with pytest.raises(VoiceConfigError, match="voice type"):
        generator.generate_voice(TEXT, voice_type="robot")
    with pytest.raises(VoiceConfigError, match="stability"):
        generator.generate_voice(TEXT, stability=1.5)
    with pytest.raises(VoiceRequestError):
        generator.generate_voice("   ")
    assert twin.tts_requests == []


def test_cut_download_is_retried_and_never_cached(online: Settings, twin: ElevenLabsTwin) -> None:
    twin.respond(200, tone_pcm(8000, "cut"), truncated=True)
    generator = VoiceGenerator(online)
    audio = generator.generate_voice(TEXT, output_format="pcm_8000")
    assert audio == tone_pcm(8000, TEXT)  # the complete second answer, not the cut first one
    assert len(twin.tts_requests) == 2
    assert generator.cached_audio(TEXT, output_format="pcm_8000") == audio
    assert partial_files(online.cache_dir) == []


def test_odd_length_pcm_is_refused(online: Settings, twin: ElevenLabsTwin) -> None:
    for _ in range(online.elevenlabs_max_attempts):
        twin.respond(200, b"\x01\x02\x03")
    generator = VoiceGenerator(online)
    with pytest.raises(VoiceUnavailable):
        generator.generate_voice(TEXT, output_format="pcm_8000")
    assert generator.cached_audio(TEXT, output_format="pcm_8000") is None


async def test_async_path_retries_and_caches(online: Settings, twin: ElevenLabsTwin) -> None:
    twin.respond(429, TOO_MANY_CONCURRENT)
    generator = VoiceGenerator(online)
    audio = await generator.agenerate_voice(TEXT, output_format="pcm_8000")
    assert audio == tone_pcm(8000, TEXT)
    assert len(twin.tts_requests) == 2
    again = await generator.asynthesize(TEXT, output_format="pcm_8000")
    assert again.cached and again.audio == audio and not again.offline
    assert len(twin.tts_requests) == 2


# --- Offline voice -------------------------------------------------------------------------------------


def test_offline_voice_without_a_key(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    generator = VoiceGenerator(settings)
    assert generator.offline
    speech = generator.synthesize("Sé que esta semana es complicada.", output_format="pcm_8000")
    assert isinstance(speech, Speech) and speech.offline and not speech.cached
    seconds = len(speech.audio) / 16000
    assert 1.0 < seconds < 5.0
    assert abs(rms_dbfs(speech.audio) - (-20.0)) < 1.5  # loudness-normalised
    first_10ms = np.frombuffer(speech.audio[:160], dtype="<i2")
    assert np.abs(first_10ms).max() < 32768 * 10 ** (-20 / 20)  # trimmed: starts at the speech, not long air
    assert generator.synthesize("Sé que esta semana es complicada.", output_format="pcm_8000").cached


def test_offline_formats(tmp_path: Path) -> None:
    generator = VoiceGenerator(make_settings(tmp_path))
    pcm = generator.generate_voice("Hola, buenos días.", output_format="pcm_8000")
    ulaw = generator.generate_voice("Hola, buenos días.", output_format="ulaw_8000")
    assert len(ulaw) == len(pcm) // 2  # one byte per sample
    mp3 = generator.generate_voice("Hola, buenos días.")  # the seed's default, mp3_44100_128
    assert mp3[:2] == b"\xff\xfb" or mp3[:3] == b"ID3"
    wide = generator.generate_voice("Hola, buenos días.", output_format="pcm_16000")
    assert abs(len(wide) - 2 * len(pcm)) < 0.1 * len(wide)


def test_offline_voice_types_sound_different(tmp_path: Path) -> None:
    generator = VoiceGenerator(make_settings(tmp_path))
    renders = {generator.generate_voice("Buenos días", voice_type=v, output_format="pcm_8000")
               for v in ("male_professional", "female_professional", "male_friendly", "female_friendly")}
    assert len(renders) == 4


def test_offline_can_be_forced_with_a_key(online: Settings, twin: ElevenLabsTwin) -> None:
    speech = VoiceGenerator(online, offline=True).synthesize(TEXT, output_format="pcm_8000")
    assert speech.offline
    assert twin.tts_requests == []


# --- Audio helpers ---------------------------------------------------------------------------------------


def test_trim_and_normalise() -> None:
    pcm = tone_pcm(8000, "x" * 10, silence_ms=300)
    trimmed = trim_silence(pcm, 8000)
    assert len(pcm) - len(trimmed) >= 2 * 8000 * 0.5  # ~560 ms of the 600 ms silence gone
    assert abs(rms_dbfs(normalise_loudness(trimmed)) + 20) < 0.5
    assert normalise_loudness(bytes(1600)) == bytes(1600)  # silence stays silence
    assert trim_silence(bytes(1600), 8000) == bytes(1600)


def test_parse_output_format() -> None:
    assert parse_output_format("mp3_44100_128") == ("mp3", 44100, 128)
    assert parse_output_format("pcm_8000") == ("pcm", 8000, None)
    with pytest.raises(VoiceConfigError):
        parse_output_format("flac")


def test_cache_prune_keeps_the_recently_used(tmp_path: Path) -> None:
    generator = VoiceGenerator(make_settings(tmp_path, voice_cache_max_mb=1))
    cache = generator.cache
    for i in range(3):
        cache.put(f"{i:064x}", "pcm_8000", bytes(600_000))
        path = cache.path(f"{i:064x}", "pcm_8000")
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    assert cache.get(f"{0:064x}", "pcm_8000") is not None  # used now: the newest
    assert generator.prune_cache() == 2
    assert cache.get(f"{0:064x}", "pcm_8000") is not None
    assert cache.get(f"{1:064x}", "pcm_8000") is None and cache.get(f"{2:064x}", "pcm_8000") is None
