"""Tab Campañas: list with status badges and play/pause, create/edit, and a page per campaign.

Every write goes through `api.services.campaigns` (the status life cycle, activation rules and the
template's placeholder check included); this module only maps forms and shows the answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from starlette.datastructures import FormData

from api.admin.charts import answer_rate_by_hour_svg, funnel_svg
from api.admin.context import Admin, AdminDep, AdminRoute, parse_id
from api.admin.forms import as_mapping_lines, field_errors, form_payload, validate
from api.admin.labels import VOICE_TYPE
from api.admin.stats_view import funnel_stages, hour_bars
from api.schemas.campaigns import CampaignCreate, CampaignUpdate
from api.schemas.common import MAX_PAGE_SIZE
from api.services import campaigns as campaign_service
from api.services import icps as icp_service
from api.services.errors import Conflict, ValidationProblem
from bot.script import KNOWN_PLACEHOLDERS
from db.models import CallLog, Campaign, CampaignStatus, Prospect
from db.queries import call_stats

router = APIRouter(route_class=AdminRoute)

_FIELDS = (
    "name",
    "description",
    "goal",
    "icp_id",
    "max_calls_per_day",
    "max_concurrent_calls",
    "max_attempts",
    "call_window_start",
    "call_window_end",
    "timezone",
    "language",
    "script_template",
    "objection_handling",
    "follow_up_sequence",
    "caller_id",
    "transfer_number",
    "voice_type",
    "pregenerated_replies",
)
_MAPPINGS = ("objection_handling", "pregenerated_replies")
_LISTS = ("follow_up_sequence",)
_NOTICE_BY_STATUS = {
    CampaignStatus.active: "campaign_active",
    CampaignStatus.paused: "campaign_paused",
    CampaignStatus.completed: "campaign_completed",
    CampaignStatus.archived: "campaign_archived",
}


def _values(campaign: Campaign | None) -> dict[str, Any]:
    """The form's values for a campaign, or the schema's defaults for a new one."""
    if campaign is None:
        defaults = CampaignCreate.model_construct()
        return {
            "max_calls_per_day": defaults.max_calls_per_day,
            "max_concurrent_calls": defaults.max_concurrent_calls,
            "max_attempts": defaults.max_attempts,
            "call_window_start": defaults.call_window_start,
            "call_window_end": defaults.call_window_end,
            "timezone": defaults.timezone,
            "language": defaults.language,
            "follow_up_sequence": ", ".join(str(d) for d in defaults.follow_up_sequence),
            "voice_type": defaults.voice_type.value,
        }
    values = {name: getattr(campaign, name) for name in _FIELDS}
    values["follow_up_sequence"] = ", ".join(str(d) for d in campaign.follow_up_sequence or [])
    values["objection_handling"] = as_mapping_lines(campaign.objection_handling)
    values["pregenerated_replies"] = as_mapping_lines(campaign.pregenerated_replies)
    values["voice_type"] = campaign.voice_type.value
    return values


def _payload(form: FormData, *, keep_empty: bool) -> dict[str, Any]:
    payload = form_payload(form, _FIELDS, mappings=_MAPPINGS, keep_empty=keep_empty)
    # "1, 3, 7" -> ["1", "3", "7"]: the schema parses and checks each day.
    raw_days = str(form.get("follow_up_sequence") or "")
    payload["follow_up_sequence"] = [d for d in raw_days.replace(";", ",").replace(" ", ",").split(",") if d]
    return payload


async def _form_page(
    admin: Admin, *, campaign: Campaign | None, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    icps, _ = await icp_service.list_icps(admin.db, admin.profile, limit=MAX_PAGE_SIZE)
    return admin.render(
        "campaign_form.html",
        tab="campaigns",
        campaign=campaign,
        values=values,
        errors=errors,
        icps=[(str(icp.id), icp.name) for icp in icps],
        voices=list(VOICE_TYPE.items()),
        placeholder_help=", ".join("{{" + name + "}}" for name in sorted(KNOWN_PLACEHOLDERS)),
        status_code=status_code,
    )


def status_actions(campaign: Campaign) -> list[CampaignStatus]:
    """The status buttons a campaign shows, in the service's own life cycle."""
    return campaign_service.allowed_transitions(campaign.status)


@router.get("/campaigns")
async def campaign_list(admin: AdminDep) -> HTMLResponse:
    """Every campaign with its status, counters and play/pause."""
    return await _list_page(admin)


async def _list_page(admin: Admin, *, notice: dict | None = None, status_code: int = 200) -> HTMLResponse:
    rows, _ = await campaign_service.list_campaigns(admin.db, admin.profile, limit=MAX_PAGE_SIZE)
    prospect_counts = dict(
        (
            await admin.db.execute(
                select(Prospect.campaign_id, func.count(Prospect.id))
                .where(Prospect.user_id == admin.profile_id)
                .group_by(Prospect.campaign_id)
            )
        ).all()
    )
    context: dict[str, Any] = {"notice": notice} if notice else {}
    return admin.render(
        "campaigns.html",
        tab="campaigns",
        campaigns=rows,
        prospect_counts=prospect_counts,
        actions={c.id: status_actions(c) for c in rows},
        status_code=status_code,
        **context,
    )


@router.get("/campaigns/new")
async def campaign_new(admin: AdminDep) -> HTMLResponse:
    return await _form_page(admin, campaign=None, values=_values(None), errors={})


