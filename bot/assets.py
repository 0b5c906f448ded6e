"""Pre-rendered audio: the seed's fillers, the replies of bot/replies.py, openers and campaign replies.

* `generate_assets_cli` (``coldcall assets generate``; the seed's ``generate_fillers.py``) renders
  every filler and default reply of a voice type as 8 kHz 16-bit mono WAV, trimmed and
  loudness-normalised, with a ``manifest.json``. The offline (espeak-ng) library is committed under
  ``assets/audio/offline/<voice_type>/`` so a fresh clone works with no key; the ElevenLabs library
  goes to ``<cache_dir>/assets/elevenlabs/<voice_type>/``.
* `load_audio_library` gives the processors their clips (`AudioLibrary.fillers`,
  `AudioLibrary.reply`), with a campaign's own reply texts overlaid once rendered.
* `prepare_campaign_audio` renders a campaign's own texts (called when it is activated or its
  texts change); `render_opener` renders a call's opener (the dialer when it dials, the bot at
  media start, which then hits the cache).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from loguru import logger

from bot.replies import DEFAULT_REPLIES, campaign_reply_texts, read_field
from bot.settings import DEFAULT_VOICE_IDS, Settings
from bot.voice import (
    VoiceError,
    VoiceGenerator,
    run_sox,
    normalise_loudness,
    pcm_to_wav,
    read_wav,
    trim_silence,
)
from processors.audio_clip import TELEPHONY_SAMPLE_RATE, AudioClip

FILLER_CATEGORIES: tuple[str, ...] = ("thinking", "agreeing", "transitioning", "breathing", "correction", "silence")
#: Speech fillers longer than this are sped up (the transport plays audio in real time, so a long
#: filler delays the answer); shorter ones are padded with air up to the minimum.
FILLER_MAX_MS = 600
FILLER_MIN_MS = 300
#: Never speed speech up more than this (beyond it, it sounds like a machine).
MAX_TEMPO = 1.45
#: Breaths sit well below speech.
BREATH_RMS_DBFS = -34.0
MANIFEST_VERSION = 1
_PROCESSING = "trim+norm/1"


@dataclass(frozen=True, slots=True)
class FillerSpec:
    """One filler of the seed: its id (file name), category, text, and what the voice is given."""

    id: str
    category: str
    text: str
    #: Spelling that makes a synthetic voice say it naturally ("Eeeh" for "Ehhh"); defaults to text.
    speak: str | None = None


#: Every filler of the seed (section "Filler Sounds Humanos" and "Extras Humanos").
FILLERS: tuple[FillerSpec, ...] = (
    FillerSpec("ehhh", "thinking", "Ehhh", "Eeeh"),
    FillerSpec("mmm", "thinking", "Mmm"),
    FillerSpec("pues", "thinking", "Pues"),
    FillerSpec("a_ver", "thinking", "A ver"),
    FillerSpec("dejame_ver", "thinking", "Déjame ver"),
    FillerSpec("aja", "agreeing", "Ajá"),
    FillerSpec("claro", "agreeing", "Claro"),
    FillerSpec("entiendo", "agreeing", "Entiendo"),
    FillerSpec("si_si", "agreeing", "Sí, sí", "Sí sí"),
    FillerSpec("ya_veo", "agreeing", "Ya veo"),
    FillerSpec("vale", "transitioning", "Vale"),
    FillerSpec("perfecto", "transitioning", "Perfecto"),
    FillerSpec("bien", "transitioning", "Bien"),
    FillerSpec("genial", "transitioning", "Genial"),
    FillerSpec("de_acuerdo", "transitioning", "De acuerdo"),
    FillerSpec("breath_in", "breathing", "(respiración)"),
    FillerSpec("ehh_correction", "correction", "Perdón, quería decir..."),
    FillerSpec("silence_200ms", "silence", ""),
    FillerSpec("silence_300ms", "silence", ""),
    FillerSpec("silence_400ms", "silence", ""),
    FillerSpec("silence_500ms", "silence", ""),
)


# --- The library the processors use ------------------------------------------------------------------


@dataclass(frozen=True)
class AudioLibrary:
    """Fillers and replies of one voice type, ready to play (8 kHz 16-bit mono PCM)."""

    voice_type: str
    offline: bool
    directory: Path | None
    _fillers: Mapping[str, tuple[AudioClip, ...]] = field(default_factory=lambda: MappingProxyType({}))
    _replies: Mapping[str, AudioClip | None] = field(default_factory=lambda: MappingProxyType({}))

    def fillers(self, category: str) -> list[AudioClip]:
        """The clips of a filler category (thinking, agreeing, transitioning, breathing, correction, silence)."""
        return list(self._fillers.get(category, ()))

    def filler(self, filler_id: str) -> AudioClip | None:
        """One filler by id, e.g. "ehhh" or "silence_300ms"."""
        for clips in self._fillers.values():
            for clip in clips:
                if clip.id == filler_id:
                    return clip
        return None

    def reply(self, key: str) -> AudioClip | None:
        """The pre-rendered reply for a key of bot/replies.py or of the campaign; None if not rendered."""
        return self._replies.get(key)

    @property
    def reply_keys(self) -> list[str]:
        return sorted(k for k, v in self._replies.items() if v is not None)

    def with_replies(self, replies: Mapping[str, AudioClip | None]) -> "AudioLibrary":
        """A copy whose replies are overlaid with `replies` (None marks a reply not rendered yet)."""
        merged = dict(self._replies)
        merged.update(replies)
        return AudioLibrary(self.voice_type, self.offline, self.directory, self._fillers, MappingProxyType(merged))


def library_dir(settings: Settings, voice_type: str, offline: bool) -> Path:
    """Where a voice type's library lives: committed (offline) or in the cache (ElevenLabs)."""
    if offline:
        return Path(settings.assets_audio_dir) / "offline" / voice_type
    return Path(settings.cache_dir) / "assets" / "elevenlabs" / voice_type


