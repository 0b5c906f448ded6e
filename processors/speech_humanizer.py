"""Speech humaniser: micro-pauses, breaths and the occasional correction in the bot's live speech.

Position: after the TTS (for example in ``output_processors``, just before the transport output);
it must see the TTS's audio and spoken text.

Constructor::

    SpeechHumanizer(engine: HumanFillerEngine, *, micro_pauses=True, breaths=True,
                    corrections=True, protected_prefixes=PROTECTED_CONTEXT_PREFIXES)

The seed's "Extras Humanos", applied only to live TTS speech (LLM answers):

* **Micro-pauses**: between two sentences, 200-500 ms of silence (`HumanFillerEngine.micro_pause_ms`).
* **Breath**: after 15-20 s of continuous bot speech (`breath_interval_secs`), a breathing clip at
  the next sentence boundary; the count restarts whenever the bot stops speaking.
* **Correction**: at a sentence boundary, with `should_add_error()` (5% by default), the seed's
  "Perdón, quería decir..." clip; at most once per call, never in the first bot response (the
  opener), and never when the response so far (or the next sentence, when the TTS announced it
  before its audio) mentions a price: a "correction" next to a price would make the prospect
  doubt it.

A sentence boundary is a spoken-text frame (``TTSTextFrame``, word or sentence level) ending in
``.``, ``?``, ``!`` or ``…`` followed by more audio of the same response: Pipecat pushes a
sentence's text behind its audio (services without word timestamps) or each word after the audio
chunk that carries it (ElevenLabs alignment), so the next audio frame starts the next sentence.
Inserted audio is ``TTSAudioRawFrame`` with the response's context id, so interruptions drop it
like the rest of the response. Pre-rendered clips (context ids starting with one of
``protected_prefixes``: replies, fillers, opener, transfer, guard prompts) pass untouched.
"""

from __future__ import annotations

import re
from typing import Any

from pipecat.frames.frames import (
    AggregatedTextFrame,
    BotStoppedSpeakingFrame,
    Frame,
    InterruptionFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    TTSTextFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from processors.audio_clip import AudioClip
from processors.fillers import HumanFillerEngine, silence_pcm
from processors.transfer_processor import clip_frame

#: Context ids of pre-rendered audio that must never be altered.
PROTECTED_CONTEXT_PREFIXES: tuple[str, ...] = (
    "reply-", "filler-", "opener", "transfer", "apology", "silence", "goodbye", "voicemail", "guard",
)  # fmt: skip

_SENTENCE_END = re.compile(r"[.!?…]['\"»)]*\s*$")
_PRICE = re.compile(
    r"\d|€|\beuros?\b|\bprecios?\b|\bcuesta\b|\bcuestan\b|\bcoste\b|\btarifas?\b|\bplan(es)?\b"
    r"|\bmensual(es)?\b|\bal mes\b|\bdescuento",
    re.IGNORECASE,
)


def mentions_price(text: str) -> bool:
    """True when a sentence talks about money (digits, euros, price words)."""
    return bool(_PRICE.search(text))


class SpeechHumanizer(FrameProcessor):
    """Adds micro-pauses, breaths and rare corrections between sentences of live TTS speech."""

    def __init__(
        self,
        engine: HumanFillerEngine,
        *,
        micro_pauses: bool = True,
        breaths: bool = True,
        corrections: bool = True,
        protected_prefixes: tuple[str, ...] = PROTECTED_CONTEXT_PREFIXES,
        **kwargs: Any,
    ) -> None:
        # Direct mode (no queues or tasks of its own; see pipelines.call_pipeline): it never waits.
        kwargs.setdefault("enable_direct_mode", True)
        super().__init__(**kwargs)
        self._engine = engine
        self._micro_pauses = micro_pauses
        self._breaths = breaths
        self._corrections = corrections
        self._protected = protected_prefixes
        self._responses = 0
        self._corrected = False
        self._context_id: str | None = None
        self._protected_now = False
        self._boundary = False
        self._response_text = ""
        self._upcoming_text = ""
        self._speech_secs = 0.0
        self._next_breath_secs = engine.breath_interval_secs()

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, BotStoppedSpeakingFrame):
            # Only one copy of the transport's broadcast reaches us (the upstream one when we
            # sit before the transport); the bot paused, so the breath count restarts.
            self._speech_secs = 0.0
            self._next_breath_secs = self._engine.breath_interval_secs()
        elif direction == FrameDirection.DOWNSTREAM:
            await self._downstream(frame)
        await self.push_frame(frame, direction)

    async def _downstream(self, frame: Frame) -> None:
        if isinstance(frame, TTSStartedFrame):
            self._start_response(frame.context_id)
        elif isinstance(frame, TTSStoppedFrame):
            self._boundary = False
        elif isinstance(frame, InterruptionFrame):
            self._boundary = False
            self._response_text = ""
            self._upcoming_text = ""
        elif isinstance(frame, TTSTextFrame):
            if not self._protected_now:
                self._response_text += " " + frame.text
                self._upcoming_text = ""
                self._boundary = bool(_SENTENCE_END.search(frame.text))
        elif isinstance(frame, AggregatedTextFrame):
            # A segment announced before its audio (word-timestamp services): the next sentence.
            self._upcoming_text = frame.text
        elif isinstance(frame, TTSAudioRawFrame) and not self._is_protected(frame.context_id):
            if self._boundary:
                self._boundary = False
                await self._at_sentence_boundary(frame)
            self._speech_secs += len(frame.audio) / (2 * frame.sample_rate * max(frame.num_channels, 1))

    def _start_response(self, context_id: str | None) -> None:
        self._context_id = context_id
        self._protected_now = self._is_protected(context_id)
        self._boundary = False
        if not self._protected_now:
            self._responses += 1
            self._response_text = ""
            self._upcoming_text = ""

    def _is_protected(self, context_id: str | None) -> bool:
        return bool(context_id) and context_id.startswith(self._protected)

    async def _at_sentence_boundary(self, next_audio: TTSAudioRawFrame) -> None:
        rate = next_audio.sample_rate
        context_id = next_audio.context_id
        if self._micro_pauses:
            await self._push_pcm(silence_pcm(self._engine.micro_pause_ms(), rate), rate, context_id)
        if self._breaths and self._speech_secs >= self._next_breath_secs:
            breath = self._engine.breath()
            if breath is not None:
                await self._push_clip(breath, context_id)
            self._speech_secs = 0.0
            self._next_breath_secs = self._engine.breath_interval_secs()
        if self._correction_allowed() and self._engine.should_add_error():
            correction = self._engine.correction()
            if correction is not None:
                self._corrected = True
                await self._push_clip(correction, context_id)

    def _correction_allowed(self) -> bool:
        return (
            self._corrections
            and not self._corrected
            and self._responses > 1
            and not mentions_price(self._response_text)
            and not mentions_price(self._upcoming_text)
        )

    async def _push_clip(self, clip: AudioClip, context_id: str | None) -> None:
        await self.push_frame(clip_frame(clip, context_id or ""))

    async def _push_pcm(self, pcm: bytes, sample_rate: int, context_id: str | None) -> None:
        if pcm:
            await self.push_frame(TTSAudioRawFrame(audio=pcm, sample_rate=sample_rate, num_channels=1, context_id=context_id))
