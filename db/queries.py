"""The one definition of the call statistics, shared by the stats API and the campaign counters.

Definitions (over `cold_call_logs`; a call is one log row, i.e. one dial attempt):

- **total calls**: every call log.
- **completed**: calls whose result is known (`outcome` is set): the attempt is over.
- **answered**: completed calls a person picked up: outcome `answered`, `interested`,
  `not_interested`, `callback` or `wrong_number` (voicemail, no answer, busy and failed are not).
- **interested**: calls with outcome `interested`.
- **converted**: distinct prospects marked converted (`is_converted`) that have at least one call
  in scope (so a converted prospect counts once however many calls it took).
- **answer rate** = answered / completed; **interest rate** = interested / answered;
  **conversion rate** = converted / distinct prospects with an answered call; all in percent.
- **average duration**: mean `duration` (seconds) of answered calls that have one.
- **by hour**: completed and answered calls grouped by the local hour (campaign's time zone) at
  which the call started (`started_at`, else `created_at`); the **best hour** is the one with the
  highest answer rate among hours with at least `BEST_HOUR_MIN_CALLS` completed calls (all hours
  when none has that many); ties go to the hour with more answered calls, then the earlier hour.

The campaign counters (`total_calls`, `calls_completed`, `calls_answered`, `calls_interested`,
`conversion_rate`) are `campaign_counters(...)` of the same expressions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Integer, and_, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CallLog, CallOutcome, Campaign, Prospect

#: Outcomes that mean a person picked up.
ANSWERED_OUTCOMES: frozenset[CallOutcome] = frozenset(
    {
        CallOutcome.answered,
        CallOutcome.interested,
        CallOutcome.not_interested,
        CallOutcome.callback,
        CallOutcome.wrong_number,
    }
)
#: Below this many completed calls an hour only competes for "best hour" when no hour has more.
BEST_HOUR_MIN_CALLS = 5


def is_completed() -> ColumnElement[bool]:
    """A call whose result is known."""
    return CallLog.outcome.is_not(None)


def is_answered() -> ColumnElement[bool]:
    """A call a person picked up."""
    return CallLog.outcome.in_(sorted(ANSWERED_OUTCOMES))


def is_interested() -> ColumnElement[bool]:
    return CallLog.outcome == CallOutcome.interested


def call_started_at() -> ColumnElement[datetime]:
    """When a call started (the dial time; the row's creation when it never reached the carrier)."""
    return func.coalesce(CallLog.started_at, CallLog.created_at)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def percent(numerator: int, denominator: int) -> float:
    """`numerator / denominator` in percent with two decimals; 0 when the denominator is 0."""
    return round(100.0 * numerator / denominator, 2) if denominator else 0.0


@dataclass
class HourBucket:
    hour: int
    completed: int = 0
    answered: int = 0

    @property
    def answer_rate(self) -> float:
        return percent(self.answered, self.completed)


@dataclass
class CallStats:
    """The statistics of a set of calls (see the module docstring for each definition)."""

    total_calls: int = 0
    completed: int = 0
    answered: int = 0
    interested: int = 0
    converted: int = 0
    prospects_answered: int = 0
    average_duration_answered: float | None = None
    by_hour: list[HourBucket] = field(default_factory=list)

    @property
    def answer_rate(self) -> float:
        return percent(self.answered, self.completed)

    @property
    def interest_rate(self) -> float:
        return percent(self.interested, self.answered)

    @property
    def conversion_rate(self) -> float:
        return percent(self.converted, self.prospects_answered)

    @property
    def best_hour(self) -> int | None:
        candidates = [b for b in self.by_hour if b.completed >= BEST_HOUR_MIN_CALLS] or [
            b for b in self.by_hour if b.completed
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda b: (-b.answer_rate, -b.answered, b.hour)).hour


async def _totals(session: AsyncSession, scope: ColumnElement[bool]) -> CallStats:
    row = (
        await session.execute(
            select(
                func.count(CallLog.id),
                _count(is_completed()),
                _count(is_answered()),
                _count(is_interested()),
                func.avg(case((and_(is_answered(), CallLog.duration.is_not(None)), CallLog.duration))),
                func.count(distinct(case((is_answered(), CallLog.prospect_id)))),
            ).where(scope)
        )
    ).one()
    converted = (
        await session.execute(
            select(func.count(distinct(Prospect.id)))
            .select_from(CallLog)
            .join(Prospect, Prospect.id == CallLog.prospect_id)
            .where(scope, Prospect.is_converted.is_(True))
        )
    ).scalar_one()
    return CallStats(
        total_calls=int(row[0]),
        completed=int(row[1]),
        answered=int(row[2]),
        interested=int(row[3]),
        average_duration_answered=round(float(row[4]), 2) if row[4] is not None else None,
        prospects_answered=int(row[5]),
        converted=int(converted),
    )


#: Calls are grouped in 15-minute buckets of UTC time: every time zone's offset is a multiple of
#: 15 minutes, so each bucket falls in exactly one local hour of any zone.
_BUCKET_SECS = 900


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def _by_hour(session: AsyncSession, scope: ColumnElement[bool]) -> list[HourBucket]:
    """Completed/answered calls per local hour of day, in each call's campaign time zone.

    The database groups by (campaign time zone, 15-minute UTC bucket) -- a bounded number of rows
    -- and zoneinfo turns each bucket into a local hour. That is exact on both databases and does
    not depend on PostgreSQL knowing every zone Python knows.
    """
    started = call_started_at()
    if session.bind.dialect.name == "postgresql":
        # date_part gives a double; extract() gives numeric since PostgreSQL 14 (twice as slow here).
        bucket = func.floor(func.date_part("epoch", started) / _BUCKET_SECS)
    else:
        bucket = func.cast(func.strftime("%s", started), Integer) / _BUCKET_SECS
    stmt = (
        select(Campaign.timezone, bucket, _count(is_completed()), _count(is_answered()))
        .select_from(CallLog)
        .join(Campaign, Campaign.id == CallLog.campaign_id)
        .where(scope, is_completed())
        .group_by(Campaign.timezone, bucket)
    )
    buckets: dict[int, HourBucket] = {}
    for tz_name, index, completed, answered in (await session.execute(stmt)).all():
        hour = datetime.fromtimestamp(int(index) * _BUCKET_SECS, UTC).astimezone(_zone(tz_name)).hour
        entry = buckets.setdefault(hour, HourBucket(hour))
        entry.completed += int(completed)
        entry.answered += int(answered)
    return [buckets[h] for h in sorted(buckets)]


async def call_stats(
    session: AsyncSession, *, user_id: uuid.UUID, campaign_id: uuid.UUID | None = None
) -> CallStats:
    """Statistics of one campaign's calls, or of all the tenant's calls when `campaign_id` is None."""
    scope = CallLog.user_id == user_id
    if campaign_id is not None:
        scope = and_(scope, CallLog.campaign_id == campaign_id)
    stats = await _totals(session, scope)
    stats.by_hour = await _by_hour(session, scope)
    return stats


async def campaign_counters(session: AsyncSession, campaign_id: uuid.UUID) -> dict[str, int]:
    """The campaign row's counters, from its call logs (assign them to the `Campaign` columns)."""
    stats = await _totals(session, CallLog.campaign_id == campaign_id)
    return {
        "total_calls": stats.total_calls,
        "calls_completed": stats.completed,
        "calls_answered": stats.answered,
        "calls_interested": stats.interested,
        "conversion_rate": round(stats.conversion_rate),
    }
