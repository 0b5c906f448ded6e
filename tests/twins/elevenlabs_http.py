"""A local twin of ElevenLabs' REST text-to-speech API, for tests of bot/voice.py.

A real HTTP server on 127.0.0.1 (a free port, in a thread) that speaks the wire protocol the
official `elevenlabs` client uses:

* ``POST /v1/text-to-speech/{voice_id}`` and ``.../{voice_id}/stream`` with the query
  ``output_format`` (default ``mp3_44100_128``), header ``xi-api-key`` and a JSON body
  ``{"text", "model_id", "voice_settings", "language_code", ...}``;
* answers with binary audio (for ``pcm_<rate>``: a real 16-bit tone framed by silence, so trimming
  can be checked; for other formats: recognisable filler bytes);
* errors in ElevenLabs' shape ``{"detail": {"status": ..., "message": ...}}``: 401 without the key,
  422 without text, and whatever a test scripts with `respond`.

Every request is recorded (`requests`) so tests assert what the client really sent.
"""

from __future__ import annotations

import json
import math
import struct
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOO_MANY_CONCURRENT = {
    "detail": {
        "status": "too_many_concurrent_requests",
        "message": "You have too many concurrent requests. Your plan allows 2 concurrent requests.",
    }
}
SYSTEM_BUSY = {
    "detail": {"status": "system_busy", "message": "The system is experiencing heavy traffic, please try again later."}
}
INVALID_KEY = {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}


@dataclass
class RecordedRequest:
    """One request as the twin received it."""

    method: str
    path: str
    voice_id: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def api_key(self) -> str | None:
        return self.headers.get("xi-api-key")

    @property
    def output_format(self) -> str:
        return self.query.get("output_format", "mp3_44100_128")


@dataclass
class ScriptedResponse:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    #: Announce more bytes than are sent, then drop the connection (a download cut midway).
    truncated: bool = False


def tone_pcm(sample_rate: int, text: str, *, silence_ms: int = 150) -> bytes:
    """16-bit mono PCM: silence, a 440 Hz tone (60 ms per character, at most 3 s), silence."""
    tone_samples = int(sample_rate * min(3.0, 0.06 * max(1, len(text))))
    pad = [0] * (sample_rate * silence_ms // 1000)
    tone = [int(8000 * math.sin(2 * math.pi * 440 * n / sample_rate)) for n in range(tone_samples)]
    samples = pad + tone + pad
    return struct.pack(f"<{len(samples)}h", *samples)


class ElevenLabsTwin:
    """The twin server. Use as a context manager; `base_url` goes to `Settings(elevenlabs_base_url=...)`."""

    def __init__(self, *, api_key: str | None = None) -> None:
        #: When set, any other key gets 401 (as a wrong key does at ElevenLabs).
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self._scripted: deque[ScriptedResponse] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -----------------------------------------------------------------------------

    def respond(
        self,
        status: int,
        body: dict | bytes | None = None,
        *,
        headers: dict[str, str] | None = None,
        truncated: bool = False,
    ) -> None:
        """Queue the answer to the next request (then the next queued one, then normal service)."""
        if isinstance(body, dict):
            payload, content_type = json.dumps(body).encode(), "application/json"
        else:
            payload, content_type = body or b"", "audio/mpeg"
        with self._lock:
            self._scripted.append(ScriptedResponse(status, payload, content_type, headers or {}, truncated))

    @property
    def tts_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith("/v1/text-to-speech/")]

    # -- lifecycle ----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "twin not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "ElevenLabsTwin":
        twin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                return

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                twin._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="elevenlabs-twin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "ElevenLabsTwin":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_raw": raw.decode(errors="replace")}
        parts = url.path.strip("/").split("/")
        voice_id = parts[2] if len(parts) >= 3 and parts[:2] == ["v1", "text-to-speech"] else ""
        record = RecordedRequest(
            method="POST",
            path=url.path,
            voice_id=voice_id,
            query={k: v[-1] for k, v in parse_qs(url.query).items()},
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body if isinstance(body, dict) else {"_raw": body},
        )
        with self._lock:
            self.requests.append(record)
            scripted = self._scripted.popleft() if self._scripted else None
        if scripted is not None:
            if scripted.truncated:
                handler.close_connection = True
                return self._send(
                    handler, scripted.status, scripted.body, scripted.content_type, scripted.headers,
                    announced=len(scripted.body) + 4096,
                )
            return self._send(handler, scripted.status, scripted.body, scripted.content_type, scripted.headers)
        if not voice_id or len(parts) > 4 or (len(parts) == 4 and parts[3] != "stream"):
            return self._send_json(handler, 404, {"detail": {"status": "not_found", "message": "Not found"}})
        key = record.api_key
        if not key or (self.api_key is not None and key != self.api_key):
            return self._send_json(handler, 401, INVALID_KEY)
        text = record.body.get("text")
        if not isinstance(text, str) or not text.strip():
            return self._send_json(
                handler, 422, {"detail": [{"loc": ["body", "text"], "msg": "Field required", "type": "missing"}]}
            )
        fmt = record.output_format
        if fmt.startswith("pcm_"):
            audio = tone_pcm(int(fmt.split("_")[1]), text)
            content_type = "audio/pcm"
        elif fmt.startswith(("ulaw_", "alaw_")):
            audio = bytes([0xFF]) * 800 + bytes([0x7F, 0x00]) * 800
            content_type = "audio/basic"
        else:
            audio = b"ID3" + b"\x00" * 7 + (b"\xff\xfb\x90\x64" + bytes(413)) * 10
            content_type = "audio/mpeg"
        self._send(handler, 200, audio, content_type, {})

    @staticmethod
    def _send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        ElevenLabsTwin._send(handler, status, json.dumps(payload).encode(), "application/json", {})

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str],
        *,
        announced: int | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body) if announced is None else announced))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
