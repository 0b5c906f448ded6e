"""ICP service: every rule and every write about ideal customer profiles (API and admin UI)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.common import DEFAULT_PAGE_SIZE
from api.schemas.icps import IcpCreate, IcpUpdate
from api.services.errors import refuse_nulls
from api.services.ownership import get_owned
from api.services.pagination import paginate
from db.models import IdealCustomerProfile, Profile


async def list_icps(
    session: AsyncSession,
    profile: Profile,
    *,
    is_active: bool | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> tuple[Sequence[IdealCustomerProfile], str | None]:
    """The tenant's ICPs, newest first, and the cursor of the next page."""
    stmt = select(IdealCustomerProfile).where(IdealCustomerProfile.user_id == profile.id)
    if is_active is not None:
        stmt = stmt.where(IdealCustomerProfile.is_active.is_(is_active))
    return await paginate(
        session,
        stmt,
        created_col=IdealCustomerProfile.created_at,
        id_col=IdealCustomerProfile.id,
        limit=limit,
        cursor=cursor,
    )


async def get_icp(session: AsyncSession, profile: Profile, icp_id: uuid.UUID) -> IdealCustomerProfile:
    """The tenant's ICP; `NotFound` for a missing one and for another tenant's."""
    return await get_owned(session, IdealCustomerProfile, profile, icp_id, name=("ICP", "ICP"))


async def create_icp(session: AsyncSession, profile: Profile, data: IcpCreate) -> IdealCustomerProfile:
    icp = IdealCustomerProfile(user_id=profile.id, **data.model_dump())
    session.add(icp)
    await session.commit()
    await session.refresh(icp)
    return icp


async def update_icp(
    session: AsyncSession, profile: Profile, icp_id: uuid.UUID, data: IcpUpdate
) -> IdealCustomerProfile:
    """Apply the fields that were sent; `name` cannot be cleared."""
    icp = await get_icp(session, profile, icp_id)
    changes = data.model_dump(exclude_unset=True)
    refuse_nulls(changes, ("name", "is_active"))
    for key in ("pain_points", "goals", "challenges", "key_benefits"):
        if key in changes and changes[key] is None:
            changes[key] = []
    for key, value in changes.items():
        setattr(icp, key, value)
    await session.commit()
    await session.refresh(icp)
    return icp


async def delete_icp(session: AsyncSession, profile: Profile, icp_id: uuid.UUID) -> None:
    """Delete the ICP; campaigns that used it keep running without one (`icp_id` becomes null)."""
    icp = await get_icp(session, profile, icp_id)
    await session.delete(icp)
    await session.commit()
