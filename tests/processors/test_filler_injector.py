"""FillerInjector: a short filler at the end of the turn, never in front of a canned reply."""

from __future__ import annotations

import random
import time

import pytest
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    InterimTranscriptionFrame,
    InterruptionFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.tests.utils import SleepFrame, run_test

from processors.filler_injector import FillerInjector
from processors.fillers import HumanFillerEngine
from processors.intent_router import IntentRouter
from processors.transfer_processor import TransferRequestFrame
from tests.processors.helpers import filler_library, tone_clip

REPLY = tone_clip("reply", "reply", "Tenemos planes desde ciento cuarenta y nueve euros.", 400)


def engine() -> HumanFillerEngine:
    return HumanFillerEngine(filler_library(300), rng=random.Random(11))


def vad_stop() -> VADUserStoppedSpeakingFrame:
    return VADUserStoppedSpeakingFrame(stop_secs=0.2, timestamp=time.time())


def reply_frames() -> list[Frame]:
    return [
        TTSStartedFrame(context_id="reply-cuanto_cuesta-1", append_to_context=False),
        TTSAudioRawFrame(audio=REPLY.pcm, sample_rate=8000, num_channels=1, context_id="reply-cuanto_cuesta-1"),
        TTSStoppedFrame(context_id="reply-cuanto_cuesta-1"),
    ]


def transcript(text: str) -> TranscriptionFrame:
    return TranscriptionFrame(text=text, user_id="prospect", timestamp="", finalized=True)


def fillers_in(frames: list[Frame]) -> list[TTSStartedFrame]:
    return [f for f in frames if isinstance(f, TTSStartedFrame) and (f.context_id or "").startswith("filler-")]


async def test_vad_stop_plays_a_short_thinking_filler_at_once() -> None:
    injector = FillerInjector(engine(), bridge_after_secs=None)
    played = []
    injector.add_event_handler("on_filler", recorder(played))
    down, _ = await run_test(
        injector,
        frames_to_send=[VADUserStartedSpeakingFrame(), vad_stop()],
        expected_down_frames=[VADUserStartedSpeakingFrame, VADUserStoppedSpeakingFrame, TTSStartedFrame, TTSAudioRawFrame, TTSStoppedFrame],
    )
    started, audio = down[2], down[3]
    assert started.context_id.startswith("filler-") and started.append_to_context is False
    assert audio.context_id == started.context_id
    assert played and played[0].category == "thinking" and played[0].duration_ms <= 350


def recorder(sink: list):
    """An `on_filler` handler that keeps the clips played."""

    async def on_filler(_injector, clip) -> None:
        sink.append(clip)

    return on_filler


async def played_fillers(frames: list[Frame], **options) -> list:
    """Run a fresh injector (no bridge unless asked) over `frames`; the clips it played."""
    played: list = []
    injector = FillerInjector(engine(), **{"bridge_after_secs": None, **options})
    injector.add_event_handler("on_filler", recorder(played))
    await run_test(injector, frames_to_send=frames)
    return played


async def test_statement_seen_before_the_stop_gets_an_agreeing_filler() -> None:
    played = await played_fillers(
        [
            VADUserStartedSpeakingFrame(),
            InterimTranscriptionFrame(text="Somos una empresa de veinte personas", user_id="p", timestamp=""),
            SleepFrame(0.05),
            vad_stop(),
        ]
    )
    assert [c.category for c in played] == ["agreeing"]


async def test_no_filler_when_the_canned_reply_came_first() -> None:
    injector = FillerInjector(engine(), bridge_after_secs=None)
    down, _ = await run_test(
        injector,
        frames_to_send=[VADUserStartedSpeakingFrame(), SleepFrame(0.05), *reply_frames(), SleepFrame(0.05), vad_stop()],
    )
    assert not fillers_in(down)
    assert not any(isinstance(f, InterruptionFrame) for f in down)


async def test_canned_reply_cuts_a_playing_filler_before_the_reply() -> None:
    injector = FillerInjector(engine(), bridge_after_secs=None)
    down, _ = await run_test(
        injector,
        frames_to_send=[VADUserStartedSpeakingFrame(), vad_stop(), SleepFrame(0.05), *reply_frames()],
    )
    kinds = [type(f).__name__ for f in down]
    assert len(fillers_in(down)) == 1
    cut = kinds.index("InterruptionFrame")
    reply_start = next(i for i, f in enumerate(down) if isinstance(f, TTSStartedFrame) and f.context_id.startswith("reply-"))
    assert cut == reply_start - 1


async def test_transfer_request_also_cuts_the_filler() -> None:
    injector = FillerInjector(engine(), bridge_after_secs=None)
    down, _ = await run_test(
        injector,
        frames_to_send=[VADUserStartedSpeakingFrame(), vad_stop(), SleepFrame(0.05), TransferRequestFrame(reason="interested")],
    )
    kinds = [type(f).__name__ for f in down]
    assert kinds.index("InterruptionFrame") == kinds.index("TransferRequestFrame") - 1

    injector = FillerInjector(engine(), bridge_after_secs=None)  # and no filler afterwards
    down, _ = await run_test(
        injector,
        frames_to_send=[TransferRequestFrame(reason="interested"), SleepFrame(0.05), VADUserStartedSpeakingFrame(), vad_stop()],
    )
    assert not fillers_in(down)


