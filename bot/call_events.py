"""Applying Telnyx Call Control webhooks to the call logs: once each, never backwards.

`apply_call_event` takes an already verified event (``{"data": {"id", "event_type", "occurred_at",
"payload"}}``). In one transaction it records the event id (a redelivered event is a no-op), locks the
campaign and the call log (lock order: campaign, prospect, log) and moves the log forward only
(`db.models.CALL_LEG_ORDER`). Facts that arrive late still count: an ``call.answered`` after the
``call.hangup`` fills in the answer time and upgrades a "no answer" to "answered"; the follow-up is
then applied again (it is idempotent). Carrier actions the event calls for (the voicemail drop, a
hang-up) run after the commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from loguru import logger
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.outcomes import RetryRules, apply_follow_up, better_outcome, finish_call, load_log_for_update, outcome_from_hangup
from bot.settings import Settings
from bot.telnyx_client import TelnyxCallControl, TelnyxError, decode_client_state
from db.models import CALL_LEG_ORDER, CallLegStatus, CallLog, CallOutcome, Campaign, WebhookEvent
from db.session import is_postgres

MACHINE_DETECTION_EVENTS = ("call.machine.premium.detection.ended", "call.machine.detection.ended")
GREETING_ENDED_EVENTS = ("call.machine.premium.greeting.ended", "call.machine.greeting.ended")
HUMAN_RESULTS = ("human", "human_residence", "human_business")


@dataclass
class CarrierAction:
    """Something to ask the carrier once the event's transaction has committed."""

    kind: str  # "hangup" | "voicemail"
    call_control_id: str
    campaign_id: uuid.UUID | None = None


@dataclass
class EventResult:
    """What applying one event did (returned to the webhook route and the tests)."""

    status: str  # "applied" | "duplicate" | "unknown_call" | "ignored"
    call_log_id: uuid.UUID | None = None
    actions: list[CarrierAction] = field(default_factory=list)


def parse_time(value: object) -> datetime | None:
    """Telnyx's ISO 8601 timestamps (``2025-11-23T03:30:00.076316Z``) as aware datetimes."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def advance_status(log: CallLog, status: CallLegStatus) -> bool:
    """Move the leg forward to ``status``; a step backwards is refused."""
    if CALL_LEG_ORDER[status] > CALL_LEG_ORDER[log.status]:
        log.status = status
        return True
    return False


async def _record_event_id(session: AsyncSession, event_id: str, event_type: str, occurred_at: datetime | None) -> uuid.UUID | None:
    """Insert the event id; None when it was already applied (unique ``event_id``)."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    row_id = uuid.uuid4()
    result = await session.execute(
        insert(WebhookEvent)
        .values(id=row_id, event_id=event_id, event_type=event_type, occurred_at=occurred_at)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(WebhookEvent.id)
    )
    return result.scalar_one_or_none()


async def _find_call_log_id(session: AsyncSession, payload: dict) -> uuid.UUID | None:
    call_log_id = decode_client_state(payload.get("client_state"))
    if call_log_id is not None:
        exists = await session.scalar(select(CallLog.id).where(CallLog.id == call_log_id))
        if exists is not None:
            return call_log_id
    call_control_id = payload.get("call_control_id")
    if call_control_id:
        return await session.scalar(select(CallLog.id).where(CallLog.call_sid == call_control_id))
    return None


async def apply_call_event(
    sessionmaker: async_sessionmaker[AsyncSession],
    event: dict,
    *,
    clock: Clock,
    settings: Settings | None = None,
) -> EventResult:
    """Apply one verified Telnyx event (see the module docstring); returns what happened."""
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict) or not data.get("id") or not data.get("event_type"):
        raise ValueError("A Telnyx webhook needs data.id and data.event_type.")
    event_id, event_type = str(data["id"]), str(data["event_type"])
    payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
    now = clock.now()
    occurred_at = parse_time(data.get("occurred_at")) or now
    rules = RetryRules.from_settings(settings)
    async with sessionmaker() as session, session.begin():
        if await _record_event_id(session, event_id, event_type, occurred_at) is None:
            return EventResult("duplicate")
        call_log_id = await _find_call_log_id(session, payload)
        if call_log_id is None:
            logger.debug("telnyx event {} for a call we do not know", event_type)
            return EventResult("unknown_call")
        locked = await load_log_for_update(session, call_log_id)
        if locked is None:
            return EventResult("unknown_call")
        log, campaign = locked
        await session.execute(
            WebhookEvent.__table__.update().where(WebhookEvent.event_id == event_id).values(call_log_id=log.id)
        )
        result = EventResult("applied", log.id)
        await _apply(session, log, campaign, event_type, payload, occurred_at, now=now, rules=rules, result=result)
    return result


