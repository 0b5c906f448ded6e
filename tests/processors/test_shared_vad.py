"""The shared, inline Silero analyser decides like Pipecat's own, and skips the model on quiet windows."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams, VADState

from bot.twin_media import read_wav_8k_pcm
from processors.shared_turn_models import SharedSileroVADAnalyzer

CLIP = Path(__file__).resolve().parents[2] / "assets" / "prospects" / "interested" / "01.wav"
PACKET = 320  # 20 ms


def packets() -> list[bytes]:
    """1 s of digital silence, the clip, 1 s of silence, the clip again, 1 s of silence."""
    quiet = b"\0" * 16000
    pcm = quiet + read_wav_8k_pcm(CLIP) + quiet + read_wav_8k_pcm(CLIP) + quiet
    return [pcm[i : i + PACKET] for i in range(0, len(pcm) - PACKET + 1, PACKET)]


async def states(analyzer) -> list[VADState]:
    analyzer.set_sample_rate(8000)
    return [await analyzer.analyze_audio(p) for p in packets()]


def segments(seq: list[VADState]) -> list[tuple[int, int]]:
    """(packet where SPEAKING begins, packet where QUIET returns) for each stretch of speech."""
    out, begin = [], None
    for i, state in enumerate(seq):
        if state == VADState.SPEAKING and begin is None:
            begin = i
        elif state == VADState.QUIET and begin is not None:
            out.append((begin, i))
            begin = None
    return out


async def test_same_decisions_as_pipecats_analyser_with_fewer_model_runs() -> None:
    params = VADParams(stop_secs=0.2)
    stock = SileroVADAnalyzer(sample_rate=8000, params=params)
    ours = SharedSileroVADAnalyzer(sample_rate=8000, params=params)
    try:
        expected = await states(stock)
        got = await states(ours)
    finally:
        await stock.cleanup()
        await ours.cleanup()

    # The same stretches of speech. Silero's recurrent state differs after a skipped silence
    # (as it does after Pipecat's own periodic reset), which moves a boundary by a few packets.
    want, have = segments(expected), segments(got)
    assert len(want) == 4 and len(have) == len(want)
    for (b1, e1), (b2, e2) in zip(want, have):
        assert abs(b1 - b2) <= 5 and abs(e1 - e2) <= 5, (want, have)
    # The three seconds of silence (about 94 windows of 32 ms) never reached the model.
    assert ours.windows_skipped >= 90
    assert ours.windows_scored > 0


async def test_deferred_loudness_of_quiet_windows_gives_pipecats_smoothed_volume() -> None:
    """Over a quiet but not silent line (peak < QUIET_PEAK), the loudness Pipecat measures at
    every window is only replayed when the quiet ends: the smoothed volume at every window that
    is scored must match the stock analyser's."""
    import numpy as np

    from processors.shared_turn_models import QUIET_PEAK

    rng = np.random.default_rng(7)

    def hiss(secs: float) -> bytes:
        return rng.integers(-QUIET_PEAK + 1, QUIET_PEAK, int(8000 * secs), dtype=np.int16).tobytes()

    pcm = hiss(0.3) + read_wav_8k_pcm(CLIP) + hiss(2.0) + read_wav_8k_pcm(CLIP) + hiss(0.7) + read_wav_8k_pcm(CLIP)
    chunks = [pcm[i : i + PACKET] for i in range(0, len(pcm) - PACKET + 1, PACKET)]
    params = VADParams(stop_secs=0.2)
    stock = SileroVADAnalyzer(sample_rate=8000, params=params)
    ours = SharedSileroVADAnalyzer(sample_rate=8000, params=params)
    stock.set_sample_rate(8000)
    ours.set_sample_rate(8000)
    compared, worst = 0, 0.0
    try:
        for chunk in chunks:
            await stock.analyze_audio(chunk)
            await ours.analyze_audio(chunk)
            if ours._deferred == 0 and ours.windows_scored:
                compared += 1
                worst = max(worst, abs(ours._prev_volume - stock._prev_volume))
    finally:
        await stock.cleanup()
        await ours.cleanup()
    assert ours.windows_skipped >= 80  # the hiss never reached the model or the loudness meter
    assert compared > 50
    assert worst < 1e-3, worst


class _Recording(SharedSileroVADAnalyzer):
    """Records the confidence of every window the model scored."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.confidences: list[float] = []

    def _maybe_reset_model(self, confidence: float) -> None:
        self.confidences.append(confidence)
        super()._maybe_reset_model(confidence)


def _streams() -> list[list[bytes]]:
    """Three calls' lines: the same clips, offset so that they speak over each other."""
    base = packets()
    hiss = [bytes((i * 37 + j) % 7 for j in range(PACKET)) for i in range(len(base))]  # 3 LSB noise: quiet
    return [base, [b"\0" * PACKET] * 7 + base[:-7], hiss[:13] + base[:-13]]


async def test_windows_of_several_calls_scored_in_one_run_get_the_confidences_they_get_alone() -> None:
    from processors.shared_turn_models import silero_batcher

    params = VADParams(stop_secs=0.2)
    alone = []
    for stream in _streams():
        analyzer = _Recording(sample_rate=8000, params=params)
        analyzer.set_sample_rate(8000)
        alone.append(([await analyzer.analyze_audio(p) for p in stream], analyzer.confidences))

    batcher = silero_batcher()
    runs0, windows0 = batcher.runs, batcher.windows
    together = [_Recording(sample_rate=8000, params=params) for _ in range(3)]
    for analyzer in together:
        analyzer.set_sample_rate(8000)
    seqs: list[list[VADState]] = [[], [], []]
    for packet_set in zip(*_streams()):
        # The three calls' packets arrive in the same loop turn, as under load.
        results = await asyncio.gather(*(a.analyze_audio(p) for a, p in zip(together, packet_set)))
        for seq, state in zip(seqs, results):
            seq.append(state)

    runs, windows = batcher.runs - runs0, batcher.windows - windows0
    assert windows == sum(len(c) for _, c in alone)
    assert runs < 0.6 * windows  # most windows shared a run
    for (alone_states, alone_conf), analyzer, seq in zip(alone, together, seqs):
        assert seq == alone_states
        assert len(analyzer.confidences) == len(alone_conf)
        assert max(abs(a - b) for a, b in zip(analyzer.confidences, alone_conf)) < 1e-4


async def test_a_lone_speaker_is_scored_at_once() -> None:
    from processors.shared_turn_models import SileroBatcher, _SharedSileroModel

    batcher = SileroBatcher(max_wait_secs=5.0)
    window = np.zeros(256, dtype=np.float32)
    window[::8] = 0.3
    future = batcher.score(_SharedSileroModel(), window, 8000)
    assert future.done() and batcher.runs == 1  # no wait for anybody else
