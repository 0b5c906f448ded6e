"""Call guards: silence prompt then goodbye, failures end with the apology, ends wait for speech."""

from __future__ import annotations

import asyncio

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    EndWorkerFrame,
    LLMFullResponseStartFrame,
    TTSAudioRawFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import SleepFrame, run_test

from processors.call_guards import CallGuard, GuardClips
from tests.processors.helpers import tone_clip

CLIPS = GuardClips(
    silence_prompt=tone_clip("silence_prompt", "reply", "¿Hola? ¿Sigues ahí?"),
    goodbye=tone_clip("goodbye", "reply", "Gracias, adiós."),
    apology=tone_clip("apology", "reply", "Perdona, un problema técnico."),
)


def _spoken(frames) -> list[str]:
    return [f.metadata["text"] for f in frames if isinstance(f, TTSAudioRawFrame)]


async def test_silence_prompts_once_then_says_goodbye():
    ended: list[tuple[str, str | None]] = []

    async def on_end(reason, error):
        ended.append((reason, error))

    guard = CallGuard(clips=CLIPS, on_end=on_end, silence_secs=0.2, dead_air_secs=5)
    down, _ = await run_test(guard, frames_to_send=[SleepFrame(sleep=0.8)], send_end_frame=True)
    assert _spoken(down) == ["¿Hola? ¿Sigues ahí?", "Gracias, adiós."]
    assert any(isinstance(f, EndWorkerFrame) for f in down)
    assert ended == [("silence", None)]


async def test_an_owed_answer_without_audio_is_a_failure():
    guard = CallGuard(clips=CLIPS, silence_secs=30, dead_air_secs=0.3)
    down, _ = await run_test(
        guard,
        frames_to_send=[UserStoppedSpeakingFrame(), LLMFullResponseStartFrame(), SleepFrame(sleep=0.7)],
    )
    assert _spoken(down) == ["Perdona, un problema técnico."]
    assert guard.ending == "failure"


async def test_reported_failure_apologises_at_once():
    guard = CallGuard(clips=CLIPS, silence_secs=30)

    async def fail_soon():
        await asyncio.sleep(0.1)
        await guard.report_failure("LLM: 500")

    task = asyncio.create_task(fail_soon())
    down, _ = await run_test(guard, frames_to_send=[SleepFrame(sleep=0.4)])
    await task
    assert _spoken(down) == ["Perdona, un problema técnico."]


async def _end_while_running(guard: CallGuard, frames, direction=FrameDirection.DOWNSTREAM):
    """Run the guard and ask it to end the call (an opt-out) 50 ms in."""
    bye = tone_clip("opt_out", "reply", "No volveremos a llamarte.")

    async def end_soon():
        await asyncio.sleep(0.05)
        await guard.end_call("opt_out", bye)

    task = asyncio.create_task(end_soon())
    down, _ = await run_test(guard, frames_to_send=frames, frames_to_send_direction=direction)
    await task
    return down


async def test_end_call_waits_until_the_bot_has_finished_speaking():
    down = await _end_while_running(CallGuard(clips=CLIPS, silence_secs=30), [SleepFrame(sleep=0.3)])
    assert _spoken(down) == ["No volveremos a llamarte."]
    # While the bot speaks, nothing is said over it.
    speaking = CallGuard(clips=CLIPS, silence_secs=30)
    down = await _end_while_running(
        speaking, [BotStartedSpeakingFrame(), SleepFrame(sleep=0.4)], FrameDirection.UPSTREAM
    )
    assert _spoken(down) == []
    assert speaking.ending is None


async def test_the_watchdog_sleeps_until_a_guard_is_due_instead_of_polling():
    guard = CallGuard(clips=CLIPS, silence_secs=0.6, dead_air_secs=5)
    checks: list[float] = []
    check = guard._check

    async def counted(now: float):
        checks.append(now)
        return await check(now)

    guard._check = counted
    down, _ = await run_test(guard, frames_to_send=[SleepFrame(sleep=0.9)], send_end_frame=True)
    # One look at the start, one when the prompt is due (0.6 s later), one as the prompt's audio
    # goes by; a 20 Hz poll would have looked 18 times.
    assert _spoken(down) == ["¿Hola? ¿Sigues ahí?"]
    assert 2 <= len(checks) <= 4
    assert 0.55 <= checks[1] - checks[0] < 0.65
