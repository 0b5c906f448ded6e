"""Loading one of a tenant's rows: the single place that turns "not yours" into "not found"."""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.services.errors import NotFound
from db.models import Base, Profile
from db.session import is_postgres

RowT = TypeVar("RowT", bound=Base)


async def get_owned(
    session: AsyncSession,
    model: type[RowT],
    profile: Profile,
    row_id: uuid.UUID,
    *,
    name: tuple[str, str],
    for_update: bool = False,
) -> RowT:
    """The row of `model` with `row_id` that belongs to `profile`; `NotFound` (named by `name`,
    English and Spanish) for a missing row and for another tenant's alike. `for_update` locks the
    row on PostgreSQL (SQLite serialises writers anyway)."""
    stmt = select(model).where(model.id == row_id, model.user_id == profile.id)
    if for_update and is_postgres(session):
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        raise NotFound(*name)
    return row
