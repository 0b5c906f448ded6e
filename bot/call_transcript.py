"""The call's transcript as the pipeline lived it: who said what, when, and how fast the bot was.

`ConversationRecorder` is a Pipecat observer (it sees every frame pushed between processors and
changes nothing). Times are seconds since the media stream started. A prospect turn spans its
speech as VAD heard it (the end estimated as VAD stop minus VAD's stop delay) and carries the
final transcript; a bot turn spans its audio on the transport and carries what it said (LLM text,
and the text of every pre-rendered clip, which processors attach as ``frame.metadata["text"]``).
``latency_ms`` on a bot turn is end of prospect speech -> first bot audio, as contract C7 asks.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.frame_processor import FrameDirection
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import CallLog

#: Key of the text a processor attaches to a pre-rendered clip's audio frame.
CLIP_TEXT_KEY = "text"


class ConversationRecorder(BaseObserver):
    """Collects transcript turns while the call runs; `turns` is the C7 transcript."""

    #: `pipelines.call_worker` calls it at each push instead of through a queue and a task: it only
    #: does bookkeeping (the live transcript's write runs in a task of its own).
    observe_inline = True

    def __init__(self, *, media_start: float, **kwargs) -> None:
        # One notification per frame (its first push), not one per processor it crosses.
        super().__init__(observe_every_push=False, **kwargs)
        self._media_start = media_start
        self.turns: list[dict] = []
        self._speech_start: float | None = None
        self._speech_end: float | None = None
        #: End of the prospect speech that the next bot audio answers.
        self._answer_due_from: float | None = None
        self._bot_turn: dict | None = None
        self._last_bot_start = -1.0
        self._bot_text: list[str] = []
        self.first_bot_audio_at: float | None = None
        #: Bot audio that went out before the pipeline ran (the opener's first packets).
        self._early_start: float | None = None
        #: Called whenever a turn is completed (the live transcript writer listens).
        self.on_change: Callable[[], None] | None = None

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _now(self) -> float:
        return round(time.monotonic() - self._media_start, 3)

    @staticmethod
    def _first(data: FramePushed) -> bool:
        return data.first_push

    async def on_push_frame(self, data: FramePushed) -> None:
        frame = data.frame
        if data.direction != FrameDirection.DOWNSTREAM:
            # VAD and bot-speaking frames are broadcast both ways; one copy is enough.
            return
        if isinstance(frame, VADUserStartedSpeakingFrame) and self._first(data):
            self._speech_start = max(0.0, self._now() - frame.start_secs)
        elif isinstance(frame, VADUserStoppedSpeakingFrame) and self._first(data):
            self._speech_end = max(0.0, self._now() - frame.stop_secs)
            if self._bot_turn is None:
                self._answer_due_from = self._speech_end
        elif isinstance(frame, TranscriptionFrame) and self._first(data):
            text = frame.text.strip()
            if text:
                end = self._speech_end if self._speech_end is not None else self._now()
                start = self._speech_start if self._speech_start is not None else end
                self.turns.append({"speaker": "prospect", "text": text, "start": start, "end": max(start, end)})
                self._changed()
                # Unless the bot already answered this speech (a filler at the end of the turn).
                if self._answer_due_from is None and self._last_bot_start < end:
                    self._answer_due_from = end
        elif isinstance(frame, LLMTextFrame) and self._first(data):
            self._bot_text.append(frame.text)
        elif isinstance(frame, TTSSpeakFrame) and self._first(data):
            self._bot_text.append(frame.text + " ")
        elif isinstance(frame, TTSAudioRawFrame) and frame.metadata.get(CLIP_TEXT_KEY) and self._first(data):
            self._bot_text.append(str(frame.metadata[CLIP_TEXT_KEY]).strip() + " ")
        elif isinstance(frame, BotStartedSpeakingFrame) and self._first(data):
            self._start_bot_turn()
        elif isinstance(frame, BotStoppedSpeakingFrame) and self._first(data):
            self._end_bot_turn()

    def bot_audio_started(self, at: float) -> None:
        """The bot's audio started at monotonic `at`, outside the pipeline (the early opener)."""
        self._early_start = round(at - self._media_start, 3)
        if self.first_bot_audio_at is None:
            self.first_bot_audio_at = self._early_start

    def add_bot_turn(self, text: str, start: float, end: float) -> None:
        """A bot turn played entirely outside the pipeline (monotonic times)."""
        self._early_start = None
        self.turns.append(
            {"speaker": "bot", "text": text, "start": round(start - self._media_start, 3),
             "end": round(end - self._media_start, 3), "latency_ms": None}
        )
        self._changed()

    def _start_bot_turn(self) -> None:
        now = self._now()
        if self._early_start is not None:
            now, self._early_start = self._early_start, None
        if self.first_bot_audio_at is None:
            self.first_bot_audio_at = now
        latency = None
        if self._answer_due_from is not None:
            latency = max(0, round((now - self._answer_due_from) * 1000))
            self._answer_due_from = None
        self._last_bot_start = now
        self._bot_turn = {"speaker": "bot", "text": "", "start": now, "end": now, "latency_ms": latency}

    def _end_bot_turn(self) -> None:
        if self._bot_turn is None:
            return
        self._bot_turn["end"] = self._now()
        self._bot_turn["text"] = " ".join("".join(self._bot_text).split())
        self._bot_text = []
        self.turns.append(self._bot_turn)
        self._bot_turn = None
        self._changed()

    def completed_turns(self) -> list[dict]:
        """The turns completed so far, in order (an open bot turn is left out)."""
        return sorted((dict(t) for t in self.turns), key=lambda t: t["start"])

    def finish(self) -> list[dict]:
        """Close an open bot turn (the call ended while it spoke) and return the turns in order."""
        self._end_bot_turn()
        return sorted(self.turns, key=lambda t: t["start"])

    def transcription(self) -> str:
        """The plain-text transcript ("Bot: ... / Prospecto: ...")."""
        labels = {"bot": "Bot", "prospect": "Prospecto"}
        return "\n".join(f"{labels[t['speaker']]}: {t['text']}" for t in self.finish() if t["text"])


