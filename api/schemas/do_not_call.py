"""Schemas of the tenant's do-not-call list."""

from __future__ import annotations

import uuid
from datetime import datetime

from api.schemas.common import PhoneNumber, PublicModel, RequestModel, ShortText


class DoNotCallCreate(RequestModel):
    """A number never to call again (any format; stored in E.164)."""

    phone_number: PhoneNumber
    reason: ShortText | None = None


class DoNotCallPublic(PublicModel):
    id: uuid.UUID
    phone_number: str
    reason: str | None
    created_at: datetime
