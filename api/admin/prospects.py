"""Tab Prospectos: a campaign's prospects (status, attempts, last outcome, next call), adding one,
the CSV import with its per-row error report, and the tenant's do-not-call list."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from api.admin.context import Admin, AdminDep, AdminRoute, PageNotFound, parse_id
from api.admin.forms import field_errors, form_payload, validate
from api.admin.labels import CONSENT_BASIS, PROSPECT_STATUS
from api.schemas.common import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from api.schemas.do_not_call import DoNotCallCreate
from api.schemas.prospects import ProspectCreate, ProspectImportReport, ProspectUpdate
from api.services import campaigns as campaign_service
from api.services import do_not_call as dnc_service
from api.services import prospects as prospect_service
from api.services.errors import Conflict, ValidationProblem
from db.models import CallSequenceStatus, Campaign

router = APIRouter(route_class=AdminRoute)

#: The same ceiling as the API's CSV upload.
MAX_CSV_BYTES = 20 * 1024 * 1024
_PROSPECT_FIELDS = ("full_name", "phone_number", "company", "role", "email", "region", "consent_basis", "notes")


def _uuid_or_none(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


async def _prospects_page(
    admin: Admin,
    campaign: Campaign | None,
    *,
    status: CallSequenceStatus | None = None,
    cursor: str | None = None,
    report: ProspectImportReport | None = None,
    upload_error: str | None = None,
    add_values: dict[str, Any] | None = None,
    add_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    campaigns, _ = await campaign_service.list_campaigns(admin.db, admin.profile, limit=MAX_PAGE_SIZE)
    prospects: list = []
    next_cursor = None
    if campaign is not None:
        try:
            rows, next_cursor = await prospect_service.list_prospects(
                admin.db, admin.profile, campaign.id, status=status, limit=DEFAULT_PAGE_SIZE, cursor=cursor
            )
        except ValidationProblem:  # a stale cursor: start from the first page
            rows, next_cursor = await prospect_service.list_prospects(
                admin.db, admin.profile, campaign.id, status=status, limit=DEFAULT_PAGE_SIZE
            )
        prospects = list(rows)
    return admin.render(
        "prospects.html",
        tab="prospects",
        campaigns=campaigns,
        campaign_options=[(str(c.id), c.name) for c in campaigns],
        campaign=campaign,
        prospects=prospects,
        next_cursor=next_cursor,
        status_filter=status.value if status else "",
        statuses=list(PROSPECT_STATUS.items()),
        consent_options=list(CONSENT_BASIS.items()),
        report=report,
        upload_error=upload_error,
        add_values=add_values or {},
        add_errors=add_errors or {},
        status_code=status_code,
    )


@router.get("/prospects")
async def prospect_list(
    admin: AdminDep, campaign: str | None = None, status: str | None = None, cursor: str | None = None
) -> HTMLResponse:
    """One campaign's prospects (the newest campaign when none is chosen)."""
    chosen: Campaign | None = None
    campaign_id = _uuid_or_none(campaign)
    if campaign:
        if campaign_id is None:
            raise PageNotFound("La campaña")
        chosen = await campaign_service.get_campaign(admin.db, admin.profile, campaign_id)
    else:
        latest, _ = await campaign_service.list_campaigns(admin.db, admin.profile, limit=1)
        chosen = latest[0] if latest else None
    try:
        status_filter = CallSequenceStatus(status) if status else None
    except ValueError:
        status_filter = None
    return await _prospects_page(admin, chosen, status=status_filter, cursor=cursor)


@router.post("/campaigns/{campaign_id}/prospects")
async def prospect_add(admin: AdminDep, campaign_id: str) -> Response:
    """Add one prospect through the service (due at once)."""
    campaign = await campaign_service.get_campaign(admin.db, admin.profile, parse_id(campaign_id, "La campaña"))
    form = await admin.form()
    values = {name: form.get(name, "") for name in _PROSPECT_FIELDS}
    try:
        data = validate(ProspectCreate, form_payload(form, _PROSPECT_FIELDS))
        await prospect_service.create_prospect(admin.db, admin.profile, campaign.id, data, clock=admin.clock)
    except ValidationProblem as exc:
        await admin.recover(campaign)
        return await _prospects_page(
            admin, campaign, add_values=values, add_errors=field_errors(exc.problems), status_code=422
        )
    except Conflict as exc:
        await admin.recover(campaign)
        return await _prospects_page(
            admin, campaign, add_values=values, add_errors={"": exc.message_es}, status_code=409
        )
    return admin.redirect(f"/prospects?campaign={campaign.id}", "prospect_created")


