"""Statistics against a hand-checked set of call logs (definitions in db/queries.py).

Campaign A (Europe/Madrid, UTC+1 on 2 March 2026), 13 calls; campaign B (Atlantic/Canary, UTC+0),
2 calls. Worked out by hand:

A: total 13, completed 12 (one still on the line), answered 7, interested 2 (prospect P2 twice),
   prospects reached 6, converted 1 (P2) -> answer 7/12 = 58.33 %, interest 2/7 = 28.57 %,
   conversion 1/6 = 16.67 %, mean duration of answered calls with a duration 375/6 = 62.5 s.
   Local hours: 9h 5 completed/3 answered (60 %), 10h 3/1, 11h 1/1, 12h 1/0, 13h 1/1, 14h 1/1.
   Best hour 9: the only hour with >= 5 completed calls (the 100 % hours have one call each).
Tenant (A + B): total 15, completed 14, answered 8, interested 2, reached 7, converted 2 ->
   57.14 %, 25.0 %, 28.57 %, mean 475/7 = 67.86 s; B's calls fall in Canary hour 9 -> 9h 7/4.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from db.models import CallLegStatus, CallLog
from db.queries import campaign_counters

DAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(hour: int, minute: int) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


# (utc time or None, outcome, duration, prospect key)
CALLS_A = [
    (at(8, 10), "answered", 60, "P1"),
    (at(8, 20), "no_answer", None, "P6"),
    (at(8, 30), "interested", 120, "P2"),
    (at(8, 40), "answered", 30, "P7"),
    (at(8, 50), "no_answer", None, "P6"),
    (at(9, 5), "voicemail", None, "P6"),
    (at(9, 15), "busy", None, "P6"),
    (at(9, 25), "not_interested", 30, "P3"),
    (at(10, 0), "callback", 45, "P4"),
    (at(10, 30), None, None, "P6"),  # still on the line: not completed
    (at(11, 0), "failed", None, "P6"),
    (None, "wrong_number", None, "P5"),  # never got a start time: created_at (12:00Z) counts
    (at(13, 10), "interested", 90, "P2"),
]
CALLS_B = [(at(9, 30), "answered", 100, "P8"), (at(9, 40), "no_answer", None, "P9")]


async def _seed(client, sessionmaker, tenant, new_campaign, new_prospect, calls, timezone, converted):
    campaign = await new_campaign(tenant, timezone=timezone)
    prospects: dict[str, str] = {}
    for _, _, _, key in calls:
        if key not in prospects:
            phone = f"+346123450{len(prospects):02d}"
            prospects[key] = (await new_prospect(tenant, campaign["id"], phone=phone, fullName=key))["id"]
    for key in converted:
        response = await client.patch(
            f"/api/v1/prospects/{prospects[key]}", json={"isConverted": True}, headers=tenant.headers
        )
        assert response.status_code == 200
    async with sessionmaker() as session:
        for started, outcome, duration, key in calls:
            session.add(
                CallLog(
                    user_id=tenant.profile_id,
                    campaign_id=uuid.UUID(campaign["id"]),
                    prospect_id=uuid.UUID(prospects[key]),
                    call_sid=f"v3:{uuid.uuid4()}",
                    status=CallLegStatus.ended if outcome else CallLegStatus.answered,
                    started_at=started,
                    created_at=started or at(12, 0),
                    outcome=outcome,
                    duration=duration,
                )
            )
        await session.commit()
    return campaign


async def test_stats_match_the_hand_checked_logs(client, sessionmaker, tenant, other_tenant, new_campaign, new_prospect):
    a = await _seed(client, sessionmaker, tenant, new_campaign, new_prospect, CALLS_A, "Europe/Madrid", ["P2"])
    b = await _seed(client, sessionmaker, tenant, new_campaign, new_prospect, CALLS_B, "Atlantic/Canary", ["P8"])
    # Another tenant's calls never count.
    await _seed(client, sessionmaker, other_tenant, new_campaign, new_prospect, CALLS_B, "Europe/Madrid", ["P8"])

    stats = (await client.get(f"/api/v1/campaigns/{a['id']}/stats", headers=tenant.headers)).json()
    assert stats["campaign_id"] == a["id"]
    assert (stats["total_calls"], stats["completed"], stats["answered"], stats["interested"], stats["converted"]) == (
        13, 12, 7, 2, 1,
    )
    assert (stats["answer_rate"], stats["interest_rate"], stats["conversion_rate"]) == (58.33, 28.57, 16.67)
    assert stats["average_duration_answered"] == 62.5
    assert [(h["hour"], h["completed"], h["answered"], h["answer_rate"]) for h in stats["answer_rate_by_hour"]] == [
        (9, 5, 3, 60.0),
        (10, 3, 1, 33.33),
        (11, 1, 1, 100.0),
        (12, 1, 0, 0.0),
        (13, 1, 1, 100.0),
        (14, 1, 1, 100.0),
    ]
    assert stats["best_hour"] == 9

    b_stats = (await client.get(f"/api/v1/campaigns/{b['id']}/stats", headers=tenant.headers)).json()
    assert (b_stats["total_calls"], b_stats["answered"], b_stats["answer_rate"], b_stats["best_hour"]) == (2, 1, 50.0, 9)
    assert b_stats["conversion_rate"] == 100.0

    everything = (await client.get("/api/v1/stats", headers=tenant.headers)).json()
    assert everything["campaign_id"] is None
    assert (
        everything["total_calls"], everything["completed"], everything["answered"],
        everything["interested"], everything["converted"],
    ) == (15, 14, 8, 2, 2)
    assert (everything["answer_rate"], everything["interest_rate"], everything["conversion_rate"]) == (57.14, 25.0, 28.57)
    assert everything["average_duration_answered"] == 67.86
    assert everything["answer_rate_by_hour"][0] == {"hour": 9, "completed": 7, "answered": 4, "answer_rate": 57.14}
    assert everything["best_hour"] == 9

    # The campaign counters the dialer writes use the very same definitions.
    async with sessionmaker() as session:
        counters = await campaign_counters(session, uuid.UUID(a["id"]))
    assert counters == {
        "total_calls": 13, "calls_completed": 12, "calls_answered": 7, "calls_interested": 2, "conversion_rate": 17,
    }


async def test_stats_of_a_campaign_without_calls(client, tenant, new_campaign):
    campaign = await new_campaign(tenant)
    stats = (await client.get(f"/api/v1/campaigns/{campaign['id']}/stats", headers=tenant.headers)).json()
    assert stats["total_calls"] == 0 and stats["answer_rate"] == 0.0
    assert stats["average_duration_answered"] is None
    assert stats["answer_rate_by_hour"] == [] and stats["best_hour"] is None
    assert (await client.get("/api/v1/stats", headers=tenant.headers)).json()["total_calls"] == 0


async def test_hours_are_exact_in_a_half_hour_time_zone(client, sessionmaker, tenant, new_campaign, new_prospect):
    # India is UTC+5:30: 03:20Z is 08:50 local (hour 8) and 03:40Z is 09:10 local (hour 9).
    calls = [(at(3, 20), "answered", 10, "P1"), (at(3, 40), "no_answer", None, "P2")]
    campaign = await _seed(client, sessionmaker, tenant, new_campaign, new_prospect, calls, "Asia/Kolkata", [])
    stats = (await client.get(f"/api/v1/campaigns/{campaign['id']}/stats", headers=tenant.headers)).json()
    assert [(h["hour"], h["completed"], h["answered"]) for h in stats["answer_rate_by_hour"]] == [(8, 1, 1), (9, 1, 0)]
    assert stats["best_hour"] == 8
