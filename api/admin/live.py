"""Live: calls in progress and their growing transcripts, pushed with server-sent events.

The stream reads the database (the one source of truth, whichever server process runs the call)
about once a second, scoped to the signed-in tenant, and sends the rendered fragment only when it
changed. A stream ends after a few minutes; the browser's EventSource reconnects by itself, and
each reconnect re-checks the session.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.admin.calls import spoken_turns, transcript_turns
from api.admin.context import BASE_PATH, AdminDep, AdminRoute, parse_id, templates
from api.schemas.calls import TranscriptTurn
from api.services import calls as call_service
from bot.clock import Clock
from db.models import CallLegStatus, CallLog, Campaign, Prospect

router = APIRouter(route_class=AdminRoute)

#: A call not ended after this long is a leftover of a crashed process, not a live call.
LIVE_WINDOW = timedelta(hours=2)
#: Ended calls stay on the live page this long, so the person sees how they ended.
RECENTLY_ENDED = timedelta(minutes=3)
POLL_SECS = 1.0
KEEPALIVE_SECS = 15.0
MAX_STREAM_SECS = 300.0
MAX_LIVE_CALLS = 30


@dataclass(frozen=True)
class LiveCall:
    """A call as the live view shows it."""

    call: CallLog
    prospect_name: str | None
    campaign_name: str
    turns: list[TranscriptTurn]

    @property
    def ended(self) -> bool:
        return self.call.status == CallLegStatus.ended


def live_since(clock: Clock) -> datetime:
    """Calls created before this are never shown as live."""
    return clock.now() - LIVE_WINDOW


async def live_calls(
    db: AsyncSession, owner: uuid.UUID, clock: Clock, call_id: uuid.UUID | None = None
) -> list[LiveCall]:
    """The tenant's calls in progress plus the ones that just ended (or one call by id)."""
    now = clock.now()
    stmt = (
        select(CallLog, Prospect.full_name, Campaign.name)
        .join(Campaign, Campaign.id == CallLog.campaign_id)
        .outerjoin(Prospect, Prospect.id == CallLog.prospect_id)
        .where(CallLog.user_id == owner)
    )
    if call_id is not None:
        stmt = stmt.where(CallLog.id == call_id)
    else:
        stmt = stmt.where(
            or_(
                and_(CallLog.status != CallLegStatus.ended, CallLog.created_at >= now - LIVE_WINDOW),
                CallLog.ended_at >= now - RECENTLY_ENDED,
            )
        )
    rows = (await db.execute(stmt.order_by(CallLog.created_at.desc()).limit(MAX_LIVE_CALLS))).all()
    return [LiveCall(call, name, campaign, spoken_turns(transcript_turns(call))) for call, name, campaign in rows]


def render_live(calls: list[LiveCall], *, single: bool = False) -> str:
    """The HTML fragment of the live calls (the same markup for the first render and the stream)."""
    return templates.get_template("_live_calls.html").render(base=BASE_PATH, live=calls, single=single)


def _sse(event: str, payload: dict) -> str:
    data = json.dumps(payload, ensure_ascii=False)
    return f"event: {event}\ndata: {data}\n\n"


async def live_events(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: uuid.UUID,
    clock: Clock,
    *,
    call_id: uuid.UUID | None,
    is_disconnected,
    max_secs: float = MAX_STREAM_SECS,
) -> AsyncIterator[str]:
    """Server-sent events: `calls` with the fragment whenever it changes, comments as keep-alives."""
    yield "retry: 2000\n\n"
    started = last_sent = time.monotonic()
    last_digest = None
    while time.monotonic() - started < max_secs:
        if await is_disconnected():
            return
        async with sessionmaker() as db:
            calls = await live_calls(db, owner, clock, call_id)
        html = render_live(calls, single=call_id is not None)
        digest = hashlib.sha256(html.encode()).hexdigest()
        now = time.monotonic()
        if digest != last_digest:
            active = sum(1 for c in calls if not c.ended)
            yield _sse("calls", {"html": html, "active": active})
            last_digest, last_sent = digest, now
        elif now - last_sent >= KEEPALIVE_SECS:
            yield ": sigue\n\n"
            last_sent = now
        await asyncio.sleep(POLL_SECS)


@router.get("/live")
async def live_page(admin: AdminDep) -> HTMLResponse:
    """Calls in progress; the page updates itself over SSE."""
    calls = await live_calls(admin.db, admin.profile_id, admin.clock)
    return admin.render("live.html", tab="live", fragment=render_live(calls), stream_url=f"{BASE_PATH}/live/stream")


@router.get("/live/fragment")
async def live_fragment(admin: AdminDep, call: str | None = None) -> HTMLResponse:
    """The live calls' HTML (for clients without EventSource, and for tests)."""
    call_id = parse_id(call, "La llamada") if call else None
    if call_id is not None:
        await call_service.get_call(admin.db, admin.profile, call_id)
    calls = await live_calls(admin.db, admin.profile_id, admin.clock, call_id)
    return HTMLResponse(render_live(calls, single=call_id is not None), headers={"Cache-Control": "no-store"})


@router.get("/live/stream")
async def live_stream(admin: AdminDep, call: str | None = None) -> Response:
    """The SSE stream of the live calls (all of the tenant's, or one call of it)."""
    call_id = parse_id(call, "La llamada") if call else None
    if call_id is not None:
        await call_service.get_call(admin.db, admin.profile, call_id)
    # The request's session would hold a pooled connection for the whole stream; each poll opens
    # its own short session instead.
    await admin.db.close()
    events = live_events(
        admin.request.app.state.sessionmaker,
        admin.profile_id,
        admin.clock,
        call_id=call_id,
        is_disconnected=admin.request.is_disconnected,
    )
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
