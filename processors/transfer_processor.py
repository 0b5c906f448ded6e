"""Hot transfer: say the transfer line, then hand the call to a human seller.

`TransferProcessor` sits after the TTS, before the transport output. A `TransferRequestFrame`
(pushed by the intent router on ``interested``, or queued by the bot when the LLM calls its
``transfer_to_human`` tool) makes it play the pre-rendered announcement, wait until that audio has
been heard, and then call ``on_transfer(reason)``, which `bot/` wires to Telnyx's transfer action.
If that returns False (the transfer failed) it plays the apology that promises a call back and
ends the call; `bot/` records the callback.

A processor never touches the network: the transfer itself happens in the callback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from loguru import logger
from pipecat.frames.frames import (
    BotStoppedSpeakingFrame,
    CancelFrame,
    ControlFrame,
    EndFrame,
    EndWorkerFrame,
    Frame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from processors.audio_clip import AudioClip

#: How long to wait for the announcement to finish playing before transferring anyway.
ANNOUNCEMENT_TIMEOUT_SECS = 15.0


@dataclass
class TransferRequestFrame(ControlFrame):
    """Ask for a hot transfer to the campaign's seller; `reason` goes to the call log."""

    reason: str = "interested"


def clip_frame(clip: AudioClip, context_id: str) -> TTSAudioRawFrame:
    """A pre-rendered clip as one speech audio frame (so the transport reports bot speech).

    The clip's text rides along in ``metadata["text"]`` for the transcript.
    """
    frame = TTSAudioRawFrame(audio=clip.pcm, sample_rate=clip.sample_rate, num_channels=1, context_id=context_id)
    frame.metadata["text"] = clip.text
    return frame


#: Context ids of the clips this project plays itself (opener, guards, transfer) start with this.
CLIP_CONTEXT_PREFIX = "clip-"


def clip_frames(clip: AudioClip, name: str) -> list[Frame]:
    """A clip as a complete TTS utterance: started, the audio, stopped.

    The closing `TTSStoppedFrame` lets the output transport report the end of bot speech as soon
    as the audio has played (without it, it waits for an idle timeout).
    """
    context_id = f"{CLIP_CONTEXT_PREFIX}{name}"
    return [
        TTSStartedFrame(context_id=context_id, append_to_context=False),
        clip_frame(clip, context_id),
        TTSStoppedFrame(context_id=context_id),
    ]


class TransferProcessor(FrameProcessor):
    """Announces and performs one hot transfer per call.

    Args:
        announcement: the transfer line ("Te paso con un compañero...") or None to transfer at once.
        failure_clip: the apology played if the transfer fails (we will call back).
        on_transfer: ``async (reason) -> bool``; True when the carrier accepted the transfer.
    """

    def __init__(
        self,
        *,
        announcement: AudioClip | None,
        failure_clip: AudioClip | None,
        on_transfer: Callable[[str], Awaitable[bool]],
        **kwargs,
    ) -> None:
        # Direct mode (no queues or tasks of its own; see pipelines.call_pipeline): it never waits.
        kwargs.setdefault("enable_direct_mode", True)
        super().__init__(**kwargs)
        self._announcement = announcement
        self._failure_clip = failure_clip
        self._on_transfer = on_transfer
        self._requested = False
        self._announcement_done = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def transfer_requested(self) -> bool:
        return self._requested

    async def request_transfer(self, reason: str) -> None:
        """Ask for the transfer from outside the pipeline (the LLM tool handler)."""
        await self.queue_frame(TransferRequestFrame(reason=reason))

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, TransferRequestFrame):
            await self._start_transfer(frame.reason)
            return
        if isinstance(frame, BotStoppedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            self._announcement_done.set()
        if isinstance(frame, (EndFrame, CancelFrame)) and self._task:
            await self.cancel_task(self._task)
            self._task = None
        await self.push_frame(frame, direction)

    async def _start_transfer(self, reason: str) -> None:
        if self._requested:
            logger.debug("Transfer already requested; ignoring a second request")
            return
        self._requested = True
        self._announcement_done.clear()
        if self._announcement is not None:
            for frame in clip_frames(self._announcement, "transfer"):
                await self.push_frame(frame)
        else:
            self._announcement_done.set()
        self._task = self.create_task(self._transfer_after_announcement(reason), name="hot_transfer")

    async def _transfer_after_announcement(self, reason: str) -> None:
        try:
            await asyncio.wait_for(self._announcement_done.wait(), ANNOUNCEMENT_TIMEOUT_SECS)
        except TimeoutError:
            logger.warning("Transfer announcement did not finish playing; transferring anyway")
        try:
            transferred = await self._on_transfer(reason)
        except Exception as exc:  # noqa: BLE001 - a failed transfer must still end politely
            logger.warning("Hot transfer failed: {}", type(exc).__name__)
            transferred = False
        if transferred:
            logger.info("Call handed to a seller (reason {})", reason)
            return
        if self._failure_clip is not None:
            for frame in clip_frames(self._failure_clip, "transfer_failed"):
                await self.push_frame(frame)
        await self.push_frame(EndWorkerFrame(reason="transfer failed"))
