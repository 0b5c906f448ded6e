"""The dialer: claims due prospects of active campaigns and places their calls through Telnyx.

One pass (`CampaignRunner.run_once`):

1. Lock the active campaigns (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a
   campaign another dialer is working on is skipped this round; SQLite has one writer, and the pass
   takes the write lock first so the claim is atomic there too).
2. Work out each campaign's budget: its concurrency limit, its calls left today (campaign's time
   zone) and the account's channel limit (``settings.max_concurrent_calls``).
3. Claim due prospects (``status IN (pending, scheduled) AND next_call_at <= now ... FOR UPDATE SKIP
   LOCKED``), apply the calling policy (`bot.policy`) to each, and for each callable one write a call
   log (status initiated, attempt number, the rendered opener) and mark the prospect in_progress --
   all in the same transaction, so several dialer processes never dial one prospect twice.
4. After the commit, pre-render the opener audio and dial each call (`ColdCallingDialer`).

Telnyx errors after the client's own retries: 429/5xx/timeouts put the prospect back in the queue
without spending an attempt; 401/403 pause the campaign with a reason the API shows; 422 on a number
marks the prospect failed with the reason. A call that never reached the carrier leaves no call log.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from loguru import logger
from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.media_auth import media_stream_token
from bot.outcomes import RetryRules, apply_follow_up, complete_campaign_if_done, lock_campaign
from bot.policy import (
    CALLABLE_STATUSES,
    campaign_day_start,
    next_callable_at,
    not_callable_now_reason,
    suppression_reason,
)
from bot.script import ScriptGenerator
from bot.settings import Settings
from bot.telnyx_client import (
    TelnyxAuthError,
    TelnyxCallControl,
    TelnyxError,
    TelnyxInvalidNumber,
    encode_client_state,
)
from db.models import (
    CallLegStatus,
    CallLog,
    CallOutcome,
    CallSequenceStatus,
    Campaign,
    CampaignStatus,
    DoNotCallNumber,
    IdealCustomerProfile,
    Prospect,
)
from db.session import create_engine, is_postgres, make_sessionmaker

#: How long a prospect waits after Telnyx stayed unreachable or rate-limited through the client's
#: own exponential-backoff retries (``settings.telnyx_max_retries``).
REQUEUE_DELAY = timedelta(seconds=60)


def due_prospects_query(now: datetime, campaign_ids: list[uuid.UUID], limit: int):
    """The claim: due prospects of these campaigns, oldest due first, skipping rows others hold.

    Served by the partial index ``ix_cold_call_prospects_due (next_call_at, campaign_id) WHERE status
    IN ('pending', 'scheduled')``. ``SKIP LOCKED`` is PostgreSQL's; SQLite ignores ``FOR UPDATE``.
    """
    return (
        select(Prospect)
        .where(
            Prospect.status.in_(CALLABLE_STATUSES),
            Prospect.next_call_at <= now,
            Prospect.campaign_id.in_(campaign_ids),
        )
        .order_by(Prospect.next_call_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def command_id_for(call_log_id: uuid.UUID) -> str:
    """The dial's idempotency key: stable per call log, so a retried dial never rings twice."""
    return f"dial-{call_log_id}"


class ColdCallingDialer:
    """Places one call (the seed's ``ColdCallingDialer().initiate_call(...)``), through Telnyx or the twin."""

    def __init__(self, settings: Settings, call_control: TelnyxCallControl | None = None) -> None:
        self.settings = settings
        self.call_control = call_control or TelnyxCallControl(settings)

    async def initiate_call(
        self,
        to_number: str,
        from_number: str,
        script: str,
        *,
        call_log_id: uuid.UUID | None = None,
        command_id: str | None = None,
    ) -> str:
        """Dial ``to_number`` from ``from_number``; returns Telnyx's call_control_id.

        ``script`` is the opener the bot will say; the campaign runner stores it on the call log
        (``metadata["script"]``) before dialing, because the bot loads the call's context from the
        database when the media stream starts. ``call_log_id`` names the log in ``client_state``.
        """
        call_log_id = call_log_id or uuid.uuid4()
        logger.debug("dialing a call for call log {} ({} chars of script)", call_log_id, len(script))
        return await self.call_control.dial(
            to=to_number,
            from_=from_number,
            client_state=encode_client_state(call_log_id),
            command_id=command_id or command_id_for(call_log_id),
            codec=self.settings.call_codec,
            timeout_secs=self.settings.call_ring_timeout_secs,
            time_limit_secs=self.settings.call_time_limit_secs,
            stream_auth_token=media_stream_token(self.settings, call_log_id),
        )

    async def aclose(self) -> None:
        await self.call_control.aclose()


