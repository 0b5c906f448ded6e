"""Silero VAD and smart-turn V3 analysers that share one ONNX session per process.

Pipecat's `SileroVADAnalyzer` and `LocalSmartTurnAnalyzerV3` each open their own onnxruntime
session in the constructor: ~40 ms of CPU apiece, on the event loop, at the start of every call,
which delays the opener and stalls every other call in the process. An `InferenceSession` is
thread-safe and stateless between runs (Silero's recurrent state lives in the model wrapper, not
the session), so these subclasses open each model once (`shared_*_session`, cached) and keep only
the per-call state per call. `warm_up()` opens both ahead of the first call.

`SharedSileroVADAnalyzer` also makes the VAD cheap enough for many calls per core (issue #4's
20 calls per core; measured in `bench/concurrency.py`):

* it runs on the event loop. Pipecat hands every 20 ms packet to a thread of its own per call
  (one `ThreadPoolExecutor` per analyser), which costs more in thread hand-offs and wake-ups than
  the work itself: 40 % of the packets hold no complete 32 ms window and need no model at all,
  and one Silero window takes about 0.3 ms of CPU here;
* it skips Silero on a window with no audible signal (peak below -54 dBFS: digital silence or
  a quiet line, most of a call while the bot talks). Such a window cannot count as speech
  anyway: Pipecat also requires a loudness of ``min_volume``, far above it. The recurrent state
  is left as it was, so the first window of speech after the quiet is scored as before.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import onnxruntime as ort
from pipecat.audio.turn.smart_turn.base_smart_turn import BaseSmartTurn
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
from pipecat.audio.vad.silero import SileroOnnxModel, SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADAnalyzer, VADParams, VADState

#: A 32 ms window whose peak stays below this (int16; about -54 dBFS) is not scored by Silero.
QUIET_PEAK = 64


@lru_cache(maxsize=1)
def shared_silero_session() -> ort.InferenceSession:
    """The bundled Silero VAD model, opened once per process (1 thread, as Pipecat does)."""
    path = str(resources.files("pipecat.audio.vad.data").joinpath("silero_vad.onnx"))
    opts = ort.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"], sess_options=opts)


@lru_cache(maxsize=1)
def shared_smart_turn_session() -> ort.InferenceSession:
    """The bundled smart-turn V3 model, opened once per process (as Pipecat configures it)."""
    path = str(resources.files("pipecat.audio.turn.smart_turn.data").joinpath("smart-turn-v3.2-cpu.onnx"))
    opts = ort.SessionOptions()
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, sess_options=opts)


class _SharedSileroModel(SileroOnnxModel):
    """Silero's wrapper (per-call recurrent state) around the shared session."""

    def __init__(self) -> None:  # noqa: D107 - deliberately skips the parent's session creation
        self.session = shared_silero_session()
        self.reset_states()
        self.sample_rates = [8000, 16000]


class SharedSileroVADAnalyzer(SileroVADAnalyzer):
    """`SileroVADAnalyzer` without the per-call model load."""

    def __init__(self, *, sample_rate: int | None = None, params: VADParams | None = None) -> None:
        VADAnalyzer.__init__(self, sample_rate=sample_rate, params=params)
        # VADAnalyzer.__init__ starts a one-thread executor we never use (see the module docstring).
        self._executor.shutdown(wait=False)
        self._model = _SharedSileroModel()
        self._windows_since_reset = 0
        self._low_confidence_windows = 0
        #: Windows scored by Silero and windows skipped as quiet (for tests and benchmarks).
        self.windows_scored = 0
        self.windows_skipped = 0

    async def analyze_audio(self, buffer: bytes) -> VADState:
        """Pipecat's analysis, run inline on the event loop instead of in a thread per call."""
        return self._run_analyzer(buffer)

    def voice_confidence(self, buffer) -> float:
        """Silero's confidence, or 0 without running the model on a quiet window."""
        samples = np.frombuffer(buffer, np.int16)
        if samples.size and int(np.max(np.abs(samples.astype(np.int32)))) < QUIET_PEAK:
            self.windows_skipped += 1
            return 0.0
        self.windows_scored += 1
        return super().voice_confidence(buffer)

    async def cleanup(self) -> None:
        """Nothing to release: the session is shared and no thread was kept."""


class SharedSmartTurnAnalyzerV3(LocalSmartTurnAnalyzerV3):
    """`LocalSmartTurnAnalyzerV3` (bundled model) without the per-call model load."""

    def __init__(self, **kwargs) -> None:
        BaseSmartTurn.__init__(self, **kwargs)
        self._log_data = False
        self._session = shared_smart_turn_session()


def warm_up() -> None:
    """Open both models now (call it in a thread at server start)."""
    shared_silero_session()
    shared_smart_turn_session()