@router.post("/campaigns/{campaign_id}/prospects/import")
async def prospect_import(admin: AdminDep, campaign_id: str) -> HTMLResponse:
    """Import a CSV: valid rows go in, each bad row is listed with its line and reason."""
    campaign = await campaign_service.get_campaign(admin.db, admin.profile, parse_id(campaign_id, "La campaña"))
    form = await admin.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _prospects_page(admin, campaign, upload_error="Elige un archivo CSV.", status_code=422)
    content = await upload.read(MAX_CSV_BYTES + 1)
    if len(content) > MAX_CSV_BYTES:
        return await _prospects_page(
            admin, campaign, upload_error="El archivo supera los 20 MiB; divídelo en varios.", status_code=413
        )
    if not content.strip():
        return await _prospects_page(admin, campaign, upload_error="El archivo está vacío.", status_code=422)
    try:
        report = await prospect_service.import_prospects_csv(
            admin.db, admin.profile, campaign.id, content, clock=admin.clock
        )
    except (ValidationProblem, Conflict) as exc:
        await admin.recover(campaign)
        return await _prospects_page(admin, campaign, upload_error=exc.message_es, status_code=exc.status_code)
    return await _prospects_page(admin, campaign, report=report)


@router.post("/prospects/{prospect_id}/converted")
async def prospect_converted(admin: AdminDep, prospect_id: str) -> Response:
    """Mark a prospect converted (a sale or meeting the seller closed), or take the mark back; the
    conversion rate counts these marks."""
    prospect = await prospect_service.get_prospect(admin.db, admin.profile, parse_id(prospect_id, "El prospecto"))
    form = await admin.form()
    converted = form.get("converted") == "true"
    await prospect_service.update_prospect(
        admin.db, admin.profile, prospect.id, validate(ProspectUpdate, {"is_converted": converted}), clock=admin.clock
    )
    return admin.redirect(
        f"/prospects?campaign={prospect.campaign_id}", "prospect_converted" if converted else "prospect_unconverted"
    )


# --- Do-not-call list ---------------------------------------------------------------------------


async def _dnc_page(
    admin: Admin, *, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status_code: int = 200
) -> HTMLResponse:
    rows, _ = await dnc_service.list_do_not_call(admin.db, admin.profile, limit=MAX_PAGE_SIZE)
    return admin.render(
        "do_not_call.html",
        tab="prospects",
        entries=rows,
        values=values or {},
        errors=errors or {},
        status_code=status_code,
    )


@router.get("/do-not-call")
async def dnc_list(admin: AdminDep) -> HTMLResponse:
    """The tenant's suppression list."""
    return await _dnc_page(admin)


@router.post("/do-not-call")
async def dnc_add(admin: AdminDep) -> Response:
    """Add a number (any format; the service normalises it and stops matching prospects)."""
    form = await admin.form()
    values = {name: form.get(name, "") for name in ("phone_number", "reason")}
    try:
        data = validate(DoNotCallCreate, form_payload(form, ("phone_number", "reason")))
        await dnc_service.add_do_not_call(admin.db, admin.profile, data)
    except ValidationProblem as exc:
        await admin.recover()
        return await _dnc_page(admin, values=values, errors=field_errors(exc.problems), status_code=422)
    except Conflict as exc:
        await admin.recover()
        return await _dnc_page(admin, values=values, errors={"phone_number": exc.message_es}, status_code=409)
    return admin.redirect("/do-not-call", "dnc_added")


@router.post("/do-not-call/{entry_id}/delete")
async def dnc_remove(admin: AdminDep, entry_id: str) -> Response:
    """Take a number off the list (its prospects are not re-queued by this)."""
    await dnc_service.remove_do_not_call(admin.db, admin.profile, parse_id(entry_id, "El número"))
    return admin.redirect("/do-not-call", "dnc_removed")