async def _apply(
    session: AsyncSession,
    log: CallLog,
    campaign: Campaign,
    event_type: str,
    payload: dict,
    occurred_at: datetime,
    *,
    now: datetime,
    rules: RetryRules,
    result: EventResult,
) -> None:
    call_control_id = payload.get("call_control_id") or log.call_sid
    if call_control_id and log.call_sid is None:
        log.call_sid = call_control_id
    if payload.get("call_session_id") and log.call_session_id is None:
        log.call_session_id = payload["call_session_id"]
    metadata = dict(log.metadata_ or {})
    ended = log.status == CallLegStatus.ended

    if event_type == "call.initiated":
        log.started_at = log.started_at or occurred_at
    elif event_type == "call.answered":
        late = ended and log.answered_at is None
        log.answered_at = log.answered_at or occurred_at
        advance_status(log, CallLegStatus.answered)
        if late:
            # The hang-up came first: it judged the call unanswered. Correct it and re-apply.
            if log.ended_at is not None:
                log.duration = max(0, int((log.ended_at - log.answered_at).total_seconds()))
            implied = outcome_from_hangup(log.hangup_cause, answered=True, machine=log.machine_detection == "machine")
            log.outcome = better_outcome(log.outcome, implied)
            await apply_follow_up(session, log, campaign, now=now, rules=rules)
    elif event_type in MACHINE_DETECTION_EVENTS:
        detection = str(payload.get("result") or "not_sure")
        if detection == "machine":
            log.machine_detection = "machine"
            log.outcome = CallOutcome.voicemail  # a machine's verdict beats whatever the bot heard
        elif detection in HUMAN_RESULTS:
            log.machine_detection = "human"
        elif detection == "fax_detected":
            log.machine_detection = "fax"
            log.outcome = better_outcome(log.outcome, CallOutcome.wrong_number)
            if not ended and call_control_id:
                result.actions.append(CarrierAction("hangup", call_control_id))
        else:
            log.machine_detection = log.machine_detection or detection
        if ended:
            await apply_follow_up(session, log, campaign, now=now, rules=rules)
    elif event_type in GREETING_ENDED_EVENTS:
        if log.machine_detection == "machine" and not metadata.get("voicemail_started") and not ended and call_control_id:
            metadata["voicemail_started"] = occurred_at.isoformat()
            result.actions.append(CarrierAction("voicemail", call_control_id, campaign.id))
    elif event_type == "call.playback.ended":
        if metadata.get("voicemail_started") and not ended and call_control_id:
            metadata["voicemail_left"] = True
            result.actions.append(CarrierAction("hangup", call_control_id))
    elif event_type in ("streaming.started", "streaming.stopped"):
        metadata["stream"] = event_type.split(".", 1)[1]
    elif event_type == "streaming.failed":
        metadata["stream"] = "failed"
        reason = str(payload.get("failure_reason") or "unknown reason")
        log.error = log.error or f"Media stream failed: {reason}"
        if log.machine_detection != "machine":
            # Without the stream the bot cannot speak: end the call; a technical failure is retried.
            log.outcome = better_outcome(log.outcome, CallOutcome.failed)
            if not ended and call_control_id:
                result.actions.append(CarrierAction("hangup", call_control_id))
    elif event_type == "call.bridged":
        if log.answered_at is not None:
            metadata["transferred_at"] = occurred_at.isoformat()
            metadata["transferred"] = True
    elif event_type == "call.hangup":
        if not ended:
            await finish_call(
                session,
                log,
                campaign,
                ended_at=occurred_at,
                hangup_cause=payload.get("hangup_cause"),
                now=now,
                rules=rules,
            )
            metadata["hangup_source"] = payload.get("hangup_source")
    else:
        result.status = "ignored"
    log.metadata_ = metadata


async def run_carrier_actions(
    actions: list[CarrierAction], *, call_control: TelnyxCallControl, voicemail_url: str
) -> None:
    """Perform the carrier actions of an applied event (after its commit); failures are logged."""
    for action in actions:
        try:
            if action.kind == "voicemail":
                url = voicemail_url.format(campaign_id=action.campaign_id)
                await call_control.start_playback(action.call_control_id, audio_url=url)
            elif action.kind == "hangup":
                await call_control.hangup(action.call_control_id)
        except TelnyxError as exc:
            logger.warning("carrier action {} failed: {}", action.kind, type(exc).__name__)
            if action.kind == "voicemail":
                # Leave no half-finished voicemail: hang up instead.
                try:
                    await call_control.hangup(action.call_control_id)
                except TelnyxError:
                    logger.warning("hang-up after a failed voicemail drop failed too")
