"""The local carrier twin: the part of Telnyx Call Control the product uses, on loopback.

It answers the REST calls the official ``telnyx`` client sends (``POST /v2/calls``, ``POST
/v2/calls/{id}/actions/{hangup,transfer,playback_start,streaming_start,streaming_stop}``) with
Telnyx's response and error shapes, then plays the call like a carrier would: ``call.initiated``,
a ring time, ``call.answered`` (or a busy/timeout ``call.hangup``), premium machine detection,
``streaming.started`` and the media WebSocket to ``stream_url`` carrying a simulated prospect
(`bot.twin_media.SimulatedCallee` with recorded clips), ``call.bridged`` after a transfer, and
``call.hangup``. Every webhook is signed with the twin's own ed25519 key and retried on failure.

Tests and the demo can assign personas to numbers, inject failures (``fail_next(429)``) and read
every request the client sent (``requests``) and every webhook posted (``webhooks``).
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
import time
import uuid
import wave
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import httpx
import phonenumbers
import uvicorn
from loguru import logger
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.carrier_twin.personas import Persona, persona_for_number
from bot.carrier_twin.signing import sign_webhook, twin_signing_key
from bot.clock import Clock
from bot.settings import Settings
from bot.twin_media import SimulatedCallee

REQUIRED_DIAL_FIELDS = ("connection_id", "to", "from")


@dataclass
class RecordedRequest:
    """One request a client sent to the twin."""

    method: str
    path: str
    body: dict
    authorization: str | None
    status: int


@dataclass
class Fault:
    status: int
    remaining: int
    path_contains: str
    code: str
    title: str


@dataclass
class TwinCall:
    """One call the twin is carrying."""

    call_control_id: str
    call_session_id: str
    call_leg_id: str
    to: str
    from_: str
    client_state: str | None
    command_id: str | None
    webhook_url: str
    stream_url: str | None
    codec: str
    timeout_secs: int
    persona: Persona
    #: The dial's ``stream_auth_token``, sent back on the media WebSocket like Telnyx does.
    stream_auth_token: str | None = None
    state: str = "initiated"
    events: list[str] = field(default_factory=list)
    hangup_requested: asyncio.Event = field(default_factory=asyncio.Event)
    transfer_to: str | None = None
    transfer_requested: asyncio.Event = field(default_factory=asyncio.Event)
    playback_requested: asyncio.Event = field(default_factory=asyncio.Event)
    playback_url: str | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    callee_task: asyncio.Task | None = None
    recording: Any = None


def _error(status: int, code: str, title: str, detail: str, pointer: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "title": title, "detail": detail}
    if pointer:
        error["source"] = {"pointer": pointer}
    return JSONResponse({"errors": [error]}, status_code=status)


class CarrierTwin:
    """Runs the twin's HTTP server and its calls. ``await twin.start()`` / ``await twin.stop()``."""

    def __init__(self, settings: Settings, clock: Clock | None = None, *, play_calls: bool = True) -> None:
        self.settings = settings
        #: False: only answer the REST calls (load tests); the calls never ring.
        self.play_calls = play_calls
        #: Event times (``occurred_at``) come from the product's clock, so a demo's set day holds.
        self.clock = clock or Clock()
        self.signing_key = twin_signing_key(settings)
        self.personas: dict[str, str] = {}
        self.calls: dict[str, TwinCall] = {}
        self.calls_by_command: dict[str, str] = {}
        self.requests: list[RecordedRequest] = []
        self.webhooks: list[dict] = []
        self.faults: list[Fault] = []
        self._server: uvicorn.Server | None = None
        self._serve_task: asyncio.Task | None = None
        self._http: httpx.AsyncClient | None = None
        self.app = Starlette(
            routes=[
                Route("/v2/calls", self._dial, methods=["POST"]),
                Route("/v2/calls/{call_control_id}/actions/{action}", self._action, methods=["POST"]),
                Route("/v2/calls/{call_control_id}", self._status, methods=["GET"]),
            ]
        )

    # --- control (tests, demo) ------------------------------------------------------------------
    def assign(self, number: str, persona: str) -> None:
        """Make ``number`` play ``persona`` (see `bot.carrier_twin.personas.PERSONAS`)."""
        self.personas[number] = persona

    def fail_next(self, status: int, count: int = 1, *, path_contains: str = "/v2/calls", code: str | None = None) -> None:
        """Answer the next ``count`` matching requests with ``status`` and a Telnyx error body."""
        titles = {401: ("10009", "Authentication failed"), 429: ("10011", "Too many requests"),
                  422: ("10016", "Phone number must be in +E.164 format"), 500: ("10007", "Unexpected error"),
                  503: ("10008", "Service unavailable")}
        default_code, title = titles.get(status, ("10015", "Bad Request"))
        self.faults.append(Fault(status, count, path_contains, code or default_code, title))

    @property
    def base_url(self) -> str:
        return self.settings.carrier_twin_base_url

    def dials(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v2/calls"]

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until every call the twin carries has ended (True) or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(call.ended.is_set() for call in self.calls.values()):
                return True
            await asyncio.sleep(0.05)
        return False

    # --- life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on ``carrier_twin_host:carrier_twin_port`` (port 0: a free one, written back to settings)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.settings.carrier_twin_host, self.settings.carrier_twin_port))
        self.settings.carrier_twin_port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._http = httpx.AsyncClient(timeout=10.0)
        self._serve_task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._serve_task.done():
                self._serve_task.result()
            await asyncio.sleep(0.01)
        logger.info("carrier twin listening on {}", self.base_url)

    async def stop(self) -> None:
        for call in list(self.calls.values()):
            if call.task and not call.task.done():
                call.task.cancel()
        tasks = [c.task for c in self.calls.values() if c.task]
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            self._server.should_exit = True
            if self._serve_task is not None:
                await asyncio.gather(self._serve_task, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    # --- REST -----------------------------------------------------------------------------------
    async def _read(self, request: Request) -> tuple[dict, JSONResponse | None]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return {}, _error(400, "10015", "Bad Request", "The request body must be a JSON object.")
        if not (request.headers.get("authorization") or "").startswith("Bearer "):
            return body, _error(401, "10009", "Authentication failed", "Missing bearer API key.")
        for fault in self.faults:
            if fault.remaining > 0 and fault.path_contains in request.url.path:
                fault.remaining -= 1
                return body, _error(fault.status, fault.code, fault.title, f"Injected by the carrier twin ({fault.status}).")
        return body, None

    def _record(self, request: Request, body: dict, status: int) -> None:
        self.requests.append(
            RecordedRequest(request.method, request.url.path, body, request.headers.get("authorization"), status)
        )

    async def _dial(self, request: Request) -> JSONResponse:
        body, refusal = await self._read(request)
        response = refusal or self._dial_response(body)
        self._record(request, body, response.status_code)
        return response

    def _dial_response(self, body: dict) -> JSONResponse:
        for name in REQUIRED_DIAL_FIELDS:
            if not body.get(name):
                return _error(422, "10004", "Missing required parameter", f"The '{name}' parameter is required.", f"/{name}")
        for name in ("to", "from"):
            try:
                valid = phonenumbers.is_valid_number(phonenumbers.parse(str(body[name]), None))
            except phonenumbers.NumberParseException:
                valid = False
            if not valid:
                return _error(422, "10016", "Phone number must be in +E.164 format", f"'{name}' is not a valid number.", f"/{name}")
        command_id = body.get("command_id")
        if command_id and command_id in self.calls_by_command:
            # Telnyx ignores a repeated dial with the same command_id: same call, no second ring.
            return JSONResponse({"data": self._call_data(self.calls[self.calls_by_command[command_id]])})
        call = TwinCall(
            call_control_id=f"v3:twin-{uuid.uuid4().hex}",
            call_session_id=str(uuid.uuid4()),
            call_leg_id=str(uuid.uuid4()),
            to=str(body["to"]),
            from_=str(body["from"]),
            client_state=body.get("client_state"),
            command_id=command_id,
            webhook_url=body.get("webhook_url") or self.settings.webhook_url,
            stream_url=body.get("stream_url"),
            codec=body.get("stream_bidirectional_codec") or "PCMU",
            timeout_secs=int(body.get("timeout_secs") or 30),
            persona=persona_for_number(str(body["to"]), self.personas),
            stream_auth_token=body.get("stream_auth_token"),
        )
        self.calls[call.call_control_id] = call
        if command_id:
            self.calls_by_command[command_id] = call.call_control_id
        if self.play_calls:
            call.task = asyncio.create_task(self._run_call(call))
        return JSONResponse({"data": self._call_data(call)})

    @staticmethod
    def _call_data(call: TwinCall) -> dict:
        return {
            "record_type": "call",
            "call_control_id": call.call_control_id,
            "call_leg_id": call.call_leg_id,
            "call_session_id": call.call_session_id,
            "is_alive": False,
            "client_state": call.client_state,
            "call_duration": None,
            "start_time": None,
            "end_time": None,
            "recording_id": None,
        }

    async def _status(self, request: Request) -> JSONResponse:
        call = self.calls.get(request.path_params["call_control_id"])
        if call is None:
            return _error(404, "10005", "Resource not found", "No such call.")
        return JSONResponse({"data": {**self._call_data(call), "is_alive": not call.ended.is_set()}})

    async def _action(self, request: Request) -> JSONResponse:
        body, refusal = await self._read(request)
        response = refusal or self._action_response(request.path_params["call_control_id"], request.path_params["action"], body)
        self._record(request, body, response.status_code)
        return response

    def _action_response(self, call_control_id: str, action: str, body: dict) -> JSONResponse:
        call = self.calls.get(call_control_id)
        if call is None:
            return _error(404, "10005", "Resource not found", "No such call.")
        if call.ended.is_set() or call.state == "hangup":
            return _error(422, "90018", "Call has already ended", "This call is no longer active.")
        if action == "hangup":
            call.hangup_requested.set()
        elif action == "transfer":
            if not body.get("to"):
                return _error(422, "10004", "Missing required parameter", "The 'to' parameter is required.", "/to")
            call.transfer_to = str(body["to"])
            call.transfer_requested.set()
        elif action == "playback_start":
            if not (body.get("audio_url") or body.get("media_name") or body.get("playback_content")):
                return _error(422, "10004", "Missing required parameter", "audio_url or media_name is required.", "/audio_url")
            call.playback_url = body.get("audio_url")
            call.playback_requested.set()
        elif action in ("streaming_start", "streaming_stop", "playback_stop", "client_state_update"):
            pass
        else:
            return _error(422, "10015", "Bad Request", f"The carrier twin does not implement '{action}'.")
        return JSONResponse({"data": {"result": "ok"}})

    # --- webhooks -------------------------------------------------------------------------------
    async def _post(self, call: TwinCall, event_type: str, **extra: Any) -> None:
        """Post one signed webhook (retried like Telnyx: a few attempts on failure)."""
        payload = {
            "call_control_id": call.call_control_id,
            "call_leg_id": call.call_leg_id,
            "call_session_id": call.call_session_id,
            "client_state": call.client_state,
            "connection_id": "carrier-twin",
            "from": call.from_,
            "to": call.to,
            **extra,
        }
        event = {
            "data": {
                "record_type": "event",
                "event_type": event_type,
                "id": str(uuid.uuid4()),
                "occurred_at": self.clock.now().astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "payload": payload,
            },
            "meta": {"attempt": 1, "delivered_to": call.webhook_url},
        }
        call.events.append(event_type)
        self.webhooks.append(event)
        assert self._http is not None
        for attempt in range(1, 4):
            event["meta"]["attempt"] = attempt
            body = json.dumps(event).encode()
            try:
                response = await self._http.post(
                    call.webhook_url,
                    content=body,
                    headers={"content-type": "application/json", **sign_webhook(self.signing_key, body)},
                )
                if response.status_code == 200:
                    return
                logger.warning("carrier twin: webhook {} answered {}", event_type, response.status_code)
            except httpx.HTTPError as exc:
                logger.warning("carrier twin: webhook {} failed ({})", event_type, type(exc).__name__)
            await asyncio.sleep(self._scaled(0.5 * attempt))

    # --- a call's life --------------------------------------------------------------------------
    def _scaled(self, secs: float) -> float:
        return secs / max(self.settings.carrier_twin_time_scale, 0.001)

    async def _wait(self, call: TwinCall, secs: float) -> bool:
        """Sleep, but return True early when our side hangs up."""
        try:
            await asyncio.wait_for(call.hangup_requested.wait(), secs)
            return True
        except TimeoutError:
            return False

    async def _run_call(self, call: TwinCall) -> None:
        persona = call.persona
        try:
            await asyncio.sleep(0.05)  # the dial response goes out before the first event, as on Telnyx
            await self._post(call, "call.initiated", direction="outgoing", state="bridging")
            ring = min(self._scaled(persona.ring_secs), self._scaled(call.timeout_secs))
            if persona.pickup == "no_answer" or persona.ring_secs >= call.timeout_secs:
                hung = await self._wait(call, self._scaled(call.timeout_secs))
                await self._hangup(call, "originator_cancel" if hung else "timeout", "caller" if hung else "unknown", "487")
                return
            if await self._wait(call, ring):
                await self._hangup(call, "originator_cancel", "caller", "487")
                return
            if persona.pickup == "busy":
                await self._hangup(call, "user_busy", "callee", "486")
                return
            call.state = "answered"
            await self._post(call, "call.answered", state="answered")
            await self._converse(call)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a broken simulated call must not take the twin down
            logger.exception("carrier twin: call failed")
            if call.state != "hangup":
                await self._hangup(call, "unspecified", "unknown", "500")
        finally:
            call.ended.set()

    async def _converse(self, call: TwinCall) -> None:
        persona = call.persona
        callee = None
        if call.stream_url:
            callee = SimulatedCallee(
                call.stream_url,
                call_control_id=call.call_control_id,
                client_state=call.client_state,
                encoding=call.codec if call.codec in ("PCMU", "PCMA") else "PCMU",
                turns=persona.turns(self.settings.carrier_twin_time_scale),
                from_number=call.from_,
                to_number=call.to,
                hang_up_after_secs=persona.hang_up_after_secs,
                max_call_secs=float(min(call.timeout_secs * 40, 600)),
                auth_token=call.stream_auth_token,
            )
            call.callee_task = asyncio.create_task(callee.run())
            await self._post(call, "streaming.started", stream_url=call.stream_url)
        detection = "machine" if persona.machine else "human_residence"
        if await self._wait(call, self._scaled(1.5)):
            await self._end_stream(call, "caller")
            return
        await self._post(call, "call.machine.premium.detection.ended", result=detection)
        if persona.machine:
            await self._voicemail(call)
            return
        waiters = {
            "hangup": asyncio.create_task(call.hangup_requested.wait()),
            "transfer": asyncio.create_task(call.transfer_requested.wait()),
        }
        if call.callee_task is not None:
            waiters["callee"] = call.callee_task
        done, _ = await asyncio.wait(set(waiters.values()), return_when=asyncio.FIRST_COMPLETED)
        for name, task in waiters.items():
            if name != "callee" and task not in done:
                task.cancel()
        if waiters["transfer"] in done and not call.hangup_requested.is_set():
            await self._transfer(call)
        elif waiters["hangup"] in done:
            await self._end_stream(call, "caller")
        else:
            # The prospect is done (or the bot closed the stream and went quiet): they hang up.
            recording = None
            if call.callee_task is not None and not call.callee_task.cancelled():
                if call.callee_task.exception() is not None:
                    reason = type(call.callee_task.exception()).__name__
                    await self._post(call, "streaming.failed", failure_reason=f"media WebSocket failed ({reason})",
                                     stream_type="websocket", stream_params={"stream_url": call.stream_url})
                    call.callee_task = None
                    await self._hangup(call, "normal_clearing", "caller", "16")
                    return
                recording = call.callee_task.result()
            call.recording = recording
            if recording is not None and recording.closed_by == "bot" and not call.hangup_requested.is_set():
                await self._wait(call, self._scaled(2.0))
            await self._end_stream(call, "caller" if call.hangup_requested.is_set() else "callee")

    async def _voicemail(self, call: TwinCall) -> None:
        """A machine: the greeting plays, then a beep; our side drops a message (or not) and hangs up."""
        greeting = sum(len(turn.audio()) / 16000 for turn in call.persona.turns())  # 8 kHz 16-bit
        if await self._wait(call, max(0.0, greeting - 1.5)):
            await self._end_stream(call, "caller")
            return
        await self._post(call, "call.machine.premium.greeting.ended", result="beep_detected")
        try:
            await asyncio.wait_for(call.playback_requested.wait(), 15.0)
        except TimeoutError:
            pass
        if call.playback_requested.is_set() and not call.hangup_requested.is_set():
            await self._post(call, "call.playback.started", media_url=call.playback_url)
            await self._wait(call, await self._audio_secs(call.playback_url))
            await self._post(call, "call.playback.ended", media_url=call.playback_url, status="completed")
        # The machine records until our side hangs up (or its own limit).
        await self._wait(call, 30.0)
        await self._end_stream(call, "caller" if call.hangup_requested.is_set() else "callee")

    async def _audio_secs(self, url: str | None) -> float:
        """Fetch the played file like Telnyx does and return its length (WAV), or a guess."""
        if not url or self._http is None:
            return 2.0
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            with wave.open(io.BytesIO(response.content)) as wav:
                return wav.getnframes() / wav.getframerate()
        except (httpx.HTTPError, wave.Error, EOFError):
            logger.warning("carrier twin: could not fetch the playback audio")
            return 2.0

    async def _transfer(self, call: TwinCall) -> None:
        """The seller's phone rings, picks up and the legs are bridged; the bot's stream ends."""
        if await self._wait(call, self._scaled(2.0)):
            await self._end_stream(call, "caller")
            return
        await self._stop_callee(call)
        await self._post(call, "call.bridged", state="bridged", to=call.transfer_to)
        await self._post(call, "streaming.stopped", stream_url=call.stream_url)
        await self._wait(call, self._scaled(call.persona.seller_talk_secs))
        await self._hangup(call, "normal_clearing", "callee", "16")

    async def _stop_callee(self, call: TwinCall) -> None:
        if call.callee_task is not None and not call.callee_task.done():
            call.callee_task.cancel()
        if call.callee_task is not None:
            results = await asyncio.gather(call.callee_task, return_exceptions=True)
            if results and not isinstance(results[0], BaseException):
                call.recording = results[0]

    async def _end_stream(self, call: TwinCall, source: str) -> None:
        if call.callee_task is not None:
            await self._stop_callee(call)
            await self._post(call, "streaming.stopped", stream_url=call.stream_url)
        await self._hangup(call, "normal_clearing", source, "16")

    async def _hangup(self, call: TwinCall, cause: str, source: str, sip: str) -> None:
        call.state = "hangup"
        await self._post(call, "call.hangup", state="hangup", hangup_cause=cause, hangup_source=source, sip_hangup_cause=sip)
