"""The shared, inline Silero analyser decides like Pipecat's own, and skips the model on quiet windows."""

from __future__ import annotations

from pathlib import Path

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
