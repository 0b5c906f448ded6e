"""Schemas of call logs (read-only: the dialer and the bot write them)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import PublicModel
from db.models import CallLegStatus, CallOutcome


class TranscriptTurn(BaseModel):
    """One turn; times in seconds from media start, `latency_ms` on bot turns."""

    speaker: str
    text: str
    start: float | None = None
    end: float | None = None
    latency_ms: float | None = None


class CallLogPublic(PublicModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    prospect_id: uuid.UUID | None
    call_sid: str | None
    call_session_id: str | None
    from_number: str | None
    to_number: str | None
    attempt: int
    status: CallLegStatus
    started_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int | None
    outcome: CallOutcome | None
    hangup_cause: str | None
    machine_detection: str | None
    transcription: str | None
    transcript: list[dict[str, Any]]
    recording_url: str | None
    sentiment: str | None
    notes: str | None
    next_steps: str | None
    error: str | None
    metadata: dict[str, Any] = Field(validation_alias="metadata_")
    created_at: datetime
    updated_at: datetime
