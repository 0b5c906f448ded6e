"""Call guards: a silent prospect, a call that runs too long, and failures mid-call.

`CallGuard` sits just before the transport output, where it sees the conversation go by (user
turns, LLM responses, TTS audio, and the transport's bot-speaking reports coming back upstream):

* **Silence.** When neither side has spoken for ``silence_secs`` and no answer is owed, it plays
  the "¿Sigues ahí?" prompt once; if the silence goes on, it says goodbye and ends the call.
* **Maximum length.** After ``max_call_secs`` it waits for the prospect to finish a sentence (at
  most a few seconds) and then says goodbye and ends the call.
* **Failures.** An STT, LLM or TTS error (reported by `bot/` through `report_failure`, which the
  worker's ``on_pipeline_error`` calls), or an answer that is owed and has produced no audio for
  ``dead_air_secs``, stops whatever was pending and plays the pre-rendered apology and goodbye.
  The dead-air watchdog is what keeps a hung vendor from leaving more than 2 s of silence.

Each ending calls ``on_end(reason, error)`` so `bot/` can record it, then pushes `EndWorkerFrame`
behind the goodbye audio, so the goodbye is heard before the transport closes.

The watchdog does not poll. After each look at the state it works out when the next guard could
fall due (the silence prompt, the dead-air limit, the maximum length, a requested end settling)
and sleeps until then or until a frame changes the state, whichever is first. A call costs it a
few wake-ups per turn instead of 20 a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    ControlFrame,
    EndFrame,
    EndWorkerFrame,
    Frame,
    InterruptionFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    StartFrame,
    SystemFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from processors.audio_clip import AudioClip
from processors.transfer_processor import CLIP_CONTEXT_PREFIX, clip_frames

#: How often the watchdog looks while it lets the prospect finish at the maximum length.
TICK_SECS = 0.05
#: At the maximum length, how long to let the prospect finish a sentence.
MAX_LENGTH_GRACE_SECS = 4.0
#: An end asked for from outside waits for the bot to have been quiet this long (its last words
#: are out), and never longer than the timeout.
END_SETTLE_SECS = 0.15
END_REQUEST_TIMEOUT_SECS = 20.0


#: Context ids of pre-rendered audio (ours, the intent router's replies, the filler injector's).
_CLIP_CONTEXTS = (CLIP_CONTEXT_PREFIX, "reply-", "filler-")


def _is_service_speech(context_id: str | None) -> bool:
    """True for audio the TTS service synthesised (an answer), not a pre-rendered clip."""
    return not (context_id or "").startswith(_CLIP_CONTEXTS)


@dataclass
class CallFailureFrame(SystemFrame):
    """A service failed mid-call; `error` is a short description for the call log."""

    error: str = ""


@dataclass
class EndCallFrame(ControlFrame):
    """End the call after what is already queued, saying `clip` first (e.g. an opt-out)."""

    reason: str = "bot"
    clip: AudioClip | None = None
    #: A prospect talking over the end must not drop it from the queue.
    interruptible: bool = field(default=False, init=False)


@dataclass
class GuardClips:
    """The pre-rendered clips the guards play."""

    silence_prompt: AudioClip | None
    goodbye: AudioClip | None
    apology: AudioClip | None


class CallGuard(FrameProcessor):
    """Ends calls politely on silence, at the maximum length, and on failures.

    Args:
        clips: the prompt, goodbye and apology clips.
        on_end: ``async (reason, error)`` called once when the call is ended here; reason is one
            of ``"silence"``, ``"max_duration"``, ``"failure"``, or what `end_call` was given.
        silence_secs: silence before the prompt (and again before the goodbye).
        max_call_secs: maximum call length.
        dead_air_secs: how long an owed answer may stay silent before it counts as a failure.
    """

    def __init__(
        self,
        *,
        clips: GuardClips,
        on_end: Callable[[str, str | None], Awaitable[None]] | None = None,
        silence_secs: float = 8.0,
        max_call_secs: float = 300.0,
        dead_air_secs: float = 1.5,
        **kwargs,
    ) -> None:
        # Direct mode (no queues or tasks of its own; see pipelines.call_pipeline): it never waits.
        kwargs.setdefault("enable_direct_mode", True)
        super().__init__(**kwargs)
        self._clips = clips
        self._on_end = on_end
        self._silence_secs = silence_secs
        self._max_call_secs = max_call_secs
        self._dead_air_secs = dead_air_secs
        self._watchdog: asyncio.Task | None = None
        #: Set when a frame changed the state, or when the next deadline is reached.
        self._wake = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._started_at = 0.0
        self._quiet_since = 0.0
        self._user_speaking = False
        self._bot_speaking = False
        self._llm_active = False
        self._llm_text = False
        self._tts_owed = False
        self._tts_started = False
        self._prompted = False
        self._ending: str | None = None
        self._end_request: tuple[str, AudioClip | None, float] | None = None

    @property
    def ending(self) -> str | None:
        """The reason a guard is ending the call, or None."""
        return self._ending

    async def end_call(self, reason: str, clip: AudioClip | None = None) -> None:
        """End the call from outside the pipeline (a tool handler): once the bot has finished
        speaking, say `clip` (if any), then close."""
        await self.queue_frame(EndCallFrame(reason=reason, clip=clip))

    async def report_failure(self, error: str) -> None:
        """Report a service failure from outside the pipeline (the worker's error event)."""
        await self.queue_frame(CallFailureFrame(error=error))

    # --- frames -------------------------------------------------------------------------------
    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        now = time.monotonic()
        state = self._state()
        if isinstance(frame, CallFailureFrame):
            await self._finish("failure", frame.error, interrupt=True)
            return
        if isinstance(frame, EndCallFrame):
            # Ended once the bot has finished what it is saying (the watchdog checks).
            if self._end_request is None and not self._ending:
                self._end_request = (frame.reason, frame.clip, now)
                self._wake.set()
            return
        if isinstance(frame, StartFrame):
            self._started_at = self._quiet_since = now
            self._watchdog = self.create_task(self._watch(), name="call_guard")
        elif isinstance(frame, (EndFrame, CancelFrame)):
            if self._watchdog:
                await self.cancel_task(self._watchdog)
                self._watchdog = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        elif isinstance(frame, (UserStartedSpeakingFrame, VADUserStartedSpeakingFrame)):
            if direction == FrameDirection.DOWNSTREAM:
                self._user_speaking = True
                self._prompted = False
        elif isinstance(frame, (UserStoppedSpeakingFrame, VADUserStoppedSpeakingFrame)):
            if direction == FrameDirection.DOWNSTREAM:
                self._user_speaking = False
                self._quiet_since = now
        elif isinstance(frame, BotStartedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            self._bot_speaking = True
        elif isinstance(frame, BotStoppedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            self._bot_speaking = False
            self._quiet_since = now
        elif isinstance(frame, LLMFullResponseStartFrame):
            self._llm_active, self._llm_text = True, False
            if not self._bot_speaking:
                self._quiet_since = now
        elif isinstance(frame, LLMTextFrame):
            self._llm_text = True
        elif isinstance(frame, LLMFullResponseEndFrame):
            self._llm_active = False
            # Text still on its way through the TTS is an answer owed until its audio flows.
            self._tts_owed = self._tts_owed or (self._llm_text and not self._tts_started)
        elif isinstance(frame, TTSStartedFrame) and _is_service_speech(frame.context_id):
            self._tts_started = True
        elif isinstance(frame, TTSAudioRawFrame) and self._tts_started and _is_service_speech(frame.context_id):
            self._tts_owed = False
        elif isinstance(frame, TTSStoppedFrame) and _is_service_speech(frame.context_id):
            self._tts_started = self._tts_owed = False
        elif isinstance(frame, InterruptionFrame):
            if self._ending and direction == FrameDirection.DOWNSTREAM:
                # The goodbye is being said: the prospect talking over it must not cut it off.
                return
            self._llm_active = self._tts_owed = self._tts_started = False
        if self._state() != state:
            self._wake.set()
        await self.push_frame(frame, direction)

    # --- watchdog -------------------------------------------------------------------------------
    def _answer_owed(self) -> bool:
        return self._llm_active or self._tts_owed

    def _state(self) -> tuple:
        """What the watchdog's decisions depend on (a change wakes it)."""
        return (self._user_speaking, self._bot_speaking, self._llm_active, self._tts_owed, self._quiet_since,
                self._prompted)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._ending:
            self._wake.clear()
            due = await self._check(time.monotonic())
            if due is None:
                return
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_later(max(0.001, due), self._wake.set)
            await self._wake.wait()

    async def _check(self, now: float) -> float | None:
        """Act on whatever guard is due; returns the seconds until the next one could be (None:
        the call is ending)."""
        max_length_in = self._started_at + self._max_call_secs - now
        if self._end_request is not None:
            reason, clip, requested_at = self._end_request
            timeout_in = requested_at + END_REQUEST_TIMEOUT_SECS - now
            settle_in = self._quiet_since + END_SETTLE_SECS - now
            busy = self._bot_speaking or self._answer_owed()
            if (not busy and settle_in <= 0) or timeout_in <= 0:
                await self._finish(reason, None, interrupt=False, clip=clip, default_clip=False)
                return None
            return timeout_in if busy else min(timeout_in, settle_in)
        if max_length_in <= 0:
            deadline = now + MAX_LENGTH_GRACE_SECS
            while self._user_speaking and time.monotonic() < deadline:
                await asyncio.sleep(TICK_SECS)
            await self._finish("max_duration", None, interrupt=False)
            return None
        if self._bot_speaking or self._user_speaking:
            return max_length_in
        quiet = now - self._quiet_since
        if self._answer_owed():
            if quiet >= self._dead_air_secs:
                await self._finish("failure", "no answer audio (dead air)", interrupt=True)
                return None
            return min(max_length_in, self._dead_air_secs - quiet)
        if quiet >= self._silence_secs:
            if not self._prompted and self._clips.silence_prompt is not None:
                self._prompted = True
                self._quiet_since = now
                for frame in clip_frames(self._clips.silence_prompt, "silence_prompt"):
                    await self.push_frame(frame)
                return min(max_length_in, self._silence_secs)
            await self._finish("silence", None, interrupt=False)
            return None
        return min(max_length_in, self._silence_secs - quiet)

    async def _finish(
        self,
        reason: str,
        error: str | None,
        *,
        interrupt: bool,
        clip: AudioClip | None = None,
        default_clip: bool = True,
    ) -> None:
        if self._ending:
            return
        self._ending = reason
        if error:
            logger.warning("Call guard ending the call: {} ({})", reason, error)
        else:
            logger.info("Call guard ending the call: {}", reason)
        if interrupt:
            # Drop whatever half-made answer is queued and stop the services producing it.
            await self.push_frame(InterruptionFrame(), FrameDirection.UPSTREAM)
            await self.push_frame(InterruptionFrame(), FrameDirection.DOWNSTREAM)
        if self._on_end is not None:
            try:
                await self._on_end(reason, error)
            except Exception as exc:  # noqa: BLE001 - recording must not block the goodbye
                logger.warning("Call guard on_end failed: {}", type(exc).__name__)
        if clip is None and default_clip:
            clip = self._clips.apology if reason == "failure" else self._clips.goodbye
        if clip is not None:
            for frame in clip_frames(clip, f"end-{reason}"):
                await self.push_frame(frame)
        await self.push_frame(EndWorkerFrame(reason=f"guard: {reason}"))
