"""bot/assets.py: `coldcall assets generate`, the committed offline library, campaign replies, openers."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bot.assets import (
    FILLER_CATEGORIES,
    FILLER_MAX_MS,
    FILLER_MIN_MS,
    FILLERS,
    generate_assets,
    library_dir,
    load_audio_library,
    prepare_campaign_audio,
    render_opener,
)
from bot.replies import DEFAULT_REPLIES, campaign_reply_texts
from bot.settings import ASSETS_DIR, DEFAULT_VOICE_IDS, Settings
from db.models import Campaign, VoiceType
from tests.twins.elevenlabs_http import ElevenLabsTwin

KEY = "sk_test_0123456789abcdef"
SEED_FILLER_TEXTS = {
    "thinking": {"Ehhh", "Mmm", "Pues", "A ver", "Déjame ver"},
    "agreeing": {"Ajá", "Claro", "Entiendo", "Sí, sí", "Ya veo"},
    "transitioning": {"Vale", "Perfecto", "Bien", "Genial", "De acuerdo"},
}
SEED_INTENTS = {"dime_mas", "no_gracias", "cuando", "cuanto_cuesta", "no_entiendo", "adios"}


def make_settings(tmp_path: Path, **overrides) -> Settings:
    values = dict(
        _env_file=None,
        cache_dir=tmp_path / "cache",
        assets_audio_dir=tmp_path / "audio",
        elevenlabs_api_key=None,
        elevenlabs_retry_base_secs=0.01,
    )
    values.update(overrides)
    return Settings(**values)


def rms_dbfs(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return 20 * np.log10(np.sqrt(np.mean(samples**2)) / 32768)


def check_library_files(directory: Path, voice_type: str, offline: bool) -> dict:
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["voice_type"] == voice_type and manifest["offline"] is offline
    clips = {c["id"]: c for c in manifest["clips"]}
    assert {f.id for f in FILLERS} <= set(clips)
    assert set(DEFAULT_REPLIES) <= set(clips)
    for clip in manifest["clips"]:
        assert set(clip) >= {"id", "category", "text", "duration_ms", "file", "offline", "voice_type"}
        with wave.open(str(directory / clip["file"])) as wav:
            assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (8000, 2, 1)
            pcm = wav.readframes(wav.getnframes())
            assert abs(wav.getnframes() / 8 - clip["duration_ms"]) <= 1
        category = clip["category"]
        if category in SEED_FILLER_TEXTS:
            assert FILLER_MIN_MS <= clip["duration_ms"] <= FILLER_MAX_MS, clip
            assert -26 < rms_dbfs(pcm) < -17, clip  # -20 dBFS RMS unless the peak ceiling held it lower
        elif category == "silence":
            assert clip["duration_ms"] == int(clip["id"].split("_")[1].removesuffix("ms"))
            assert not any(pcm)
        elif category == "breathing":
            assert 300 <= clip["duration_ms"] <= 600
            assert rms_dbfs(pcm) < -28  # softer than speech
        elif category == "correction":
            assert clip["text"] == "Perdón, quería decir..."
            assert clip["duration_ms"] < 2000
        else:
            assert category == "reply"
            assert clip["text"] == DEFAULT_REPLIES[clip["id"]]
            assert -26 < rms_dbfs(pcm) < -17, clip  # -20 dBFS RMS unless the peak ceiling held it lower
    for category, texts in SEED_FILLER_TEXTS.items():
        assert {c["text"] for c in manifest["clips"] if c["category"] == category} == texts
    assert {c["id"] for c in manifest["clips"] if c["category"] == "silence"} == {
        "silence_200ms", "silence_300ms", "silence_400ms", "silence_500ms"}
    return manifest


def test_cli_generates_offline_assets_with_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import app

    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    monkeypatch.setenv("ASSETS_AUDIO_DIR", str(tmp_path / "audio"))
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    result = CliRunner().invoke(app, ["assets", "generate", "--voice-type", "female_professional"])
    assert result.exit_code == 0, result.output
    assert "✅ Generated: fillers/ehhh.wav" in result.output
    assert "✅ Generated: pregenerated/cuanto_cuesta.wav" in result.output
    assert "offline" in result.output
    check_library_files(tmp_path / "audio" / "offline" / "female_professional", "female_professional", True)


def test_cli_refuses_an_unknown_voice_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import app

    monkeypatch.setenv("ASSETS_AUDIO_DIR", str(tmp_path / "audio"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["assets", "generate", "--voice-type", "robot", "--offline"])
    assert result.exit_code == 1
    assert "Unknown voice type" in result.output


@pytest.mark.parametrize("voice_type", list(DEFAULT_VOICE_IDS))
def test_committed_offline_library_is_complete_and_current(voice_type: str) -> None:
    directory = ASSETS_DIR / "audio" / "offline" / voice_type
    check_library_files(directory, voice_type, offline=True)
    library = load_audio_library(Settings(_env_file=None, elevenlabs_api_key=None), voice_type)
    assert library.offline and library.voice_type == voice_type
    for category in FILLER_CATEGORIES:
        assert library.fillers(category), category
        assert all(clip.offline and clip.sample_rate == 8000 for clip in library.fillers(category))
    for key in SEED_INTENTS | {"voicemail", "opt_out", "transfer", "transfer_failed", "apology",
                               "silence_prompt", "goodbye"}:
        clip = library.reply(key)
        assert clip is not None and clip.text == DEFAULT_REPLIES[key] and clip.duration_ms > 500
    assert library.filler("silence_300ms").duration_ms == 300
    assert library.reply("nope") is None


def test_library_is_cached_per_process(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    generate_assets(settings, "male_friendly", offline=True)
    first = load_audio_library(settings, "male_friendly")
    assert load_audio_library(settings, "male_friendly") is first


def test_missing_library_is_rendered_on_demand(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    library = load_audio_library(settings, VoiceType.female_friendly)
    assert library.reply("adios") is not None
    assert (library_dir(settings, "female_friendly", offline=True) / "manifest.json").exists()


def test_campaign_texts_override_defaults_offline(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    generate_assets(settings, "male_professional", offline=True)
    campaign = {
        "voice_type": "male_professional",
        "pregenerated_replies": {"cuanto_cuesta": "Cuesta noventa y nueve euros al mes.", "demo": "Te enseño una demo.",
                                 "broken": 3, "empty": "  "},
        "objection_handling": {"precio_alto": {"triggers": ["es muy caro"], "response": "Se paga solo en un mes."},
                               "ya_tenemos_proveedor": "¿Qué es lo que más valoras de tu proveedor?"},
    }
    texts = campaign_reply_texts(campaign)
    assert texts["cuanto_cuesta"] == "Cuesta noventa y nueve euros al mes."
    assert texts["adios"] == DEFAULT_REPLIES["adios"] and "broken" not in texts and "empty" not in texts
    library = load_audio_library(settings, "male_professional", campaign)
    price = library.reply("cuanto_cuesta")
    assert price.text == "Cuesta noventa y nueve euros al mes." and price.offline
    assert library.reply("demo").text == "Te enseño una demo."
    assert library.reply("precio_alto").text == "Se paga solo en un mes."
    assert library.reply("ya_tenemos_proveedor") is not None
    assert library.reply("adios").text == DEFAULT_REPLIES["adios"]
    # The library without the campaign is untouched.
    assert load_audio_library(settings, "male_professional").reply("cuanto_cuesta").text == DEFAULT_REPLIES["cuanto_cuesta"]


async def test_campaign_audio_with_elevenlabs(tmp_path: Path) -> None:
    with ElevenLabsTwin(api_key=KEY) as twin:
        settings = make_settings(tmp_path, elevenlabs_api_key=KEY, elevenlabs_base_url=twin.base_url)
        campaign = Campaign(name="Q1", voice_type=VoiceType.female_professional,
                            pregenerated_replies={"cuanto_cuesta": "Desde noventa y nueve euros al mes."},
                            objection_handling={})
        # Before activation there is no ElevenLabs library: the offline one stands in, whole (its
        # gaps filled by the offline voice too), so no call mixes voices or plays another price.
        before = load_audio_library(settings, "female_professional", campaign)
        assert before.offline and before.reply("cuanto_cuesta").offline
        assert before.reply("cuanto_cuesta").text == "Desde noventa y nueve euros al mes."
        assert twin.tts_requests == []
        await prepare_campaign_audio(settings, campaign)
        voice_id = settings.voice_id_female_professional
        assert twin.tts_requests and all(r.voice_id == voice_id for r in twin.tts_requests)
        assert all(r.output_format == "pcm_8000" for r in twin.tts_requests)
        spoken = [r.body["text"] for r in twin.tts_requests]
        assert "Desde noventa y nueve euros al mes." in spoken
        assert DEFAULT_REPLIES["adios"] in spoken  # the voice's base library was rendered too
        check_library_files(library_dir(settings, "female_professional", offline=False), "female_professional", False)
        library = load_audio_library(settings, "female_professional", campaign)
        assert not library.offline
        price = library.reply("cuanto_cuesta")
        assert price is not None and not price.offline and price.text == "Desde noventa y nueve euros al mes."
        # A text the ElevenLabs library has not rendered yet is not played in another's words.
        changed = {"voice_type": "female_professional", "pregenerated_replies": {"cuanto_cuesta": "Gratis."}}
        assert load_audio_library(settings, "female_professional", changed).reply("cuanto_cuesta") is None
        count = len(twin.tts_requests)
        await prepare_campaign_audio(settings, campaign)  # texts unchanged: all from the cache
        assert len(twin.tts_requests) == count


async def test_render_opener_is_cache_backed(tmp_path: Path) -> None:
    with ElevenLabsTwin(api_key=KEY) as twin:
        settings = make_settings(tmp_path, elevenlabs_api_key=KEY, elevenlabs_base_url=twin.base_url)
        text = "Feliz viernes. ¿Tienes dos minutos? Hola María, soy Juan de Wallie."
        first = await render_opener(settings, text, "male_professional")
        second = await render_opener(settings, text, "male_professional")
        assert len(twin.tts_requests) == 1
        assert first == second
        assert first.category == "opener" and first.text == text and not first.offline
        assert first.duration_ms < 3000 + 100  # the twin's tone, with its silence trimmed
    offline = await render_opener(make_settings(tmp_path / "o"), text, "female_friendly")
    assert offline.offline and offline.duration_ms > 1000
