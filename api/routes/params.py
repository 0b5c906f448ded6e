"""Query parameters shared by the list endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.schemas.common import MAX_PAGE_SIZE

LimitParam = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size (1 to 200).")]
CursorParam = Annotated[
    str | None, Query(max_length=512, description="The `next_cursor` of the previous page; omit for the first page.")
]