def _check_voice_type(voice_type: str) -> str:
    voice_type = str(getattr(voice_type, "value", voice_type))
    if voice_type not in DEFAULT_VOICE_IDS:
        raise ValueError(f"Unknown voice type {voice_type!r}; use one of {', '.join(DEFAULT_VOICE_IDS)}.")
    return voice_type


@lru_cache(maxsize=32)
def _read_library(directory: Path, manifest_mtime_ns: int) -> AudioLibrary:
    # Keyed by the manifest's mtime so a regenerated library is picked up without a restart.
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    fillers: dict[str, list[AudioClip]] = {}
    replies: dict[str, AudioClip | None] = {}
    for entry in manifest["clips"]:
        pcm, rate = read_wav(directory / entry["file"])
        clip = AudioClip(
            id=entry["id"],
            category=entry["category"],
            text=entry["text"],
            pcm=pcm,
            sample_rate=rate,
            offline=bool(entry.get("offline", manifest.get("offline", False))),
        )
        if entry["category"] == "reply":
            replies[clip.id] = clip
        else:
            fillers.setdefault(clip.category, []).append(clip)
    return AudioLibrary(
        voice_type=manifest["voice_type"],
        offline=bool(manifest.get("offline", False)),
        directory=directory,
        _fillers=MappingProxyType({k: tuple(v) for k, v in fillers.items()}),
        _replies=MappingProxyType(replies),
    )


@lru_cache(maxsize=8)
def _warn_offline_stand_in(voice_type: str) -> None:
    # Cached so the warning is said once per voice and process, not on every call.
    logger.warning(
        "No ElevenLabs audio library for {} yet; the offline voice's stands in "
        "(run `coldcall assets generate --voice-type {}`, or activate a campaign with this voice)",
        voice_type,
        voice_type,
    )


def _base_library(settings: Settings, voice_type: str) -> AudioLibrary:
    """The voice's library: ElevenLabs' when there is a key and it was rendered, else the offline one."""
    candidates = []
    if not settings.uses_offline_voice:
        candidates.append(library_dir(settings, voice_type, offline=False))
    candidates.append(library_dir(settings, voice_type, offline=True))
    for directory in candidates:
        manifest = directory / "manifest.json"
        if manifest.exists():
            if not settings.uses_offline_voice and directory == candidates[-1]:
                _warn_offline_stand_in(voice_type)
            return _read_library(directory.resolve(), manifest.stat().st_mtime_ns)
    # No library at all (a deleted assets folder): render the offline one now, it takes seconds.
    logger.warning("No audio library for {}; rendering the offline one", voice_type)
    manifest = generate_assets(settings, voice_type, offline=True)
    return _read_library(manifest.parent.resolve(), manifest.stat().st_mtime_ns)


def objection_reply_texts(campaign: Any) -> dict[str, str]:
    """Objection key -> response of a campaign's ``objection_handling`` (the shapes processors accept)."""
    # Imported here: the responder module pulls in Pipecat, which `coldcall assets generate` never needs.
    from processors.scripted_responder import objection_reply

    objections = read_field(campaign, "objection_handling") or {}
    if not isinstance(objections, Mapping):
        return {}
    texts = {}
    for key, value in objections.items():
        if isinstance(key, str) and (text := objection_reply(value)) is not None:
            texts[key.strip()] = text
    return texts


def campaign_texts(campaign: Any) -> dict[str, str]:
    """Every reply text a campaign's calls may play: defaults, its own replies, its objection answers."""
    texts = campaign_reply_texts(campaign)
    for key, text in objection_reply_texts(campaign).items():
        texts.setdefault(key, text)
    return texts


