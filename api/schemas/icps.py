"""Schemas of ideal customer profiles (ICPs)."""

from __future__ import annotations

import uuid
from datetime import datetime

from api.schemas.common import Name, PhraseList, PublicModel, RequestModel, ShortText, Text
from db.models import IcpCompanySize, IcpIndustry


class IcpCreate(RequestModel):
    """A new ICP, as in the seed's `createICP` (camelCase names accepted)."""

    name: Name
    description: Text | None = None
    industry: IcpIndustry | None = None
    company_size: IcpCompanySize | None = None
    revenue: ShortText | None = None
    location: ShortText | None = None
    pain_points: PhraseList = []
    goals: PhraseList = []
    challenges: PhraseList = []
    decision_maker_role: ShortText | None = None
    decision_maker_seniority: ShortText | None = None
    value_proposition: Text | None = None
    key_benefits: PhraseList = []
    call_script: Text | None = None
    is_active: bool = True


class IcpUpdate(RequestModel):
    """A partial change; only the fields sent are changed (send null to clear an optional one)."""

    name: Name | None = None
    description: Text | None = None
    industry: IcpIndustry | None = None
    company_size: IcpCompanySize | None = None
    revenue: ShortText | None = None
    location: ShortText | None = None
    pain_points: PhraseList | None = None
    goals: PhraseList | None = None
    challenges: PhraseList | None = None
    decision_maker_role: ShortText | None = None
    decision_maker_seniority: ShortText | None = None
    value_proposition: Text | None = None
    key_benefits: PhraseList | None = None
    call_script: Text | None = None
    is_active: bool | None = None


class IcpPublic(PublicModel):
    id: uuid.UUID
    name: str
    description: str | None
    industry: IcpIndustry | None
    company_size: IcpCompanySize | None
    revenue: str | None
    location: str | None
    pain_points: list[str]
    goals: list[str]
    challenges: list[str]
    decision_maker_role: str | None
    decision_maker_seniority: str | None
    value_proposition: str | None
    key_benefits: list[str]
    call_script: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
