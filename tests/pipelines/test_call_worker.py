"""The call's worker serves its observers as Pipecat's does, minus the unread process events."""

from __future__ import annotations

import asyncio

from pipecat.frames.frames import EndFrame, Frame, TextFrame
from pipecat.observers.base_observer import BaseObserver, FrameProcessed, FramePushed
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.utils.asyncio.task_manager import TaskManager
from pipecat.workers.runner import WorkerRunner

from pipelines.call_worker import CallWorkerObserver, build_call_worker


class PassThrough(FrameProcessor):
    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)


class FirstPushes(BaseObserver):
    """Like the call's recorder: one notification per frame, called inline."""

    observe_inline = True

    def __init__(self) -> None:
        super().__init__(observe_every_push=False)
        self.seen: list[str] = []

    async def on_push_frame(self, data: FramePushed) -> None:
        if isinstance(data.frame, TextFrame):
            self.seen.append(data.frame.text)


class EveryPushAndProcess(BaseObserver):
    """A queued observer that reads every push and every process event."""

    def __init__(self) -> None:
        super().__init__()
        self.pushes = 0
        self.processed = 0

    async def on_push_frame(self, data: FramePushed) -> None:
        if isinstance(data.frame, TextFrame):
            self.pushes += 1

    async def on_process_frame(self, data: FrameProcessed) -> None:
        if isinstance(data.frame, TextFrame):
            self.processed += 1


async def _run(build) -> tuple[FirstPushes, EveryPushAndProcess]:
    first, every = FirstPushes(), EveryPushAndProcess()
    worker = build(Pipeline([PassThrough(), PassThrough(), PassThrough()]), observers=[first, every],
                   idle_timeout_secs=None, enable_rtvi=False, enable_turn_tracking=False)
    await worker.queue_frames([TextFrame(f"t{i}") for i in range(5)] + [EndFrame()])
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    await runner.run()
    return first, every


async def test_observers_see_the_same_as_with_pipecats_worker_observer() -> None:
    stock_first, stock_every = await _run(PipelineWorker)
    first, every = await _run(build_call_worker)
    assert first.seen == stock_first.seen == [f"t{i}" for i in range(5)]
    assert (every.pushes, every.processed) == (stock_every.pushes, stock_every.processed)
    # Three processors plus the pipeline's own source and sink: every hop is seen by `every`.
    assert every.pushes >= 5 * 4 and every.processed >= 5 * 3


async def test_process_events_go_only_to_observers_that_read_them() -> None:
    first = FirstPushes()
    observer = CallWorkerObserver(observers=[first])
    worker = build_call_worker(Pipeline([PassThrough()]), observers=[first], idle_timeout_secs=None,
                               enable_rtvi=False, enable_turn_tracking=False)
    assert type(worker._observer) is CallWorkerObserver
    await observer.setup(TaskManager(loop=asyncio.get_running_loop()))
    try:
        frame = TextFrame("hola")
        source, destination = PassThrough(), PassThrough()
        down = FrameDirection.DOWNSTREAM
        await observer.on_process_frame(FrameProcessed(processor=source, frame=frame, direction=down, timestamp=0))
        await observer.on_push_frame(FramePushed(source=source, destination=destination, frame=frame, direction=down,
                                                 timestamp=0))
        await observer.on_push_frame(FramePushed(source=destination, destination=source, frame=frame, direction=down,
                                                 timestamp=0))
        # Nothing was queued: no process event for an observer that ignores them, and the pushes
        # went straight to the inline observer, the first one only.
        assert all(p.queue.qsize() == 0 for p in observer._proxies.values())
        assert first.seen == ["hola"]
    finally:
        await observer.cleanup()
