"""REST v1: ideal customer profiles."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import CurrentProfile, SessionDep
from api.routes.params import CursorParam, LimitParam
from api.schemas.common import ErrorPublic, Page
from api.schemas.icps import IcpCreate, IcpPublic, IcpUpdate
from api.services import icps as service

router = APIRouter(prefix="/icps", tags=["icps"], responses={401: {"model": ErrorPublic}, 422: {"model": ErrorPublic}})
_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such ICP for this API key."}}


@router.get("", response_model=Page[IcpPublic])
async def list_icps(
    session: SessionDep,
    profile: CurrentProfile,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
    is_active: Annotated[bool | None, Query(description="Only active (true) or inactive (false) ICPs.")] = None,
) -> Page[IcpPublic]:
    """The tenant's ICPs, newest first (the seed's `listICPs`)."""
    items, next_cursor = await service.list_icps(session, profile, is_active=is_active, limit=limit, cursor=cursor)
    return Page(items=[IcpPublic.model_validate(i) for i in items], next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=IcpPublic)
async def create_icp(data: IcpCreate, session: SessionDep, profile: CurrentProfile) -> IcpPublic:
    """Create an ICP (the seed's `createICP`; camelCase names accepted)."""
    return IcpPublic.model_validate(await service.create_icp(session, profile, data))


@router.get("/{icp_id}", response_model=IcpPublic, responses=_NOT_FOUND)
async def get_icp(icp_id: uuid.UUID, session: SessionDep, profile: CurrentProfile) -> IcpPublic:
    return IcpPublic.model_validate(await service.get_icp(session, profile, icp_id))


@router.patch("/{icp_id}", response_model=IcpPublic, responses=_NOT_FOUND)
async def update_icp(icp_id: uuid.UUID, data: IcpUpdate, session: SessionDep, profile: CurrentProfile) -> IcpPublic:
    """Change the fields sent."""
    return IcpPublic.model_validate(await service.update_icp(session, profile, icp_id, data))


@router.delete("/{icp_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
async def delete_icp(icp_id: uuid.UUID, session: SessionDep, profile: CurrentProfile) -> Response:
    """Delete the ICP; campaigns that used it keep going without one."""
    await service.delete_icp(session, profile, icp_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
