"""Campaign service: validation, persistence and the status life cycle (API and admin UI).

Status transitions: draft→active, active↔paused, active/paused→completed and any→archived. Going
active asks `bot.policy.activation_error` first (caller id, call window...) and then renders the
campaign's own reply audio in the background (`bot.assets.prepare_campaign_audio`), which also
happens when an active campaign's reply texts or voice change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import BackgroundTasks
from loguru import logger
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.campaigns import CampaignCreate, CampaignUpdate
from api.schemas.common import DEFAULT_PAGE_SIZE
from api.services.errors import Conflict, NotFound, Problem, ValidationProblem, refuse_nulls
from api.services.icps import get_icp
from api.services.ownership import get_owned
from api.services.pagination import paginate
from bot.assets import prepare_campaign_audio
from bot.clock import Clock
from bot.policy import activation_error
from bot.replies import DEFAULT_REPLIES
from bot.script import KNOWN_PLACEHOLDERS, unknown_placeholders
from bot.settings import Settings
from db.models import Campaign, CampaignStatus, Profile

#: The seed's six common intents: a new campaign starts with these answers.
SEED_INTENTS = ("dime_mas", "no_gracias", "cuando", "cuanto_cuesta", "no_entiendo", "adios")

#: Allowed status changes (any status may also go to archived).
TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.draft: frozenset({CampaignStatus.active}),
    CampaignStatus.active: frozenset({CampaignStatus.paused, CampaignStatus.completed}),
    CampaignStatus.paused: frozenset({CampaignStatus.active, CampaignStatus.completed}),
    CampaignStatus.completed: frozenset(),
    CampaignStatus.archived: frozenset(),
}

#: Fields whose change means the campaign's pre-rendered audio must be rendered again.
_AUDIO_FIELDS = ("pregenerated_replies", "objection_handling", "voice_type")
#: Fields whose change could make an active campaign one that may not be active.
_ACTIVATION_FIELDS = ("caller_id", "call_window_start", "call_window_end", "max_attempts")

_STATUS_ES = {
    CampaignStatus.draft: "borrador",
    CampaignStatus.active: "activa",
    CampaignStatus.paused: "pausada",
    CampaignStatus.completed: "completada",
    CampaignStatus.archived: "archivada",
}


def _with_seed_replies(replies: dict[str, str] | None) -> dict[str, str]:
    """The seed's six answers overlaid with the campaign's own."""
    return {key: DEFAULT_REPLIES[key] for key in SEED_INTENTS} | (replies or {})


def allowed_transitions(current: CampaignStatus) -> list[CampaignStatus]:
    """The statuses a campaign in `current` may move to."""
    allowed = set(TRANSITIONS[current]) | {CampaignStatus.archived}
    return [s for s in CampaignStatus if s in allowed]


def _campaign_problems(values: dict[str, Any]) -> list[Problem]:
    """Cross-field rules, checked on the campaign as it would be after the change."""
    problems: list[Problem] = []
    start, end = values.get("call_window_start"), values.get("call_window_end")
    if start is not None and end is not None and start >= end:
        problems.append(
            Problem(
                "call_window_end",
                f"call_window_end: the call window must end after it starts (start {start}, end {end}).",
                f"La franja de llamadas debe terminar después de empezar (inicio {start}, fin {end}).",
            )
        )
    template = values.get("script_template")
    if template:
        unknown = unknown_placeholders(template)
        if unknown:
            names = ", ".join("{{" + name + "}}" for name in unknown)
            known = ", ".join("{{" + name + "}}" for name in sorted(KNOWN_PLACEHOLDERS))
            problems.append(
                Problem(
                    "script_template",
                    f"script_template: unknown placeholder {names}; the known ones are {known}.",
                    f"El guion usa un marcador desconocido {names}; los disponibles son {known}.",
                )
            )
    starts, ends = values.get("start_date"), values.get("end_date")
    if starts is not None and ends is not None and starts >= ends:
        problems.append(
            Problem(
                "end_date",
                "end_date: the campaign must end after it starts.",
                "La fecha de fin debe ser posterior a la de inicio.",
            )
        )
    return problems


async def _check_icp(session: AsyncSession, profile: Profile, icp_id: uuid.UUID | None) -> None:
    if icp_id is None:
        return
    try:
        await get_icp(session, profile, icp_id)
    except NotFound:
        raise ValidationProblem.single(
            "icp_id", "icp_id: there is no ICP with this id.", "No existe ningún ICP con este identificador."
        ) from None


def _schedule_audio(tasks: BackgroundTasks | None, settings: Settings, campaign: Campaign) -> None:
    if tasks is not None:
        tasks.add_task(render_campaign_audio, settings, campaign)


async def render_campaign_audio(settings: Settings, campaign: Campaign) -> None:
    """Render the campaign's own replies with its voice; a failure is logged, the calls then use
    the default library (the campaign keeps running)."""
    try:
        await prepare_campaign_audio(settings, campaign)
    except Exception:
        logger.exception("Rendering the reply audio of campaign {} failed", campaign.id)


async def list_campaigns(
    session: AsyncSession,
    profile: Profile,
    *,
    status: CampaignStatus | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> tuple[Sequence[Campaign], str | None]:
    """The tenant's campaigns, newest first, and the cursor of the next page."""
    stmt = select(Campaign).where(Campaign.user_id == profile.id)
    if status is not None:
        stmt = stmt.where(Campaign.status == status)
    return await paginate(
        session, stmt, created_col=Campaign.created_at, id_col=Campaign.id, limit=limit, cursor=cursor
    )


