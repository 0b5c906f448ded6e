"""The call transport with the VAD and gate in its receive loop pushes what the processors did.

Both variants get the same Telnyx media messages over a real loopback WebSocket (a prospect clip
between silences): stock ``FastAPIWebsocketTransport -> VADProcessor -> SpeechWindowGate`` and
``SpeechGatedWebsocketTransport``. The frames that come out (audio, VAD events) must be the same,
in the same order, except that the gated transport merges the passed packets into frames of up to
0.1 s: the same audio bytes between the same events.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest
import websockets
from fastapi import FastAPI, WebSocket
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    SpeechControlParamsFrame,
    StartFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport

from bot.twin_media import read_wav_8k_pcm
from pipelines.call_pipeline import (
    build_call_pipeline,
    build_call_transport,
    build_speech_gate,
    build_vad_processor,
)
from processors.gated_input import SpeechGatedWebsocketInput
from processors.media_serializer import CallMediaSerializer, encode_g711
from tests.processors.helpers import phone_worker, run_until_disconnected
from tests.twins.loopback import serve_app, stop_app

CLIP = Path(__file__).resolve().parents[2] / "assets" / "prospects" / "interested" / "01.wav"
PACKET = 320  # 20 ms of 8 kHz 16-bit PCM


class Recorder(FrameProcessor):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.frames: list[Frame] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction == FrameDirection.DOWNSTREAM:
            self.frames.append(frame)
        await self.push_frame(frame, direction)


def _params() -> FastAPIWebsocketParams:
    serializer = CallMediaSerializer(
        stream_id="s1", outbound_encoding="PCMU", inbound_encoding="PCMU",
        params=CallMediaSerializer.InputParams(auto_hang_up=False),
    )
    return FastAPIWebsocketParams(audio_in_enabled=True, audio_out_enabled=False, serializer=serializer)


def _app(variant: str, recorded: list[list[Frame]]) -> FastAPI:
    app = FastAPI()

    @app.websocket("/media")
    async def media(websocket: WebSocket) -> None:
        await websocket.accept()
        recorder = Recorder()
        if variant == "gated":
            transport = build_call_transport(websocket, _params(), sample_rate=8000)
            processors = [transport.input(), recorder]
        else:
            transport = FastAPIWebsocketTransport(websocket=websocket, params=_params())
            processors = [transport.input(), build_vad_processor(sample_rate=8000), build_speech_gate(), recorder]
        await run_until_disconnected(transport, phone_worker(processors))
        recorded.append(recorder.frames)

    return app


def _messages() -> list[str]:
    quiet = b"\0" * 24000  # 1.5 s
    pcm = quiet + read_wav_8k_pcm(CLIP) + quiet + read_wav_8k_pcm(CLIP) + quiet * 2
    out = []
    for n, i in enumerate(range(0, len(pcm) - PACKET + 1, PACKET)):
        payload = base64.b64encode(encode_g711(pcm[i : i + PACKET], "PCMU")).decode()
        out.append(json.dumps({"event": "media", "stream_id": "s1", "media": {"chunk": str(n), "payload": payload}}))
        if n == 10:
            out.append("{not json")  # a broken message is skipped, the stream goes on
    return out


async def _run(variant: str) -> list[Frame]:
    recorded: list[list[Frame]] = []
    server, task, port = await serve_app(_app(variant, recorded))
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/media") as ws:
            for i, message in enumerate(_messages()):
                await ws.send(message)
                if i % 25 == 0:
                    await asyncio.sleep(0.02)  # let the server keep up, as a paced carrier would
            await asyncio.sleep(0.5)
        for _ in range(200):
            if recorded:
                break
            await asyncio.sleep(0.02)
    finally:
        await stop_app(server, task)
    assert recorded, "the pipeline did not finish"
    return recorded[0]


def _shape(frames: list[Frame]) -> list[tuple]:
    """Events in order, with the audio between two events joined into one entry."""
    out: list[tuple] = []
    for frame in frames:
        if isinstance(frame, InputAudioRawFrame):
            if out and out[-1][0] == "audio":
                out[-1] = ("audio", out[-1][1] + bytes(frame.audio))
            else:
                out.append(("audio", bytes(frame.audio)))
        elif isinstance(frame, (VADUserStartedSpeakingFrame, VADUserStoppedSpeakingFrame, StartFrame,
                                SpeechControlParamsFrame)):
            out.append((type(frame).__name__,))
    return out


async def test_gated_transport_pushes_the_same_frames_as_vad_and_gate_processors() -> None:
    stock_frames, gated_frames = await _run("stock"), await _run("gated")
    stock, gated = _shape(stock_frames), _shape(gated_frames)
    names = [s[0] for s in gated]
    starts = names.count("VADUserStartedSpeakingFrame")
    assert starts >= 2 and names.count("VADUserStoppedSpeakingFrame") == starts
    assert names[0] == "StartFrame" and names[1] == "SpeechControlParamsFrame"
    # Quiet audio was held: less audio came out than went in, and the pre-roll was released.
    audio_in = (len(_messages()) - 1) * PACKET
    audio_out = sum(len(s[1]) for s in gated if s[0] == "audio")
    assert 0 < audio_out < audio_in
    assert gated == stock
    # One frame per packet from the processors. From the gated transport: the pre-roll (released
    # at once just before each VAD start) as one frame, the rest at most 0.1 s (5 packets) a frame.
    stock_sizes = [len(f.audio) for f in stock_frames if isinstance(f, InputAudioRawFrame)]
    assert set(stock_sizes) == {PACKET}
    gated_sizes, prerolls = [], []
    for i, frame in enumerate(gated_frames):
        if isinstance(frame, InputAudioRawFrame):
            before_start = i + 1 < len(gated_frames) and isinstance(gated_frames[i + 1], VADUserStartedSpeakingFrame)
            (prerolls if before_start else gated_sizes).append(len(frame.audio))
    # (A start inside the previous tail has no pre-roll: what goes before it is the last batch.)
    assert len(prerolls) == starts and max(prerolls) == 50 * PACKET  # 1 s of pre-roll in one frame
    assert max(gated_sizes) == 5 * PACKET
    assert len(gated_sizes) + len(prerolls) < len(stock_sizes) / 4


def test_the_builder_adds_no_vad_or_gate_behind_a_transport_that_detects_speech() -> None:
    class _Socket:  # the transport only keeps the socket until it runs
        headers: dict = {}

    transport = build_call_transport(_Socket(), _params())
    parts = dict(
        stt=FrameProcessor(), llm=FrameProcessor(), tts=FrameProcessor(), intent_router=FrameProcessor(),
        filler_injector=FrameProcessor(), transfer_processor=FrameProcessor(), user_aggregator=FrameProcessor(),
        assistant_aggregator=FrameProcessor(),
    )
    pipeline = build_call_pipeline(transport=transport, **parts)
    names = [type(p).__name__ for p in pipeline.processors]
    assert isinstance(transport.input(), SpeechGatedWebsocketInput)
    assert "VADProcessor" not in names and "SpeechWindowGate" not in names
    with pytest.raises(ValueError, match="own VAD"):
        build_call_pipeline(transport=transport, vad=build_vad_processor(), **parts)


async def test_the_call_output_does_not_broadcast_the_periodic_bot_speaking_frame() -> None:
    from pipecat.frames.frames import BotSpeakingFrame, BotStartedSpeakingFrame

    class _Socket:
        headers: dict = {}

    output = build_call_transport(_Socket(), _params()).output()
    pushed: list[tuple[str, FrameDirection]] = []

    async def record(frame, direction=FrameDirection.DOWNSTREAM):
        pushed.append((type(frame).__name__, direction))

    output.push_frame = record
    await output.broadcast_frame(BotSpeakingFrame)
    await output.broadcast_frame(BotStartedSpeakingFrame)
    assert pushed == [
        ("BotStartedSpeakingFrame", FrameDirection.DOWNSTREAM),
        ("BotStartedSpeakingFrame", FrameDirection.UPSTREAM),
    ]


async def test_the_call_output_keeps_written_audio_to_itself() -> None:
    from pipecat.frames.frames import TTSAudioRawFrame, TTSStoppedFrame
    from pipecat.processors.frame_processor import FrameProcessor as Base

    class _Socket:
        headers: dict = {}

    output = build_call_transport(_Socket(), _params()).output()
    pushed: list[str] = []

    async def record(self, frame, direction=FrameDirection.DOWNSTREAM):
        pushed.append(f"{type(frame).__name__} {direction.name}")

    original = Base.push_frame
    Base.push_frame = record  # the base class's push: what actually leaves the output transport
    try:
        await output.push_frame(TTSAudioRawFrame(b"\0" * 320, 8000, 1))
        await output.push_frame(TTSAudioRawFrame(b"\0" * 320, 8000, 1), FrameDirection.UPSTREAM)
        await output.push_frame(TTSStoppedFrame())
    finally:
        Base.push_frame = original
    assert pushed == ["TTSAudioRawFrame UPSTREAM", "TTSStoppedFrame DOWNSTREAM"]


async def test_the_audio_stop_drops_the_prospects_audio_and_speech_ticks_downstream_only() -> None:
    from pipecat.frames.frames import TranscriptionFrame, UserSpeakingFrame
    from pipecat.tests.utils import run_test

    from pipelines.call_pipeline import build_input_audio_stop

    audio = InputAudioRawFrame(b"\0" * PACKET, 8000, 1)
    await run_test(
        build_input_audio_stop(),
        frames_to_send=[audio, UserSpeakingFrame(), VADUserStoppedSpeakingFrame(), TranscriptionFrame("hola", "u", "t")],
        expected_down_frames=[VADUserStoppedSpeakingFrame, TranscriptionFrame],
    )
    await run_test(
        build_input_audio_stop(),
        frames_to_send=[UserSpeakingFrame()],
        frames_to_send_direction=FrameDirection.UPSTREAM,
        expected_up_frames=[UserSpeakingFrame],
    )
