"""The campaign runner against the carrier twin: what it sends to Telnyx, and how it handles refusals."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import FixedClock
from bot.dialer import CampaignRunner
from bot.media_auth import verify_media_stream_token
from bot.telnyx_client import decode_client_state
from db.models import (
    CallLegStatus,
    CallLog,
    CallOutcome,
    CallSequenceStatus,
    Campaign,
    CampaignStatus,
    DoNotCallNumber,
    Prospect,
)
from tests.dialer.conftest import MADRID, WEDNESDAY_10


def runner(settings, sessionmaker, clock) -> CampaignRunner:
    return CampaignRunner(settings=settings, sessionmaker=sessionmaker, clock=clock)


async def _prospects(sessionmaker, ids):
    async with sessionmaker() as session:
        rows = (await session.execute(select(Prospect).where(Prospect.id.in_(ids)))).scalars()
        return {p.id: p for p in rows}


async def _logs(sessionmaker, campaign_id):
    async with sessionmaker() as session:
        return list((await session.execute(select(CallLog).where(CallLog.campaign_id == campaign_id))).scalars())


async def test_dial_sends_what_telnyx_expects(twin_settings, carrier_twin, sessionmaker, make_tenant, make_campaign, clock):
    tenant = await make_tenant()
    campaign_id, [prospect_id] = await make_campaign(tenant.profile_id, ["+34911234567"])
    run = runner(twin_settings, sessionmaker, clock)
    try:
        report = await run.run_once()
    finally:
        await run.aclose()
    assert report.dialed == 1
    [dial] = carrier_twin.dials()
    body = dial.body
    assert dial.authorization and dial.authorization.startswith("Bearer ")
    assert body["to"] == "+34911234567" and body["from"] == "+34910000000"
    assert body["connection_id"]
    assert body["stream_url"] == twin_settings.stream_url and body["webhook_url"] == twin_settings.webhook_url
    assert body["stream_track"] == "inbound_track"
    assert body["stream_bidirectional_mode"] == "rtp" and body["stream_bidirectional_codec"] == "PCMU"
    assert body["answering_machine_detection"] == "premium"
    assert body["timeout_secs"] == 25 and body["time_limit_secs"] == twin_settings.call_time_limit_secs
    [log] = await _logs(sessionmaker, campaign_id)
    assert decode_client_state(body["client_state"]) == log.id
    assert body["command_id"] == f"dial-{log.id}"
    # The media stream's token is this call's, and only this call's.
    assert verify_media_stream_token(twin_settings, log.id, body["stream_auth_token"])
    assert not verify_media_stream_token(twin_settings, prospect_id, body["stream_auth_token"])
    assert carrier_twin.calls[log.call_sid].stream_auth_token == body["stream_auth_token"]
    assert log.call_sid == carrier_twin.calls[log.call_sid].call_control_id
    assert log.status == CallLegStatus.initiated and log.attempt == 1
    assert log.metadata_["script"]
    prospect = (await _prospects(sessionmaker, [prospect_id]))[prospect_id]
    assert prospect.status == CallSequenceStatus.in_progress


async def test_429_then_200_dials_once_with_the_same_command_id(
    twin_settings, carrier_twin, sessionmaker, make_tenant, make_campaign, clock
):
    tenant = await make_tenant()
    campaign_id, _ = await make_campaign(tenant.profile_id, ["+34911234568"])
    carrier_twin.fail_next(429, 1)
    run = runner(twin_settings, sessionmaker, clock)
    try:
        report = await run.run_once()
    finally:
        await run.aclose()
    assert report.dialed == 1
    dials = carrier_twin.dials()
    assert [d.status for d in dials] == [429, 200]
    assert dials[0].body["command_id"] == dials[1].body["command_id"]
    assert len(carrier_twin.calls) == 1
    [log] = await _logs(sessionmaker, campaign_id)
    assert log.call_sid in carrier_twin.calls


async def test_5xx_after_retries_requeues_without_spending_an_attempt(
    twin_settings, carrier_twin, sessionmaker, make_tenant, make_campaign, clock
):
    tenant = await make_tenant()
    campaign_id, [prospect_id] = await make_campaign(tenant.profile_id, ["+34911234569"])
    twin_settings.telnyx_max_retries = 1
    carrier_twin.fail_next(503, 5)
    run = runner(twin_settings, sessionmaker, clock)
    try:
        report = await run.run_once()
    finally:
        await run.aclose()
    assert report.requeued == 1 and len(carrier_twin.dials()) == 2
    assert await _logs(sessionmaker, campaign_id) == []
    prospect = (await _prospects(sessionmaker, [prospect_id]))[prospect_id]
    assert prospect.status == CallSequenceStatus.pending and prospect.total_attempts == 0
    assert prospect.next_call_at == clock.now() + timedelta(seconds=60)
    assert "503" in prospect.last_error


async def test_401_pauses_the_campaign_with_a_reason(
    twin_settings, carrier_twin, sessionmaker, make_tenant, make_campaign, clock
):
    tenant = await make_tenant()
    campaign_id, [prospect_id] = await make_campaign(tenant.profile_id, ["+34911234570"])
    carrier_twin.fail_next(401, 1)
    run = runner(twin_settings, sessionmaker, clock)
    try:
        await run.run_once()
    finally:
        await run.aclose()
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
    assert campaign.status == CampaignStatus.paused
    assert "TELNYX_API_KEY" in campaign.status_reason and "401" in campaign.status_reason
    prospect = (await _prospects(sessionmaker, [prospect_id]))[prospect_id]
    assert prospect.status == CallSequenceStatus.pending and prospect.total_attempts == 0
    assert await _logs(sessionmaker, campaign_id) == []


async def test_422_on_a_number_fails_that_prospect_only(
    twin_settings, carrier_twin, sessionmaker, make_tenant, make_campaign, clock
):
    tenant = await make_tenant()
    # +34 0... is not a valid Spanish number: the twin answers 422 with pointer /to, as Telnyx does.
    campaign_id, [bad, good] = await make_campaign(tenant.profile_id, ["+34012345678", "+34911234571"])
    run = runner(twin_settings, sessionmaker, clock)
    try:
        report = await run.run_once()
    finally:
        await run.aclose()
    assert (report.dialed, report.failed) == (1, 1)
    prospects = await _prospects(sessionmaker, [bad, good])
    assert prospects[bad].status == CallSequenceStatus.failed and "422" in prospects[bad].last_error
    assert prospects[good].status == CallSequenceStatus.in_progress


async def test_policy_limits_at_claim(twin_settings, carrier_twin, sessionmaker, make_tenant, make_campaign, clock):
    tenant = await make_tenant()
    numbers = ["+34911000001", "+34911000002", "+34911000003", "+34911000004", "+34911000005", "+34911000006"]
    campaign_id, ids = await make_campaign(tenant.profile_id, numbers, max_calls_per_day=2)
    async with sessionmaker() as session, session.begin():
        session.add(DoNotCallNumber(user_id=tenant.profile_id, phone_number=numbers[0], reason="test"))
        no_consent = await session.get(Prospect, ids[1])
        no_consent.consent_basis = None
    run = runner(twin_settings, sessionmaker, clock)
    try:
        report = await run.run_once()
    finally:
        await run.aclose()
    assert (report.dialed, report.suppressed) == (2, 2)
    prospects = await _prospects(sessionmaker, ids)
    assert prospects[ids[0]].status == CallSequenceStatus.do_not_call
    assert prospects[ids[1]].status == CallSequenceStatus.failed and "consent" in prospects[ids[1]].last_error
    deferred = [p for p in prospects.values() if p.status == CallSequenceStatus.pending]
    assert len(deferred) == 2
    # The daily cap is spent: due again at the next day's window opening, not polled.
    assert all(p.next_call_at == WEDNESDAY_10.replace(day=3, hour=9) for p in deferred)
    assert {d.body["to"] for d in carrier_twin.dials()} <= set(numbers[2:])


async def test_concurrency_limit_per_campaign(twin_settings, carrier_twin, sessionmaker, make_tenant, make_campaign, clock):
    tenant = await make_tenant()
    campaign_id, ids = await make_campaign(
        tenant.profile_id, [f"+3491100010{i}" for i in range(5)], max_concurrent_calls=2
    )
    run = runner(twin_settings, sessionmaker, clock)
    try:
        first = await run.run_once()
        second = await run.run_once()  # both lines still busy: nobody more
    finally:
        await run.aclose()
    assert first.dialed == 2 and second.dialed == 0
    prospects = await _prospects(sessionmaker, ids)
    assert sum(p.status == CallSequenceStatus.pending for p in prospects.values()) == 3


async def test_outside_the_window_nobody_is_dialed_and_next_call_at_moves(
    twin_settings, carrier_twin, sessionmaker, make_tenant, make_campaign
):
    clock = FixedClock(WEDNESDAY_10.replace(hour=8, minute=59))
    tenant = await make_tenant()
    campaign_id, ids = await make_campaign(tenant.profile_id, ["+34911000201"], call_window_start=8)
    async with sessionmaker() as session, session.begin():
        prospect = await session.get(Prospect, ids[0])
        prospect.next_call_at = clock.now()
    run = runner(twin_settings, sessionmaker, clock)
    try:
        report = await run.run_once()
    finally:
        await run.aclose()
    assert report.dialed == 0 and report.deferred == 1 and carrier_twin.dials() == []
    prospect = (await _prospects(sessionmaker, ids))[ids[0]]
    assert prospect.next_call_at == WEDNESDAY_10.replace(hour=9).astimezone(MADRID)


async def test_run_dialer_process_dials_until_stopped(
    twin_settings, carrier_twin, clean_database, make_tenant, make_campaign, clock
):
    import asyncio

    from bot.dialer import run_dialer_process

    tenant = await make_tenant()
    await make_campaign(tenant.profile_id, ["+34911000301", "+34911000302"])
    twin_settings.dialer_poll_secs = 0.05
    stop = asyncio.Event()
    task = asyncio.create_task(run_dialer_process(twin_settings, clock=clock, stop=stop))
    for _ in range(200):
        if len(carrier_twin.dials()) >= 2:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert sorted(d.body["to"] for d in carrier_twin.dials()) == ["+34911000301", "+34911000302"]


async def test_a_lost_call_is_released_and_the_campaign_completes(
    twin_settings, clean_database, make_tenant, make_campaign, clock
):
    sessionmaker = clean_database
    from bot.call_events import apply_call_event
    from tests.dialer.test_webhooks import event

    tenant = await make_tenant()
    campaign_id, [lost, declined] = await make_campaign(tenant.profile_id, ["+34911000401", "+34911000402"])
    twin_settings.max_technical_retries = 0
    twin_settings.telnyx_max_retries = 0
    run = runner(twin_settings, sessionmaker, clock)
    try:
        _, planned = await run.claim()  # reserved, never dialed: as if the dialer died after the claim
        logs = {p.prospect_id: p.call_log_id for p in planned}
        await apply_call_event(
            sessionmaker, event("call.answered", logs[declined], clock.now()), clock=clock
        )
        async with sessionmaker() as session, session.begin():
            log = await session.get(CallLog, logs[declined])
            log.outcome = CallOutcome.not_interested
        await apply_call_event(
            sessionmaker, event("call.hangup", logs[declined], clock.now(), hangup_cause="normal_clearing"), clock=clock
        )
        clock.advance(timedelta(seconds=twin_settings.stale_call_secs + 1))
        assert await run.release_stale_calls() == 1
    finally:
        await run.aclose()
    prospects = await _prospects(sessionmaker, [lost, declined])
    assert prospects[declined].status == CallSequenceStatus.completed
    # A technical failure past the retry bound spends the attempt and follows the sequence.
    assert prospects[lost].status == CallSequenceStatus.scheduled and prospects[lost].total_attempts == 1
    async with sessionmaker() as session:
        log = await session.get(CallLog, logs[lost])
        assert log.status == CallLegStatus.ended and log.outcome == CallOutcome.failed and "hang-up" in log.error
    # Once nobody is left to call, the campaign completes.
    async with sessionmaker() as session, session.begin():
        prospect = await session.get(Prospect, lost)
        prospect.status = CallSequenceStatus.completed
    run = runner(twin_settings, sessionmaker, clock)
    try:
        await run.complete_finished_campaigns()
    finally:
        await run.aclose()
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
    assert campaign.status == CampaignStatus.completed and campaign.status_reason