async def test_delayed_filler_is_dropped_if_the_reply_arrives_in_time() -> None:
    injector = FillerInjector(engine(), delay_secs=0.2, bridge_after_secs=None)
    down, _ = await run_test(
        injector,
        frames_to_send=[VADUserStartedSpeakingFrame(), vad_stop(), SleepFrame(0.05), *reply_frames(), SleepFrame(0.3)],
    )
    assert not fillers_in(down)
    assert not any(isinstance(f, InterruptionFrame) for f in down)

    injector = FillerInjector(engine(), delay_secs=0.1, bridge_after_secs=None)
    down, _ = await run_test(injector, frames_to_send=[VADUserStartedSpeakingFrame(), vad_stop(), SleepFrame(0.2)])
    assert len(fillers_in(down)) == 1


async def test_prospect_resuming_cuts_the_filler() -> None:
    injector = FillerInjector(engine(), bridge_after_secs=None)
    down, _ = await run_test(
        injector,
        frames_to_send=[VADUserStartedSpeakingFrame(), vad_stop(), SleepFrame(0.05), VADUserStartedSpeakingFrame()],
    )
    kinds = [type(f).__name__ for f in down]
    assert kinds.count("InterruptionFrame") == 1
    assert kinds.index("InterruptionFrame") > kinds.index("TTSStoppedFrame")


async def test_after_a_cut_the_rest_of_the_turn_waits_for_its_real_end() -> None:
    played = await played_fillers(
        [
            VADUserStartedSpeakingFrame(),
            vad_stop(),  # a mid-sentence pause: filler...
            SleepFrame(0.05),
            VADUserStartedSpeakingFrame(),  # ...cut when they go on
            SleepFrame(0.05),
            vad_stop(),  # another pause in the same turn: no filler
            SleepFrame(0.05),
            UserStoppedSpeakingFrame(),  # the aggregator ends the turn: filler
            SleepFrame(0.4),  # (which plays out)
            VADUserStartedSpeakingFrame(),
            SleepFrame(0.05),
            vad_stop(),  # next turn: back to the VAD trigger
            SleepFrame(0.05),
        ]
    )
    assert len(played) == 3


async def test_no_filler_while_the_bot_speaks() -> None:
    injector = FillerInjector(engine(), bridge_after_secs=None)
    down, _ = await run_test(
        injector,
        frames_to_send=[BotStartedSpeakingFrame(), VADUserStartedSpeakingFrame(), SleepFrame(0.05), vad_stop()],
    )
    assert not fillers_in(down)


async def test_bridge_filler_when_the_answer_is_late_and_not_when_it_came() -> None:
    turn = [VADUserStartedSpeakingFrame(), vad_stop(), SleepFrame(0.1), transcript("¿Y cómo funciona?")]
    played = await played_fillers([*turn, SleepFrame(0.6)], bridge_after_secs=0.45)
    assert [c.category for c in played] == ["thinking", "transitioning"]

    # The LLM answer started right after the filler: no bridge.
    played = await played_fillers([*turn, SleepFrame(0.22), BotStartedSpeakingFrame(), SleepFrame(0.4)], bridge_after_secs=0.45)
    assert [c.category for c in played] == ["thinking"]

    # No transcript (a cough): no answer is coming, so no bridge either.
    played = await played_fillers([VADUserStartedSpeakingFrame(), vad_stop(), SleepFrame(0.7)], bridge_after_secs=0.45)
    assert [c.category for c in played] == ["thinking"]


async def test_turn_end_trigger_waits_for_user_stopped_speaking() -> None:
    injector = FillerInjector(engine(), trigger="turn_end", bridge_after_secs=None)
    down, _ = await run_test(injector, frames_to_send=[VADUserStartedSpeakingFrame(), vad_stop(), SleepFrame(0.05)])
    assert not fillers_in(down)
    injector = FillerInjector(engine(), trigger="turn_end", bridge_after_secs=None)
    down, _ = await run_test(
        injector,
        frames_to_send=[VADUserStartedSpeakingFrame(), vad_stop(), SleepFrame(0.05), UserStoppedSpeakingFrame()],
    )
    assert len(fillers_in(down)) == 1
    with pytest.raises(ValueError):
        FillerInjector(engine(), trigger="never")  # type: ignore[arg-type]


async def test_disabled_and_text_only_engines_play_nothing() -> None:
    injector = FillerInjector(engine(), bridge_after_secs=None)
    injector.set_enabled(False)
    down, _ = await run_test(injector, frames_to_send=[VADUserStartedSpeakingFrame(), vad_stop()])
    assert not fillers_in(down)
    injector = FillerInjector(HumanFillerEngine(), bridge_after_secs=None)
    down, _ = await run_test(injector, frames_to_send=[VADUserStartedSpeakingFrame(), vad_stop(), BotStoppedSpeakingFrame()])
    assert not fillers_in(down)


async def test_router_and_injector_together_cut_the_filler_for_a_canned_reply() -> None:
    pipeline = Pipeline([IntentRouter(replies={"cuanto_cuesta": REPLY}), FillerInjector(engine(), bridge_after_secs=None)])
    down, _ = await run_test(
        pipeline,
        frames_to_send=[
            VADUserStartedSpeakingFrame(),
            SleepFrame(0.05),
            vad_stop(),  # the filler starts at once...
            SleepFrame(0.1),
            transcript("¿Cuánto cuesta?"),  # ...and the STT's transcript is a canned intent
            SleepFrame(0.05),
        ],
    )
    kinds = [type(f).__name__ for f in down]
    assert len(fillers_in(down)) == 1
    reply_start = next(i for i, f in enumerate(down) if isinstance(f, TTSStartedFrame) and f.context_id.startswith("reply-"))
    assert kinds[reply_start - 1] == "InterruptionFrame"
    assert "TranscriptionFrame" not in kinds  # the LLM never sees it
