"""End of turn from the transcript first: the words' verdict, and the model only when they can't tell."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pipecat.audio.turn.smart_turn.base_smart_turn import SmartTurnParams
from pipecat.frames.frames import (
    InputAudioRawFrame,
    TranscriptionFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair, LLMUserAggregatorParams
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.turns.user_start import VADUserTurnStartStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from processors.shared_turn_models import SharedSmartTurnAnalyzerV3
from processors.turn_completion import TranscriptFirstTurnStopStrategy, text_turn_verdict


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("¿Y eso cuánto tarda en estar funcionando?", True),
        ("¡Qué interesante!", True),
        ("¿Perdona, que?", True),  # the question mark wins over a trailing "que"
        ("Sí, pero según", False),
        ("No me interesa, gracias.", True),  # an intent of the router is a whole reply
        ("Pues nosotros trabajamos con", False),
        ("Lo que pasa es que", False),
        ("Mira, la verdad es que usamos Holded y,", False),
        ("Tenemos un programa para la...", False),
        ("Trabajamos con Holded desde hace años.", None),  # a period proves nothing
        ("Sí.", None),
        ("", None),
        ("   ", None),
    ],
)
def test_text_verdict(text: str, verdict: bool | None) -> None:
    assert text_turn_verdict(text) is verdict


class CountingSmartTurn(SharedSmartTurnAnalyzerV3):
    """The real analyser's buffering with a fixed prediction instead of the model."""

    def __init__(self, prediction: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.prediction = prediction
        self.calls = 0

    def _predict_endpoint(self, audio_array: np.ndarray) -> dict:
        self.calls += 1
        return {"prediction": self.prediction, "probability": float(self.prediction)}


def speech(n: int) -> list[InputAudioRawFrame]:
    tone = (np.sin(np.arange(160) / 3) * 8000).astype("<i2").tobytes()
    return [InputAudioRawFrame(audio=tone, sample_rate=8000, num_channels=1) for _ in range(n)]


def silence(n: int) -> list[InputAudioRawFrame]:
    return [InputAudioRawFrame(audio=b"\0" * 320, sample_rate=8000, num_channels=1) for _ in range(n)]


def transcript(text: str) -> TranscriptionFrame:
    return TranscriptionFrame(text=text, user_id="prospect", timestamp="", finalized=True)


async def run_turn(analyzer: CountingSmartTurn, *, text: str | None, text_first: bool = False, wait: float = 0.3):
    strategy = TranscriptFirstTurnStopStrategy(turn_analyzer=analyzer, analysis_wait_secs=wait)
    user_aggregator, _ = LLMContextAggregatorPair(
        LLMContext(),
        user_params=LLMUserAggregatorParams(
            user_turn_strategies=UserTurnStrategies(start=[VADUserTurnStartStrategy()], stop=[strategy]),
            empty_user_turn=None,
        ),
    )
    frames = [VADUserStartedSpeakingFrame(), *speech(25)]
    if text is not None and text_first:
        frames.append(transcript(text))
    frames += [*silence(10), VADUserStoppedSpeakingFrame(stop_secs=0.2, timestamp=time.time()), SleepFrame(0.05)]
    if text is not None and not text_first:
        frames.append(transcript(text))
    frames += [*silence(10), SleepFrame(wait + 0.3)]
    down, _ = await run_test(user_aggregator, frames_to_send=frames)
    # The turn's end as the strategy decided it (the EndFrame at the end of the test flushes the
    # aggregation too, without a UserStoppedSpeakingFrame).
    ended = [f for f in down if isinstance(f, UserStoppedSpeakingFrame)]
    return strategy, ended


async def test_a_question_ends_the_turn_without_the_model() -> None:
    analyzer = CountingSmartTurn(prediction=0, params=SmartTurnParams(stop_secs=3.0))
    strategy, ended = await run_turn(analyzer, text="¿Y eso se puede conectar con el programa que usamos?")
    # The model would have said "incomplete" (and waited 3 s): the words decided, at once.
    assert analyzer.calls == 0 and strategy.text_verdicts == 1 and strategy.model_verdicts == 0
    assert ended


async def test_a_transcript_before_the_vad_stop_is_read_at_the_stop() -> None:
    analyzer = CountingSmartTurn(prediction=0, params=SmartTurnParams(stop_secs=3.0))
    strategy, ended = await run_turn(analyzer, text="¿Cuánto cuesta?", text_first=True)
    assert analyzer.calls == 0 and strategy.text_verdicts == 1
    assert ended


async def test_words_that_cannot_tell_go_to_the_model() -> None:
    analyzer = CountingSmartTurn(prediction=1)
    strategy, ended = await run_turn(analyzer, text="Trabajamos con Holded desde hace años.")
    assert analyzer.calls == 1 and strategy.model_verdicts == 1
    assert ended


async def test_an_unfinished_sentence_waits_for_more() -> None:
    analyzer = CountingSmartTurn(prediction=1, params=SmartTurnParams(stop_secs=3.0))
    strategy, ended = await run_turn(analyzer, text="Pues nosotros trabajamos con")
    # Neither the model nor the turn end: the fallback (3 s of silence) has not passed.
    assert analyzer.calls == 0 and strategy.text_verdicts == 1
    assert ended == []


async def test_no_transcript_in_time_lets_the_model_decide() -> None:
    analyzer = CountingSmartTurn(prediction=1)
    strategy, ended = await run_turn(analyzer, text=None, wait=0.1)
    assert analyzer.calls == 1 and strategy.model_verdicts == 1
    # No words, no turn: Pipecat waits for a transcript before ending a turn.
    assert ended == []
