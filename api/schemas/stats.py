"""Schemas of campaign statistics (definitions in `db.queries`)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class HourStats(BaseModel):
    """Completed and answered calls that started in one hour of the day (campaign's local time)."""

    hour: int
    completed: int
    answered: int
    answer_rate: float


class StatsPublic(BaseModel):
    """Call statistics of one campaign (`campaign_id` set) or of all the tenant's campaigns.

    Rates are percentages with two decimals (0 when the denominator is 0)."""

    campaign_id: uuid.UUID | None = None
    total_calls: int
    completed: int
    answered: int
    interested: int
    converted: int
    answer_rate: float
    interest_rate: float
    conversion_rate: float
    average_duration_answered: float | None
    answer_rate_by_hour: list[HourStats]
    best_hour: int | None