async def get_campaign(
    session: AsyncSession, profile: Profile, campaign_id: uuid.UUID, *, for_update: bool = False
) -> Campaign:
    """The tenant's campaign; `NotFound` for a missing one and for another tenant's."""
    return await get_owned(session, Campaign, profile, campaign_id, name=("Campaign", "Campaña"), for_update=for_update)


async def create_campaign(session: AsyncSession, profile: Profile, data: CampaignCreate) -> Campaign:
    """A new draft campaign; its replies start from the seed's six answers."""
    values = data.model_dump()
    problems = _campaign_problems(values)
    if problems:
        raise ValidationProblem(problems)
    await _check_icp(session, profile, data.icp_id)
    replies = _with_seed_replies(values.pop("pregenerated_replies"))
    campaign = Campaign(user_id=profile.id, status=CampaignStatus.draft, pregenerated_replies=replies, **values)
    session.add(campaign)
    await session.commit()
    await session.refresh(campaign)
    return campaign


async def update_campaign(
    session: AsyncSession,
    profile: Profile,
    campaign_id: uuid.UUID,
    data: CampaignUpdate,
    *,
    settings: Settings,
    tasks: BackgroundTasks | None = None,
) -> Campaign:
    """Apply the fields that were sent. An active campaign must stay activatable (else 409), and
    its reply audio is rendered again when its texts or voice change."""
    campaign = await get_campaign(session, profile, campaign_id, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    refuse_nulls(
        changes,
        (
            "name", "max_calls_per_day", "max_concurrent_calls", "max_attempts", "call_window_start",
            "call_window_end", "timezone", "language", "voice_type",
        ),
    )
    if "objection_handling" in changes and changes["objection_handling"] is None:
        changes["objection_handling"] = {}
    if "pregenerated_replies" in changes:
        # Like on create, the seed's six answers stay the base: null resets to them.
        changes["pregenerated_replies"] = _with_seed_replies(changes["pregenerated_replies"])
    if "follow_up_sequence" in changes and changes["follow_up_sequence"] is None:
        changes["follow_up_sequence"] = []
    merged = {column: getattr(campaign, column) for column in CampaignUpdate.model_fields} | changes
    if "script_template" not in changes:
        merged["script_template"] = None  # checked when it changes, not on every other edit
    problems = _campaign_problems(merged)
    if problems:
        raise ValidationProblem(problems)
    if "icp_id" in changes:
        await _check_icp(session, profile, changes["icp_id"])
    if campaign.status in (CampaignStatus.completed, CampaignStatus.archived):
        raise Conflict(
            f"The campaign is {campaign.status.value} and can no longer be changed.",
            f"La campaña está {_STATUS_ES[campaign.status]} y ya no se puede modificar.",
        )
    audio_changed = any(key in changes and changes[key] != getattr(campaign, key) for key in _AUDIO_FIELDS)
    for key, value in changes.items():
        setattr(campaign, key, value)
    if campaign.status == CampaignStatus.active and any(key in changes for key in _ACTIVATION_FIELDS):
        error = activation_error(campaign)
        if error is not None:
            await session.rollback()
            raise Conflict(
                f"An active campaign cannot take this change: {error} Pause the campaign first.",
                f"Una campaña activa no admite este cambio: {error.es} Pausa la campaña primero.",
            )
    await session.commit()
    await session.refresh(campaign)
    if audio_changed and campaign.status == CampaignStatus.active:
        _schedule_audio(tasks, settings, campaign)
    return campaign


async def change_campaign_status(
    session: AsyncSession,
    profile: Profile,
    campaign_id: uuid.UUID,
    status: CampaignStatus,
    *,
    settings: Settings,
    clock: Clock,
    tasks: BackgroundTasks | None = None,
) -> Campaign:
    """Move the campaign to `status` if the life cycle allows it (else `Conflict` saying what is)."""
    campaign = await get_campaign(session, profile, campaign_id, for_update=True)
    current = campaign.status
    allowed = allowed_transitions(current)
    if status not in allowed:
        await session.rollback()
        options = ", ".join(s.value for s in allowed)
        options_es = ", ".join(_STATUS_ES[s] for s in allowed)
        raise Conflict(
            f"A {current.value} campaign cannot become {status.value}; from {current.value} it can only "
            f"become {options}. Allowed changes: draft→active, active↔paused, active/paused→completed, "
            "any→archived.",
            f"Una campaña {_STATUS_ES[current]} no puede pasar a {_STATUS_ES[status]}; solo puede pasar a "
            f"{options_es}.",
        )
    now = clock.now()
    if status == CampaignStatus.active:
        error = activation_error(campaign)
        if error is not None:
            await session.rollback()
            raise Conflict(str(error), f"No se puede activar la campaña: {error.es}")
        if campaign.start_date is None:
            campaign.start_date = now
    if status == CampaignStatus.completed and campaign.end_date is None:
        campaign.end_date = now
    campaign.status = status
    campaign.status_reason = None
    await session.commit()
    await session.refresh(campaign)
    logger.info("Campaign {} went from {} to {}", campaign.id, current.value, status.value)
    if status == CampaignStatus.active:
        _schedule_audio(tasks, settings, campaign)
    return campaign
