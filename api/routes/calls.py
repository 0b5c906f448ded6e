"""REST v1: call logs (read-only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentProfile, SessionDep
from api.routes.params import CursorParam, LimitParam
from api.schemas.calls import CallLogPublic
from api.schemas.common import ErrorPublic, Page
from api.services import calls as service

router = APIRouter(
    prefix="/calls", tags=["calls"], responses={401: {"model": ErrorPublic}, 422: {"model": ErrorPublic}}
)


@router.get("", response_model=Page[CallLogPublic])
async def list_calls(
    session: SessionDep,
    profile: CurrentProfile,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
    campaign_id: Annotated[uuid.UUID | None, Query(description="Only this campaign's calls.")] = None,
    prospect_id: Annotated[uuid.UUID | None, Query(description="Only this prospect's calls.")] = None,
    campaign_id_camel: Annotated[uuid.UUID | None, Query(alias="campaignId", include_in_schema=False)] = None,
    prospect_id_camel: Annotated[uuid.UUID | None, Query(alias="prospectId", include_in_schema=False)] = None,
) -> Page[CallLogPublic]:
    """The tenant's calls, newest first (the seed's `listCallLogs`; `campaignId`/`prospectId` work too)."""
    campaign_id = campaign_id or campaign_id_camel
    prospect_id = prospect_id or prospect_id_camel
    items, next_cursor = await service.list_calls(
        session, profile, campaign_id=campaign_id, prospect_id=prospect_id, limit=limit, cursor=cursor
    )
    return Page(items=[CallLogPublic.model_validate(c) for c in items], next_cursor=next_cursor)


@router.get("/{call_id}", response_model=CallLogPublic, responses={404: {"model": ErrorPublic}})
async def get_call(call_id: uuid.UUID, session: SessionDep, profile: CurrentProfile) -> CallLogPublic:
    """One call with its transcript turns and per-turn latency."""
    return CallLogPublic.model_validate(await service.get_call(session, profile, call_id))
