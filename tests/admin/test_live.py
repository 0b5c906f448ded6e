"""The live view's server-sent events: scoped to the tenant, and a new event when a transcript grows."""

from __future__ import annotations

import json


from api.admin.live import live_events
from bot.clock import Clock
from db.models import CallLegStatus, CallLog


def _payload(event: str) -> dict:
    lines = dict(line.split(": ", 1) for line in event.strip().splitlines())
    assert lines["event"] == "calls"
    return json.loads(lines["data"])


async def _never() -> bool:
    return False


async def test_stream_follows_the_tenants_calls_as_they_grow(sessionmaker, make_tenant, seed_tenant) -> None:
    mine = await make_tenant()
    other = await make_tenant()
    ours = await seed_tenant(mine.profile_id, "vivo")
    theirs = await seed_tenant(other.profile_id, "otro")
    events = live_events(sessionmaker, mine.profile_id, Clock(), call_id=None, is_disconnected=_never, max_secs=20)
    assert (await anext(events)).startswith("retry:")

    first = _payload(await anext(events))
    assert ours.names["live_turn"] in first["html"] and first["active"] == 1
    assert theirs.names["live_turn"] not in first["html"]

    # The bot writes a new turn: the next event carries it (nothing is sent while nothing changes).
    async with sessionmaker() as session:
        call = await session.get(CallLog, ours.live_call_id)
        call.transcript = [*call.transcript, {"speaker": "prospect", "text": "Sí, dime, ¿cuánto cuesta?", "start": 2.0}]
        await session.commit()
    grown = _payload(await anext(events))
    assert "Sí, dime, ¿cuánto cuesta?" in grown["html"]

    # The call ends: it stays on the page, marked as ended, and no longer counts as active.
    async with sessionmaker() as session:
        call = await session.get(CallLog, ours.live_call_id)
        call.status = CallLegStatus.ended
        call.ended_at = Clock().now()
        await session.commit()
    ended = _payload(await anext(events))
    assert ended["active"] == 0 and "live-call ended" in ended["html"]
    await events.aclose()


async def test_stream_stops_when_the_browser_leaves(sessionmaker, make_tenant) -> None:
    tenant = await make_tenant()

    async def gone() -> bool:
        return True

    events = [e async for e in live_events(sessionmaker, tenant.profile_id, Clock(), call_id=None, is_disconnected=gone)]
    assert events == ["retry: 2000\n\n"]
