"""A shortcut for pre-rendered audio from the front of the pipeline to the back.

Fillers and canned replies are decided right after the STT (intent router, filler injector) but
must be heard at once. On their way to the transport they would cross the user aggregator, the
LLM and the TTS, and each may hold frames back: the user aggregator's input stalls while its
turn analyser decides (smart-turn inference, the wait for a transcript: measured 0.1-0.7 s), the
LLM queues frames behind a streaming completion, and the TTS queues them behind its audio
contexts. A filler that arrives after that wait is no longer a filler.

`PrerenderedAudioBypass` is a pair of processors: `entry` (after the filler injector) takes the
frames of pre-rendered speech (``TTSStartedFrame`` / ``TTSAudioRawFrame`` / ``TTSStoppedFrame``
whose context id starts with one of `contexts`) and the filler injector's own cut
(a downstream ``InterruptionFrame`` that is not one half of a broadcast) and hands them straight to
`exit` (after the TTS), which pushes them on in the order they came. Everything else takes the
normal path. The cut therefore clears only the audio queued at the transport, without cancelling
an LLM answer in progress, which is what the injector means by it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipecat.frames.frames import Frame, InterruptionFrame, TTSAudioRawFrame, TTSStartedFrame, TTSStoppedFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

#: Context ids of the intent router's replies and the filler injector's fillers.
DEFAULT_BYPASS_CONTEXTS: tuple[str, ...] = ("reply-", "filler-")


class BypassExit(FrameProcessor):
    """Pushes on, in order, what the entry handed over (and everything it receives normally)."""

    def __init__(self, **kwargs) -> None:
        # Direct mode (no queues or tasks of its own; see pipelines.call_pipeline): it never waits.
        kwargs.setdefault("enable_direct_mode", True)
        super().__init__(**kwargs)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)


class BypassEntry(FrameProcessor):
    """Diverts pre-rendered speech to its `BypassExit`."""

    def __init__(self, *, exit: BypassExit, contexts: Sequence[str] = DEFAULT_BYPASS_CONTEXTS, **kwargs) -> None:
        # Direct mode (no queues or tasks of its own; see pipelines.call_pipeline): it never waits.
        kwargs.setdefault("enable_direct_mode", True)
        super().__init__(**kwargs)
        self._exit = exit
        self._contexts = tuple(contexts)

    def _diverted(self, frame: Frame, direction: FrameDirection) -> bool:
        if direction != FrameDirection.DOWNSTREAM:
            return False
        if isinstance(frame, (TTSStartedFrame, TTSAudioRawFrame, TTSStoppedFrame)):
            return (frame.context_id or "").startswith(self._contexts)
        return isinstance(frame, InterruptionFrame) and frame.broadcast_sibling_id is None

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if self._diverted(frame, direction):
            await self._exit.queue_frame(frame, direction)
        else:
            await self.push_frame(frame, direction)


class PrerenderedAudioBypass:
    """The entry/exit pair; place `entry` after the filler injector and `exit` after the TTS."""

    def __init__(self, *, contexts: Sequence[str] = DEFAULT_BYPASS_CONTEXTS) -> None:
        self.exit = BypassExit(name="PrerenderedAudioBypassExit")
        self.entry = BypassEntry(exit=self.exit, contexts=contexts, name="PrerenderedAudioBypassEntry")
