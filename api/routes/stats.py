"""REST v1: statistics, computed from the call logs (definitions in `db.queries`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import CurrentProfile, SessionDep
from api.schemas.common import ErrorPublic
from api.schemas.stats import StatsPublic
from api.services import stats as service

router = APIRouter(tags=["stats"], responses={401: {"model": ErrorPublic}})


@router.get("/campaigns/{campaign_id}/stats", response_model=StatsPublic, responses={404: {"model": ErrorPublic}})
async def campaign_stats(campaign_id: uuid.UUID, session: SessionDep, profile: CurrentProfile) -> StatsPublic:
    """One campaign's statistics (the seed's `getCampaignStats`); hours in its time zone."""
    return await service.campaign_stats(session, profile, campaign_id)


@router.get("/stats", response_model=StatsPublic)
async def tenant_stats(session: SessionDep, profile: CurrentProfile) -> StatsPublic:
    """All the tenant's campaigns together."""
    return await service.tenant_stats(session, profile)
