"""Filler injector: a short human sound the moment the prospect stops, before any transcript.

Position: after the intent router, before the user context aggregator.

Constructor::

    FillerInjector(engine: HumanFillerEngine, *, trigger="vad_stop", delay_secs=0.0,
                   max_filler_ms=450, bridge_after_secs=1.2, cut_on_resume=True,
                   min_cut_remaining_ms=80)

Latency design (why the filler starts before the transcript):
the targets are (a) end of prospect speech -> first bot audio within VAD stop + 60 ms for LLM
turns, with an STT that needs ~300 ms, (b) a pre-rendered reply within 15 ms of the final
transcript, and (c) no filler in front of a pre-rendered reply. (a) can only be met by audio
that starts when the turn ends, i.e. before the transcript exists; the LLM answer cannot. So:

1. **Turn end** (``trigger="vad_stop"``, the default: the downstream or upstream
   ``VADUserStoppedSpeakingFrame``, ~VAD ``stop_secs`` after the last word) -> after
   ``delay_secs`` (0 by default) push a SHORT filler (``max_filler_ms``; the LLM answer queues
   behind it in the output transport, so a long filler would delay the answer). Its
   category comes from what is known: the last interim/final transcript of the turn if one
   arrived already (question -> thinking, statement -> agreeing), else a thinking sound, which
   suits both; a complaint prefers an empathic "Entiendo" (`guess_sentiment`). 450 ms by default: the LLM's first audio needs STT + first token + first TTS
   byte (>= 0.5 s after the turn end with the benchmark's 300/350/200 ms), so a filler that
   short delays nothing, and the rendered "Ehhh", "Pues", "Ajá", "Claro" fit (clips are soft-
   limited: the shortest of the category is used when none fits). ``trigger="turn_end"`` waits for ``UserStoppedSpeakingFrame`` instead (the user
   aggregator's verdict, after smart-turn and, with ``wait_for_transcript``, after the STT):
   no filler on a mid-sentence pause, but it misses target (a) by the STT time.
2. **Pre-rendered reply** (the router's ``TTSStartedFrame`` with a ``reply-`` context id, or a
   ``TransferRequestFrame``) -> a filler not yet pushed (still inside ``delay_secs``) is
   dropped; a filler already playing with more than ``min_cut_remaining_ms`` left is cut at once
   with an ``InterruptionFrame`` pushed downstream just before the reply (the Telnyx serializer
   turns it into ``clear``); otherwise the reply simply queues behind the filler's last few ms.
   When the transcript comes before the VAD stop (fast or simulated STT), the turn is already
   answered and no filler is played at all.
3. **LLM turn** -> the answer follows the filler. If a final transcript went on to the LLM
   and no bot audio has started ``bridge_after_secs`` after the turn ended (a slow LLM), one
   transitioning filler ("Vale", "Perfecto", ...) bridges the gap; at most one per turn, and
   none for a turn without transcript (a cough got one "Mmm" at most).
4. **Prospect resumes** (``VADUserStartedSpeakingFrame``) while our filler still plays (the pause
   was mid-sentence) -> the filler is cut (``cut_on_resume``) and pending fillers are dropped;
   for the rest of that user turn the filler waits for ``UserStoppedSpeakingFrame`` (the user
   aggregator's end of turn), so a prospect who pauses a lot is cut into at most once per turn.

Trade-off: with the VAD trigger a thinking pause of more than ``stop_secs`` costs at most one
short filler said over the prospect (cut as soon as they resume); with ``turn_end`` that never
happens but perceived latency grows by the endpointing/STT wait. ``delay_secs`` sits in between:
a pre-rendered reply that arrives within it gets no filler at all.

No filler while the bot is speaking (a backchannel said over the bot) nor after a transfer was
requested (`set_enabled(False)` does the same when `bot/` ends the call), and fillers are
pre-rendered `AudioClip`s pushed as ``TTSStartedFrame``/``TTSAudioRawFrame``/``TTSStoppedFrame``
(context id ``filler-<n>``, ``append_to_context=False``), never ``TTSSpeakFrame`` (the TTS is
serial and would block the answer). Event: ``on_filler(injector, clip)``.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any, Literal

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    InterimTranscriptionFrame,
    InterruptionFrame,
    TranscriptionFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from processors.audio_clip import AudioClip
from processors.fillers import HumanFillerEngine, guess_sentiment
from processors.intent_router import is_reply_context
from processors.transfer_processor import TransferRequestFrame, clip_frame

FillerTrigger = Literal["vad_stop", "turn_end"]
FILLER_CONTEXT_PREFIX = "filler-"


class FillerInjector(FrameProcessor):
    """Covers the gap after the prospect's turn with a pre-rendered filler (see module doc)."""

    def __init__(
        self,
        engine: HumanFillerEngine,
        *,
        trigger: FillerTrigger = "vad_stop",
        delay_secs: float = 0.0,
        max_filler_ms: int = 450,
        bridge_after_secs: float | None = 1.2,
        cut_on_resume: bool = True,
        min_cut_remaining_ms: int = 80,
        **kwargs: Any,
    ) -> None:
        # Direct mode (no queues or tasks of its own; see pipelines.call_pipeline): it never waits.
        kwargs.setdefault("enable_direct_mode", True)
        super().__init__(**kwargs)
        if trigger not in ("vad_stop", "turn_end"):
            raise ValueError(f"trigger must be 'vad_stop' or 'turn_end', not {trigger!r}")
        self._engine = engine
        self._trigger = trigger
        self._delay_secs = max(0.0, delay_secs)
        self._max_filler_ms = max_filler_ms
        self._bridge_after_secs = bridge_after_secs
        self._cut_on_resume = cut_on_resume
        self._min_cut_remaining = min_cut_remaining_ms / 1000
        self._enabled = True
        self._counter = itertools.count(1)
        # Per-turn state.
        self._turn_text = ""
        self._llm_answer_due = False
        self._answered = False
        self._bridged = False
        self._user_speaking = False
        self._wait_for_turn_end = False
        self._bot_speaking = False
        self._bot_started_at = 0.0
        self._filler_until = 0.0
        self._turn_ended_at = 0.0
        self._pending: asyncio.Task | None = None
        self._bridge: asyncio.Task | None = None
        self._register_event_handler("on_filler")

    def set_enabled(self, enabled: bool) -> None:
        """Turn fillers on or off (e.g. off once the call is being transferred)."""
        self._enabled = enabled

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)

        if isinstance(frame, TransferRequestFrame):
            self._enabled = False  # the call is being handed to a seller: no more fillers
            await self._on_canned_answer()
        elif isinstance(frame, TTSStartedFrame) and is_reply_context(frame.context_id):
            await self._on_canned_answer()  # the cut must reach the transport before the reply
        await self.push_frame(frame, direction)

        if isinstance(frame, (EndFrame, CancelFrame)):
            await self._cancel_timers()
        elif isinstance(frame, InterruptionFrame):
            # A barge-in (or a guard) stopped the bot: queued filler audio is gone, and no
            # pending filler may start over the prospect.
            self._filler_until = 0.0
            await self._cancel_timers()
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            await self._on_user_resumed()
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._user_speaking = False
            if self._trigger == "vad_stop" and not self._wait_for_turn_end:
                await self._on_turn_end()
        elif isinstance(frame, UserStoppedSpeakingFrame):
            if self._trigger == "turn_end" or self._wait_for_turn_end:
                self._wait_for_turn_end = False
                await self._on_turn_end()
        elif isinstance(frame, BotStartedSpeakingFrame):
            self._bot_speaking = True
            self._bot_started_at = time.monotonic()
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_speaking = False
        elif isinstance(frame, (TranscriptionFrame, InterimTranscriptionFrame)):
            if direction == FrameDirection.DOWNSTREAM and frame.text.strip():
                self._turn_text = frame.text
                # A final transcript that got past the router goes to the LLM: an answer is due.
                self._llm_answer_due = isinstance(frame, TranscriptionFrame)

    async def _on_user_resumed(self) -> None:
        self._user_speaking = True
        self._turn_text = ""
        self._llm_answer_due = False
        self._answered = False
        self._bridged = False
        await self._cancel_timers()
        if self._cut_on_resume and self._filler_remaining() > 0:
            logger.debug("Prospect resumed over a filler; cutting it")
            await self._cut_filler()
            # They pause mid-sentence: for the rest of this turn, wait for the turn's real end.
            self._wait_for_turn_end = True

    async def _on_turn_end(self) -> None:
        self._turn_ended_at = time.monotonic()
        if not self._enabled or self._answered or self._bot_speaking or self._pending:
            return
        if self._delay_secs > 0:
            self._pending = self.create_task(self._play_after_delay(), name="filler_delay")
        else:
            await self._play_turn_filler()

    async def _play_after_delay(self) -> None:
        try:
            await asyncio.sleep(self._delay_secs)
        finally:
            self._pending = None
        if not self._answered and not self._user_speaking and not self._bot_speaking:
            await self._play_turn_filler()

    async def _play_turn_filler(self) -> None:
        choice = self._engine.select_filler(
            "default", self._turn_text, guess_sentiment(self._turn_text), max_duration_ms=self._max_filler_ms
        )
        if not isinstance(choice, AudioClip):
            return
        await self._push_clip(choice)
        if self._bridge_after_secs and self._bridge is None and not self._bridged:  # None/0: off
            self._bridge = self.create_task(self._bridge_if_slow(), name="filler_bridge")

    async def _bridge_if_slow(self) -> None:
        try:
            await asyncio.sleep(max(0.0, self._turn_ended_at + (self._bridge_after_secs or 0.0) - time.monotonic()))
        finally:
            self._bridge = None
        answer_started = self._bot_started_at >= self._filler_until - 0.05 and self._bot_started_at > 0
        if (
            not self._llm_answer_due  # e.g. a cough: no transcript, so no answer is coming
            or self._answered
            or self._bridged
            or self._user_speaking
            or self._bot_speaking
            or answer_started
        ):
            return
        self._bridged = True
        choice = self._engine.select_filler("transition", self._turn_text, "neutral", max_duration_ms=self._max_filler_ms * 2)
        if isinstance(choice, AudioClip):
            await self._push_clip(choice)

    async def _on_canned_answer(self) -> None:
        self._answered = True
        await self._cancel_timers()
        if self._filler_remaining() > self._min_cut_remaining:
            logger.debug("Pre-rendered reply follows; cutting the filler")
            await self._cut_filler()

    async def _push_clip(self, clip: AudioClip) -> None:
        context_id = f"{FILLER_CONTEXT_PREFIX}{next(self._counter)}"
        now = time.monotonic()
        # Audio queued behind audio plays after it: the filler ends when what is queued ends.
        self._filler_until = max(now, self._filler_until) + clip.duration_ms / 1000
        await self.push_frame(TTSStartedFrame(context_id=context_id, append_to_context=False))
        await self.push_frame(clip_frame(clip, context_id))
        await self.push_frame(TTSStoppedFrame(context_id=context_id))
        await self._call_event_handler("on_filler", clip)

    def _filler_remaining(self) -> float:
        return max(0.0, self._filler_until - time.monotonic())

    async def _cut_filler(self) -> None:
        self._filler_until = 0.0
        await self.push_frame(InterruptionFrame())

    async def _cancel_timers(self) -> None:
        for task in (self._pending, self._bridge):
            if task is not None:
                await self.cancel_task(task)
        self._pending = None
        self._bridge = None
