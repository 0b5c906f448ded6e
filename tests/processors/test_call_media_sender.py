"""The call output's media sender writes what Pipecat's does, without a task per frame or write.

Over a real loopback WebSocket, a filler-like clip (``TTSStartedFrame``, 0.4 s of audio,
``TTSStoppedFrame``) goes out through our call transport and through Pipecat's stock
``FastAPIWebsocketTransport``: the same media messages arrive, in the same order. Counting the
tasks the server's event loop creates for a frame taken off the audio queue (``Queue.get``) or
for a write (``write_audio_frame``) tells the two senders apart: the stock one creates one per
frame and per write (``asyncio.wait_for`` on Python 3.11), ours none.
"""

from __future__ import annotations

import asyncio
import base64
import json

import websockets
from fastapi import FastAPI, WebSocket
from pipecat.frames.frames import OutputAudioRawFrame, TTSAudioRawFrame, TTSStartedFrame, TTSStoppedFrame
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport

from pipelines.call_pipeline import build_call_transport
from processors.audio_clip import TELEPHONY_SAMPLE_RATE
from processors.gated_input import CallMediaSender
from processors.media_serializer import CallMediaSerializer, decode_g711, encode_g711
from tests.processors.helpers import phone_worker, run_until_disconnected, tone_clip
from tests.twins.loopback import serve_app, stop_app

RATE = TELEPHONY_SAMPLE_RATE
#: 0.4 s of a 440 Hz tone, 16-bit mono: five of the output's 80 ms messages.
CLIP = tone_clip("filler-tone", "thinking", "Mmm", duration_ms=400).pcm
#: The coroutines `asyncio.wait_for` wraps in a task in Pipecat's sender.
WRAPPED = ("Queue.get", "write_audio_frame")


def _params(**overrides) -> FastAPIWebsocketParams:
    serializer = CallMediaSerializer(
        stream_id="s1", outbound_encoding="PCMU", inbound_encoding="PCMU",
        params=CallMediaSerializer.InputParams(auto_hang_up=False),
    )
    return FastAPIWebsocketParams(
        audio_in_enabled=True, audio_out_enabled=True, audio_out_10ms_chunks=8, serializer=serializer, **overrides
    )


def _app(variant: str, done: asyncio.Event) -> FastAPI:
    app = FastAPI()

    @app.websocket("/media")
    async def media(websocket: WebSocket) -> None:
        await websocket.accept()
        if variant == "call":
            transport = build_call_transport(websocket, _params(), sample_rate=RATE)
        else:
            transport = FastAPIWebsocketTransport(websocket=websocket, params=_params())
        worker = phone_worker([transport.input(), transport.output()])

        @transport.event_handler("on_client_connected")
        async def _connected(_transport, _client) -> None:
            await worker.queue_frames([
                TTSStartedFrame(context_id="filler-1"),
                TTSAudioRawFrame(CLIP, RATE, 1, context_id="filler-1"),
                TTSStoppedFrame(context_id="filler-1"),
            ])

        await run_until_disconnected(transport, worker)
        done.set()

    return app


async def _play(variant: str) -> tuple[list[bytes], int]:
    """The media payloads the client received (decoded PCM) and the wrapped tasks created."""
    loop = asyncio.get_running_loop()
    wrapped = 0
    previous = loop.get_task_factory()

    def factory(loop, coro, **kwargs):
        nonlocal wrapped
        if getattr(coro, "__qualname__", "").endswith(WRAPPED):
            wrapped += 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    done = asyncio.Event()
    server, task, port = await serve_app(_app(variant, done))
    received: list[bytes] = []
    loop.set_task_factory(factory)
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/media") as ws:
            while len(received) < 5:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if message.get("event") == "media":
                    received.append(decode_g711(base64.b64decode(message["media"]["payload"]), "PCMU"))
        await asyncio.wait_for(done.wait(), 5)
    finally:
        loop.set_task_factory(previous)
        await stop_app(server, task)
    return received, wrapped


async def test_the_call_sender_writes_the_same_audio_as_pipecats_without_a_task_per_frame() -> None:
    ours, our_tasks = await _play("call")
    stock, stock_tasks = await _play("stock")
    expected = decode_g711(encode_g711(CLIP, "PCMU"), "PCMU")
    assert [len(chunk) for chunk in ours] == [1280] * 5  # 80 ms messages, as Telnyx gets them
    assert b"".join(ours) == expected
    assert ours == stock
    assert stock_tasks >= 8  # the stock sender: a task per frame taken (3) and per write (5)
    assert our_tasks == 0


class _Socket:
    """Enough of a WebSocket to build the call transport without serving it."""

    headers: dict = {}


async def test_a_write_the_peer_never_takes_is_given_up_after_the_time_limit() -> None:
    params = _params(audio_out_write_timeout_secs=0.05)
    output = build_call_transport(_Socket(), params).output()
    errors: list[dict] = []

    async def never_returns(_frame) -> bool:
        await asyncio.Event().wait()
        return True

    async def push_error(message, **kwargs) -> None:
        errors.append({"message": message, **kwargs})

    output.write_audio_frame = never_returns
    output.push_error = push_error
    sender = CallMediaSender(output, destination=None, sample_rate=RATE, audio_chunk_size=1280, params=params)
    written = await asyncio.wait_for(sender._internal_write_audio_frame(OutputAudioRawFrame(CLIP, RATE, 1)), 2)
    assert written is False
    assert len(errors) == 1 and errors[0]["force_treat_as_permanent"] is True
    assert "stopped reading" in errors[0]["message"]


async def test_the_bot_counts_as_silent_when_no_audio_comes_within_the_fallback() -> None:
    params = _params()
    output = build_call_transport(_Socket(), params).output()
    sender = CallMediaSender(output, destination=None, sample_rate=RATE, audio_chunk_size=1280, params=params)
    sender._audio_queue = asyncio.Queue()
    stops: list[float] = []

    async def stopped() -> None:
        stops.append(asyncio.get_running_loop().time())

    sender._bot_stopped_speaking = stopped
    frames = sender._queued_frames(0.05)
    queued = OutputAudioRawFrame(CLIP, RATE, 1)
    asyncio.get_running_loop().call_later(0.18, sender._audio_queue.put_nowait, queued)
    first = await asyncio.wait_for(anext(frames), 2)
    assert first is queued
    assert 2 <= len(stops) <= 4  # one after each 50 ms without audio
    sender._audio_queue.put_nowait(queued)
    assert await asyncio.wait_for(anext(frames), 1) is queued  # a queued frame comes at once
    await frames.aclose()
