"""Keyset pagination with an opaque cursor, shared by every list endpoint.

A cursor is the (created_at, id) of the last row of a page, base64url-encoded JSON, so pages stay
stable while rows are added and each page is one indexed range scan (no OFFSET).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from api.services.errors import ValidationProblem

def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor names; a `ValidationProblem` on the `cursor` field when it is not one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        when = datetime.fromisoformat(created)
        if when.tzinfo is None or not 2000 <= when.year <= 2200:
            raise ValueError("not a position this API hands out")
        return when, uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeError):
        raise ValidationProblem.single(
            "cursor",
            "cursor: this is not a cursor returned by this API; pass back the next_cursor of the previous page.",
            "El cursor no es válido; usa el valor next_cursor de la página anterior.",
        ) from None


async def paginate(
    session: AsyncSession,
    stmt: Select,
    *,
    created_col: InstrumentedAttribute,
    id_col: InstrumentedAttribute,
    limit: int,
    cursor: str | None,
    newest_first: bool = True,
) -> tuple[Sequence, str | None]:
    """One page of `stmt` (a select of ORM rows) in (created_at, id) order, and the next cursor."""
    if cursor:
        when, row_id = decode_cursor(cursor)
        if newest_first:
            stmt = stmt.where(or_(created_col < when, and_(created_col == when, id_col < row_id)))
        else:
            stmt = stmt.where(or_(created_col > when, and_(created_col == when, id_col > row_id)))
    order = (created_col.desc(), id_col.desc()) if newest_first else (created_col.asc(), id_col.asc())
    rows = (await session.execute(stmt.order_by(*order).limit(limit + 1))).scalars().all()
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(getattr(last, created_col.key), getattr(last, id_col.key))
