"""SpeechWindowGate: quiet audio held (with a pre-roll released in order), speech and its tail passed."""

from __future__ import annotations

import pytest
from pipecat.frames.frames import InputAudioRawFrame, VADUserStartedSpeakingFrame, VADUserStoppedSpeakingFrame
from pipecat.tests.utils import run_test

from processors.speech_gate import SpeechWindowGate

PACKET_BYTES = 320  # 20 ms at 8 kHz, 16-bit mono


def packet(n: int) -> InputAudioRawFrame:
    """A 20 ms packet whose first two bytes carry its number (to check order)."""
    return InputAudioRawFrame(audio=n.to_bytes(2, "little") * (PACKET_BYTES // 2), sample_rate=8000, num_channels=1)


def number(frame: InputAudioRawFrame) -> int:
    return int.from_bytes(frame.audio[:2], "little")


async def test_quiet_audio_is_held_and_the_preroll_released_in_order_before_the_speech() -> None:
    gate = SpeechWindowGate(preroll_secs=1.0, tail_secs=1.5)
    quiet = [packet(n) for n in range(60)]  # 1.2 s before the prospect speaks
    speech = [packet(n) for n in range(60, 70)]
    after = [packet(n) for n in range(70, 170)]  # 2 s after the VAD stop
    frames = [*quiet, VADUserStartedSpeakingFrame(), *speech, VADUserStoppedSpeakingFrame(), *after]

    down, _ = await run_test(gate, frames_to_send=frames)

    audio = [number(f) for f in down if isinstance(f, InputAudioRawFrame)]
    # The last 1.0 s of quiet (50 packets), the speech, then 1.5 s of tail (75 packets): in order.
    assert audio == list(range(10, 60)) + list(range(60, 70)) + list(range(70, 145))
    start = next(i for i, f in enumerate(down) if isinstance(f, VADUserStartedSpeakingFrame))
    assert all(isinstance(f, InputAudioRawFrame) and number(f) < 60 for f in down[:start])
    stop = next(i for i, f in enumerate(down) if isinstance(f, VADUserStoppedSpeakingFrame))
    assert [number(f) for f in down[stop - 1 : stop]] == [69]
    assert gate.held == 60 + 25 and not gate.open


async def test_speech_again_inside_the_tail_keeps_the_gate_open() -> None:
    gate = SpeechWindowGate(preroll_secs=0.2, tail_secs=0.4)
    frames = [
        VADUserStartedSpeakingFrame(),
        *[packet(n) for n in range(5)],
        VADUserStoppedSpeakingFrame(),
        *[packet(n) for n in range(5, 10)],  # 0.1 s of pause
        VADUserStartedSpeakingFrame(),
        *[packet(n) for n in range(10, 15)],
        VADUserStoppedSpeakingFrame(),
        *[packet(n) for n in range(15, 50)],
    ]
    down, _ = await run_test(gate, frames_to_send=frames)
    audio = [number(f) for f in down if isinstance(f, InputAudioRawFrame)]
    assert audio == list(range(0, 35))  # the second stop's 0.4 s tail is 20 packets: 15..34


def test_negative_windows_are_refused() -> None:
    with pytest.raises(ValueError):
        SpeechWindowGate(preroll_secs=-1)


def test_the_end_of_the_turn_cuts_the_tail_short_but_not_new_speech() -> None:
    from processors.speech_gate import SpeechWindow

    window = SpeechWindow(preroll_secs=1.0, tail_secs=1.5)
    window.speech_started()
    window.speech_stopped()
    assert window.offer(packet(1)) and window.open  # the tail runs
    window.turn_ended()  # the user aggregator ended the turn
    assert not window.open and not window.offer(packet(2))
    window.speech_started()
    window.turn_ended()  # a late end of the previous turn does not close a window on new speech
    assert window.open and window.offer(packet(3))


async def test_the_gate_processor_ends_the_tail_on_the_aggregators_turn_stop() -> None:
    from pipecat.frames.frames import UserStoppedSpeakingFrame
    from pipecat.processors.frame_processor import FrameDirection

    gate = SpeechWindowGate(preroll_secs=1.0, tail_secs=1.5)
    gate.window.speech_started()
    gate.window.speech_stopped()
    await run_test(gate, frames_to_send=[UserStoppedSpeakingFrame()], frames_to_send_direction=FrameDirection.UPSTREAM,
                   expected_up_frames=[UserStoppedSpeakingFrame])
    assert not gate.open
