"""Schemas of prospects and of the CSV import report.

`consent_basis` is optional on input, but the dialer never calls a prospect without one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from api.schemas.common import (
    Moment,
    Email,
    Name,
    PhoneNumber,
    PublicModel,
    RegionCode,
    RequestModel,
    ShortText,
    Text,
    TimeZoneName,
    WebUrl,
)
from db.models import CallOutcome, CallSequenceStatus, ConsentBasis

CustomFields = Annotated[dict[str, Any], Field(max_length=100)]


class ProspectCreate(RequestModel):
    """A new prospect, as in the seed's `addProspect` (camelCase names accepted)."""

    full_name: Name
    phone_number: PhoneNumber
    company: ShortText | None = None
    role: ShortText | None = None
    email: Email | None = None
    linkedin_url: WebUrl | None = None
    notes: Text | None = None
    custom_fields: CustomFields = {}
    region: RegionCode | None = None
    timezone: TimeZoneName | None = None
    consent_basis: Annotated[
        ConsentBasis | None,
        Field(
            description="The lawful basis for calling. Optional here, but the dialer never calls a prospect "
            "without one."
        ),
    ] = None
    client_id: uuid.UUID | None = None
    #: The seed sends `campaignId` in the body; when given it must match the path.
    campaign_id: uuid.UUID | None = None


class ProspectUpdate(RequestModel):
    """A partial change. `status` may be set to pending/scheduled (call again, at `next_call_at` or
    now), completed (stop) or do_not_call; `in_progress` belongs to the dialer."""

    full_name: Name | None = None
    phone_number: PhoneNumber | None = None
    company: ShortText | None = None
    role: ShortText | None = None
    email: Email | None = None
    linkedin_url: WebUrl | None = None
    notes: Text | None = None
    custom_fields: CustomFields | None = None
    region: RegionCode | None = None
    timezone: TimeZoneName | None = None
    consent_basis: ConsentBasis | None = None
    client_id: uuid.UUID | None = None
    status: CallSequenceStatus | None = None
    next_call_at: Moment | None = None
    callback_at: Moment | None = None
    is_qualified: bool | None = None
    is_converted: bool | None = None


class ProspectPublic(PublicModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    client_id: uuid.UUID | None
    full_name: str
    company: str | None
    role: str | None
    phone_number: str
    email: str | None
    linkedin_url: str | None
    notes: str | None
    custom_fields: dict[str, Any]
    region: str | None
    timezone: str | None
    consent_basis: ConsentBasis | None
    status: CallSequenceStatus
    current_step: int
    total_attempts: int
    last_call_outcome: CallOutcome | None
    last_call_at: datetime | None
    next_call_at: datetime | None
    callback_at: datetime | None
    last_error: str | None
    is_qualified: bool
    is_converted: bool
    converted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ImportRowError(BaseModel):
    """A CSV row that was not imported: its line number in the file and why."""

    line: int
    reason: str
    reason_es: str


class ProspectImportReport(BaseModel):
    """What a CSV import did."""

    total_rows: int
    imported: int
    skipped_duplicates: int
    #: The first 1000 bad rows; `errors_omitted` counts the rest.
    errors: list[ImportRowError]
    errors_omitted: int = 0
