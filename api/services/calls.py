"""Call-log service (read-only: the dialer and the bot write the logs)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.common import DEFAULT_PAGE_SIZE
from api.services.ownership import get_owned
from api.services.pagination import paginate
from db.models import CallLog, Profile


async def list_calls(
    session: AsyncSession,
    profile: Profile,
    *,
    campaign_id: uuid.UUID | None = None,
    prospect_id: uuid.UUID | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> tuple[Sequence[CallLog], str | None]:
    """The tenant's calls, newest first (another tenant's campaign or prospect simply matches none)."""
    stmt = select(CallLog).where(CallLog.user_id == profile.id)
    if campaign_id is not None:
        stmt = stmt.where(CallLog.campaign_id == campaign_id)
    if prospect_id is not None:
        stmt = stmt.where(CallLog.prospect_id == prospect_id)
    return await paginate(session, stmt, created_col=CallLog.created_at, id_col=CallLog.id, limit=limit, cursor=cursor)


async def get_call(session: AsyncSession, profile: Profile, call_id: uuid.UUID) -> CallLog:
    """The tenant's call log; `NotFound` for a missing one and for another tenant's."""
    return await get_owned(session, CallLog, profile, call_id, name=("Call", "Llamada"))
