"""A twin of ElevenLabs' multi-stream WebSocket TTS on loopback, as Pipecat 1.14 speaks it.

``/v1/text-to-speech/{voice_id}/multi-stream-input?model_id=...&output_format=pcm_8000&...`` with
the ``xi-api-key`` header. The client sends ``{"text": " ", "context_id", "voice_settings"}`` to
open a context, text chunks, ``{"context_id", "flush": true}``, ``{"context_id",
"close_context": true}``, keepalives, and ``{"close_socket": true}``. The twin answers each flushed
text after a configurable first-byte latency with ``{"audio": <b64 PCM>, "contextId",
"alignment": {"chars", "charStartTimesMs", "charDurationsMs"}}`` messages and, once a context is
closed, ``{"isFinal": true, "contextId"}``. The audio is a voiced synthetic tone (16-bit PCM at the
requested rate) whose length follows the text, so the bot's pacing and barge-in are realistic.
Everything received is recorded.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from dataclasses import dataclass, field

import numpy as np
from aiohttp import WSMsgType, web

from tests.twins.loopback import LoopbackTwin

MS_PER_CHAR = 55


def synth_speech(text: str, sample_rate: int) -> bytes:
    """A voiced, syllable-modulated tone as long as `text` would take to say."""
    n = max(1, int(sample_rate * MS_PER_CHAR * max(1, len(text.strip())) / 1000))
    t = np.arange(n) / sample_rate
    tone = np.sin(2 * math.pi * 180 * t) + 0.5 * np.sin(2 * math.pi * 360 * t)
    envelope = 0.55 + 0.45 * np.sin(2 * math.pi * 4 * t)
    return (tone * envelope * 6000).astype("<i2").tobytes()


@dataclass
class TTSConnection:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    messages: list[dict] = field(default_factory=list)


class ElevenLabsTwin(LoopbackTwin):
    """Run with ``async with ElevenLabsTwin() as twin:``; point the TTS at ``twin.ws_url``."""

    def __init__(self, *, first_byte_latency: float = 0.0, chunk_ms: int = 250) -> None:
        super().__init__()
        self.first_byte_latency = first_byte_latency
        self.chunk_ms = chunk_ms
        self.connections: list[TTSConnection] = []
        #: (monotonic time, context id, text) of each utterance's first audio message sent.
        self.first_audio: list[tuple[float, str, str]] = []

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.ssl_context else 'ws'}://127.0.0.1:{self.port}"

    def texts(self) -> list[str]:
        return [m["text"] for c in self.connections for m in c.messages if m.get("text", "").strip()]

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/text-to-speech/{voice_id}/multi-stream-input", self._handle)

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        if not request.headers.get("xi-api-key"):
            raise web.HTTPUnauthorized(text="missing xi-api-key")
        fmt = request.query.get("output_format", "pcm_8000")
        if not fmt.startswith("pcm_"):
            raise web.HTTPBadRequest(text=f"unsupported output_format {fmt}")
        sample_rate = int(fmt.split("_")[1])
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        conn = TTSConnection(request.path, dict(request.query), dict(request.headers))
        self.connections.append(conn)
        pending: dict[str, str] = {}
        work: asyncio.Queue = asyncio.Queue()
        worker = asyncio.create_task(self._work(ws, work, sample_rate))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                data["_at"] = time.monotonic()
                conn.messages.append(data)
                if data.get("close_socket"):
                    # ElevenLabs closes at once; nothing queued is sent after close_socket.
                    worker.cancel()
                    break
                ctx = data.get("context_id") or "default"
                if "text" in data:
                    pending[ctx] = pending.get(ctx, "") + data["text"]
                if data.get("flush") or data.get("close_context"):
                    text = pending.pop(ctx, "")
                    if text.strip():
                        await work.put(("speak", ctx, text))
                if data.get("close_context"):
                    await work.put(("final", ctx, ""))
        finally:
            await work.put(None)
            await asyncio.gather(worker, return_exceptions=True)
            await ws.close()
        return ws

    async def _work(self, ws: web.WebSocketResponse, work: asyncio.Queue, sample_rate: int) -> None:
        while (job := await work.get()) is not None:
            kind, ctx, text = job
            if ws.closed:
                continue
            if kind == "final":
                await ws.send_str(json.dumps({"isFinal": True, "contextId": ctx}))
                continue
            await asyncio.sleep(self.first_byte_latency)
            pcm = synth_speech(text, sample_rate)
            step = sample_rate * 2 * self.chunk_ms // 1000
            chars = list(text)
            per_char = MS_PER_CHAR
            for i, offset in enumerate(range(0, len(pcm), step)):
                message: dict = {"audio": base64.b64encode(pcm[offset : offset + step]).decode(), "contextId": ctx}
                if i == 0:
                    message["alignment"] = {
                        "chars": chars,
                        "charStartTimesMs": [k * per_char for k in range(len(chars))],
                        "charDurationsMs": [per_char] * len(chars),
                    }
                if ws.closed:
                    break
                if i == 0:
                    self.first_audio.append((time.monotonic(), ctx, text))
                await ws.send_str(json.dumps(message))
