"""IntentRouter: frames in, frames out (pipecat.tests.utils.run_test), and with a real user aggregator."""

from __future__ import annotations

import time

from pipecat.frames.frames import (
    Frame,
    LLMMessagesAppendFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.turns.user_start import VADUserTurnStartStrategy
from pipecat.turns.user_stop import SpeechTimeoutUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from processors.intent_router import IntentRouter, is_reply_context
from processors.transfer_processor import TransferRequestFrame
from tests.processors.helpers import tone_clip

PRICE = tone_clip("reply-price", "reply", "Tenemos planes desde ciento cuarenta y nueve euros al mes.", 600)
OPT_OUT = tone_clip("reply-optout", "reply", "Entendido, no volveremos a llamarte.", 500)
TRANSFER = tone_clip("reply-transfer", "reply", "¡Genial! Te paso con un compañero.", 500)
OBJECTION = tone_clip("reply-caro", "reply", "Entiendo, empezamos con un plan pequeño.", 500)


def transcript(text: str) -> TranscriptionFrame:
    return TranscriptionFrame(text=text, user_id="prospect", timestamp="", finalized=True)


def names(frames: list[Frame]) -> list[str]:
    return [type(f).__name__ for f in frames]


async def test_canned_intent_plays_reply_and_updates_context_without_llm() -> None:
    calls: list[tuple[str, str]] = []

    async def on_intent(intent: str, text: str) -> None:
        calls.append((intent, text))

    router = IntentRouter(replies={"cuanto_cuesta": PRICE}, on_intent=on_intent)
    down, _ = await run_test(
        router,
        frames_to_send=[transcript("¿Cuánto cuesta?")],
        expected_down_frames=[TTSStartedFrame, TTSAudioRawFrame, TTSStoppedFrame, LLMMessagesAppendFrame],
    )
    started, audio, stopped, append = down
    assert is_reply_context(started.context_id) and started.context_id == stopped.context_id == audio.context_id
    assert started.append_to_context is False
    assert audio.audio == PRICE.pcm and audio.sample_rate == 8000
    assert append.run_llm is False
    assert append.messages == [
        {"role": "user", "content": "¿Cuánto cuesta?"},
        {"role": "assistant", "content": PRICE.text},
    ]
    assert calls == [("cuanto_cuesta", "¿Cuánto cuesta?")]


async def test_open_question_passes_through_untouched() -> None:
    router = IntentRouter(replies={"cuanto_cuesta": PRICE})
    down, _ = await run_test(
        router,
        frames_to_send=[transcript("¿Cuánto cuesta y cómo se integra con mi CRM?")],
        expected_down_frames=[TranscriptionFrame],
    )
    assert down[0].text == "¿Cuánto cuesta y cómo se integra con mi CRM?"


async def test_intent_without_clip_goes_to_llm_but_is_still_reported() -> None:
    calls: list[str] = []

    async def on_intent(intent: str, text: str) -> None:
        calls.append(intent)

    router = IntentRouter(replies=lambda key: None, on_intent=on_intent)
    await run_test(router, frames_to_send=[transcript("No me llaméis más")], expected_down_frames=[TranscriptionFrame])
    assert calls == ["opt_out"]


async def test_opt_out_and_objection_use_their_clips() -> None:
    replies = {"opt_out": OPT_OUT, "precio_alto": OBJECTION}
    router = IntentRouter(replies=replies.get, objections={"precio_alto": {"triggers": ["es muy caro"], "response": OBJECTION.text}})
    down, _ = await run_test(router, frames_to_send=[transcript("Borradme de vuestra lista"), transcript("uf, es muy caro")])
    audio = [f for f in down if isinstance(f, TTSAudioRawFrame)]
    assert [a.audio for a in audio] == [OPT_OUT.pcm, OBJECTION.pcm]


async def test_interested_requests_a_transfer() -> None:
    calls: list[str] = []

    async def on_intent(intent: str, text: str) -> None:
        calls.append(intent)

    router = IntentRouter(replies={"transfer": TRANSFER}, on_intent=on_intent)
    down, _ = await run_test(
        router,
        frames_to_send=[transcript("Sí, me interesa, pásame con alguien")],
        expected_down_frames=[TransferRequestFrame, LLMMessagesAppendFrame],
    )
    assert down[0].reason == "interested"
    assert down[1].messages[-1] == {"role": "assistant", "content": TRANSFER.text}
    assert calls == ["interested"]


async def test_blank_transcript_closes_an_open_user_turn_only() -> None:
    router = IntentRouter(replies={"adios": PRICE})
    down, _ = await run_test(
        router,
        frames_to_send=[
            UserStartedSpeakingFrame(),
            SleepFrame(0.05),
            transcript("hasta luego"),
            SleepFrame(0.05),
            UserStoppedSpeakingFrame(),
            SleepFrame(0.05),
            transcript("adiós"),
        ],
    )
    blanks = [f for f in down if isinstance(f, TranscriptionFrame)]
    assert len(blanks) == 1 and blanks[0].text == " " and blanks[0].finalized


async def test_disabled_router_and_failing_callback() -> None:
    async def broken(intent: str, text: str) -> None:
        raise RuntimeError("database down")

    router = IntentRouter(replies={"cuanto_cuesta": PRICE}, on_intent=broken)
    down, _ = await run_test(router, frames_to_send=[transcript("cuánto cuesta")])
    assert any(isinstance(f, TTSAudioRawFrame) for f in down)  # the reply still plays

    router = IntentRouter(replies={"cuanto_cuesta": PRICE})
    router.set_enabled(False)
    await run_test(router, frames_to_send=[transcript("cuánto cuesta")], expected_down_frames=[TranscriptionFrame])


class _Stamp(FrameProcessor):
    """Notes when the first frame of a type passes (for the latency check)."""

    def __init__(self, frame_type: type[Frame]) -> None:
        super().__init__()
        self._frame_type = frame_type
        self.at: float | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, self._frame_type) and self.at is None:
            self.at = time.perf_counter()
        await self.push_frame(frame, direction)


