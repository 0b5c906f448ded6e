"""End to end on loopback: server, dialer, carrier twin, media WebSocket, bot, webhooks.

One prospect per persona; the real server runs with the carrier twin in place of Telnyx and the bot
talks to each simulated prospect over the media WebSocket (offline voice, twin transcripts, the
scripted responder). Then outcomes, attempts, next calls, do-not-call and counters are checked.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from bot.carrier_twin.personas import PERSONA_ORDER
from bot.demo import MADRID, persona_number, run_demo
from db.models import Prospect
from db.session import create_engine, make_sessionmaker

pytestmark = pytest.mark.e2e

START = datetime(2026, 12, 2, 10, 0, tzinfo=MADRID)  # a Wednesday
FRIDAY_9 = "2026-12-04T09:00:00+01:00"  # day 3 of the follow-up sequence

EXPECTED = {
    # persona: (outcome, status, attempts, next call, on the do-not-call list)
    "interested": ("interested", "completed", 1, None, False),
    "price_then_decline": ("not_interested", "completed", 1, None, False),
    "busy": ("busy", "scheduled", 1, FRIDAY_9, False),
    "no_answer": ("no_answer", "scheduled", 1, FRIDAY_9, False),
    "voicemail": ("voicemail", "scheduled", 1, FRIDAY_9, False),
    "callback": ("callback", "scheduled", 1, "thursday morning", False),
    "opt_out": ("not_interested", "do_not_call", 1, None, True),
}


async def test_a_campaign_of_every_persona(settings, clean_database, tmp_path):
    # The account's channel limit (MAX_CONCURRENT_CALLS) counts every call still on the line in
    # the database: the live calls other tests seed (the admin UI's) would take the demo's lines.
    settings.carrier_twin_time_scale = 10.0
    report = await run_demo(settings, start=START, timeout_secs=200)
    calls = {c.persona: c for c in report.calls}
    assert set(calls) == set(PERSONA_ORDER)
    for persona, (outcome, status, attempts, next_call, listed) in EXPECTED.items():
        call = calls[persona]
        got_next = call.next_call_at
        if next_call == "thursday morning":
            when = datetime.fromisoformat(got_next)
            got_next = "thursday morning" if when.date().isoformat() == "2026-12-03" and 9 <= when.hour < 14 else got_next
        assert (call.outcome, call.status, call.attempts, got_next, call.do_not_call) == (
            outcome, status, attempts, next_call, listed
        ), persona
    assert calls["interested"].transferred
    assert calls["voicemail"].voicemail_left
    # The bot (scripted responder offline, end_call tool with an LLM) reports the wrong number,
    # and the number is suppressed for the tenant.
    wrong = calls["wrong_number"]
    assert wrong.outcome == "wrong_number" and wrong.status == "do_not_call" and wrong.do_not_call
    # Every answered conversation measured its reply latencies.
    for persona in ("interested", "price_then_decline", "callback", "opt_out"):
        assert calls[persona].reply_latencies_ms, persona
    assert report.counters == report.counters_from_logs
    assert report.counters["total_calls"] == 8 and report.counters["calls_completed"] == 8
    assert report.counters["calls_interested"] == 1
    assert report.campaign_status == "active"  # follow-ups and a callback are still due
    engine = create_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            numbers = {persona_number(PERSONA_ORDER.index(p)) for p in PERSONA_ORDER}
            prospects = list((await session.execute(select(Prospect).where(Prospect.phone_number.in_(numbers)))).scalars())
        qualified = [p for p in prospects if p.is_qualified and p.phone_number == persona_number(0)]
        assert qualified
    finally:
        await engine.dispose()
