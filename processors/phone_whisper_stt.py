"""Local Whisper (faster-whisper) for 8 kHz phone audio, with one model per process.

Pipecat's `WhisperSTTService` has two habits that hurt a phone bot:
* it feeds Whisper audio at the pipeline's input rate without resampling, and Whisper silently
  returns nothing for 8 kHz audio; raising the whole pipeline to 16 kHz instead makes the Telnyx
  serializer run a streaming resampler that holds back ~100 ms at each utterance start and
  ~20 ms after, which delays VAD and the turn end;
* it loads the model in its constructor, on the event loop, for every call.
`PhoneWhisperSTTService` keeps the pipeline at 8 kHz and upsamples each finished speech segment
once (soxr, whole buffer, no streaming lag) before Whisper sees it, and takes its model from
`load_whisper_model`, which loads each model directory once per process.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import lru_cache

import numpy as np
import soxr
from faster_whisper import WhisperModel
from pipecat.frames.frames import Frame
from pipecat.services.whisper.stt import WhisperSTTService

WHISPER_SAMPLE_RATE = 16000


@lru_cache(maxsize=4)
def load_whisper_model(model_dir: str, compute_type: str = "int8") -> WhisperModel:
    """The faster-whisper model in `model_dir`, loaded once per process (CPU)."""
    return WhisperModel(model_dir, device="cpu", compute_type=compute_type)


def warm_up_whisper(model_dir: str, compute_type: str = "int8") -> None:
    """Load the model and run one tiny inference: the first one pays for allocations (~1 s)."""
    model = load_whisper_model(model_dir, compute_type)
    segments, _ = model.transcribe(np.zeros(WHISPER_SAMPLE_RATE // 2, dtype=np.float32), language=None)
    list(segments)


class PhoneWhisperSTTService(WhisperSTTService):
    """`WhisperSTTService` for an 8 kHz pipeline and a shared, preloaded model."""

    def __init__(self, *, model_dir: str, language: str | None = "es", compute_type: str = "int8", **kwargs) -> None:
        self._shared_model_dir = model_dir
        super().__init__(
            device="cpu",
            compute_type=compute_type,
            settings=WhisperSTTService.Settings(model=model_dir, language=language),
            # Segment end -> transcript is ~0.3-0.6 s on 2 cores with tiny/base models.
            ttfs_p99_latency=1.0,
            **kwargs,
        )

    def _load(self) -> None:
        self._model = load_whisper_model(self._shared_model_dir, self._compute_type)
        unsupported = self._unsupported_language()
        if unsupported:
            raise ValueError(unsupported)

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame, None]:
        if self.sample_rate and self.sample_rate != WHISPER_SAMPLE_RATE:
            samples = np.frombuffer(audio, dtype=np.int16)
            audio = soxr.resample(samples, self.sample_rate, WHISPER_SAMPLE_RATE, quality="HQ").astype(np.int16).tobytes()
        async for frame in super().run_stt(audio):
            yield frame
