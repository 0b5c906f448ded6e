"""SQLAlchemy 2 models: one set that runs on PostgreSQL (asyncpg) and SQLite (aiosqlite).

Tables follow the seed (`ideal_customer_profiles`, `cold_call_campaigns`, `cold_call_prospects`,
`cold_call_logs`) plus what the product needs: `profiles` (the tenant), `api_keys` (hashed),
`clients` (minimal CRM contact), `do_not_call_numbers` (per-tenant suppression list) and
`telnyx_webhook_events` (one row per applied webhook, for idempotency).

Every tenant-owned row carries `user_id` (the seed's name for the owning profile).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import JSONType, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, list[Any]: JSONType}


# --- Enums (values are what the API and the database store) ----------------------------------


class CampaignStatus(enum.StrEnum):
    draft = "draft"
    active = "active"
    paused = "paused"
    completed = "completed"
    archived = "archived"


class CallOutcome(enum.StrEnum):
    """The seed's nine call outcomes."""

    answered = "answered"
    no_answer = "no_answer"
    voicemail = "voicemail"
    busy = "busy"
    failed = "failed"
    interested = "interested"
    not_interested = "not_interested"
    callback = "callback"
    wrong_number = "wrong_number"


class CallSequenceStatus(enum.StrEnum):
    """Where a prospect stands in the campaign's call sequence."""

    pending = "pending"  # never called yet; due at next_call_at
    scheduled = "scheduled"  # a further attempt (or a callback) is due at next_call_at
    in_progress = "in_progress"  # claimed by a dialer / on a call now
    completed = "completed"  # nothing more to do (answered, declined, qualified, attempts spent)
    do_not_call = "do_not_call"  # opted out or wrong number: never called again
    failed = "failed"  # the number cannot be called (carrier refused it); reason in last_error


class IcpIndustry(enum.StrEnum):
    technology = "technology"
    saas = "saas"
    ecommerce = "ecommerce"
    retail = "retail"
    manufacturing = "manufacturing"
    logistics = "logistics"
    construction = "construction"
    real_estate = "real_estate"
    finance = "finance"
    insurance = "insurance"
    healthcare = "healthcare"
    education = "education"
    hospitality = "hospitality"
    professional_services = "professional_services"
    marketing = "marketing"
    legal = "legal"
    energy = "energy"
    agriculture = "agriculture"
    public_sector = "public_sector"
    other = "other"


class IcpCompanySize(enum.StrEnum):
    """EU SME bands (Recommendation 2003/361/EC) plus enterprise."""

    micro = "micro"  # < 10 employees
    small = "small"  # 10-49
    medium = "medium"  # 50-249
    large = "large"  # 250-999
    enterprise = "enterprise"  # 1000+


class VoiceType(enum.StrEnum):
    male_professional = "male_professional"
    female_professional = "female_professional"
    male_friendly = "male_friendly"
    female_friendly = "female_friendly"


class ConsentBasis(enum.StrEnum):
    consent = "consent"
    legitimate_interest = "legitimate_interest"
    existing_customer = "existing_customer"


class CallLegStatus(enum.StrEnum):
    """The telephony leg's state; only ever moves forward (see `CALL_LEG_ORDER`)."""

    initiated = "initiated"
    ringing = "ringing"
    answered = "answered"
    ended = "ended"


CALL_LEG_ORDER = {s: i for i, s in enumerate(CallLegStatus)}


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Native ENUM types on PostgreSQL (named as in the seed), VARCHAR + CHECK on SQLite.
    return Enum(
        cls,
        name=name,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        create_constraint=True,
    )


campaign_status_enum = _enum(CampaignStatus, "campaign_status")
call_outcome_enum = _enum(CallOutcome, "call_outcome")
call_sequence_status_enum = _enum(CallSequenceStatus, "call_sequence_status")
icp_industry_enum = _enum(IcpIndustry, "icp_industry")
icp_company_size_enum = _enum(IcpCompanySize, "icp_company_size")
voice_type_enum = _enum(VoiceType, "voice_type")
consent_basis_enum = _enum(ConsentBasis, "consent_basis")
call_leg_status_enum = _enum(CallLegStatus, "call_leg_status")


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=text("CURRENT_TIMESTAMP")
    )


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


def _owner() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)


# --- Tenancy ----------------------------------------------------------------------------------


