"""Statistics service: computed from the call logs on every request (definitions in `db.queries`)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.stats import HourStats, StatsPublic
from api.services.campaigns import get_campaign
from db.models import Profile
from db.queries import CallStats, call_stats


def _public(stats: CallStats, campaign_id: uuid.UUID | None) -> StatsPublic:
    return StatsPublic(
        campaign_id=campaign_id,
        total_calls=stats.total_calls,
        completed=stats.completed,
        answered=stats.answered,
        interested=stats.interested,
        converted=stats.converted,
        answer_rate=stats.answer_rate,
        interest_rate=stats.interest_rate,
        conversion_rate=stats.conversion_rate,
        average_duration_answered=stats.average_duration_answered,
        answer_rate_by_hour=[
            HourStats(hour=b.hour, completed=b.completed, answered=b.answered, answer_rate=b.answer_rate)
            for b in stats.by_hour
        ],
        best_hour=stats.best_hour,
    )


async def campaign_stats(session: AsyncSession, profile: Profile, campaign_id: uuid.UUID) -> StatsPublic:
    """One campaign's statistics; hours are in the campaign's time zone."""
    await get_campaign(session, profile, campaign_id)
    return _public(await call_stats(session, user_id=profile.id, campaign_id=campaign_id), campaign_id)


async def tenant_stats(session: AsyncSession, profile: Profile) -> StatsPublic:
    """All the tenant's campaigns together; each call's hour is in its own campaign's time zone."""
    return _public(await call_stats(session, user_id=profile.id), None)
