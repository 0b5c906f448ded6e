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
  from Pipecat's figure;
* it scores the windows of several calls in one ONNX run (`SileroBatcher`). A run has a fixed cost
  of about 150 us here, and each window in it adds about 30 us: four windows cost 1.4x one, not
  4x. When one call alone is speaking its window is scored at once, as before; when several are,
  a window waits until every speaking call has sent its next one, or `BATCH_MAX_WAIT_SECS` at
  most, so the end of speech is decided at most that much later, and only under load.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections import deque
from functools import lru_cache
from importlib import resources

import numpy as np
import onnxruntime as ort
from loguru import logger
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
#: The longest a window waits for other calls' windows to share its ONNX run.
BATCH_MAX_WAIT_SECS = 0.008
#: A call counts as speaking (its next window is worth waiting for) this long after its last one.
BATCH_ACTIVE_SECS = 0.1
#: The most windows scored in one run.
BATCH_MAX_WINDOWS = 32


def _quiet(window: bytes) -> bool:
    """No audible signal in the window (see `QUIET_PEAK`)."""
    samples = np.frombuffer(window, np.int16)
    return bool(samples.size) and int(np.max(np.abs(samples.astype(np.int32)))) < QUIET_PEAK


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


class SileroBatcher:
    """Scores the Silero windows of several calls (one event loop) in one run of the shared session.

    `score` takes a call's model (its recurrent state and audio context) and a 32 ms window and
    returns a future of the confidence. The pending windows are scored together as soon as every
    call that scored a window in the last `BATCH_ACTIVE_SECS` has sent one (at once when only one
    call is speaking), or after `BATCH_MAX_WAIT_SECS`. Each call's state and context are updated
    exactly as `SileroOnnxModel.__call__` does, so a call's confidences do not depend on what it
    was batched with (within float rounding).
    """

    def __init__(self, *, max_wait_secs: float = BATCH_MAX_WAIT_SECS, active_secs: float = BATCH_ACTIVE_SECS) -> None:
        self._max_wait = max_wait_secs
        self._active_secs = active_secs
        self._pending: list[tuple[_SharedSileroModel, np.ndarray, int, asyncio.Future]] = []
        self._timer: asyncio.TimerHandle | None = None
        #: Last time each model sent a window (monotonic loop time), by id.
        self._last_seen: dict[int, float] = {}
        #: Runs and windows scored (for tests and benchmarks).
        self.runs = 0
        self.windows = 0

    def score(self, model: _SharedSileroModel, window: np.ndarray, sample_rate: int) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        now = loop.time()
        if any(pending[0] is model for pending in self._pending):
            self._flush()  # a model's windows are scored in order, never two in one run
        self._last_seen[id(model)] = now
        future = loop.create_future()
        self._pending.append((model, window, sample_rate, future))
        active = 0
        for key, seen in list(self._last_seen.items()):
            if now - seen > self._active_secs:
                del self._last_seen[key]
            else:
                active += 1
        if len(self._pending) >= min(active, BATCH_MAX_WINDOWS):
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._max_wait, self._flush)
        return future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, []
        for sample_rate in {item[2] for item in pending}:
            group = [item for item in pending if item[2] == sample_rate]
            try:
                confidences = self._run(group, sample_rate)
            except Exception as exc:  # noqa: BLE001 - each waiting call gets the error
                for *_rest, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_model, _window, _rate, future), confidence in zip(group, confidences):
                if not future.done():
                    future.set_result(confidence)

    def _run(self, group: list, sample_rate: int) -> list[np.ndarray]:
        """One ONNX run over the group; updates each model as `SileroOnnxModel.__call__` does."""
        context_size = 64 if sample_rate == 16000 else 32
        inputs, states = [], []
        for model, window, _rate, _future in group:
            if not model._last_batch_size or model._last_sr != sample_rate or model._last_batch_size != 1:
                model.reset_states(1)
            if not model._context.shape[1]:
                model._context = np.zeros((1, context_size), dtype="float32")
            inputs.append(np.concatenate((model._context, window.reshape(1, -1)), axis=1))
            states.append(model._state)
        x = np.concatenate(inputs, axis=0)
        out, state = model.session.run(
            None, {"input": x, "state": np.concatenate(states, axis=1), "sr": np.array(sample_rate, dtype="int64")}
        )
        self.runs += 1
        self.windows += len(group)
        confidences = []
        for i, (model, _window, _rate, _future) in enumerate(group):
            model._state = state[:, i : i + 1, :]
            model._context = x[i : i + 1, -context_size:]
            model._last_sr = sample_rate
            model._last_batch_size = 1
            confidences.append(out[i])
        return confidences


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SileroBatcher] = weakref.WeakKeyDictionary()


def silero_batcher() -> SileroBatcher:
    """The running event loop's batcher (futures belong to one loop)."""
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = SileroBatcher()
    return batcher


class SharedSileroVADAnalyzer(SileroVADAnalyzer):
    """`SileroVADAnalyzer` without the per-call model load, batched across calls."""

    def __init__(
        self, *, sample_rate: int | None = None, params: VADParams | None = None, batch_across_calls: bool = True
    ) -> None:
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
        self._batch = batch_across_calls
        #: The window `analyze_audio` looked at before Pipecat's analysis runs, with its confidence
        #: from the batcher (None: quiet, not scored), so `voice_confidence` needs no second look.
        self._prescored: tuple[bytes, object] | None = None

    async def analyze_audio(self, buffer: bytes) -> VADState:
        """Pipecat's analysis, run inline on the event loop instead of in a thread per call.

        With batching, the one window this packet completes (a 20 ms packet completes at most one
        32 ms window) is scored first, through the batcher; Pipecat's analysis then finds its
        confidence ready (`voice_confidence`). Anything else is scored inline, as before."""
        if self._batch:
            window_bytes = self._vad_frames_num_bytes
            if window_bytes <= len(self._vad_buffer) + len(buffer) < 2 * window_bytes:
                window = (self._vad_buffer + buffer)[:window_bytes]
                if _quiet(window):
                    self._prescored = (window, None)
                else:
                    audio = np.frombuffer(window, np.int16).astype(np.float32) / 32768.0
                    try:
                        confidence = await silero_batcher().score(self._model, audio, self.sample_rate)
                    except Exception as exc:  # noqa: BLE001 - as Pipecat's voice_confidence: log, go on
                        logger.error("Error analyzing audio with Silero VAD: {}", exc)
                    else:
                        self._prescored = (window, confidence)
        return self._run_analyzer(buffer)

    def voice_confidence(self, buffer) -> float:
        """Silero's confidence, or 0 without running the model on a quiet window."""
        prescored, self._prescored = self._prescored, None
        if prescored is not None and prescored[0] == buffer:
            confidence = prescored[1]
            quiet = confidence is None
        else:
            confidence, quiet = None, _quiet(buffer)
        self._window_quiet = quiet
        if quiet:
            self.windows_skipped += 1
            return 0.0
        self.windows_scored += 1
        if confidence is None:
            return super().voice_confidence(buffer)
        self._maybe_reset_model(confidence.item())  # as Pipecat's voice_confidence does
        return confidence

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