def load_audio_library(settings: Settings, voice_type: str, campaign: Any = None) -> AudioLibrary:
    """The clips a call plays: the voice's fillers and replies, overlaid with the campaign's own texts.

    A campaign text that differs from the library's is served from its rendered audio (see
    `prepare_campaign_audio`); until it is rendered, `reply` gives None for that key (never the
    default clip, which would say something else). The offline voice renders such gaps on the spot.
    """
    voice_type = _check_voice_type(voice_type)
    library = _base_library(settings, voice_type)
    if campaign is None:
        return library
    overlay: dict[str, AudioClip | None] = {}
    generator = VoiceGenerator(settings, offline=library.offline)
    for key, text in campaign_texts(campaign).items():
        base = library.reply(key)
        if base is not None and base.text == text:
            continue
        overlay[key] = _rendered_reply(generator, key, text, voice_type, render_missing=library.offline)
    return library.with_replies(overlay)


def _clip_from_pcm(clip_id: str, category: str, text: str, pcm: bytes, offline: bool) -> AudioClip:
    pcm = normalise_loudness(trim_silence(pcm, TELEPHONY_SAMPLE_RATE))
    return AudioClip(id=clip_id, category=category, text=text, pcm=pcm, offline=offline)


def _rendered_reply(
    generator: VoiceGenerator, key: str, text: str, voice_type: str, *, render_missing: bool
) -> AudioClip | None:
    try:
        if render_missing:
            speech = generator.synthesize(text, voice_type, output_format="pcm_8000")
            pcm = speech.audio
        else:
            cached = generator.cached_audio(text, voice_type, output_format="pcm_8000")
            if cached is None:
                return None
            pcm = cached
    except VoiceError as exc:
        logger.warning("Reply {} of the campaign could not be rendered: {}", key, exc)
        return None
    return _clip_from_pcm(key, "reply", text, pcm, generator.offline)


async def prepare_campaign_audio(settings: Settings, campaign: Any) -> None:
    """Render a campaign's own reply and objection texts with its voice (and its base library).

    Called when a campaign is activated or its texts change. Failures are logged per text; calls
    then answer those intents through the LLM instead of a pre-rendered clip.
    """
    voice_type = _check_voice_type(read_field(campaign, "voice_type") or "male_professional")
    offline = settings.uses_offline_voice
    if not offline and not (library_dir(settings, voice_type, offline=False) / "manifest.json").exists():
        await asyncio.to_thread(generate_assets, settings, voice_type, offline=False)
    library = await asyncio.to_thread(_base_library, settings, voice_type)
    # Two at a time: the ElevenLabs plans allow 2-15 concurrent requests and calls need some too.
    limit = asyncio.Semaphore(2)
    async with VoiceGenerator(settings) as generator:

        async def render(key: str, text: str) -> None:
            async with limit:
                try:
                    await generator.asynthesize(text, voice_type, output_format="pcm_8000")
                except VoiceError as exc:
                    logger.warning(
                        "Reply {} of campaign {} could not be rendered: {}", key, read_field(campaign, "id"), exc
                    )

        jobs = []
        for key, text in campaign_texts(campaign).items():
            base = library.reply(key)
            if base is None or base.text != text:
                jobs.append(render(key, text))
        await asyncio.gather(*jobs)
        # Activation is rare and off the call path: a good moment to keep the cache bounded.
        await asyncio.to_thread(generator.prune_cache)


async def render_opener(settings: Settings, text: str, voice_type: str) -> AudioClip:
    """A call's opener as a clip (cache-backed: the second render of the same text is a file read)."""
    voice_type = _check_voice_type(voice_type)
    async with VoiceGenerator(settings) as generator:
        speech = await generator.asynthesize(text, voice_type, output_format="pcm_8000")
    return await asyncio.to_thread(_clip_from_pcm, "opener", "opener", text, speech.audio, speech.offline)


# --- Generating a library (coldcall assets generate) ---------------------------------------------------


def _duration_ms(pcm: bytes) -> int:
    return len(pcm) * 1000 // (2 * TELEPHONY_SAMPLE_RATE)


