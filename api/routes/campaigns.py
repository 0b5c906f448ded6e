"""REST v1: campaigns and their status life cycle."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, status

from api.deps import ClockDep, CurrentProfile, SessionDep, SettingsDep
from api.routes.params import CursorParam, LimitParam
from api.schemas.campaigns import CampaignCreate, CampaignPublic, CampaignStatusUpdate, CampaignUpdate
from api.schemas.common import ErrorPublic, Page
from api.services import campaigns as service
from api.services.errors import ValidationProblem
from db.models import CampaignStatus

router = APIRouter(
    prefix="/campaigns", tags=["campaigns"], responses={401: {"model": ErrorPublic}, 422: {"model": ErrorPublic}}
)
_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such campaign for this API key."}}


@router.get("", response_model=Page[CampaignPublic])
async def list_campaigns(
    session: SessionDep,
    profile: CurrentProfile,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
    status_: Annotated[
        CampaignStatus | None, Query(alias="status", description="Only campaigns in this status.")
    ] = None,
) -> Page[CampaignPublic]:
    """The tenant's campaigns, newest first (the seed's `listCampaigns`)."""
    items, next_cursor = await service.list_campaigns(session, profile, status=status_, limit=limit, cursor=cursor)
    return Page(items=[CampaignPublic.model_validate(c) for c in items], next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CampaignPublic)
async def create_campaign(data: CampaignCreate, session: SessionDep, profile: CurrentProfile) -> CampaignPublic:
    """Create a draft campaign (the seed's `createCampaign`). Unknown `{{placeholders}}` are a 422."""
    return CampaignPublic.model_validate(await service.create_campaign(session, profile, data))


@router.get("/{campaign_id}", response_model=CampaignPublic, responses=_NOT_FOUND)
async def get_campaign(campaign_id: uuid.UUID, session: SessionDep, profile: CurrentProfile) -> CampaignPublic:
    return CampaignPublic.model_validate(await service.get_campaign(session, profile, campaign_id))


@router.patch("/{campaign_id}", response_model=CampaignPublic, responses={**_NOT_FOUND, 409: {"model": ErrorPublic}})
async def update_campaign(
    campaign_id: uuid.UUID,
    data: CampaignUpdate,
    session: SessionDep,
    profile: CurrentProfile,
    settings: SettingsDep,
    tasks: BackgroundTasks,
) -> CampaignPublic:
    """Change the fields sent (status changes: `POST /campaigns/{id}/status`)."""
    campaign = await service.update_campaign(session, profile, campaign_id, data, settings=settings, tasks=tasks)
    return CampaignPublic.model_validate(campaign)


@router.post(
    "/{campaign_id}/status", response_model=CampaignPublic, responses={**_NOT_FOUND, 409: {"model": ErrorPublic}}
)
async def change_status(
    campaign_id: uuid.UUID,
    data: CampaignStatusUpdate,
    session: SessionDep,
    profile: CurrentProfile,
    settings: SettingsDep,
    clock: ClockDep,
    tasks: BackgroundTasks,
) -> CampaignPublic:
    """Move the campaign (the seed's `updateCampaignStatus`): draft→active, active↔paused,
    active/paused→completed, any→archived; anything else is 409."""
    if data.campaign_id is not None and data.campaign_id != campaign_id:
        raise ValidationProblem.single(
            "campaign_id",
            "campaign_id: the body names another campaign than the URL; leave it out or make them equal.",
            "La campaña del cuerpo no coincide con la de la dirección.",
        )
    campaign = await service.change_campaign_status(
        session, profile, campaign_id, data.status, settings=settings, clock=clock, tasks=tasks
    )
    return CampaignPublic.model_validate(campaign)
