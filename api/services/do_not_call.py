"""Do-not-call service: the tenant's suppression list (numbers in any format, stored in E.164).

Adding a number also stops the tenant's prospects with that number at once (status
`do_not_call`); removing it does not re-queue them (set them back to pending on purpose).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.common import DEFAULT_PAGE_SIZE
from api.schemas.do_not_call import DoNotCallCreate
from api.services.errors import Conflict, NotFound
from api.services.ownership import get_owned
from api.services.pagination import paginate
from db.models import CallSequenceStatus, DoNotCallNumber, Profile, Prospect

_ENTRY = ("Do-not-call entry", "Número de la lista de no llamar")


async def list_do_not_call(
    session: AsyncSession,
    profile: Profile,
    *,
    phone_number: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> tuple[Sequence[DoNotCallNumber], str | None]:
    """The tenant's suppressed numbers, newest first (`phone_number`: an E.164 number to look up)."""
    stmt = select(DoNotCallNumber).where(DoNotCallNumber.user_id == profile.id)
    if phone_number is not None:
        stmt = stmt.where(DoNotCallNumber.phone_number == phone_number)
    return await paginate(
        session, stmt, created_col=DoNotCallNumber.created_at, id_col=DoNotCallNumber.id, limit=limit, cursor=cursor
    )


async def add_do_not_call(session: AsyncSession, profile: Profile, data: DoNotCallCreate) -> DoNotCallNumber:
    """Suppress a number for the whole tenant; `Conflict` when it is already on the list."""
    exists = await session.scalar(
        select(DoNotCallNumber.id).where(
            DoNotCallNumber.user_id == profile.id, DoNotCallNumber.phone_number == data.phone_number
        )
    )
    if exists is not None:
        raise Conflict(
            "This number is already on the do-not-call list.", "Este número ya está en la lista de no llamar."
        )
    entry = DoNotCallNumber(user_id=profile.id, phone_number=data.phone_number, reason=data.reason)
    session.add(entry)
    # A prospect on a call right now finishes it; the dialer checks the list before every dial.
    await session.execute(
        update(Prospect)
        .where(
            Prospect.user_id == profile.id,
            Prospect.phone_number == data.phone_number,
            Prospect.status.in_([CallSequenceStatus.pending, CallSequenceStatus.scheduled]),
        )
        .values(status=CallSequenceStatus.do_not_call, next_call_at=None)
    )
    await session.commit()
    await session.refresh(entry)
    return entry


async def remove_do_not_call(session: AsyncSession, profile: Profile, entry_id: uuid.UUID) -> None:
    """Take an entry off the list; `NotFound` for a missing one and for another tenant's."""
    entry = await get_owned(session, DoNotCallNumber, profile, entry_id, name=_ENTRY)
    await session.delete(entry)
    await session.commit()


async def remove_do_not_call_number(session: AsyncSession, profile: Profile, phone_number: str) -> None:
    """Take a number (E.164) off the list."""
    entry_id = await session.scalar(
        select(DoNotCallNumber.id).where(
            DoNotCallNumber.user_id == profile.id, DoNotCallNumber.phone_number == phone_number
        )
    )
    if entry_id is None:
        raise NotFound(*_ENTRY)
    await remove_do_not_call(session, profile, entry_id)
