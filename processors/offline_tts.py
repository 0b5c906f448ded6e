"""OFFLINE voice as a Pipecat TTS service: sentences rendered by a local synthesiser (espeak-ng).

Used when there is no ElevenLabs key. The synthesiser is passed in as ``synthesize(text) -> PCM``
(16-bit mono at ``sample_rate``; `bot/` wires `bot.voice.VoiceGenerator` in offline mode, which
caches renders on disk), so this module stays free of I/O of its own. Audio leaves as
`TTSAudioRawFrame`s of 40 ms, like a streaming vendor's, so interruptions cut it promptly.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable

from loguru import logger
from pipecat.frames.frames import ErrorFrame, Frame, TTSAudioRawFrame
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService

#: 40 ms of 16-bit audio at 8 kHz: half the call transport's 80 ms packet, so nothing is split.
CHUNK_MS = 40


class OfflineTTSService(TTSService):
    """Speaks each sentence with a local synthesiser; labelled offline in logs and metrics."""

    def __init__(
        self, *, synthesize: Callable[[str], Awaitable[bytes]], voice: str = "offline", sample_rate: int = 8000, **kwargs
    ) -> None:
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            sample_rate=sample_rate,
            settings=TTSSettings(model="espeak-ng", voice=voice, language=None),
            **kwargs,
        )
        self._synthesize = synthesize
        self._rate = sample_rate

    @property
    def is_offline(self) -> bool:
        return True

    def can_generate_metrics(self) -> bool:
        return True

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        try:
            pcm = await self._synthesize(text)
        except Exception as exc:  # noqa: BLE001 - surfaced as an ErrorFrame for the call guard
            logger.warning("Offline TTS failed: {}", type(exc).__name__)
            yield ErrorFrame(error=f"offline TTS failed: {type(exc).__name__}")
            return
        await self.stop_ttfb_metrics()
        step = self._rate * 2 * CHUNK_MS // 1000
        for offset in range(0, len(pcm), step):
            yield TTSAudioRawFrame(
                audio=pcm[offset : offset + step], sample_rate=self._rate, num_channels=1, context_id=context_id
            )
