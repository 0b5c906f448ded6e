"""HumanFillerEngine: the seed's category rules, no repeats, text fallback, error rate."""

from __future__ import annotations

import random

import pytest

from processors.audio_clip import AudioClip
from processors.fillers import FILLER_TEXTS, HumanFillerEngine, guess_sentiment, looks_like_question, silence_pcm
from tests.processors.helpers import filler_library, tone_clip


@pytest.mark.parametrize(
    ("speech", "question"),
    [
        ("¿Cuánto cuesta?", True),
        ("cuanto cuesta", True),
        ("y cómo funciona", True),
        ("Somos veinte personas.", False),
        ("me parece bien", False),
        ("", False),
    ],
)
def test_looks_like_question(speech: str, question: bool) -> None:
    assert looks_like_question(speech) is question


def test_question_gets_thinking_statement_gets_agreeing_transition_gets_transitioning() -> None:
    engine = HumanFillerEngine(filler_library(), rng=random.Random(1))
    assert engine.select_filler("default", "¿Cuánto cuesta?", "neutral").category == "thinking"
    assert engine.select_filler("default", "Somos una empresa pequeña.", "neutral").category == "agreeing"
    assert engine.select_filler("transition", "", "neutral").category == "transitioning"
    assert engine.select_filler("default", "", "neutral").category == "thinking"


def test_negative_statement_prefers_empathic_agreeing() -> None:
    engine = HumanFillerEngine(filler_library(), rng=random.Random(2))
    texts = {engine.select_filler("default", "Estamos hartos de llamadas.", "negative").text for _ in range(20)}
    assert texts <= {"Entiendo", "Ya veo"}


def test_never_the_same_clip_twice_in_a_row() -> None:
    engine = HumanFillerEngine(filler_library(), rng=random.Random(3))
    previous = None
    for i in range(300):
        clip = engine.select_filler("default", "¿Qué?" if i % 3 else "Vale.", "neutral")
        assert isinstance(clip, AudioClip)
        assert clip.id != previous
        previous = clip.id


def test_single_clip_category_falls_back_to_another_category() -> None:
    only = {"thinking": [tone_clip("t", "thinking", "Mmm")], "agreeing": [tone_clip("a", "agreeing", "Ajá")]}
    engine = HumanFillerEngine(only, rng=random.Random(4))
    first = engine.select_filler("default", "¿Qué?")
    second = engine.select_filler("default", "¿Qué?")
    assert (first.id, second.id) == ("t", "a")


def test_max_duration_filters_long_clips() -> None:
    clips = {"thinking": [tone_clip("short", "thinking", "Mmm", 200), tone_clip("long", "thinking", "Déjame ver", 900)]}
    engine = HumanFillerEngine(clips, rng=random.Random(5))
    for _ in range(10):
        choice = engine.select_filler("default", "¿Qué?", max_duration_ms=350)
        assert not isinstance(choice, AudioClip) or choice.id == "short"


def test_max_duration_is_soft_within_the_category() -> None:
    clips = {
        "thinking": [tone_clip("ehhh", "thinking", "Ehhh", 300), tone_clip("mmm", "thinking", "Mmm", 560)],
        "agreeing": [tone_clip("aja", "agreeing", "Ajá", 300)],
    }
    engine = HumanFillerEngine(clips, rng=random.Random(9))
    picks = [engine.select_filler("default", "¿Qué?", max_duration_ms=350).id for _ in range(6)]
    assert picks == ["ehhh", "mmm"] * 3


def test_without_audio_returns_seed_text_without_repeats() -> None:
    engine = HumanFillerEngine(rng=random.Random(6))
    assert not engine.has_audio
    previous = None
    for _ in range(50):
        text = engine.select_filler("default", "¿Cuánto cuesta?")
        assert isinstance(text, str) and text in FILLER_TEXTS["thinking"]
        assert text != previous
        previous = text


def test_error_rate_is_about_five_percent_by_default() -> None:
    engine = HumanFillerEngine(rng=random.Random(7))
    hits = sum(engine.should_add_error() for _ in range(20000))
    assert 0.04 < hits / 20000 < 0.06
    assert not any(HumanFillerEngine(error_rate=0.0).should_add_error() for _ in range(100))
    with pytest.raises(ValueError):
        HumanFillerEngine(error_rate=1.5)


def test_extras() -> None:
    engine = HumanFillerEngine(filler_library(), rng=random.Random(8))
    pauses = [engine.micro_pause_ms() for _ in range(200)]
    assert min(pauses) >= 200 and max(pauses) <= 500
    intervals = [engine.breath_interval_secs() for _ in range(200)]
    assert min(intervals) >= 15 and max(intervals) <= 20
    assert engine.breath().category == "breathing"
    assert engine.correction().text.startswith("Perdón")
    assert HumanFillerEngine().breath() is None
    assert len(silence_pcm(300)) == 2 * 2400


def test_guess_sentiment() -> None:
    assert guess_sentiment("Estoy harto de estas llamadas.") == "negative"
    assert guess_sentiment("Es que es muy caro") == "negative"
    assert guess_sentiment("Somos una empresa de veinte personas.") == "neutral"
    assert guess_sentiment("") == "neutral"
