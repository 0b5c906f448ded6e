"""Tab ICPs: the list with industry and size tags, create and edit (through `api.services.icps`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from api.admin.context import Admin, AdminDep, AdminRoute, parse_id
from api.admin.forms import as_lines, field_errors, form_payload, validate
from api.admin.labels import COMPANY_SIZE, INDUSTRY
from api.schemas.common import MAX_PAGE_SIZE
from api.schemas.icps import IcpCreate, IcpUpdate
from api.services import icps as icp_service
from api.services.errors import ValidationProblem
from db.models import IdealCustomerProfile

router = APIRouter(route_class=AdminRoute)

_TEXT_FIELDS = (
    "name",
    "description",
    "industry",
    "company_size",
    "revenue",
    "location",
    "decision_maker_role",
    "decision_maker_seniority",
    "value_proposition",
    "call_script",
)
_LIST_FIELDS = ("pain_points", "goals", "challenges", "key_benefits")
_ALL_FIELDS = (*_TEXT_FIELDS, *_LIST_FIELDS, "is_active")


def _values(icp: IdealCustomerProfile | None) -> dict[str, object]:
    """The form's values for an ICP (or the empty form)."""
    if icp is None:
        return {"is_active": True}
    values: dict[str, object] = {name: getattr(icp, name) for name in _TEXT_FIELDS}
    values.update({name: as_lines(getattr(icp, name)) for name in _LIST_FIELDS})
    values["is_active"] = icp.is_active
    return values


def _posted_values(form: FormData) -> dict[str, object]:
    """What the person typed, shown again when the form has a problem."""
    values: dict[str, object] = {name: form.get(name, "") for name in (*_TEXT_FIELDS, *_LIST_FIELDS)}
    values["is_active"] = form.get("is_active") == "on"
    return values


def _form_page(
    admin: Admin, *, icp: IdealCustomerProfile | None, values: dict, errors: dict, status_code: int = 200
) -> HTMLResponse:
    return admin.render(
        "icp_form.html",
        tab="icps",
        icp=icp,
        values=values,
        errors=errors,
        industries=list(INDUSTRY.items()),
        sizes=list(COMPANY_SIZE.items()),
        status_code=status_code,
    )


@router.get("/icps")
async def icp_list(admin: AdminDep) -> HTMLResponse:
    """Every ICP of the tenant."""
    rows, _ = await icp_service.list_icps(admin.db, admin.profile, limit=MAX_PAGE_SIZE)
    return admin.render("icps.html", tab="icps", icps=rows)


@router.get("/icps/new")
async def icp_new(admin: AdminDep) -> HTMLResponse:
    return _form_page(admin, icp=None, values=_values(None), errors={})


@router.post("/icps/new")
async def icp_create(admin: AdminDep) -> Response:
    """Create through the service; on a problem, the form again with the message beside the field."""
    form = await admin.form()
    values = _posted_values(form)
    try:
        payload = form_payload(form, _ALL_FIELDS, lists=_LIST_FIELDS, checkboxes=("is_active",))
        await icp_service.create_icp(admin.db, admin.profile, validate(IcpCreate, payload))
    except ValidationProblem as exc:
        return _form_page(admin, icp=None, values=values, errors=field_errors(exc.problems), status_code=422)
    return admin.redirect("/icps", "icp_created")


@router.get("/icps/{icp_id}")
async def icp_edit(admin: AdminDep, icp_id: str) -> HTMLResponse:
    icp = await icp_service.get_icp(admin.db, admin.profile, parse_id(icp_id, "El ICP"))
    return _form_page(admin, icp=icp, values=_values(icp), errors={})


@router.post("/icps/{icp_id}")
async def icp_update(admin: AdminDep, icp_id: str) -> Response:
    icp = await icp_service.get_icp(admin.db, admin.profile, parse_id(icp_id, "El ICP"))
    form = await admin.form()
    values = _posted_values(form)
    try:
        payload = form_payload(form, _ALL_FIELDS, lists=_LIST_FIELDS, checkboxes=("is_active",), keep_empty=True)
        await icp_service.update_icp(admin.db, admin.profile, icp.id, validate(IcpUpdate, payload))
    except ValidationProblem as exc:
        await admin.recover(icp)
        return _form_page(admin, icp=icp, values=values, errors=field_errors(exc.problems), status_code=422)
    return admin.redirect("/icps", "icp_saved")