@dataclass
class PlannedCall:
    """A call reserved by the claim, to be dialed after the commit."""

    call_log_id: uuid.UUID
    prospect_id: uuid.UUID
    campaign_id: uuid.UUID
    to_number: str
    from_number: str
    voice_type: str
    reserved_at: datetime
    metadata: dict
    #: Detached snapshots the opener is rendered from, after the claim's locks are released.
    prospect: Prospect
    campaign: Campaign
    icp: IdealCustomerProfile | None
    script: str = ""


@dataclass
class PassReport:
    """What one dialer pass did (for logs, tests and the demo)."""

    claimed: int = 0
    dialed: int = 0
    deferred: int = 0
    suppressed: int = 0
    requeued: int = 0
    failed: int = 0


class CampaignRunner:
    """Runs dialer passes; several runners (processes, machines) may share one PostgreSQL."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        dialer: ColdCallingDialer | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.dialer = dialer or ColdCallingDialer(settings)
        self.rules = RetryRules.from_settings(settings)
        #: Which dialer placed a call (host:pid), kept on the call log for operators.
        self.identity = f"{socket.gethostname()}:{os.getpid()}"

    # --- the loop --------------------------------------------------------------------------------
    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run passes every ``dialer_poll_secs`` until ``stop`` is set; a failed pass is logged, not fatal."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - the loop must survive a bad pass (e.g. database restart)
                logger.exception("dialer pass failed")
            try:
                await asyncio.wait_for(stop.wait(), self.settings.dialer_poll_secs)
            except TimeoutError:
                pass

    async def run_once(self) -> PassReport:
        """One pass: housekeeping, claim, dial."""
        await self.release_stale_calls()
        report, planned = await self.claim()
        if planned:
            results = await asyncio.gather(*(self._place(call) for call in planned))
            for outcome in results:
                setattr(report, outcome, getattr(report, outcome) + 1)
        await self.complete_finished_campaigns()
        if report.claimed:
            logger.info(
                "dialer pass: claimed {} dialed {} deferred {} suppressed {} requeued {} failed {}",
                report.claimed, report.dialed, report.deferred, report.suppressed, report.requeued, report.failed,
            )
        return report

    # --- claim -----------------------------------------------------------------------------------
    async def claim(self) -> tuple[PassReport, list[PlannedCall]]:
        """Reserve the calls of this pass (one transaction); see the module docstring."""
        now = self.clock.now()
        report = PassReport()
        planned: list[PlannedCall] = []
        async with self.sessionmaker() as session, session.begin():
            postgres = is_postgres(session)
            if not postgres:
                # Take SQLite's write lock before reading, so the whole claim is one atomic step.
                await session.execute(
                    update(Campaign).where(Campaign.status == CampaignStatus.active).values(status=Campaign.status)
                )
            # The account's channel limit is checked per pass; dialers on other machines claiming at
            # the same moment may together pass it by at most one batch (Telnyx then refuses the excess
            # with a concurrency error, which requeues those prospects).
            account_active = await self._account_active_calls(session)
            account_budget = self.settings.max_concurrent_calls - account_active
            if account_budget <= 0:
                return report, planned
            # All active campaigns, not only those with due prospects: an EXISTS over the due index
            # costs a scan of every due row on a large table, locking a few idle rows costs nothing.
            campaigns = list(
                (
                    await session.execute(
                        select(Campaign)
                        .where(Campaign.status == CampaignStatus.active)
                        .order_by(Campaign.id)
                        .with_for_update(skip_locked=True)
                    )
                ).scalars()
            )
            if not campaigns:
                return report, planned
            budgets = await self._campaign_budgets(session, campaigns, now)
            by_id = {c.id: c for c in campaigns}
            icps = await self._icps(session, campaigns)
            limit = min(self.settings.dialer_batch_size, max(account_budget, 0) * 4 + 20)
            prospects = list(
                (await session.execute(due_prospects_query(now, list(by_id), limit))).scalars()
            )
            report.claimed = len(prospects)
            blocked = await self._do_not_call_numbers(session, prospects)
            for prospect in prospects:
                campaign = by_id[prospect.campaign_id]
                reason = suppression_reason(prospect, blocked.get(prospect.user_id, frozenset()))
                if reason is not None:
                    prospect.status = (
                        CallSequenceStatus.failed
                        if prospect.consent_basis is None and prospect.phone_number not in blocked.get(prospect.user_id, ())
                        else CallSequenceStatus.do_not_call
                    )
                    prospect.last_error = reason
                    prospect.next_call_at = None
                    report.suppressed += 1
                    continue
                if not_callable_now_reason(prospect, campaign, now) is not None:
                    prospect.next_call_at = next_callable_at(prospect, campaign, now)
                    if prospect.next_call_at is None:
                        prospect.status = CallSequenceStatus.completed
                        prospect.last_error = "no calling window in the next weeks"
                    report.deferred += 1
                    continue
                concurrency_left, today_left = budgets[campaign.id]
                if today_left <= 0:
                    # The daily cap is spent: due again when the campaign's next day opens.
                    tomorrow = campaign_day_start(campaign, now) + timedelta(days=1, hours=1)
                    prospect.next_call_at = next_callable_at(prospect, campaign, tomorrow)
                    report.deferred += 1
                    continue
                if concurrency_left <= 0 or account_budget <= 0:
                    continue  # stays due; picked up when a line frees
                budgets[campaign.id] = (concurrency_left - 1, today_left - 1)
                account_budget -= 1
                planned.append(self._reserve(session, prospect, campaign, icps.get(campaign.icp_id), now))
        return report, planned

    def _reserve(
        self, session: AsyncSession, prospect: Prospect, campaign: Campaign, icp: IdealCustomerProfile | None, now: datetime
    ) -> PlannedCall:
        log = CallLog(
            id=uuid.uuid4(),
            user_id=prospect.user_id,
            campaign_id=campaign.id,
            prospect_id=prospect.id,
            from_number=campaign.caller_id,
            to_number=prospect.phone_number,
            attempt=prospect.total_attempts + 1,
            status=CallLegStatus.initiated,
            started_at=now,
            created_at=now,  # the daily cap counts by the product's clock
            metadata_={"callback": prospect.callback_at is not None, "dialer": self.identity},
        )
        session.add(log)
        prospect.status = CallSequenceStatus.in_progress
        prospect.last_call_at = now
        if prospect.callback_at is not None and prospect.callback_at <= now:
            prospect.callback_at = None
        return PlannedCall(
            call_log_id=log.id,
            prospect_id=prospect.id,
            campaign_id=campaign.id,
            to_number=prospect.phone_number,
            from_number=campaign.caller_id or "",
            voice_type=str(campaign.voice_type),
            reserved_at=now,
            metadata=dict(log.metadata_),
            prospect=prospect,
            campaign=campaign,
            icp=icp,
        )

    async def _account_active_calls(self, session: AsyncSession) -> int:
        """Calls on the line now (legs not ended) across the account."""
        return int(
            await session.scalar(select(func.count()).select_from(CallLog).where(CallLog.status != CallLegStatus.ended))
            or 0
        )

    async def _campaign_budgets(
        self, session: AsyncSession, campaigns: list[Campaign], now: datetime
    ) -> dict[uuid.UUID, tuple[int, int]]:
        """Per campaign: (calls it may add under its concurrency limit, calls left under its daily cap).

        Grouped queries (one for live calls, one per time zone for today's calls) so a pass over
        many campaigns costs a few statements, not two per campaign.
        """
        ids = [c.id for c in campaigns]
        active = dict(
            (
                await session.execute(
                    select(CallLog.campaign_id, func.count())
                    .where(CallLog.campaign_id.in_(ids), CallLog.status != CallLegStatus.ended)
                    .group_by(CallLog.campaign_id)
                )
            ).all()
        )
        today: dict[uuid.UUID, int] = {}
        by_day_start: dict[datetime, list[uuid.UUID]] = defaultdict(list)
        for campaign in campaigns:
            by_day_start[campaign_day_start(campaign, now)].append(campaign.id)
        for day_start, group in by_day_start.items():
            rows = await session.execute(
                select(CallLog.campaign_id, func.count())
                .where(CallLog.campaign_id.in_(group), CallLog.created_at >= day_start)
                .group_by(CallLog.campaign_id)
            )
            today.update(dict(rows.all()))
        return {
            c.id: (c.max_concurrent_calls - int(active.get(c.id, 0)), c.max_calls_per_day - int(today.get(c.id, 0)))
            for c in campaigns
        }

    async def _icps(self, session: AsyncSession, campaigns: list[Campaign]) -> dict[uuid.UUID, IdealCustomerProfile]:
        ids = {c.icp_id for c in campaigns if c.icp_id is not None}
        if not ids:
            return {}
        rows = await session.execute(select(IdealCustomerProfile).where(IdealCustomerProfile.id.in_(ids)))
        return {icp.id: icp for icp in rows.scalars()}

    async def _do_not_call_numbers(self, session: AsyncSession, prospects: list[Prospect]) -> dict[uuid.UUID, set[str]]:
        """Per tenant, which of these prospects' numbers are on the do-not-call list."""
        if not prospects:
            return {}
        rows = await session.execute(
            select(DoNotCallNumber.user_id, DoNotCallNumber.phone_number).where(
                DoNotCallNumber.phone_number.in_({p.phone_number for p in prospects})
            )
        )
        blocked: dict[uuid.UUID, set[str]] = defaultdict(set)
        for user_id, number in rows:
            blocked[user_id].add(number)
        return blocked

    # --- dial ------------------------------------------------------------------------------------
    async def _place(self, call: PlannedCall) -> str:
        """Render the opener (text and audio), dial, and record what happened; returns a `PassReport` field.

        The opener is rendered here, after the claim committed, so the campaign locks are held only
        for the claim itself; it is on the call log before the dial, where the bot will look for it.
        """
        call.script = ScriptGenerator.generate_script(call.icp, call.prospect, call.campaign, True, call.reserved_at)
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(CallLog)
                .where(CallLog.id == call.call_log_id)
                .values(metadata_={**call.metadata, "script": call.script})
            )
        if self.settings.dialer_prerender_opener:
            await self._prerender_opener(call)
        try:
            call_control_id = await self.dialer.initiate_call(
                call.to_number, call.from_number, call.script, call_log_id=call.call_log_id
            )
        except TelnyxAuthError as exc:
            await self._undo(call, requeue=True, reason=str(exc), pause_reason=str(exc))
            return "requeued"
        except TelnyxInvalidNumber as exc:
            await self._undo(call, requeue=False, reason=str(exc))
            return "failed"
        except TelnyxError as exc:  # 429, 5xx, timeouts (after the client's retries) and the rest
            await self._undo(call, requeue=True, reason=str(exc))
            return "requeued"
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(CallLog)
                .where(CallLog.id == call.call_log_id, CallLog.call_sid.is_(None))
                .values(call_sid=call_control_id)
            )
        return "dialed"

    async def _prerender_opener(self, call: PlannedCall) -> None:
        """Have the opener's audio in the cache before the call connects (the bot asks again at media start)."""
        try:
            from bot.assets import render_opener  # the voice stack is heavy; only dialing processes need it

            await render_opener(self.settings, call.script, call.voice_type)
        except Exception as exc:  # noqa: BLE001 - a cold cache only costs latency at media start
            logger.warning("opener pre-render failed ({}); the bot will render it at media start", type(exc).__name__)

    async def _undo(self, call: PlannedCall, *, requeue: bool, reason: str, pause_reason: str | None = None) -> None:
        """The carrier never took the call: drop its log, requeue (or fail) the prospect, maybe pause."""
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            campaign = await lock_campaign(session, call.campaign_id)
            await session.execute(delete(CallLog).where(CallLog.id == call.call_log_id))
            prospect = await session.get(Prospect, call.prospect_id, with_for_update=True, populate_existing=True)
            if prospect is not None and prospect.status == CallSequenceStatus.in_progress:
                prospect.last_error = reason
                if requeue:
                    prospect.status = (
                        CallSequenceStatus.scheduled if prospect.total_attempts else CallSequenceStatus.pending
                    )
                    prospect.next_call_at = now + REQUEUE_DELAY
                else:
                    prospect.status = CallSequenceStatus.failed
                    prospect.next_call_at = None
            if campaign is not None and pause_reason and campaign.status == CampaignStatus.active:
                campaign.status = CampaignStatus.paused
                campaign.status_reason = (
                    f"Paused: Telnyx refused our credentials ({pause_reason}). Fix TELNYX_API_KEY and activate "
                    "the campaign again."
                )
                logger.error("campaign {} paused: Telnyx refused the API key", call.campaign_id)
            if campaign is not None:
                await complete_campaign_if_done(session, campaign, now=now)
        logger.warning("call for prospect {} not placed ({})", call.prospect_id, "requeued" if requeue else "failed")

    # --- housekeeping ----------------------------------------------------------------------------
    async def release_stale_calls(self) -> int:
        """Close legs whose hang-up never arrived (``stale_call_secs``) as technical failures."""
        now = self.clock.now()
        cutoff = now - timedelta(seconds=self.settings.stale_call_secs)
        async with self.sessionmaker() as session:
            stale = list(
                (
                    await session.execute(
                        select(CallLog.id, CallLog.campaign_id).where(
                            CallLog.status != CallLegStatus.ended, CallLog.created_at < cutoff
                        )
                    )
                ).all()
            )
        for log_id, campaign_id in stale:
            async with self.sessionmaker() as session, session.begin():
                campaign = await lock_campaign(session, campaign_id)
                log = await session.get(CallLog, log_id, with_for_update=True, populate_existing=True)
                if campaign is None or log is None or log.status == CallLegStatus.ended:
                    continue
                log.status = CallLegStatus.ended
                log.ended_at = now
                log.outcome = log.outcome or CallOutcome.failed
                log.error = log.error or "No hang-up event arrived from the carrier; call closed by the dialer."
                await apply_follow_up(session, log, campaign, now=now, rules=self.rules)
        return len(stale)

    async def complete_finished_campaigns(self) -> None:
        """Complete active campaigns in which nobody can be called any more."""
        now = self.clock.now()
        open_prospects = exists().where(
            and_(
                Prospect.campaign_id == Campaign.id,
                Prospect.status.in_((*CALLABLE_STATUSES, CallSequenceStatus.in_progress)),
            )
        )
        async with self.sessionmaker() as session:
            ids = list(
                (
                    await session.execute(
                        select(Campaign.id).where(Campaign.status == CampaignStatus.active, ~open_prospects)
                    )
                ).scalars()
            )
        for campaign_id in ids:
            async with self.sessionmaker() as session, session.begin():
                campaign = await lock_campaign(session, campaign_id)
                if campaign is not None:
                    await complete_campaign_if_done(session, campaign, now=now)

    async def aclose(self) -> None:
        await self.dialer.aclose()


async def run_dialer_process(settings: Settings, *, clock: Clock | None = None, stop: asyncio.Event | None = None) -> None:
    """``coldcall dialer``: the dialer loop on its own (several may run against one PostgreSQL).

    Without Telnyx it dials the carrier twin that ``coldcall serve`` runs (same machine).
    """
    if settings.uses_real_telephony and settings.telnyx_api_key is None:
        raise SystemExit("TELNYX_API_KEY not found: export TELNYX_API_KEY=... (or unset TELEPHONY to use the carrier twin).")
    engine = create_engine(settings.database_url)
    runner = CampaignRunner(settings=settings, sessionmaker=make_sessionmaker(engine), clock=clock or Clock())
    stop = stop or asyncio.Event()
    logger.info("dialer running ({})", "Telnyx" if settings.uses_real_telephony else "carrier twin")
    try:
        await runner.run_forever(stop)
    finally:
        await runner.aclose()
        await engine.dispose()
