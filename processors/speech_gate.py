"""Speech gate: the prospect's audio goes past the VAD only around speech.

Every 20 ms packet of the prospect's line would otherwise hop through the STT, the intent router,
the filler injector and the user aggregator (each hop is two queues and two task wake-ups in
Pipecat 1.x), although during silence, most of a call, none of them uses it. The audio consumers
behind the VAD need:

* the STT (segmented services): the speech, plus up to 1 s before it (its pre-roll);
* smart-turn (the user aggregator's stop strategy): the speech, 0.5 s before it, and the silence
  after the VAD stop until its fallback (``turn_fallback_secs``) ends the turn.

So `SpeechWindow` keeps the last ``preroll_secs`` of quiet audio in a ring and releases it, in
order, when the VAD reports the start of speech (just before the ``VADUserStartedSpeakingFrame``:
the VAD pushes a packet before the event it caused, so the order downstream is exactly what it was
without the gate); it passes everything while the prospect speaks and for ``tail_secs`` of audio
after the VAD stop, then holds again. Durations are counted in audio, not wall time. The tail ends
early when the user aggregator ends the turn (its ``UserStoppedSpeakingFrame`` coming back
upstream): smart-turn has decided, and nothing behind the gate reads the silence after it.

Two places use it:

* `processors.gated_input.SpeechGatedWebsocketTransport`, the call's transport, runs the VAD and
  the window inside its receive loop, so a held packet never enters a Pipecat queue at all;
* `SpeechWindowGate`, a processor for any other transport, placed right after a `VADProcessor`.
"""

from __future__ import annotations

from collections import deque

from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

#: Pre-roll kept while quiet: Pipecat's segmented STT keeps 1 s before speech.
DEFAULT_PREROLL_SECS = 1.0
#: Audio passed after the VAD stop: smart-turn's 1 s fallback plus a margin.
DEFAULT_TAIL_SECS = 1.5


def frame_secs(frame: InputAudioRawFrame) -> float:
    """Seconds of audio in `frame`."""
    return len(frame.audio) / (2 * max(1, frame.num_channels) * max(1, frame.sample_rate))


class SpeechWindow:
    """Which of the prospect's packets go on (see the module docstring); no I/O of its own."""

    def __init__(self, *, preroll_secs: float = DEFAULT_PREROLL_SECS, tail_secs: float = DEFAULT_TAIL_SECS) -> None:
        if preroll_secs < 0 or tail_secs < 0:
            raise ValueError("preroll_secs and tail_secs must not be negative")
        self._preroll_secs = preroll_secs
        self._tail_secs = tail_secs
        self._ring: deque[tuple[InputAudioRawFrame, float]] = deque()
        self._ring_secs = 0.0
        self._speaking = False
        self._tail_left = 0.0
        #: Packets passed and held (for tests and benchmarks).
        self.passed = 0
        self.held = 0

    @property
    def open(self) -> bool:
        """True while audio passes (speech, or the tail after it)."""
        return self._speaking or self._tail_left > 0

    def offer(self, frame: InputAudioRawFrame) -> bool:
        """True if `frame` goes on now; otherwise it is kept as pre-roll (or dropped from it later)."""
        secs = frame_secs(frame)
        if self._speaking:
            self.passed += 1
            return True
        if self._tail_left > 0:
            self._tail_left -= secs
            self.passed += 1
            return True
        self.held += 1
        self._ring.append((frame, secs))
        self._ring_secs += secs
        while self._ring and self._ring_secs - self._ring[0][1] >= self._preroll_secs:
            self._ring_secs -= self._ring.popleft()[1]
        return False

    def speech_started(self) -> list[InputAudioRawFrame]:
        """The VAD heard speech: the held pre-roll, oldest first, to push before the event."""
        self._speaking = True
        ring, self._ring, self._ring_secs = self._ring, deque(), 0.0
        self.passed += len(ring)
        return [held for held, _secs_held in ring]

    def speech_stopped(self) -> None:
        """The VAD reported the end of speech: the tail starts."""
        self._speaking = False
        self._tail_left = self._tail_secs

    def turn_ended(self) -> None:
        """The user aggregator ended the prospect's turn: the tail, if still running, ends now."""
        if not self._speaking:
            self._tail_left = 0.0

    def clear(self) -> None:
        """Forget the held pre-roll (end of the call)."""
        self._ring.clear()
        self._ring_secs = 0.0


class SpeechWindowGate(FrameProcessor):
    """`SpeechWindow` as a processor, right after a `VADProcessor` (see the module docstring)."""

    def __init__(
        self, *, preroll_secs: float = DEFAULT_PREROLL_SECS, tail_secs: float = DEFAULT_TAIL_SECS, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.window = SpeechWindow(preroll_secs=preroll_secs, tail_secs=tail_secs)

    @property
    def open(self) -> bool:
        return self.window.open

    @property
    def passed(self) -> int:
        return self.window.passed

    @property
    def held(self) -> int:
        return self.window.held

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction == FrameDirection.DOWNSTREAM:
            if isinstance(frame, InputAudioRawFrame):
                if self.window.offer(frame):
                    await self.push_frame(frame)
                return
            if isinstance(frame, VADUserStartedSpeakingFrame):
                for held in self.window.speech_started():
                    await self.push_frame(held)
            elif isinstance(frame, VADUserStoppedSpeakingFrame):
                self.window.speech_stopped()
            elif isinstance(frame, (EndFrame, CancelFrame)):
                self.window.clear()
        elif isinstance(frame, UserStoppedSpeakingFrame):
            self.window.turn_ended()
        await self.push_frame(frame, direction)
