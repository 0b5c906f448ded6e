"""Benchmark of the intent path: classification speed and transcript -> reply audio in the router.

Run: ``.venv/bin/python bench/intents.py`` (about 10 s). Prints the numbers and writes
``bench/results/intents.json``:

* ``classify_us``: microseconds per `classify_intent` call over the labelled utterance set
  (tests/processors/intent_utterances.tsv), with and without campaign objections (p50/p95/mean);
* ``router_ms``: final ``TranscriptionFrame`` queued into a real Pipecat pipeline -> the reply's
  ``TTSAudioRawFrame`` leaving the `IntentRouter` (p50/p95/max over canned utterances),
  measured with a Pipecat observer so no extra processor sits on the path.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loguru import logger  # noqa: E402
from pipecat.frames.frames import EndFrame, TranscriptionFrame, TTSAudioRawFrame  # noqa: E402
from pipecat.observers.base_observer import BaseObserver, FramePushed  # noqa: E402
from pipecat.pipeline.pipeline import Pipeline  # noqa: E402
from pipecat.pipeline.worker import PipelineParams, PipelineWorker  # noqa: E402
from pipecat.workers.runner import WorkerRunner  # noqa: E402

from processors.audio_clip import AudioClip  # noqa: E402
from processors.intent_router import IntentRouter  # noqa: E402
from processors.intents import BUILTIN_INTENTS, classify_intent  # noqa: E402

DATA = ROOT / "tests" / "processors" / "intent_utterances.tsv"
RESULTS = ROOT / "bench" / "results" / "intents.json"
OBJECTIONS = {
    "precio_alto": {"triggers": ["es muy caro", "demasiado caro", "no tenemos presupuesto"], "response": "..."},
    "proveedor": {"triggers": ["ya tenemos proveedor"], "response": "..."},
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.50), 3),
        "p95": round(percentile(values, 0.95), 3),
        "max": round(max(values), 3),
        "mean": round(statistics.fmean(values), 3),
    }


def utterances() -> list[tuple[str | None, str]]:
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((None if label == "-" else label, text))
    return rows


def bench_classify(rows: list[tuple[str | None, str]], objections: dict | None, rounds: int = 20) -> dict[str, float]:
    timings: list[float] = []
    for _ in range(rounds):
        for _, text in rows:
            start = time.perf_counter_ns()
            classify_intent(text, objections)
            timings.append((time.perf_counter_ns() - start) / 1000)
    return summary(timings)


class _ReplyLatency(BaseObserver):
    """Time from the transcript entering the router to the reply audio leaving it."""

    def __init__(self, router: IntentRouter) -> None:
        super().__init__()
        self._router = router
        self.sent: dict[str, float] = {}
        self.latencies_ms: list[float] = []
        self._current: float | None = None

    async def on_push_frame(self, data: FramePushed) -> None:
        if data.destination is self._router and isinstance(data.frame, TranscriptionFrame):
            self._current = time.perf_counter()
        elif data.source is self._router and isinstance(data.frame, TTSAudioRawFrame) and self._current:
            self.latencies_ms.append((time.perf_counter() - self._current) * 1000)
            self._current = None


async def bench_router(texts: list[str]) -> dict[str, float]:
    silence = bytes(8000)  # 0.5 s; the content does not matter to the router
    clips = {
        intent: AudioClip(id=intent, category="reply", text=f"respuesta {intent}", pcm=silence)
        for intent in BUILTIN_INTENTS
    }
    router = IntentRouter(replies=clips, transfer_intents=())
    observer = _ReplyLatency(router)
    worker = PipelineWorker(
        Pipeline([router]),
        params=PipelineParams(audio_in_sample_rate=8000, audio_out_sample_rate=8000),
        observers=[observer],
        cancel_on_idle_timeout=False,
    )
    runner = WorkerRunner(handle_sigint=False)

    async def feed() -> None:
        await asyncio.sleep(0.3)
        for text in texts:
            await worker.queue_frame(TranscriptionFrame(text=text, user_id="bench", timestamp="", finalized=True))
            await asyncio.sleep(0.02)  # one utterance at a time, as in a call
        await asyncio.sleep(0.1)
        await worker.queue_frame(EndFrame())

    await runner.add_workers(worker)
    await asyncio.gather(runner.run(), feed())
    return summary(observer.latencies_ms)


def main() -> None:
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    rows = utterances()
    canned = [text for label, text in rows if label in BUILTIN_INTENTS]
    results = {
        "utterances": len(rows),
        "classify_us": {
            "without_objections": bench_classify(rows, None),
            "with_objections": bench_classify(rows, OBJECTIONS),
        },
        "router_ms": asyncio.run(bench_router(canned * 2)),
        "target": "router p95 well under 15 ms (final transcript -> first reply audio)",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