async def test_reply_audio_leaves_the_router_promptly() -> None:
    # A functional bound with a wide margin (the real figure is in bench/intents.py): the reply
    # must not wait for anything (no LLM, no TTS, no timer).
    sent, arrived = _Stamp(TranscriptionFrame), _Stamp(TTSAudioRawFrame)
    pipeline = Pipeline([sent, IntentRouter(replies={"cuanto_cuesta": PRICE}), arrived])
    await run_test(pipeline, frames_to_send=[transcript("¿Cuánto cuesta?")])
    assert arrived.at is not None and sent.at is not None
    assert arrived.at - sent.at < 0.25


async def test_with_real_user_aggregator_no_llm_run_no_double_add_and_turn_closes() -> None:
    context = LLMContext()
    user_aggregator, _ = LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(
            user_turn_strategies=UserTurnStrategies(
                start=[VADUserTurnStartStrategy()],
                stop=[SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=0.1)],
            ),
            empty_user_turn=None,
        ),
    )
    pipeline = Pipeline([IntentRouter(replies={"cuanto_cuesta": PRICE}), user_aggregator])
    down, _ = await run_test(
        pipeline,
        frames_to_send=[
            VADUserStartedSpeakingFrame(),
            SleepFrame(0.1),
            transcript("¿Cuánto cuesta?"),
            SleepFrame(0.05),
            VADUserStoppedSpeakingFrame(stop_secs=0.2, timestamp=time.time()),
            SleepFrame(0.4),
            VADUserStartedSpeakingFrame(),
            SleepFrame(0.1),
            transcript("¿Y cómo se integra con mi CRM?"),
            VADUserStoppedSpeakingFrame(stop_secs=0.2, timestamp=time.time()),
            SleepFrame(0.4),
        ],
    )
    kinds = names(down)
    # First turn: the reply plays, the turn closes, no inference; second turn: inference once.
    first_turn = kinds[: kinds.index("UserStoppedSpeakingFrame") + 1]
    assert "TTSAudioRawFrame" in first_turn and "LLMContextFrame" not in first_turn
    assert kinds.count("LLMContextFrame") == 1
    assert kinds.count("UserStoppedSpeakingFrame") == 2
    assert kinds.count("InterruptionFrame") == 2  # the second turn could interrupt: turn was closed
    assert [m["content"] for m in context.messages] == [
        "¿Cuánto cuesta?",
        PRICE.text,
        "¿Y cómo se integra con mi CRM?",
    ]
