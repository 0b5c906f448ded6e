"""POST /telnyx/webhooks: signatures, idempotency, reordering, outcomes and counters."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from datetime import datetime, timedelta

import pytest
from nacl.signing import SigningKey
from sqlalchemy import func, select

from bot.call_events import apply_call_event
from bot.carrier_twin.signing import sign_webhook
from bot.outcomes import BotResult, record_bot_result
from bot.telnyx_client import encode_client_state
from db.models import (
    CallLegStatus,
    CallLog,
    CallOutcome,
    CallSequenceStatus,
    Campaign,
    DoNotCallNumber,
    Prospect,
    WebhookEvent,
)
from db.queries import campaign_counters
from tests.dialer.conftest import WEDNESDAY_10

KEY = SigningKey.generate()


@pytest.fixture
def signed_settings(settings):
    settings.telnyx_public_key = base64.b64encode(bytes(KEY.verify_key)).decode()
    return settings


async def _call(sessionmaker, make_tenant, make_campaign, number="+34911234567", n=1):
    tenant = await make_tenant()
    numbers = [number] if n == 1 else [f"+349112{i:05d}" for i in range(n)]
    campaign_id, prospect_ids = await make_campaign(tenant.profile_id, numbers)
    log_ids = []
    async with sessionmaker() as session, session.begin():
        for pid, num in zip(prospect_ids, numbers, strict=True):
            prospect = await session.get(Prospect, pid)
            prospect.status = CallSequenceStatus.in_progress
            log = CallLog(
                user_id=tenant.profile_id, campaign_id=campaign_id, prospect_id=pid, to_number=num,
                from_number="+34910000000", attempt=1, call_sid=f"v3:test-{uuid.uuid4().hex}",
                started_at=WEDNESDAY_10, created_at=WEDNESDAY_10,
            )
            session.add(log)
            await session.flush()
            log_ids.append(log.id)
    return campaign_id, prospect_ids, log_ids


def event(event_type: str, log_id: uuid.UUID, at: datetime, event_id: str | None = None, **payload) -> dict:
    return {
        "data": {
            "record_type": "event",
            "event_type": event_type,
            "id": event_id or str(uuid.uuid4()),
            "occurred_at": at.isoformat(),
            "payload": {"call_control_id": f"v3:{log_id}", "client_state": encode_client_state(log_id), **payload},
        },
        "meta": {"attempt": 1},
    }


async def post(client, body: dict | bytes, *, key=KEY, timestamp=None, tamper=False):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = sign_webhook(key, raw, timestamp)
    if tamper:
        raw = raw.replace(b"call.", b"call_")
    return await client.post("/telnyx/webhooks", content=raw, headers={"content-type": "application/json", **headers})


async def _log(sessionmaker, log_id) -> CallLog:
    async with sessionmaker() as session:
        return await session.get(CallLog, log_id)


async def _events(sessionmaker) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(WebhookEvent))


async def test_forged_tampered_and_stale_requests_get_401_and_change_nothing(
    signed_settings, client, sessionmaker, make_tenant, make_campaign
):
    _, _, [log_id] = await _call(sessionmaker, make_tenant, make_campaign)
    answered = event("call.answered", log_id, WEDNESDAY_10)
    before = await _events(sessionmaker)
    forged = await post(client, answered, key=SigningKey.generate())
    tampered = await post(client, answered, tamper=True)
    stale = await post(client, answered, timestamp=int(time.time()) - 400)
    future = await post(client, answered, timestamp=int(time.time()) + 400)
    unsigned = await client.post("/telnyx/webhooks", json=answered)
    for response in (forged, tampered, stale, future, unsigned):
        assert response.status_code == 401
        assert "signature" in response.json()["detail"]
    assert (await _log(sessionmaker, log_id)).status == CallLegStatus.initiated
    assert await _events(sessionmaker) == before
    ok = await post(client, answered)
    assert ok.status_code == 200 and ok.json() == {"status": "applied"}
    assert (await _log(sessionmaker, log_id)).status == CallLegStatus.answered


async def test_bad_json_with_a_good_signature_is_a_400(signed_settings, client):
    response = await post(client, b"{not json")
    assert response.status_code == 400 and "JSON" in response.json()["detail"]
    response = await post(client, {"data": {"payload": {}}})
    assert response.status_code == 400


async def test_a_duplicated_event_is_applied_once(signed_settings, client, sessionmaker, make_tenant, make_campaign):
    campaign_id, [pid], [log_id] = await _call(sessionmaker, make_tenant, make_campaign)
    await post(client, event("call.answered", log_id, WEDNESDAY_10 + timedelta(seconds=5)))
    hangup = event("call.hangup", log_id, WEDNESDAY_10 + timedelta(seconds=65), hangup_cause="normal_clearing")
    first, second = await post(client, hangup), await post(client, hangup)
    assert first.json() == {"status": "applied"} and second.json() == {"status": "duplicate"}
    log = await _log(sessionmaker, log_id)
    assert log.status == CallLegStatus.ended and log.duration == 60 and log.outcome == CallOutcome.answered
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        prospect = await session.get(Prospect, pid)
        assert campaign.total_calls == 1 and campaign.calls_answered == 1 and campaign.calls_completed == 1
        assert prospect.total_attempts == 1 and prospect.status == CallSequenceStatus.completed


async def test_reordered_events_never_move_a_call_backwards(
    signed_settings, client, sessionmaker, make_tenant, make_campaign
):
    campaign_id, [pid], [log_id] = await _call(sessionmaker, make_tenant, make_campaign)
    t = WEDNESDAY_10
    # The hang-up arrives first, then the answer, then the initiated event.
    await post(client, event("call.hangup", log_id, t + timedelta(seconds=40), hangup_cause="normal_clearing"))
    log = await _log(sessionmaker, log_id)
    assert log.outcome == CallOutcome.no_answer
    await post(client, event("call.answered", log_id, t + timedelta(seconds=10)))
    await post(client, event("call.initiated", log_id, t))
    log = await _log(sessionmaker, log_id)
    assert log.status == CallLegStatus.ended and log.answered_at is not None
    assert log.duration == 30 and log.outcome == CallOutcome.answered
    async with sessionmaker() as session:
        prospect = await session.get(Prospect, pid)
        campaign = await session.get(Campaign, campaign_id)
    assert prospect.status == CallSequenceStatus.completed and prospect.next_call_at is None
    assert campaign.calls_answered == 1


async def test_unanswered_call_schedules_the_next_attempt(sessionmaker, make_tenant, make_campaign, clock):
    _, [pid], [log_id] = await _call(sessionmaker, make_tenant, make_campaign)
    await apply_call_event(sessionmaker, event("call.initiated", log_id, WEDNESDAY_10), clock=clock)
    result = await apply_call_event(
        sessionmaker,
        event("call.hangup", log_id, WEDNESDAY_10 + timedelta(seconds=25), hangup_cause="timeout"),
        clock=clock,
    )
    assert result.status == "applied"
    async with sessionmaker() as session:
        prospect = await session.get(Prospect, pid)
    assert prospect.last_call_outcome == CallOutcome.no_answer and prospect.total_attempts == 1
    # Day 1 Wednesday -> day 3 Friday at the window opening.
    assert prospect.status == CallSequenceStatus.scheduled
    assert prospect.next_call_at == WEDNESDAY_10.replace(day=4, hour=9)


async def test_machine_gets_the_voicemail_after_the_greeting(sessionmaker, make_tenant, make_campaign, clock):
    campaign_id, [pid], [log_id] = await _call(sessionmaker, make_tenant, make_campaign)
    t = WEDNESDAY_10
    await apply_call_event(sessionmaker, event("call.answered", log_id, t), clock=clock)
    detected = await apply_call_event(
        sessionmaker, event("call.machine.premium.detection.ended", log_id, t, result="machine"), clock=clock
    )
    assert detected.actions == []  # not yet: the greeting is still playing
    greeting = await apply_call_event(
        sessionmaker, event("call.machine.premium.greeting.ended", log_id, t, result="beep_detected"), clock=clock
    )
    assert [a.kind for a in greeting.actions] == ["voicemail"] and greeting.actions[0].campaign_id == campaign_id
    again = await apply_call_event(
        sessionmaker, event("call.machine.premium.greeting.ended", log_id, t, result="beep_detected"), clock=clock
    )
    assert again.actions == []  # one message per call, even if the event comes twice under new ids
    ended = await apply_call_event(sessionmaker, event("call.playback.ended", log_id, t), clock=clock)
    assert [a.kind for a in ended.actions] == ["hangup"]
    # The bot heard the greeting and concluded something; the machine's verdict stands.
    await record_bot_result(
        sessionmaker, log_id, BotResult(outcome=CallOutcome.answered, transcript=[], transcription=""), clock=clock
    )
    await apply_call_event(
        sessionmaker, event("call.hangup", log_id, t + timedelta(seconds=30), hangup_cause="normal_clearing"), clock=clock
    )
    log = await _log(sessionmaker, log_id)
    assert log.outcome == CallOutcome.voicemail and log.metadata_["voicemail_left"] is True
    async with sessionmaker() as session:
        prospect = await session.get(Prospect, pid)
    assert prospect.status == CallSequenceStatus.scheduled and prospect.total_attempts == 1


@pytest.mark.parametrize("bot_first", [True, False])
async def test_bot_outcome_beats_the_hangup_cause_in_either_order(
    bot_first, sessionmaker, make_tenant, make_campaign, clock
):
    campaign_id, [pid], [log_id] = await _call(sessionmaker, make_tenant, make_campaign)
    t = WEDNESDAY_10
    await apply_call_event(sessionmaker, event("call.answered", log_id, t), clock=clock)
    callback_at = datetime(2026, 12, 3, 10, 0, tzinfo=t.tzinfo)
    result = BotResult(
        outcome=CallOutcome.callback,
        transcript=[{"speaker": "prospect", "text": "Llámame el jueves", "start": 1.0, "end": 2.0, "latency_ms": None}],
        transcription="Prospecto: Llámame el jueves",
        callback_at=callback_at,
    )
    hangup = event("call.hangup", log_id, t + timedelta(seconds=20), hangup_cause="normal_clearing")
    if bot_first:
        await record_bot_result(sessionmaker, log_id, result, clock=clock)
        await apply_call_event(sessionmaker, hangup, clock=clock)
    else:
        await apply_call_event(sessionmaker, hangup, clock=clock)
        await record_bot_result(sessionmaker, log_id, result, clock=clock)
    log = await _log(sessionmaker, log_id)
    assert log.outcome == CallOutcome.callback and log.transcript[0]["text"] == "Llámame el jueves"
    async with sessionmaker() as session:
        prospect = await session.get(Prospect, pid)
    assert prospect.status == CallSequenceStatus.scheduled and prospect.next_call_at == callback_at


async def test_opt_out_is_applied_at_once(sessionmaker, make_tenant, make_campaign, clock):
    campaign_id, [pid], [log_id] = await _call(sessionmaker, make_tenant, make_campaign)
    await record_bot_result(
        sessionmaker,
        log_id,
        BotResult(outcome=CallOutcome.not_interested, transcript=[], transcription="", do_not_call=True),
        clock=clock,
    )
    async with sessionmaker() as session:
        prospect = await session.get(Prospect, pid)
        listed = await session.scalar(select(func.count()).select_from(DoNotCallNumber).where(
            DoNotCallNumber.user_id == prospect.user_id, DoNotCallNumber.phone_number == prospect.phone_number))
    assert prospect.status == CallSequenceStatus.do_not_call and listed == 1
    # The hang-up later does not bring the prospect back.
    await apply_call_event(
        sessionmaker, event("call.hangup", log_id, WEDNESDAY_10, hangup_cause="normal_clearing"), clock=clock
    )
    async with sessionmaker() as session:
        assert (await session.get(Prospect, pid)).status == CallSequenceStatus.do_not_call


async def test_concurrent_hangups_keep_the_counters_equal_to_the_logs(sessionmaker, make_tenant, make_campaign, clock):
    campaign_id, _, log_ids = await _call(sessionmaker, make_tenant, make_campaign, n=12)
    t = WEDNESDAY_10
    causes = ["normal_clearing", "timeout", "user_busy"]
    for i, log_id in enumerate(log_ids):
        if i % 3 == 0:
            await apply_call_event(sessionmaker, event("call.answered", log_id, t), clock=clock)
    await asyncio.gather(
        *(
            apply_call_event(
                sessionmaker,
                event("call.hangup", log_id, t + timedelta(seconds=30), hangup_cause=causes[i % 3]),
                clock=clock,
            )
            for i, log_id in enumerate(log_ids)
        )
    )
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        expected = await campaign_counters(session, campaign_id)
    assert expected == {"total_calls": 12, "calls_completed": 12, "calls_answered": 4, "calls_interested": 0,
                        "conversion_rate": 0}
    assert {name: getattr(campaign, name) for name in expected} == expected


async def test_an_event_for_an_unknown_call_is_acknowledged(signed_settings, client):
    body = event("call.hangup", uuid.uuid4(), WEDNESDAY_10, hangup_cause="normal_clearing")
    body["data"]["payload"]["client_state"] = None
    response = await post(client, body)
    assert response.status_code == 200 and response.json() == {"status": "unknown_call"}