class LiveTranscriptWriter:
    """Writes the growing transcript to the call log while the call runs.

    The admin UI's live view reads `cold_call_logs.transcript` of calls in progress, so each
    completed turn is saved soon after (at most one write per `min_interval` seconds, coalescing
    bursts). The final write of `bot.outcomes.record_bot_result` comes after `stop()`, so it always
    wins. A failed write is logged and retried with the next turn; it never disturbs the call.

    A write waits `settle_secs` after the change: the prospect's transcript is exactly the moment
    the bot must answer, and a database write at once (a session, a compiled UPDATE, about 1 ms
    of the event loop) ran before the intent router's reply and delayed it by as much (measured
    with `bench/latency.py`'s pre-rendered replies). The live view lags by a fraction of a second.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        call_log_id: uuid.UUID,
        recorder: ConversationRecorder,
        *,
        min_interval: float = 0.5,
        settle_secs: float = 0.25,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._settle_secs = settle_secs
        self._call_log_id = call_log_id
        self._recorder = recorder
        self._min_interval = min_interval
        self._dirty = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._recorder.on_change = self._dirty.set
        self._task = asyncio.create_task(self._run(), name=f"live-transcript-{self._call_log_id}")

    async def stop(self) -> None:
        self._recorder.on_change = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(self._settle_secs)
            self._dirty.clear()
            turns = self._recorder.completed_turns()
            try:
                async with self._sessionmaker() as session, session.begin():
                    await session.execute(
                        update(CallLog).where(CallLog.id == self._call_log_id).values(transcript=turns)
                    )
            except Exception as exc:  # noqa: BLE001 - the live view may lag; the call goes on
                logger.warning("Call {}: live transcript not saved ({})", self._call_log_id, type(exc).__name__)
                self._dirty.set()
            await asyncio.sleep(self._min_interval)
