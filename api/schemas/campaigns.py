"""Schemas of cold-call campaigns.

Cross-field rules (window order, script placeholders, the ICP belonging to the tenant) live in
`api.services.campaigns`, because an update must be checked against the stored campaign.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from api.schemas.common import (
    Moment,
    Name,
    PhoneNumber,
    PublicModel,
    RequestModel,
    Text,
    TimeZoneName,
    problem,
)
from db.models import CampaignStatus, VoiceType

WindowHour = Annotated[int, Field(ge=0, le=24)]
#: Days after the first attempt at which a further attempt falls (the seed's follow-up spacing).
FollowUpDays = Annotated[list[Annotated[int, Field(ge=1, le=365)]], Field(max_length=20)]
ReplyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
ReplyKey = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
]
LanguageTag = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z]{2}-[A-Z]{2}$")]


class Objection(RequestModel):
    """An objection with its own trigger phrases (see `processors.intents` for how they match)."""

    triggers: Annotated[list[ReplyText], Field(min_length=1, max_length=30)] | ReplyText
    response: ReplyText


#: Objection key (e.g. "ya_tenemos_proveedor") -> the answer text (the key, read with spaces, is
#: then the trigger phrase) or {"triggers": [...], "response": "..."}.
ObjectionHandling = Annotated[dict[ReplyKey, ReplyText | Objection], Field(max_length=50)]
ReplyTexts = Annotated[dict[ReplyKey, ReplyText], Field(max_length=50)]


class CampaignCreate(RequestModel):
    """A new campaign (always created as `draft`), as in the seed's `createCampaign`."""

    name: Name
    description: Text | None = None
    goal: Text | None = None
    icp_id: uuid.UUID | None = None
    max_calls_per_day: Annotated[int, Field(ge=1, le=100_000)] = 50
    max_concurrent_calls: Annotated[int, Field(ge=1, le=1000)] = 5
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 3
    call_window_start: WindowHour = 9
    call_window_end: WindowHour = 18
    timezone: TimeZoneName = "Europe/Madrid"
    language: LanguageTag = "es-ES"
    #: Text with {{placeholders}}; unknown placeholders are refused (see `bot.script.KNOWN_PLACEHOLDERS`).
    script_template: Text | None = None
    objection_handling: ObjectionHandling = {}
    follow_up_sequence: FollowUpDays = [1, 3, 7]
    #: The number we call from (E.164 after normalisation); required before activation.
    caller_id: PhoneNumber | None = None
    #: The seller who takes hot transfers.
    transfer_number: PhoneNumber | None = None
    voice_type: VoiceType = VoiceType.male_professional
    #: Intent -> reply text; unset keys take the defaults of `bot.replies.DEFAULT_REPLIES`.
    pregenerated_replies: ReplyTexts | None = None
    start_date: Moment | None = None
    end_date: Moment | None = None


class CampaignUpdate(RequestModel):
    """A partial change (status changes go through `POST /campaigns/{id}/status`)."""

    @model_validator(mode="before")
    @classmethod
    def _no_status(cls, data: object) -> object:
        if isinstance(data, dict) and "status" in data:
            raise problem(
                "status is changed with POST /api/v1/campaigns/{id}/status, not with PATCH.",
                "El estado se cambia con los botones de estado (POST /api/v1/campaigns/{id}/status).",
            )
        return data

    name: Name | None = None
    description: Text | None = None
    goal: Text | None = None
    icp_id: uuid.UUID | None = None
    max_calls_per_day: Annotated[int, Field(ge=1, le=100_000)] | None = None
    max_concurrent_calls: Annotated[int, Field(ge=1, le=1000)] | None = None
    max_attempts: Annotated[int, Field(ge=1, le=20)] | None = None
    call_window_start: WindowHour | None = None
    call_window_end: WindowHour | None = None
    timezone: TimeZoneName | None = None
    language: LanguageTag | None = None
    script_template: Text | None = None
    objection_handling: ObjectionHandling | None = None
    follow_up_sequence: FollowUpDays | None = None
    caller_id: PhoneNumber | None = None
    transfer_number: PhoneNumber | None = None
    voice_type: VoiceType | None = None
    pregenerated_replies: ReplyTexts | None = None
    start_date: Moment | None = None
    end_date: Moment | None = None


class CampaignStatusUpdate(RequestModel):
    """`{"status": ...}`; the seed's `updateCampaignStatus` also sends `campaignId` (must match the path)."""

    status: CampaignStatus
    campaign_id: uuid.UUID | None = None


class CampaignPublic(PublicModel):
    id: uuid.UUID
    icp_id: uuid.UUID | None
    name: str
    description: str | None
    goal: str | None
    status: CampaignStatus
    status_reason: str | None
    max_calls_per_day: int
    max_concurrent_calls: int
    max_attempts: int
    call_window_start: int
    call_window_end: int
    timezone: str
    language: str
    script_template: str | None
    objection_handling: dict[str, Any]
    follow_up_sequence: list[int]
    caller_id: str | None
    transfer_number: str | None
    voice_type: VoiceType
    pregenerated_replies: dict[str, Any]
    total_calls: int
    calls_completed: int
    calls_answered: int
    calls_interested: int
    conversion_rate: int
    start_date: datetime | None
    end_date: datetime | None
    created_at: datetime
    updated_at: datetime
