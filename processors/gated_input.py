"""The call's WebSocket transport, with the VAD and the speech gate in its receive loop.

Stock Pipecat 1.x moves every 20 ms packet of the prospect's line through the input transport's
audio queue and task, then through a `VADProcessor` and our `SpeechWindowGate`, each with its own
queue and task: three task wake-ups (and as many frame-observer events) per packet, 50 times a
second per call, although most packets are silence that nothing behind the gate reads. Measured in
`bench/concurrency.py`, that plumbing was the largest share of the CPU a call costs once the models
were cheap.

`SpeechGatedWebsocketInput` does the same work where the packet arrives: the receive loop decodes
it, the VAD (Pipecat's own `VADController` around our Silero analyser) scores it, and the
`SpeechWindow` decides whether it goes on, all inline. A packet that goes on is pushed straight to
the next processor (no audio queue); a held one never enters a queue. What comes out is, frame for
frame and in the same order, what ``transport.input() -> VADProcessor -> SpeechWindowGate``
pushed: the audio that passes, the pre-roll released just before ``VADUserStartedSpeakingFrame``,
``VADUserStoppedSpeakingFrame``, ``UserSpeakingFrame`` every 0.2 s of speech, and the
``SpeechControlParamsFrame`` that tells the turn strategies the VAD's parameters after the
``StartFrame``, with one difference: the audio that passes goes on in frames of up to
``audio_batch_secs`` (0.1 s, five packets) instead of one frame per 20 ms packet, and the pre-roll,
released at once when speech starts, as one frame.

Batching cuts the frames the audio's consumers handle fivefold: every passed packet used to hop
through the STT, the intent router, the filler injector, the bypass entry and the user aggregator
(six queue hand-offs and task wake-ups, plus an observer event each), most of a call's frame
traffic. It never delays anything that acts on the audio: the pending audio is pushed before any
other frame leaves the transport, so it is complete downstream by the time the VAD start, the
``UserSpeakingFrame`` (every 0.2 s of speech) or the VAD stop behind it arrives: a segmented STT
transcribes, and smart-turn decides, on the same audio as before. After the VAD stop the batches
start on the stop, so smart-turn's silence fallback, counted in audio, ends on the same packet.
Only a streaming STT sees 0.1 s chunks instead of 20 ms ones (what streaming vendors ask for).

`SpeechGatedWebsocketTransport` is `FastAPIWebsocketTransport` with that input; `pipelines.
call_pipeline.build_call_pipeline` leaves out its own VAD and gate when the transport's input
says it detects speech (`detects_speech`).

Its output (`CallWebsocketOutput`) does not broadcast ``BotSpeakingFrame``. Pipecat's output
transport sends one both ways every 0.2 s while the bot talks, and the upstream copy crosses every
processor of the call (about 14 hops, five times a second, half of a call), but in Pipecat 1.14
only the worker's idle timeout (off in our calls) and the wake-phrase turn strategy (not used)
read it. ``BotStartedSpeakingFrame`` and ``BotStoppedSpeakingFrame``, which the call guard, the
turn strategies and the recorder follow, are broadcast as before. Nor does it push the audio it
has written on downstream: behind the output transport there is only the assistant aggregator,
which has no use for audio, and the pipeline's sink (two hops and an observer event per packet of
the bot's speech). The recorder reads the bot's clips where they enter the pipeline, not here.
Its media sender (`CallMediaSender`) takes queued audio and writes it without a task per frame
and per write (Python 3.11's ``asyncio.wait_for`` runs what it awaits in a task of its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from pipecat.audio.vad.vad_analyzer import VADAnalyzer
from pipecat.audio.vad.vad_controller import VADController
from pipecat.frames.frames import (
    BotSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    OutputAudioRawFrame,
    OutputTransportReadyFrame,
    StartFrame,
    UserSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessorSetup
from pipecat.transports.base_output import BOT_VAD_STOP_FALLBACK_SECS, BaseOutputTransport
from pipecat.transports.websocket.fastapi import (
    FastAPIWebsocketInputTransport,
    FastAPIWebsocketOutputTransport,
    FastAPIWebsocketParams,
    FastAPIWebsocketTransport,
)

from processors.speech_gate import SpeechWindow, frame_secs

#: The longest frame the passed audio is merged into (see the module docstring).
AUDIO_BATCH_SECS = 0.1


class SpeechGatedWebsocketInput(FastAPIWebsocketInputTransport):
    """`FastAPIWebsocketInputTransport` that runs the VAD and the speech window on arrival."""

    #: Tells `build_call_pipeline` not to add a VAD and a gate of its own.
    detects_speech = True

    def __init__(self, transport, client, params: FastAPIWebsocketParams, *, vad_analyzer: VADAnalyzer,
                 window: SpeechWindow, audio_batch_secs: float = AUDIO_BATCH_SECS, **kwargs) -> None:
        super().__init__(transport, client, params, **kwargs)
        if audio_batch_secs < 0:
            raise ValueError("audio_batch_secs must not be negative")
        self.window = window
        self._batch_secs = audio_batch_secs
        #: Passed packets not pushed yet, and their audio length in seconds.
        self._pending: list[InputAudioRawFrame] = []
        self._pending_secs = 0.0
        self._vad = VADController(vad_analyzer)
        self._vad.add_event_handler("on_speech_started", self._on_speech_started)
        self._vad.add_event_handler("on_speech_stopped", self._on_speech_stopped)
        self._vad.add_event_handler("on_speech_activity", self._on_speech_activity)
        self._vad.add_event_handler("on_push_frame", self._on_vad_push_frame)
        self._vad.add_event_handler("on_broadcast_frame", self._on_vad_broadcast_frame)

    async def setup(self, setup: FrameProcessorSetup) -> None:
        await super().setup(setup)
        await self._vad.setup(setup)

    async def start(self, frame: StartFrame) -> None:
        # The StartFrame is already downstream here (the base class pushes it before start()), so
        # the VAD's SpeechControlParamsFrame follows it, as it did from a VADProcessor.
        await super().start(frame)
        await self._vad.start()

    async def stop(self, frame: EndFrame) -> None:
        await self._vad.stop()
        self.window.clear()
        await super().stop(frame)

    async def cancel(self, frame: CancelFrame) -> None:
        await self._vad.stop()
        self.window.clear()
        self._pending, self._pending_secs = [], 0.0
        await super().cancel(frame)

    async def cleanup(self) -> None:
        await super().cleanup()
        await self._vad.cleanup()

    def _create_audio_task(self) -> None:
        """No audio queue and task: `push_audio_frame` handles each packet where it arrives.

        Pipecat's task would wait on a queue nothing fills, waking every 0.5 s to say so."""

    async def push_audio_frame(self, frame: InputAudioRawFrame) -> None:
        """Score the packet, then pass it on or hold it (instead of the base class's audio queue)."""
        if not self._params.audio_in_enabled or self._paused:
            return
        if self._params.audio_in_filter:
            frame.audio = await self._params.audio_in_filter.filter(frame.audio)
            if not frame.audio:
                return
        # As VADProcessor did: the packet first, then any event it caused.
        if self.window.offer(frame):
            await self._pass_audio(frame)
        elif self._pending:
            await self._push_pending()  # the window closed: the last batch goes on now
        await self._vad.process_frame(frame)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, UserStoppedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            self.window.turn_ended()  # the user aggregator ended the turn: no more tail needed

    async def push_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM) -> None:
        """Any frame going downstream first takes the pending audio with it, in order."""
        if self._pending and direction == FrameDirection.DOWNSTREAM:
            await self._push_pending()
        await super().push_frame(frame, direction)

    async def _pass_audio(self, frame: InputAudioRawFrame) -> None:
        self._pending.append(frame)
        self._pending_secs += frame_secs(frame)
        if self._pending_secs >= self._batch_secs - 1e-9:
            await self._push_pending()

    async def _push_pending(self) -> None:
        """The pending packets downstream as one frame."""
        frames, self._pending, self._pending_secs = self._pending, [], 0.0
        batch = frames[0]
        if len(frames) > 1:
            batch = InputAudioRawFrame(
                audio=b"".join(f.audio for f in frames), sample_rate=batch.sample_rate, num_channels=batch.num_channels
            )
            batch.transport_source = frames[0].transport_source
        await super().push_frame(batch)

    async def _on_speech_started(self, controller: VADController) -> None:
        # The held pre-roll is released at once, so it goes on as one frame.
        held = self.window.speech_started()
        if held:
            self._pending.extend(held)
            await self._push_pending()
        await self.broadcast_frame(VADUserStartedSpeakingFrame, start_secs=controller._vad_analyzer.params.start_secs)

    async def _on_speech_stopped(self, controller: VADController) -> None:
        await self.broadcast_frame(VADUserStoppedSpeakingFrame, stop_secs=controller._vad_analyzer.params.stop_secs)
        self.window.speech_stopped()

    async def _on_speech_activity(self, _controller: VADController) -> None:
        await self.broadcast_frame(UserSpeakingFrame)

    async def _on_vad_push_frame(self, _controller: VADController, frame: Frame, direction: FrameDirection) -> None:
        await self.push_frame(frame, direction)

    async def _on_vad_broadcast_frame(self, _controller: VADController, frame_cls: type[Frame], **kwargs) -> None:
        await self.broadcast_frame(frame_cls, **kwargs)


