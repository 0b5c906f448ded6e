"""How a call's result reaches the database: the bot's verdict, the carrier's hang-up, and what follows.

Two sources describe a call's end and may arrive in either order: the bot (`record_bot_result`, when
the media stream ends) and the carrier's ``call.hangup`` webhook (`finish_call`). The log keeps the
better of the two outcomes (`OUTCOME_RANK`: a conversation's verdict beats anything the hang-up cause
implies), and once the leg has ended both paths apply the same idempotent follow-up
(`apply_follow_up`): the prospect's next step per `bot.policy.next_step`, an opt-out on the tenant's
do-not-call list, and the campaign counters recomputed from the logs under the campaign's row lock.

Lock order everywhere (dialer claim, webhooks, bot results): campaign row, then prospect, then log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from loguru import logger
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.policy import CALLABLE_STATUSES, next_step
from bot.settings import Settings
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
from db.queries import campaign_counters
from db.session import is_postgres

#: Higher is more informative. The bot's conversational verdicts outrank what a hang-up cause implies.
OUTCOME_RANK: dict[CallOutcome, int] = {
    CallOutcome.failed: 0,
    CallOutcome.no_answer: 1,
    CallOutcome.busy: 2,
    CallOutcome.answered: 3,
    CallOutcome.voicemail: 4,
    CallOutcome.not_interested: 5,
    CallOutcome.callback: 6,
    CallOutcome.wrong_number: 7,
    CallOutcome.interested: 8,
}

#: Telnyx ``hangup_cause`` of a call that was never answered -> outcome.
_UNANSWERED_CAUSES: dict[str, CallOutcome] = {
    "user_busy": CallOutcome.busy,
    "call_rejected": CallOutcome.busy,
    "timeout": CallOutcome.no_answer,
    "no_answer": CallOutcome.no_answer,
    "originator_cancel": CallOutcome.no_answer,
    "normal_clearing": CallOutcome.no_answer,
}


def outcome_from_hangup(cause: str | None, *, answered: bool, machine: bool = False) -> CallOutcome:
    """The outcome a hang-up implies when the bot said nothing better."""
    if machine:
        return CallOutcome.voicemail
    if answered:
        return CallOutcome.answered
    return _UNANSWERED_CAUSES.get(cause or "", CallOutcome.failed)


def better_outcome(current: CallOutcome | None, candidate: CallOutcome | None) -> CallOutcome | None:
    """The more informative of two outcomes (the current one on a tie)."""
    if candidate is None:
        return current
    if current is None or OUTCOME_RANK[candidate] > OUTCOME_RANK[current]:
        return candidate
    return current


@dataclass
class BotResult:
    """What the bot concluded about a call (C7). Transcript turns:
    ``{"speaker": "bot"|"prospect", "text", "start", "end", "latency_ms"}``, times in seconds since
    media start; ``latency_ms`` on bot turns = end of prospect speech -> first bot audio."""

    outcome: CallOutcome | None
    transcript: list[dict]
    transcription: str
    sentiment: str | None = None
    notes: str | None = None
    next_steps: str | None = None
    callback_at: datetime | None = None
    do_not_call: bool = False
    transfer_reason: str | None = None
    error: str | None = None
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RetryRules:
    """Bounds of technical retries (from settings; defaults when a caller has none)."""

    max_technical_retries: int = 3
    technical_retry_delay: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls, settings: Settings | None) -> "RetryRules":
        if settings is None:
            return cls()
        return cls(settings.max_technical_retries, timedelta(seconds=settings.technical_retry_delay_secs))


async def lock_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign | None:
    """Lock the campaign row for this transaction and return it (fresh from the database).

    PostgreSQL: ``SELECT ... FOR UPDATE``. SQLite has no row locks; a no-op UPDATE takes the
    database's write lock at once, so two writers never both read and then race to upgrade.
    """
    if not is_postgres(session):
        await session.execute(update(Campaign).where(Campaign.id == campaign_id).values(status=Campaign.status))
    result = await session.execute(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update().execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def add_to_do_not_call(session: AsyncSession, user_id: uuid.UUID, phone_number: str, reason: str) -> None:
    """Put a number on the tenant's do-not-call list (a second add is a no-op)."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    await session.execute(
        insert(DoNotCallNumber)
        .values(id=uuid.uuid4(), user_id=user_id, phone_number=phone_number, reason=reason)
        .on_conflict_do_nothing(index_elements=["user_id", "phone_number"])
    )


