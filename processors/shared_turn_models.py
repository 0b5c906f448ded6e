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
  is left as it was, so the first window of speech after the quiet is scored as before;
* it defers the loudness of quiet windows. Pipecat measures the ITU-R BS.1770 loudness of the
  last 400 ms at every 32 ms window (about 55 us, a sixth of a listening call's CPU) and smooths
  it (``v = v + 0.2 * (x - v)``), but the value only matters at a window Silero scores as speech,
  never at a quiet one. So quiet windows only keep their audio, and the first window that is not
  quiet replays the smoothing over the last `VOLUME_CATCH_UP_WINDOWS` of them before its own.
  Older windows weigh ``0.8 ** 32 < 0.001`` in the smoothed value, which is all that can differ
  from Pipecat's figure.
"""

from __future__ import annotations

import math
from collections import deque
from functools import lru_cache
from importlib import resources

import numpy as np
import onnxruntime as ort
from pipecat.audio.turn.smart_turn.base_smart_turn import BaseSmartTurn
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
from pipecat.audio.utils import calculate_audio_volume, exp_smoothing
from pipecat.audio.vad.silero import SileroOnnxModel, SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADAnalyzer, VADParams, VADState
from pipecat.audio.volume import VOLUME_WINDOW_SECS

#: A 32 ms window whose peak stays below this (int16; about -54 dBFS) is not scored by Silero.
QUIET_PEAK = 64
#: Quiet windows whose loudness is replayed into the smoothed volume when the quiet ends.
VOLUME_CATCH_UP_WINDOWS = 32


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
        self._window_quiet = False
        #: The audio of the latest windows, oldest first (enough for the catch-up's loudness).
        self._history: deque[bytes] = deque()
        self._history_bytes = 0
        #: Quiet windows since the last measured one.
        self._deferred = 0

    async def analyze_audio(self, buffer: bytes) -> VADState:
        """Pipecat's analysis, run inline on the event loop instead of in a thread per call."""
        return self._run_analyzer(buffer)

    def voice_confidence(self, buffer) -> float:
        """Silero's confidence, or 0 without running the model on a quiet window."""
        samples = np.frombuffer(buffer, np.int16)
        if samples.size and int(np.max(np.abs(samples.astype(np.int32)))) < QUIET_PEAK:
            self.windows_skipped += 1
            self._window_quiet = True
            return 0.0
        self.windows_scored += 1
        self._window_quiet = False
        return super().voice_confidence(buffer)

    def _get_smoothed_volume(self, audio: bytes) -> float:
        """Pipecat's smoothed loudness, measured lazily over quiet windows (module docstring)."""
        # As `AudioVolumeTracker` sizes its window.
        window_bytes = math.ceil(VOLUME_WINDOW_SECS * self.sample_rate) * 2
        self._volume_tracker.update(audio, self.sample_rate)
        self._history.append(bytes(audio))
        self._history_bytes += len(audio)
        keep = window_bytes + (VOLUME_CATCH_UP_WINDOWS + 1) * len(audio)
        while self._history and self._history_bytes - len(self._history[0]) >= keep:
            self._history_bytes -= len(self._history.popleft())
        if self._window_quiet:
            # The caller stores this as the previous volume: unchanged until the catch-up.
            self._deferred += 1
            return self._prev_volume
        volume = self._prev_volume
        if self._deferred:
            volume = self._catch_up(window_bytes, len(audio))
        self._deferred = 0
        return exp_smoothing(self._volume_tracker.volume, volume, self._smoothing_factor)

    def _catch_up(self, window_bytes: int, window_len: int) -> float:
        """The smoothed volume after the deferred quiet windows (the last few of them replayed)."""
        replay = min(self._deferred, VOLUME_CATCH_UP_WINDOWS)
        audio = b"".join(self._history)
        volume = self._prev_volume
        # Window k back from the current one ends `k * window_len` bytes before the end. The history
        # keeps 400 ms more than the replay needs, so it only falls short of a full loudness window
        # at the start of the call, where Pipecat's tracker reads 0 too.
        for back in range(replay, 0, -1):
            end = len(audio) - back * window_len
            if end < window_bytes:
                loudness = 0.0
            else:
                loudness = calculate_audio_volume(audio[end - window_bytes : end], self.sample_rate)
            volume = exp_smoothing(loudness, volume, self._smoothing_factor)
        return volume

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