@router.post("/campaigns/new")
async def campaign_create(admin: AdminDep) -> Response:
    """Create a draft campaign; problems (an unknown placeholder...) come back beside their field."""
    form = await admin.form()
    values = {name: form.get(name, "") for name in _FIELDS}
    try:
        data = validate(CampaignCreate, _payload(form, keep_empty=False))
        campaign = await campaign_service.create_campaign(admin.db, admin.profile, data)
    except ValidationProblem as exc:
        await admin.recover()
        return await _form_page(admin, campaign=None, values=values, errors=field_errors(exc.problems), status_code=422)
    return admin.redirect(f"/campaigns/{campaign.id}", "campaign_created")


@router.get("/campaigns/{campaign_id}")
async def campaign_detail(admin: AdminDep, campaign_id: str) -> HTMLResponse:
    campaign = await campaign_service.get_campaign(admin.db, admin.profile, parse_id(campaign_id, "La campaña"))
    return await _detail_page(admin, campaign)


async def _detail_page(
    admin: Admin, campaign: Campaign, *, notice: dict | None = None, status_code: int = 200
) -> HTMLResponse:
    """A campaign's KPIs (the stats API's computation), charts, prospects by status, recent calls."""
    stats = await call_stats(admin.db, user_id=admin.profile_id, campaign_id=campaign.id)
    by_status = dict(
        (
            await admin.db.execute(
                select(Prospect.status, func.count(Prospect.id))
                .where(Prospect.campaign_id == campaign.id, Prospect.user_id == admin.profile_id)
                .group_by(Prospect.status)
            )
        ).all()
    )
    recent = (
        (
            await admin.db.execute(
                select(CallLog, Prospect.full_name)
                .outerjoin(Prospect, Prospect.id == CallLog.prospect_id)
                .where(CallLog.campaign_id == campaign.id, CallLog.user_id == admin.profile_id)
                .order_by(CallLog.created_at.desc())
                .limit(10)
            )
        ).all()
    )
    icp = None
    if campaign.icp_id is not None:
        icp = await icp_service.get_icp(admin.db, admin.profile, campaign.icp_id)
    context: dict[str, Any] = {"notice": notice} if notice else {}
    return admin.render(
        "campaign_detail.html",
        tab="campaigns",
        campaign=campaign,
        icp=icp,
        stats=stats,
        prospects_by_status=by_status,
        prospects_total=sum(by_status.values()),
        recent_calls=recent,
        actions=status_actions(campaign),
        hours_svg=answer_rate_by_hour_svg(hour_bars(stats)),
        funnel=funnel_svg(funnel_stages(stats)),
        status_code=status_code,
        **context,
    )


@router.get("/campaigns/{campaign_id}/edit")
async def campaign_edit(admin: AdminDep, campaign_id: str) -> HTMLResponse:
    campaign = await campaign_service.get_campaign(admin.db, admin.profile, parse_id(campaign_id, "La campaña"))
    return await _form_page(admin, campaign=campaign, values=_values(campaign), errors={})


@router.post("/campaigns/{campaign_id}/edit")
async def campaign_update(admin: AdminDep, campaign_id: str, tasks: BackgroundTasks) -> Response:
    """Save every field of the form through the service (which re-renders audio if needed)."""
    campaign_uuid = parse_id(campaign_id, "La campaña")
    campaign = await campaign_service.get_campaign(admin.db, admin.profile, campaign_uuid)
    form = await admin.form()
    values = {name: form.get(name, "") for name in _FIELDS}
    try:
        data = validate(CampaignUpdate, _payload(form, keep_empty=True))
        await campaign_service.update_campaign(
            admin.db, admin.profile, campaign_uuid, data, settings=admin.settings, tasks=tasks
        )
    except ValidationProblem as exc:
        await admin.recover(campaign)
        return await _form_page(
            admin, campaign=campaign, values=values, errors=field_errors(exc.problems), status_code=422
        )
    except Conflict as exc:
        await admin.recover(campaign)
        return await _form_page(admin, campaign=campaign, values=values, errors={"": exc.message_es}, status_code=409)
    return admin.redirect(f"/campaigns/{campaign_uuid}", "campaign_saved")


@router.post("/campaigns/{campaign_id}/status")
async def campaign_status(admin: AdminDep, campaign_id: str, tasks: BackgroundTasks) -> Response:
    """Play, pause, finish or archive, with the status endpoint's rules and messages."""
    campaign_uuid = parse_id(campaign_id, "La campaña")
    form = await admin.form()
    back = "list" if form.get("back") == "list" else "detail"
    try:
        target = CampaignStatus(str(form.get("status") or ""))
    except ValueError:
        target = None
    try:
        if target is None:
            raise Conflict("Unknown status.", "Elige un estado válido para la campaña.")
        await campaign_service.change_campaign_status(
            admin.db, admin.profile, campaign_uuid, target, settings=admin.settings, clock=admin.clock, tasks=tasks
        )
    except Conflict as exc:
        await admin.recover()
        notice = {"kind": "error", "text": exc.message_es}
        if back == "list":
            return await _list_page(admin, notice=notice, status_code=409)
        campaign = await campaign_service.get_campaign(admin.db, admin.profile, campaign_uuid)
        return await _detail_page(admin, campaign, notice=notice, status_code=409)
    path = "/campaigns" if back == "list" else f"/campaigns/{campaign_uuid}"
    return admin.redirect(path, _NOTICE_BY_STATUS.get(target))
