"""Intent router: answers the common questions with pre-rendered audio, without LLM or TTS.

Position: after the STT, before the filler injector and the user context aggregator.

Constructor::

    IntentRouter(*, replies, objections=None, on_intent=None, reply_keys=None,
                 transfer_intents=("interested",), classifier=classify_intent)

* ``replies``: reply key -> `AudioClip`, or a callable ``key -> AudioClip | None`` (for example
  ``AudioLibrary.reply``). The key is the intent id (``cuanto_cuesta``, ``opt_out``, an objection
  key, ...) unless ``reply_keys`` maps it to another one.
* ``objections``: the campaign's ``objection_handling`` (shapes: see `processors.intents`).
* ``on_intent``: ``async (intent, text) -> None``, awaited for *every* recognised intent after its
  reply has been pushed; `bot/` wires the side effects there (opt-out -> do-not-call list,
  ``adios``/``no_gracias`` -> end the call once the reply has played, ...). It is also called
  when no clip exists, so an opt-out is never lost. Keep it quick: it runs in the router's task.
* ``transfer_intents``: intents answered by a hot transfer: the router pushes
  `processors.transfer_processor.TransferRequestFrame` (the transfer processor plays the
  announcement and calls Telnyx) instead of a reply clip.

Frames in -> out (downstream):

* final `TranscriptionFrame` that classifies to an intent with a reply clip ->
  ``TTSStartedFrame(context_id="reply-<intent>-<n>", append_to_context=False)``, the clip as one
  ``TTSAudioRawFrame`` (so the output transport emits Bot{Started,Stopped}SpeakingFrame; the
  context id is informational, the transport keys speech on the frame types),
  ``TTSStoppedFrame(same id)``, then ``LLMMessagesAppendFrame([user text, assistant reply text],
  run_llm=False)`` which the user aggregator writes into the shared `LLMContext` without
  running the LLM. The transcript itself is swallowed, so the aggregator never adds it a second
  time and the LLM never answers it. Because the aggregator's turn-stop strategy waits for *a*
  transcript before ending the user turn, the router then pushes, only while a user turn is
  open, a blank ``TranscriptionFrame(" ", finalized=True)``: the stop strategy sees a transcript
  and closes the turn at once (so the next barge-in interrupts normally), while the aggregator
  ignores blank text, writes nothing and runs no inference. Compose the user aggregator with
  ``LLMUserAggregatorParams(empty_user_turn=None)`` (or no interrupted prompt): otherwise a
  canned answer to a barge-in would be followed by Pipecat's "please repeat" recovery.
* a transfer intent -> ``TransferRequestFrame(reason=intent)`` and the same context append and
  turn close.
* everything else passes through unchanged (no intent, or an intent without a clip: the LLM
  answers it).

The user turn's state comes from ``UserStartedSpeakingFrame``/``UserStoppedSpeakingFrame``, which
the user aggregator (downstream) broadcasts, so the router sees their upstream copies.

Event: ``on_canned_reply(router, intent, user_text, clip)`` after a reply has been pushed, for
the transcript recorder. Latency from transcript in to reply audio out is one classification
(tens of microseconds) and a few queue hops.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from loguru import logger
from pipecat.frames.frames import (
    Frame,
    LLMMessagesAppendFrame,
    TranscriptionFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from processors.audio_clip import AudioClip
from processors.intents import classify_intent
from processors.transfer_processor import TransferRequestFrame, clip_frame

#: Context ids of canned replies start with this; the filler injector recognises them.
REPLY_CONTEXT_PREFIX = "reply-"

ReplySource = Mapping[str, AudioClip] | Callable[[str], AudioClip | None]
IntentCallback = Callable[[str, str], Awaitable[None]]


def is_reply_context(context_id: str | None) -> bool:
    """True for the context id of audio pushed by the intent router."""
    return bool(context_id) and context_id.startswith(REPLY_CONTEXT_PREFIX)


class IntentRouter(FrameProcessor):
    """Plays the pre-rendered reply of a recognised intent at once (see the module docstring)."""

    def __init__(
        self,
        *,
        replies: ReplySource,
        objections: Mapping[str, Any] | None = None,
        on_intent: IntentCallback | None = None,
        reply_keys: Mapping[str, str] | None = None,
        transfer_intents: Collection[str] = ("interested",),
        classifier: Callable[[str, Mapping[str, Any] | None], str | None] = classify_intent,
        **kwargs: Any,
    ) -> None:
        # Direct mode (no queues or tasks of its own; see pipelines.call_pipeline): it never waits.
        kwargs.setdefault("enable_direct_mode", True)
        super().__init__(**kwargs)
        self._replies = replies
        self._objections = dict(objections) if isinstance(objections, Mapping) and objections else None
        self._on_intent = on_intent
        self._reply_keys = dict(reply_keys or {})
        self._transfer_intents = frozenset(transfer_intents)
        self._classifier = classifier
        self._user_turn_open = False
        self._enabled = True
        self._counter = itertools.count(1)
        self._register_event_handler("on_canned_reply")

    @property
    def enabled(self) -> bool:
        """False while the router lets every transcript through (e.g. after a transfer)."""
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        """Turn canned answers on or off for the rest of the call."""
        self._enabled = enabled

    def reply_for(self, intent: str) -> AudioClip | None:
        """The clip that answers `intent`, if one is rendered."""
        key = self._reply_keys.get(intent, intent)
        if callable(self._replies):
            return self._replies(key)
        return self._replies.get(key)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, UserStartedSpeakingFrame):
            self._user_turn_open = True
        elif isinstance(frame, UserStoppedSpeakingFrame):
            self._user_turn_open = False
        elif (
            isinstance(frame, TranscriptionFrame)
            and direction == FrameDirection.DOWNSTREAM
            and self._enabled
            and frame.text.strip()
            and await self._maybe_answer(frame)
        ):
            return
        await self.push_frame(frame, direction)

    async def _maybe_answer(self, frame: TranscriptionFrame) -> bool:
        """Answer `frame` if it is a recognised intent; True when the transcript was consumed."""
        intent = self._classifier(frame.text, self._objections)
        if intent is None:
            return False
        if intent in self._transfer_intents:
            await self.push_frame(TransferRequestFrame(reason=intent))
            announcement = self.reply_for("transfer")
            await self._close_turn(frame, announcement.text if announcement else None)
            await self._notify(intent, frame.text)
            return True
        clip = self.reply_for(intent)
        if clip is None:
            logger.debug("Intent {} has no rendered reply; the LLM answers it", intent)
            await self._notify(intent, frame.text)
            return False
        context_id = f"{REPLY_CONTEXT_PREFIX}{intent}-{next(self._counter)}"
        await self.push_frame(TTSStartedFrame(context_id=context_id, append_to_context=False))
        await self.push_frame(clip_frame(clip, context_id))
        await self.push_frame(TTSStoppedFrame(context_id=context_id))
        await self._close_turn(frame, clip.text)
        logger.debug("Answered intent {} with pre-rendered reply {}", intent, clip.id)
        await self._call_event_handler("on_canned_reply", intent, frame.text, clip)
        await self._notify(intent, frame.text)
        return True

    async def _close_turn(self, frame: TranscriptionFrame, reply_text: str | None) -> None:
        """Write the exchange into the LLM context and let the user turn end without inference."""
        messages: list[dict[str, str]] = [{"role": "user", "content": frame.text}]
        if reply_text:
            messages.append({"role": "assistant", "content": reply_text})
        await self.push_frame(LLMMessagesAppendFrame(messages=messages, run_llm=False))
        if self._user_turn_open:
            await self.push_frame(
                TranscriptionFrame(
                    text=" ",
                    user_id=frame.user_id,
                    timestamp=frame.timestamp,
                    language=frame.language,
                    finalized=True,
                )
            )

    async def _notify(self, intent: str, text: str) -> None:
        if self._on_intent is None:
            return
        try:
            await self._on_intent(intent, text)
        except Exception as exc:  # noqa: BLE001 - a failing side effect must not break the call
            logger.error("on_intent handler failed for {}: {}", intent, type(exc).__name__)
