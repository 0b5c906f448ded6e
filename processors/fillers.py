"""Human filler selection: which short sound covers the bot's thinking time (pure, no Pipecat).

`HumanFillerEngine.select_filler(context, user_speech, sentiment)` follows the seed:

* a question gets a **thinking** sound ("Ehhh", "Mmm", "Pues", "A ver", "Déjame ver");
* a statement gets an **agreeing** one ("Ajá", "Claro", "Entiendo", "Sí, sí", "Ya veo");
* ``context="transition"`` (a bridge into a late answer) gets a **transitioning** one ("Vale",
  "Perfecto", "Bien", "Genial", "De acuerdo");
* nothing known yet (the turn just ended, no transcript) gets a thinking sound, which suits both;
  a negative sentiment on a statement prefers the empathic agreeing sounds ("Entiendo", "Ya veo").

It never returns the same clip twice in a row, and it returns an `AudioClip` when the category has
pre-rendered clips (bot/assets renders them; see contract C5), else the filler's text (a `str`,
the seed's own fallback) so that callers without audio can still log or synthesise it. The
processors only play clips.

Extras used by the speech humaniser: `breath()`, `correction()` (the seed's "Perdón, quería
decir..."), `should_add_error()` (default 5%), `micro_pause_ms()` (200-500 ms) and `silence_pcm()`.

Constructor::

    HumanFillerEngine(clips: Mapping[str, Sequence[AudioClip]] | None = None, *,
                      error_rate: float = 0.05, rng: random.Random | None = None)

One engine per call: it remembers the last clip it gave.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from processors.audio_clip import TELEPHONY_SAMPLE_RATE, AudioClip
from processors.intents import normalize

THINKING = "thinking"
AGREEING = "agreeing"
TRANSITIONING = "transitioning"
BREATHING = "breathing"
CORRECTION = "correction"
SILENCE = "silence"

#: The seed's filler phrases per category (what the clips say; also the text fallback).
FILLER_TEXTS: dict[str, tuple[str, ...]] = {
    THINKING: ("Ehhh", "Mmm", "Pues", "A ver", "Déjame ver"),
    AGREEING: ("Ajá", "Claro", "Entiendo", "Sí, sí", "Ya veo"),
    TRANSITIONING: ("Vale", "Perfecto", "Bien", "Genial", "De acuerdo"),
    CORRECTION: ("Perdón, quería decir...",),
}

#: Agreeing sounds that also carry empathy, preferred after a negative statement.
_EMPATHIC = frozenset({"Entiendo", "Ya veo"})

_QUESTION_STARTS = frozenset(
    "que como cuando cuanto cuanta cuantos cuantas donde quien quienes cual cuales por "
    "puedo puedes puede podeis pueden podria podrias podriais tienes teneis tiene tienen hay "
    "es son seria sabes sabeis me nos os se funciona incluye".split()
)

MICRO_PAUSE_RANGE_MS = (200, 500)


def looks_like_question(text: str) -> bool:
    """True when an utterance reads as a question (question marks, or a question word first)."""
    if "?" in text or "¿" in text:
        return True
    tokens = normalize(text).split()
    if not tokens:
        return False
    # "y cuánto...", "oye, ¿cómo...": skip one leading connector before looking.
    if tokens[0] in {"y", "oye", "pero", "entonces", "vale", "bueno", "pues"} and len(tokens) > 1:
        tokens = tokens[1:]
    return tokens[0] in _QUESTION_STARTS and tokens[0] not in {"me", "nos", "os", "se", "es"}


_NEGATIVE_CUES = frozenset(
    "no nunca nada harto harta hartos molesta molesto molestia problema problemas caro cara "
    "mal fatal queja quejas peor dificil imposible desastre".split()
)


def guess_sentiment(text: str) -> str:
    """A cheap cue for `select_filler`: "negative" when the words complain or refuse, else "neutral".

    Only used to prefer an empathic "Entiendo" over a cheerful "¡Claro!"; the outcome's sentiment
    is judged elsewhere.
    """
    return "negative" if any(t in _NEGATIVE_CUES for t in normalize(text).split()) else "neutral"


def silence_pcm(duration_ms: int, sample_rate: int = TELEPHONY_SAMPLE_RATE) -> bytes:
    """`duration_ms` of digital silence as 16-bit mono PCM."""
    return bytes(2 * (sample_rate * max(0, duration_ms) // 1000))


class HumanFillerEngine:
    """Chooses filler clips per call, never repeating the previous one.

    Args:
        clips: category -> pre-rendered clips (thinking, agreeing, transitioning, breathing,
            correction, silence). Missing categories fall back to text.
        error_rate: probability that `should_add_error` says yes (the seed's 5%).
        rng: the random source; tests pass a seeded `random.Random`.
    """

    def __init__(
        self,
        clips: Mapping[str, Sequence[AudioClip]] | None = None,
        *,
        error_rate: float = 0.05,
        rng: random.Random | None = None,
    ) -> None:
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate must be between 0 and 1, not {error_rate}")
        self._clips: dict[str, tuple[AudioClip, ...]] = {k: tuple(v) for k, v in (clips or {}).items()}
        self._error_rate = error_rate
        self._rng = rng or random.Random()
        self._last_id: str | None = None

    @property
    def has_audio(self) -> bool:
        """True when at least one of the three conversational categories has clips."""
        return any(self._clips.get(c) for c in (THINKING, AGREEING, TRANSITIONING))

    def category_for(self, context: str = "default", user_speech: str = "", sentiment: str = "neutral") -> str:
        """The filler category the seed's rules give for this moment."""
        if context in {"transition", "transitioning", "bridge"}:
            return TRANSITIONING
        if not user_speech.strip():
            return THINKING
        if looks_like_question(user_speech):
            return THINKING
        return AGREEING

    def select_filler(
        self,
        context: str = "default",
        user_speech: str = "",
        sentiment: str = "neutral",
        *,
        max_duration_ms: int | None = None,
    ) -> AudioClip | str:
        """A filler for this moment: a clip if one is available, else its text.

        `max_duration_ms` prefers clips at most that long (the turn-end filler must be short so
        that the answer queued behind it is not delayed); when none is, the shortest clip of the
        category (up to twice the limit) is used. When the category has no clip other than the previous one, the other
        conversational categories are tried before falling back to text, so the same clip never
        plays twice in a row.
        """
        category = self.category_for(context, user_speech, sentiment)
        prefer_empathic = category == AGREEING and sentiment == "negative"
        order = [category] + [c for c in (THINKING, AGREEING, TRANSITIONING) if c != category]
        for candidate in order:
            clip = self._pick(candidate, max_duration_ms=max_duration_ms, prefer_texts=_EMPATHIC if prefer_empathic else None)
            if clip is not None:
                return clip
        return self._pick_text(category, prefer_empathic)

    def breath(self) -> AudioClip | None:
        """A breathing clip (never the previous clip), or None without breathing audio."""
        return self._pick(BREATHING)

    def correction(self) -> AudioClip | None:
        """The seed's correction clip ("Perdón, quería decir..."), or None without audio."""
        return self._pick(CORRECTION)

    def should_add_error(self) -> bool:
        """True with probability `error_rate` (default 5%): time for a human slip."""
        return self._rng.random() < self._error_rate

    def micro_pause_ms(self) -> int:
        """A natural pause between sentences, 200-500 ms."""
        return self._rng.randint(*MICRO_PAUSE_RANGE_MS)

    def breath_interval_secs(self) -> float:
        """Seconds of continuous speech before the next breath: 15-20 s, as in the seed."""
        return self._rng.uniform(15.0, 20.0)

    def _pick(
        self,
        category: str,
        *,
        max_duration_ms: int | None = None,
        prefer_texts: frozenset[str] | None = None,
    ) -> AudioClip | None:
        clips = [c for c in self._clips.get(category, ()) if c.id != self._last_id]
        if max_duration_ms is not None and clips:
            short = [c for c in clips if c.duration_ms <= max_duration_ms]
            # A soft limit: when nothing is short enough, the shortest clip of the right kind
            # (up to twice the limit) beats a clip of the wrong kind.
            shortest = min(clips, key=lambda c: c.duration_ms)
            clips = short or ([shortest] if shortest.duration_ms <= 2 * max_duration_ms else [])
        if prefer_texts:
            preferred = [c for c in clips if c.text in prefer_texts]
            clips = preferred or clips
        if not clips:
            return None
        clip = self._rng.choice(clips)
        self._last_id = clip.id
        return clip

    def _pick_text(self, category: str, prefer_empathic: bool) -> str:
        texts = [t for t in FILLER_TEXTS.get(category, FILLER_TEXTS[THINKING]) if f"text:{t}" != self._last_id]
        if prefer_empathic:
            texts = [t for t in texts if t in _EMPATHIC] or texts
        text = self._rng.choice(texts)
        self._last_id = f"text:{text}"
        return text
