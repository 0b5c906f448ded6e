"""The call's pipeline worker: Pipecat's `PipelineWorker` with a leaner path to its observers.

Pipecat's `WorkerObserver` stands between the processors and the worker's observers. For every
frame a processor *processes* it builds a ``FrameProcessed`` event and queues it to every observer,
whether the observer reads those events or not (`BaseObserver.on_process_frame` does nothing), and
it queues every frame push to a task per observer, so a slow observer cannot hold up the pipeline.
Measured in `bench/concurrency.py`'s server, the process events alone were about as many queue
hand-offs as all the frame hops of the call together, for an observer (`bot.call_transcript.
ConversationRecorder`) that only reads pushes, and reads each one in a few microseconds.

`CallWorkerObserver` keeps Pipecat's behaviour for any other observer and changes two things:

* a ``FrameProcessed`` event is queued only to observers whose class overrides
  ``on_process_frame``;
* an observer that declares ``observe_inline = True`` gets its pushes called directly, in the
  pushing processor's task, instead of through a queue and a task of its own. Only an observer that
  never waits on anything slow may declare it; its timestamps are then taken at the push itself.

`build_call_worker` builds the `PipelineWorker` and puts the `CallWorkerObserver` in place of the
one Pipecat built (before the worker runs: it hands its observer to the processors at setup).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipecat.observers.base_observer import BaseObserver, FrameProcessed, FramePushed
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineWorker
from pipecat.pipeline.worker_observer import WorkerObserver


def _reads_process_events(observer: BaseObserver) -> bool:
    return type(observer).on_process_frame is not BaseObserver.on_process_frame


class CallWorkerObserver(WorkerObserver):
    """`WorkerObserver` that skips unread process events and calls inline observers directly."""

    async def on_process_frame(self, data: FrameProcessed) -> None:
        if not self._proxies:
            return
        for observer, proxy in self._proxies.items():
            if _reads_process_events(observer):
                await proxy.queue.put(data)

    async def on_push_frame(self, data: FramePushed) -> None:
        if not self._proxies:
            return
        frame = data.frame
        data.first_push = frame.id not in self._frames_pushed
        if data.first_push:
            self._frames_pushed[frame.id] = frame
        for observer, proxy in self._proxies.items():
            if data.first_push or observer.observe_every_push:
                if getattr(observer, "observe_inline", False):
                    await observer.on_push_frame(data)
                else:
                    await proxy.queue.put(data)


def build_call_worker(pipeline: Pipeline, *, observers: Sequence[BaseObserver] = (), **kwargs) -> PipelineWorker:
    """A `PipelineWorker` (same arguments) whose observers are served by `CallWorkerObserver`."""
    worker = PipelineWorker(pipeline, observers=list(observers), **kwargs)
    stock = worker._observer
    if type(stock) is not WorkerObserver:  # a Pipecat upgrade changed how the worker observes
        raise RuntimeError(f"unexpected worker observer {type(stock).__name__}; review pipelines.call_worker")
    # Every observer the worker collected (ours and any of its own) moves over.
    worker._observer = CallWorkerObserver(observers=stock._observers)
    return worker