class Profile(TimestampMixin, Base):
    """The tenant: a sales team that owns ICPs, campaigns, prospects and call logs."""

    __tablename__ = "profiles"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(Text)


class ApiKey(Base):
    """An API key of a profile. Only a SHA-256 of the key is kept (keys are 256-bit random)."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _owner()
    #: First characters of the key, shown to people so they can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Client(TimestampMixin, Base):
    """A minimal CRM contact that a prospect may link to."""

    __tablename__ = "clients"

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _owner()
    full_name: Mapped[str] = mapped_column(Text)
    company: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone_number: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


# --- The seed's four tables ---------------------------------------------------------------------


class IdealCustomerProfile(TimestampMixin, Base):
    __tablename__ = "ideal_customer_profiles"

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _owner()
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    industry: Mapped[IcpIndustry | None] = mapped_column(icp_industry_enum)
    company_size: Mapped[IcpCompanySize | None] = mapped_column(icp_company_size_enum)
    revenue: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    pain_points: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    goals: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    challenges: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    decision_maker_role: Mapped[str | None] = mapped_column(Text)
    decision_maker_seniority: Mapped[str | None] = mapped_column(Text)
    value_proposition: Mapped[str | None] = mapped_column(Text)
    key_benefits: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    call_script: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class Campaign(TimestampMixin, Base):
    __tablename__ = "cold_call_campaigns"
    __table_args__ = (
        CheckConstraint("call_window_start >= 0 AND call_window_start <= 24", name="window_start_range"),
        CheckConstraint("call_window_end >= 0 AND call_window_end <= 24", name="window_end_range"),
        CheckConstraint("call_window_start < call_window_end", name="window_order"),
        CheckConstraint("max_calls_per_day >= 1", name="max_calls_per_day_positive"),
        Index("ix_cold_call_campaigns_user_status", "user_id", "status"),
        Index("ix_cold_call_campaigns_status", "status"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _owner()
    icp_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ideal_customer_profiles.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    goal: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CampaignStatus] = mapped_column(
        campaign_status_enum, default=CampaignStatus.draft, server_default=CampaignStatus.draft.value
    )
    #: Why the campaign is in its status when the system put it there (e.g. Telnyx refused the key).
    status_reason: Mapped[str | None] = mapped_column(Text)
    max_calls_per_day: Mapped[int] = mapped_column(Integer, default=50, server_default=text("50"))
    #: Calls of this campaign on the line at once (the account has its own limit in settings).
    max_concurrent_calls: Mapped[int] = mapped_column(Integer, default=5, server_default=text("5"))
    max_attempts: Mapped[int] = mapped_column(Integer, default=3, server_default=text("3"))
    call_window_start: Mapped[int] = mapped_column(Integer, default=9, server_default=text("9"))
    call_window_end: Mapped[int] = mapped_column(Integer, default=18, server_default=text("18"))
    timezone: Mapped[str] = mapped_column(Text, default="Europe/Madrid", server_default="Europe/Madrid")
    language: Mapped[str] = mapped_column(Text, default="es-ES", server_default="es-ES")
    script_template: Mapped[str | None] = mapped_column(Text)
    objection_handling: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    #: Campaign days of the attempts, counted from the first attempt as day 1: [1, 3, 7] (the seed's
    #: "día 1, día 3, día 7") means the second attempt 2 days after the first and the third 4 days later.
    follow_up_sequence: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    caller_id: Mapped[str | None] = mapped_column(Text)
    transfer_number: Mapped[str | None] = mapped_column(Text)
    voice_type: Mapped[VoiceType] = mapped_column(
        voice_type_enum, default=VoiceType.male_professional, server_default=VoiceType.male_professional.value
    )
    #: intent id -> reply text; defaults are the seed's six answers (see bot/replies).
    pregenerated_replies: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    # Counters of the seed. Always recomputed from cold_call_logs under a row lock, never incremented.
    total_calls: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    calls_completed: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    calls_answered: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    calls_interested: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    conversion_rate: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    start_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]


class Prospect(TimestampMixin, Base):
    __tablename__ = "cold_call_prospects"
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone_number", name="uq_cold_call_prospects_campaign_phone"),
        # The dialer's "due prospects" query: callable statuses ordered by next_call_at.
        Index(
            "ix_cold_call_prospects_due",
            "next_call_at",
            "campaign_id",
            postgresql_where=text("status IN ('pending', 'scheduled')"),
            sqlite_where=text("status IN ('pending', 'scheduled')"),
        ),
        Index("ix_cold_call_prospects_campaign_status", "campaign_id", "status", "id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _owner()
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cold_call_campaigns.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"), index=True)
    full_name: Mapped[str] = mapped_column(Text)
    company: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(Text)
    #: E.164, normalised by phonenumbers (default region ES).
    phone_number: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    linkedin_url: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    #: ISO 3166-2 subdivision, e.g. "ES-MD"; used for regional holidays.
    region: Mapped[str | None] = mapped_column(Text)
    #: IANA time zone when known; else the one the number implies; else the campaign's.
    timezone: Mapped[str | None] = mapped_column(Text)
    consent_basis: Mapped[ConsentBasis | None] = mapped_column(consent_basis_enum)
    status: Mapped[CallSequenceStatus] = mapped_column(
        call_sequence_status_enum, default=CallSequenceStatus.pending, server_default=CallSequenceStatus.pending.value
    )
    current_step: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    total_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_call_outcome: Mapped[CallOutcome | None] = mapped_column(call_outcome_enum)
    last_call_at: Mapped[datetime | None]
    #: When the prospect is next due. Callable prospects always have one (set on insert).
    next_call_at: Mapped[datetime | None]
    #: A time the prospect asked to be called back at; it comes before the follow-up sequence.
    callback_at: Mapped[datetime | None]
    #: Technical failures retried without spending an attempt (bounded).
    technical_retries: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    is_qualified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    is_converted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    converted_at: Mapped[datetime | None]


class CallLog(TimestampMixin, Base):
    __tablename__ = "cold_call_logs"
    __table_args__ = (
        Index("ix_cold_call_logs_campaign_created", "campaign_id", "created_at"),
        Index("ix_cold_call_logs_prospect_created", "prospect_id", "created_at"),
        Index("ix_cold_call_logs_user_created", "user_id", "created_at"),
        Index("ix_cold_call_logs_call_sid", "call_sid", unique=True),
        Index("ix_cold_call_logs_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _owner()
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cold_call_campaigns.id", ondelete="CASCADE"))
    prospect_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cold_call_prospects.id", ondelete="SET NULL"))
    #: Telnyx call_control_id of the outbound leg.
    call_sid: Mapped[str | None] = mapped_column(Text)
    call_session_id: Mapped[str | None] = mapped_column(Text)
    from_number: Mapped[str | None] = mapped_column(Text)
    to_number: Mapped[str | None] = mapped_column(Text)
    #: Which attempt of the prospect this call is (1-based); technical retries reuse the number.
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    status: Mapped[CallLegStatus] = mapped_column(
        call_leg_status_enum, default=CallLegStatus.initiated, server_default=CallLegStatus.initiated.value
    )
    started_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    #: Seconds from answer (or start) to end.
    duration: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[CallOutcome | None] = mapped_column(call_outcome_enum)
    hangup_cause: Mapped[str | None] = mapped_column(Text)
    #: "human", "machine", ... from answering-machine detection.
    machine_detection: Mapped[str | None] = mapped_column(Text)
    #: Plain-text transcript ("Bot: ...\nProspecto: ...") as in the seed.
    transcription: Mapped[str | None] = mapped_column(Text)
    #: Turns: [{"speaker": "bot"|"prospect", "text", "start", "end", "latency_ms"}], times in seconds from answer.
    transcript: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    recording_url: Mapped[str | None] = mapped_column(Text)
    sentiment: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    #: Free-form: the rendered opener ("script"), transfer reason, simulated parts, persona, ...
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict, server_default=text("'{}'"))


class DoNotCallNumber(Base):
    """A number this tenant must never call again (opt-outs, wrong numbers, imports)."""

    __tablename__ = "do_not_call_numbers"
    __table_args__ = (UniqueConstraint("user_id", "phone_number", name="uq_do_not_call_numbers_user_phone"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = _owner()
    phone_number: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("CURRENT_TIMESTAMP"))


class WebhookEvent(Base):
    """One applied Telnyx webhook; the unique event id makes redelivery harmless."""

    __tablename__ = "telnyx_webhook_events"

    id: Mapped[uuid.UUID] = _uuid_pk()
    event_id: Mapped[str] = mapped_column(Text, unique=True)
    event_type: Mapped[str] = mapped_column(Text)
    call_log_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cold_call_logs.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
