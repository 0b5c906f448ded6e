"""A minimal Telnyx Call Control REST twin for the pipeline tests: it records actions on any call.

The carrier twin (`bot.carrier_twin`) only accepts actions on calls it dialed itself; the
pipeline tests connect a `SimulatedCallee` straight to the media WebSocket, so they need a REST
endpoint that accepts ``POST /v2/calls/{id}/actions/{action}`` for any id, answers like Telnyx
(``{"data": {"result": "ok"}}``; 422 without ``to`` on a transfer), can be told to fail, and
records what the official client sent.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from aiohttp import web

from tests.twins.loopback import LoopbackTwin


@dataclass
class TelnyxAction:
    call_control_id: str
    action: str
    body: dict
    authorization: str
    at: float


class TelnyxRestTwin(LoopbackTwin):
    """``async with TelnyxRestTwin() as twin``; `actions` lists what was asked."""

    def __init__(self) -> None:
        super().__init__()
        self.actions: list[TelnyxAction] = []
        self.fail_actions: dict[str, int] = {}

    def of(self, action: str) -> list[TelnyxAction]:
        return [a for a in self.actions if a.action == action]

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v2/calls/{call_control_id}/actions/{action}", self._action)

    async def _action(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = {}
        action = request.match_info["action"]
        self.actions.append(
            TelnyxAction(
                request.match_info["call_control_id"], action, body if isinstance(body, dict) else {},
                request.headers.get("Authorization", ""), time.monotonic(),
            )
        )
        status = self.fail_actions.get(action)
        if status:
            return web.json_response({"errors": [{"code": "10007", "title": "Unexpected error", "detail": "Injected."}]}, status=status)
        if action == "transfer" and not (isinstance(body, dict) and body.get("to")):
            return web.json_response(
                {"errors": [{"code": "10004", "title": "Missing required parameter", "source": {"pointer": "/to"}}]}, status=422
            )
        return web.json_response({"data": {"result": "ok"}})
