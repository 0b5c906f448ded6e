"""A twin of the OpenAI HTTP API on loopback: streaming chat completions and transcriptions.

It speaks the real wire protocol the official `openai` client (and so Pipecat's OpenAI services)
uses: ``POST /v1/chat/completions`` answered as Server-Sent Events (``chat.completion.chunk``
objects, tool calls streamed as ``delta.tool_calls`` with ``finish_reason="tool_calls"``, a usage
chunk when ``stream_options.include_usage``, then ``data: [DONE]``), and
``POST /v1/audio/transcriptions`` as multipart form data answered with ``{"text": ...}``. Every
request is recorded (path, headers, JSON or form fields) so tests assert what the client sent.
Latencies are configurable: time to the first token, and per transcription.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from tests.twins.loopback import LoopbackTwin


@dataclass
class ChatReply:
    """What the twin answers: text (streamed word by word) and/or tool calls (name, arguments)."""

    text: str = ""
    tool_calls: list[tuple[str, dict]] = field(default_factory=list)


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict
    at: float


def _last_user_text(body: dict) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def default_chat_reply(body: dict) -> ChatReply:
    """A plausible Spanish answer that names what it answers (tests can see the LLM spoke)."""
    return ChatReply(text="Buena pregunta. Lo vemos en detalle con un compañero. ¿Te parece bien el jueves?")


class OpenAITwin(LoopbackTwin):
    """Run with ``async with OpenAITwin() as twin:``; point clients at ``twin.base_url``."""

    #: Transcription uploads carry whole utterances of audio.
    client_max_size = 64 * 1024 * 1024

    def __init__(
        self,
        *,
        first_token_latency: float = 0.0,
        transcription_latency: float = 0.0,
        chat_reply: Callable[[dict], ChatReply] = default_chat_reply,
        transcript: Callable[[bytes], str] = lambda audio: "",
        token_interval: float = 0.01,
    ) -> None:
        super().__init__()
        self.first_token_latency = first_token_latency
        self.transcription_latency = transcription_latency
        self.chat_reply = chat_reply
        self.transcript = transcript
        self.token_interval = token_interval
        self.requests: list[RecordedRequest] = []
        #: When set, chat completions answer with this HTTP status (an OpenAI error body).
        self.chat_error_status: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def transcription_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/audio/transcriptions")]

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/audio/transcriptions", self._transcriptions)

    # --- chat completions -----------------------------------------------------------------------
    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": {"message": "invalid JSON body", "type": "invalid_request_error"}}, status=400)
        self.requests.append(RecordedRequest(request.path, dict(request.headers), body, time.monotonic()))
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.json_response({"error": {"message": "missing API key", "type": "invalid_request_error"}}, status=401)
        if self.chat_error_status:
            return web.json_response(
                {"error": {"message": "The server had an error while processing your request.", "type": "server_error"}},
                status=self.chat_error_status,
            )
        reply = self.chat_reply(body)
        model = body.get("model", "gpt-4o-mini")
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:20]}"
        created = int(time.time())

        def chunk(delta: dict, finish: str | None = None) -> bytes:
            data = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_twin",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()

        if not body.get("stream"):
            message: dict = {"role": "assistant", "content": reply.text or None}
            if reply.tool_calls:
                message["tool_calls"] = [
                    {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
                    for i, (n, a) in enumerate(reply.tool_calls)
                ]
            return web.json_response(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool_calls else "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                }
            )

        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        await asyncio.sleep(self.first_token_latency)
        await response.write(chunk({"role": "assistant", "content": ""}))
        words = reply.text.split(" ") if reply.text else []
        for i, word in enumerate(words):
            await response.write(chunk({"content": word if i == 0 else f" {word}"}))
            if self.token_interval:
                await asyncio.sleep(self.token_interval)
        for index, (name, args) in enumerate(reply.tool_calls):
            call_id = f"call_{uuid.uuid4().hex[:12]}"
            await response.write(
                chunk({"tool_calls": [{"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}]})
            )
            await response.write(chunk({"tool_calls": [{"index": index, "function": {"arguments": json.dumps(args, ensure_ascii=False)}}]}))
        await response.write(chunk({}, "tool_calls" if reply.tool_calls else "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": {"prompt_tokens": 50, "completion_tokens": max(1, len(words)), "total_tokens": 50 + len(words)},
            }
            await response.write(f"data: {json.dumps(usage)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    # --- transcriptions -------------------------------------------------------------------------
    async def _transcriptions(self, request: web.Request) -> web.Response:
        fields: dict = {}
        audio = b""
        try:
            reader = await request.multipart()
        except (AssertionError, ValueError, KeyError):
            return web.json_response({"error": {"message": "expected multipart/form-data"}}, status=400)
        async for part in reader:
            if part.name == "file":
                audio = await part.read()
                fields["file"] = {"filename": part.filename, "bytes": len(audio)}
            else:
                fields.setdefault(part.name, []).append(await part.text())
        self.requests.append(RecordedRequest(request.path, dict(request.headers), fields, time.monotonic()))
        if not audio:
            return web.json_response({"error": {"message": "file is required"}}, status=400)
        await asyncio.sleep(self.transcription_latency)
        return web.json_response({"text": self.transcript(audio)})