async def recompute_campaign_counters(session: AsyncSession, campaign: Campaign) -> None:
    """Set the campaign's counters from its call logs. The caller holds the campaign's row lock,
    and this runs as separate statements after it, so READ COMMITTED sees every committed log."""
    for name, value in (await campaign_counters(session, campaign.id)).items():
        setattr(campaign, name, value)


async def complete_campaign_if_done(session: AsyncSession, campaign: Campaign, *, now: datetime) -> bool:
    """Mark an active campaign completed when none of its prospects can be called any more."""
    if campaign.status != CampaignStatus.active:
        return False
    open_count = await session.scalar(
        select(func.count())
        .select_from(Prospect)
        .where(
            Prospect.campaign_id == campaign.id,
            Prospect.status.in_((*CALLABLE_STATUSES, CallSequenceStatus.in_progress)),
        )
    )
    if open_count:
        return False
    campaign.status = CampaignStatus.completed
    campaign.status_reason = "Every prospect has been called as far as the policy allows."
    campaign.end_date = campaign.end_date or now
    logger.info("campaign {} completed", campaign.id)
    return True


async def apply_follow_up(
    session: AsyncSession, log: CallLog, campaign: Campaign, *, now: datetime, rules: RetryRules
) -> None:
    """Apply an ended call's consequences: prospect next step, do-not-call, counters, completion.

    Idempotent (derived from the logs), so the bot result and the hang-up may both call it. The
    caller holds the campaign's row lock.
    """
    prospect = None
    if log.prospect_id is not None:
        prospect = (
            await session.execute(
                select(Prospect)
                .where(Prospect.id == log.prospect_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
    if prospect is not None:
        await _apply_prospect_step(session, log, campaign, prospect, now=now, rules=rules)
    await session.flush()
    await recompute_campaign_counters(session, campaign)
    await complete_campaign_if_done(session, campaign, now=now)


async def _apply_prospect_step(
    session: AsyncSession, log: CallLog, campaign: Campaign, prospect: Prospect, *, now: datetime, rules: RetryRules
) -> None:
    opted_out = bool((log.metadata_ or {}).get("do_not_call"))
    if opted_out or log.outcome == CallOutcome.wrong_number:
        reason = "opt-out during a call" if opted_out else "wrong number"
        await add_to_do_not_call(session, prospect.user_id, prospect.phone_number, reason)
    newer = await session.scalar(
        select(func.count())
        .select_from(CallLog)
        .where(CallLog.prospect_id == prospect.id, CallLog.id != log.id, CallLog.attempt > log.attempt)
    )
    if newer:
        return  # a later call owns the prospect's schedule; this late event must not rewind it
    prospect.last_call_outcome = log.outcome
    prospect.last_call_at = log.started_at or prospect.last_call_at
    if prospect.status in (CallSequenceStatus.do_not_call, CallSequenceStatus.failed):
        # Terminal states never move back; the call still counts as an attempt.
        prospect.total_attempts = max(prospect.total_attempts, log.attempt)
        prospect.next_call_at = None
        return
    technical_failures = 0
    if log.outcome == CallOutcome.failed:
        technical_failures = (
            await session.scalar(
                select(func.count())
                .select_from(CallLog)
                .where(
                    CallLog.prospect_id == prospect.id,
                    CallLog.attempt == log.attempt,
                    CallLog.outcome == CallOutcome.failed,
                )
            )
        ) or 0
    callback_raw = (log.metadata_ or {}).get("callback_at")
    callback_at = datetime.fromisoformat(callback_raw) if callback_raw else None
    step = next_step(
        prospect,
        campaign,
        outcome=log.outcome,
        attempt=log.attempt,
        call_started_at=log.started_at or log.created_at or now,
        technical_failures=technical_failures,
        do_not_call=opted_out,
        callback_at=callback_at,
        max_technical_retries=rules.max_technical_retries,
        technical_retry_delay=rules.technical_retry_delay,
        error=log.error,
    )
    prospect.status = step.status
    prospect.next_call_at = step.next_call_at
    prospect.total_attempts = step.total_attempts
    prospect.technical_retries = step.technical_retries
    prospect.callback_at = step.callback_at
    prospect.last_error = step.last_error
    if step.is_qualified:
        prospect.is_qualified = True


async def load_log_for_update(session: AsyncSession, call_log_id: uuid.UUID) -> tuple[CallLog, Campaign] | None:
    """The call log and its campaign, both locked in the product's lock order (campaign first)."""
    campaign_id = await session.scalar(select(CallLog.campaign_id).where(CallLog.id == call_log_id))
    if campaign_id is None:
        return None
    campaign = await lock_campaign(session, campaign_id)
    log = (
        await session.execute(
            select(CallLog).where(CallLog.id == call_log_id).with_for_update().execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if campaign is None or log is None:
        return None
    return log, campaign


async def record_bot_result(
    sessionmaker: async_sessionmaker[AsyncSession],
    call_log_id: uuid.UUID,
    result: BotResult,
    *,
    clock: Clock,
    settings: Settings | None = None,
) -> None:
    """Store the bot's verdict on the call log and apply what must happen at once.

    An opt-out goes on the tenant's do-not-call list immediately (whatever the carrier says later).
    When the hang-up has already been processed, the prospect's next step and the campaign's
    counters are applied again with the better outcome.
    """
    now = clock.now()
    async with sessionmaker() as session, session.begin():
        locked = await load_log_for_update(session, call_log_id)
        if locked is None:
            logger.warning("bot result for unknown call log {}", call_log_id)
            return
        log, campaign = locked
        log.transcript = list(result.transcript)
        log.transcription = result.transcription
        log.sentiment = result.sentiment or log.sentiment
        log.notes = result.notes or log.notes
        log.next_steps = result.next_steps or log.next_steps
        log.error = result.error or log.error
        outcome = result.outcome
        if result.do_not_call and outcome is None:
            outcome = CallOutcome.not_interested
        if log.machine_detection != "machine":  # on a machine, the detector's voicemail verdict stands
            log.outcome = better_outcome(log.outcome, outcome)
        metadata = dict(log.metadata_ or {})
        metadata.update(result.metadata)
        metadata["bot_outcome"] = outcome.value if outcome else None
        if result.transfer_reason:
            metadata["transfer_reason"] = result.transfer_reason
        if result.callback_at is not None:
            metadata["callback_at"] = result.callback_at.isoformat()
        if result.do_not_call:
            metadata["do_not_call"] = True
        log.metadata_ = metadata
        if result.do_not_call and log.prospect_id is not None:
            prospect = await session.get(Prospect, log.prospect_id, with_for_update=True)
            if prospect is not None:
                await add_to_do_not_call(session, prospect.user_id, prospect.phone_number, "opt-out during a call")
                prospect.status = CallSequenceStatus.do_not_call
                prospect.next_call_at = None
        if log.status == CallLegStatus.ended:
            await apply_follow_up(session, log, campaign, now=now, rules=RetryRules.from_settings(settings))


async def finish_call(
    session: AsyncSession,
    log: CallLog,
    campaign: Campaign,
    *,
    ended_at: datetime,
    hangup_cause: str | None,
    now: datetime,
    rules: RetryRules,
) -> None:
    """Close the leg after the carrier's hang-up (the caller holds the locks): duration, outcome
    unless the bot already set a better one, then the follow-up."""
    log.status = CallLegStatus.ended
    log.ended_at = ended_at
    log.hangup_cause = hangup_cause
    since = log.answered_at or log.started_at
    if since is not None:
        log.duration = max(0, int((ended_at - since).total_seconds()))
    machine = (log.machine_detection or "") == "machine"
    implied = outcome_from_hangup(hangup_cause, answered=log.answered_at is not None, machine=machine)
    log.outcome = better_outcome(log.outcome, implied)
    await apply_follow_up(session, log, campaign, now=now, rules=rules)