class CallMediaSender(BaseOutputTransport.MediaSender):
    """Pipecat's media sender, taking queued frames and writing audio without a task for each.

    On Python 3.11 ``asyncio.wait_for`` runs the awaited coroutine in a new task, and Pipecat's
    sender used it for every frame it took off its audio queue (for the timeout after which the
    bot counts as silent) and for every 80 ms write (for the timeout after which the peer counts
    as gone). Each new task starts at the back of the event loop's ready queue, behind every
    other call's work: between a filler reaching the output transport and its first byte on the
    socket lay three such trips (its start frame taken, its audio taken, the write), measured
    at 5-6 ms of a single call's 8 ms from the VAD stop to the write, and more under load.
    ``asyncio.timeout`` sets the same limits without a task; a frame already queued is taken at
    once. With an audio mixer the stock loop runs as it is.
    """

    def _next_frame(self) -> AsyncGenerator[Frame, None]:
        if self._mixer:
            return super()._next_frame()
        return self._queued_frames(BOT_VAD_STOP_FALLBACK_SECS)

    async def _queued_frames(self, vad_stop_secs: float) -> AsyncGenerator[Frame, None]:
        """Pipecat's loop without a mixer: the next queued frame, or the bot's stop when none
        comes for `vad_stop_secs`."""
        while True:
            try:
                async with asyncio.timeout(vad_stop_secs):
                    frame = await self._audio_queue.get()
            except TimeoutError:
                await self._bot_stopped_speaking()
                continue
            await self._filter_audio(frame)
            self._apply_volume(frame)
            yield frame
            self._audio_queue.task_done()

    async def _internal_write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        """Pipecat's write with its time limit (a peer that stops reading is written off)."""
        if not self._transport.is_usable:
            return False
        timeout = self._params.audio_out_write_timeout_secs
        try:
            async with asyncio.timeout(timeout):
                return await self._transport.write_audio_frame(frame)
        except TimeoutError as e:
            await self._transport.push_error(
                f"{self._transport} timed out after {timeout}s writing audio to the "
                "transport; the peer has stopped reading",
                exception=e,
                force_treat_as_permanent=True,
            )
            return False


