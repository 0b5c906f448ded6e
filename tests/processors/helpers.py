"""Helpers of the processor tests: synthetic clips (numpy PCM, no assets, no models), and a
pipeline run for as long as its WebSocket client stays connected."""

from __future__ import annotations

import numpy as np
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.workers.runner import WorkerRunner

from processors.audio_clip import TELEPHONY_SAMPLE_RATE, AudioClip


def tone_clip(clip_id: str, category: str, text: str, duration_ms: int = 300, freq_hz: float = 440.0) -> AudioClip:
    """A sine tone of `duration_ms` as 16-bit mono 8 kHz PCM (not silence, so it reads as speech)."""
    t = np.arange(TELEPHONY_SAMPLE_RATE * duration_ms // 1000) / TELEPHONY_SAMPLE_RATE
    pcm = (np.sin(2 * np.pi * freq_hz * t) * 8000).astype("<i2").tobytes()
    return AudioClip(id=clip_id, category=category, text=text, pcm=pcm)


def filler_library(duration_ms: int = 300) -> dict[str, list[AudioClip]]:
    """Two or more clips per filler category, like bot/assets renders them."""
    texts = {
        "thinking": ["Ehhh", "Mmm", "Pues"],
        "agreeing": ["Ajá", "Claro", "Entiendo", "Ya veo"],
        "transitioning": ["Vale", "Perfecto"],
        "breathing": ["(respiración)", "(respiración 2)"],
        "correction": ["Perdón, quería decir..."],
    }
    return {
        category: [tone_clip(f"{category}-{i}", category, text, duration_ms) for i, text in enumerate(items)]
        for category, items in texts.items()
    }


def phone_worker(processors: list) -> PipelineWorker:
    """A worker for `processors` at the phone's rate both ways, with nothing of its own added."""
    return PipelineWorker(
        Pipeline(processors),
        params=PipelineParams(audio_in_sample_rate=TELEPHONY_SAMPLE_RATE, audio_out_sample_rate=TELEPHONY_SAMPLE_RATE),
        idle_timeout_secs=None, enable_rtvi=False, enable_turn_tracking=False,
    )


async def run_until_disconnected(transport, worker: PipelineWorker) -> None:
    """Run `worker` until the client of `transport` (a WebSocket transport) disconnects."""

    @transport.event_handler("on_client_disconnected")
    async def _closed(_transport, _client) -> None:
        await worker.cancel()

    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    await runner.run()
