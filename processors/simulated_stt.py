"""SIMULATED speech-to-text: the carrier twin's out-of-band transcripts as transcription frames.

There is no offline Spanish speech recogniser in the product, so when no Whisper model directory
and no OpenAI key are configured, a call placed through the local carrier twin is "transcribed"
from the text the simulated callee sends after each turn (``x_twin_transcript``, see
`processors.media_serializer`). The audio still flows through VAD and the turn analyser, so turn
taking, barge-in and latency behave as in a real call; only the words are given, not recognised.
Every transcript it produces is marked with ``result="simulated"`` and the service is named
``SimulatedSTTService`` in logs and metrics.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from pipecat.frames.frames import Frame, InputTransportMessageFrame, TranscriptionFrame
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import STTService
from pipecat.utils.time import time_now_iso8601

from processors.media_serializer import TWIN_TRANSCRIPT_EVENT


class SimulatedSTTService(STTService):
    """An STT service fed by twin transcripts; it ignores the audio it passes through."""

    def __init__(self, *, user_id: str = "prospect", language: str = "es-ES", **kwargs) -> None:
        # The text arrives with the last audio packet: no recognition wait at all.
        super().__init__(
            ttfs_p99_latency=0.05, settings=STTSettings(model="simulated", language=language), **kwargs
        )
        self._user_id = user_id
        self._language = language

    @property
    def is_simulated(self) -> bool:
        return True

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        # Audio is not recognised; the words come out of band.
        yield None

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if (
            isinstance(frame, InputTransportMessageFrame)
            and direction == FrameDirection.DOWNSTREAM
            and isinstance(frame.message, dict)
            and frame.message.get("event") == TWIN_TRANSCRIPT_EVENT
        ):
            # Base processing (pause/cancel checks) first, then emit instead of forwarding.
            await super(STTService, self).process_frame(frame, direction)
            text = str(frame.message.get("text", "")).strip()
            if text:
                await self.push_frame(
                    TranscriptionFrame(
                        text, self._user_id, time_now_iso8601(), None, result="simulated", finalized=True
                    )
                )
            return
        await super().process_frame(frame, direction)