class CallWebsocketOutput(FastAPIWebsocketOutputTransport):
    """`FastAPIWebsocketOutputTransport` without the periodic ``BotSpeakingFrame``, with a
    `CallMediaSender` (module docstring)."""

    async def set_transport_ready(self, frame: StartFrame) -> None:
        """Pipecat's, with a `CallMediaSender` for the call's one destination (Pipecat names its
        own sender class in the method, so it cannot be swapped in any other way)."""
        if self._params.audio_out_destinations or self._params.video_out_destinations:
            await super().set_transport_ready(frame)  # several destinations: the stock senders
            return
        self._media_senders[None] = CallMediaSender(
            self, destination=None, sample_rate=self.sample_rate, audio_chunk_size=self.audio_chunk_size,
            params=self._params,
        )
        await self._media_senders[None].start(frame)
        await self.push_frame(OutputTransportReadyFrame(), FrameDirection.UPSTREAM)

    async def broadcast_frame(self, frame_cls: type[Frame], **kwargs) -> None:
        if frame_cls is BotSpeakingFrame:
            return
        await super().broadcast_frame(frame_cls, **kwargs)

    async def push_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM) -> None:
        if isinstance(frame, OutputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            return  # written to the socket; nothing behind the transport reads it (module docstring)
        await super().push_frame(frame, direction)


class SpeechGatedWebsocketTransport(FastAPIWebsocketTransport):
    """`FastAPIWebsocketTransport` with a `SpeechGatedWebsocketInput` and a `CallWebsocketOutput`."""

    def __init__(self, *, websocket, params: FastAPIWebsocketParams, vad_analyzer: VADAnalyzer,
                 window: SpeechWindow | None = None, **kwargs) -> None:
        super().__init__(websocket=websocket, params=params, **kwargs)
        self._input = SpeechGatedWebsocketInput(
            self, self._client, self._params, vad_analyzer=vad_analyzer, window=window or SpeechWindow(),
            name=self._input_name,
        )
        self._output = CallWebsocketOutput(self, self._client, self._params, name=self._output_name)

    def input(self) -> SpeechGatedWebsocketInput:
        return self._input

    def output(self) -> CallWebsocketOutput:
        return self._output