def _silence(ms: int) -> bytes:
    return bytes(2 * TELEPHONY_SAMPLE_RATE * ms // 1000)


def _raw_args() -> list[str]:
    return ["-t", "raw", "-r", str(TELEPHONY_SAMPLE_RATE), "-e", "signed-integer", "-b", "16", "-c", "1"]


def synthesize_breath() -> bytes:
    """A soft in-breath (~0.45 s): shaped pink noise, band-passed to where breath sits, faded in and out.

    No voice can be told to breathe, so this is synthesised with sox for every voice (repeatably:
    `run_sox` passes ``-R``, so regenerating the library does not change the file).
    """
    pcm = run_sox(
        ["-n", *_raw_args(), "-", "synth", "0.45", "pinknoise", "highpass", "500", "lowpass", "2800",
         "fade", "q", "0.2", "0.45", "0.2"]
    )
    return normalise_loudness(pcm, target_rms_dbfs=BREATH_RMS_DBFS)


def _fit_filler(pcm: bytes) -> bytes:
    """A speech filler between FILLER_MIN_MS and FILLER_MAX_MS (sped up, never more than MAX_TEMPO)."""
    duration = _duration_ms(pcm)
    if duration > FILLER_MAX_MS:
        tempo = min(MAX_TEMPO, duration / FILLER_MAX_MS)
        pcm = run_sox([*_raw_args(), "-", *_raw_args(), "-", "tempo", "-s", f"{tempo:.3f}"], pcm)
        pcm = normalise_loudness(trim_silence(pcm, TELEPHONY_SAMPLE_RATE))
    if _duration_ms(pcm) < FILLER_MIN_MS:
        pcm += _silence(FILLER_MIN_MS - _duration_ms(pcm))
    return pcm


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def generate_assets(
    settings: Settings,
    voice_type: str,
    *,
    offline: bool,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Render every filler and default reply of a voice type; returns the manifest's path.

    `offline=True` uses the espeak-ng voice (written to the committed library), else ElevenLabs
    (which needs ELEVENLABS_API_KEY). Speech is trimmed and normalised; fillers are kept short.
    """
    voice_type = _check_voice_type(voice_type)
    directory = library_dir(settings, voice_type, offline)
    entries: list[dict[str, Any]] = []

    def emit(clip_id: str, category: str, text: str, pcm: bytes, file: str) -> None:
        _write_atomic(directory / file, pcm_to_wav(pcm, TELEPHONY_SAMPLE_RATE))
        entries.append(
            {
                "id": clip_id,
                "category": category,
                "text": text,
                "duration_ms": _duration_ms(pcm),
                "file": file,
                "offline": offline,
                "voice_type": voice_type,
            }
        )
        if progress is not None:
            progress(file)

    with VoiceGenerator(settings, offline=offline) as generator:
        for spec in FILLERS:
            file = f"fillers/{spec.id}.wav"
            if spec.category == "silence":
                pcm = _silence(int(spec.id.removeprefix("silence_").removesuffix("ms")))
            elif spec.category == "breathing":
                pcm = synthesize_breath()
            else:
                speech = generator.synthesize(spec.speak or spec.text, voice_type, output_format="pcm_8000")
                pcm = normalise_loudness(trim_silence(speech.audio, TELEPHONY_SAMPLE_RATE))
                if spec.category != "correction":
                    pcm = _fit_filler(pcm)
            emit(spec.id, spec.category, spec.text, pcm, file)

        for key, text in DEFAULT_REPLIES.items():
            speech = generator.synthesize(text, voice_type, output_format="pcm_8000")
            pcm = normalise_loudness(trim_silence(speech.audio, TELEPHONY_SAMPLE_RATE))
            emit(key, "reply", text, pcm, f"pregenerated/{key}.wav")

    manifest = {
        "version": MANIFEST_VERSION,
        "voice_type": voice_type,
        "offline": offline,
        "engine": "espeak-ng (Spanish) + sox" if offline else f"ElevenLabs {settings.elevenlabs_model}",
        "voice": None if offline else settings.voice_id(voice_type),
        "sample_rate": TELEPHONY_SAMPLE_RATE,
        "format": "wav, 16-bit mono PCM",
        "processing": _PROCESSING,
        "clips": entries,
    }
    path = directory / "manifest.json"
    _write_atomic(path, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return path


def generate_assets_cli(settings: Settings, voice_type: str, offline: bool) -> None:
    """``coldcall assets generate``: render a voice type's library (or ``all``), printing progress."""
    voice_types = list(DEFAULT_VOICE_IDS) if voice_type == "all" else [voice_type]
    use_offline = offline or settings.uses_offline_voice
    if use_offline and not offline:
        print("ELEVENLABS_API_KEY is not set: rendering with the offline espeak-ng voice.")
    for name in voice_types:
        try:
            manifest = generate_assets(
                settings, name, offline=use_offline, progress=lambda file: print(f"✅ Generated: {file}", flush=True)
            )
        except (VoiceError, ValueError) as exc:
            print(f"❌ {exc}", file=sys.stderr)
            raise SystemExit(1) from None
        count = len(json.loads(manifest.read_text(encoding="utf-8"))["clips"])
        label = "offline voice" if use_offline else "ElevenLabs"
        print(f"{name}: {count} clips ({label}) -> {manifest}")
