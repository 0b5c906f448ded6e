"""Admin UI at /admin/cold-calling: sign-in, dashboard, static files, and the tabs' routers.

Server-rendered pages (Jinja2) with small progressive enhancement (admin.js): every page works with
plain forms and links; live calls stream over server-sent events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from api.admin import calls, campaigns, icps, live, prospects
from api.admin.charts import answer_rate_by_hour_svg, funnel_svg
from api.admin.context import BASE_PATH, Admin, AdminDep, AdminRoute, PageNotFound, render_page, templates
from api.admin.stats_view import funnel_stages, hour_bars
from api.admin.session import AdminSession, api_key_id_for_key, profile_for_key_id, read_session, write_session
from api.deps import SessionDep, profile_for_key
from db.models import CallLog, CallLegStatus, Campaign, CampaignStatus, IdealCustomerProfile
from db.queries import call_stats

STATIC_DIR = Path(__file__).resolve().parent / "static"
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

router = APIRouter(prefix=BASE_PATH, route_class=AdminRoute, include_in_schema=False)


@router.get("/static/{name}")
async def static_file(name: str) -> Response:
    """The vendored CSS/JS (no CDN). Only plain file names from the static folder are served."""
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or path.suffix not in _STATIC_TYPES or not path.is_file():
        raise PageNotFound("El archivo")
    return FileResponse(path, media_type=_STATIC_TYPES[path.suffix], headers={"Cache-Control": "public, max-age=300"})


def _safe_next(target: str | None) -> str:
    """Only redirect after sign-in to a page of the admin UI (no open redirect)."""
    if not target:
        return BASE_PATH
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(BASE_PATH) or "\\" in target:
        return BASE_PATH
    return target


@router.get("/login")
async def login_form(request: Request, db: SessionDep, next: str | None = None) -> Response:
    """The sign-in form: one field, the API key (someone already signed in goes straight on)."""
    session = read_session(request)
    if session is not None and session.api_key_id is not None:
        if await profile_for_key_id(db, session.api_key_id) is not None:
            return RedirectResponse(_safe_next(next), status_code=303)
        session = None
    session = session or AdminSession.fresh()
    return render_page(request, "login.html", profile=None, session=session, next=_safe_next(next))


@router.post("/login")
async def login(request: Request, db: SessionDep) -> Response:
    """Check the key exactly as the API does, then start a session bound to that key."""
    form = await request.form()
    session = read_session(request)
    token = form.get("csrf_token")
    next_url = _safe_next(str(form.get("next") or ""))
    if session is None or not session.csrf_matches(token if isinstance(token, str) else None):
        return render_page(
            request,
            "login.html",
            profile=None,
            session=session or AdminSession.fresh(),
            status_code=403,
            next=next_url,
            notice={"kind": "error", "text": "El formulario ha caducado. Vuelve a escribir tu clave de API."},
        )
    key = str(form.get("api_key") or "").strip()
    profile = await profile_for_key(db, key) if key else None
    if profile is None:
        message = (
            "Escribe tu clave de API." if not key else "Esa clave de API no es válida (no existe o está revocada)."
        )
        return render_page(
            request,
            "login.html",
            profile=None,
            session=session,
            status_code=401 if key else 422,
            next=next_url,
            errors={"api_key": message},
        )
    key_id = await api_key_id_for_key(db, key)
    response = RedirectResponse(next_url, status_code=303)
    # A new CSRF token at sign-in, so a token seen before signing in is worth nothing after.
    write_session(request, response, AdminSession.fresh(api_key_id=key_id))
    return response


@router.post("/logout")
async def logout(admin: AdminDep) -> Response:
    """End the session (the cookie is replaced by an anonymous one)."""
    response = RedirectResponse(f"{BASE_PATH}/login?aviso=signed_out", status_code=303)
    write_session(admin.request, response, AdminSession.fresh())
    return response


async def dashboard_context(admin: Admin) -> dict[str, Any]:
    """The four cards' values, the hourly answer rate and the funnel, from the database now."""
    db, owner = admin.db, admin.profile_id
    stats = await call_stats(db, user_id=owner)
    by_status = dict(
        (
            await db.execute(
                select(Campaign.status, func.count(Campaign.id))
                .where(Campaign.user_id == owner)
                .group_by(Campaign.status)
            )
        ).all()
    )
    icp_count = await db.scalar(
        select(func.count(IdealCustomerProfile.id)).where(IdealCustomerProfile.user_id == owner)
    )
    in_progress = await db.scalar(
        select(func.count(CallLog.id)).where(
            CallLog.user_id == owner,
            CallLog.status != CallLegStatus.ended,
            CallLog.created_at >= live.live_since(admin.clock),
        )
    )
    return {
        "stats": stats,
        "campaigns_total": sum(by_status.values()),
        "campaigns_active": by_status.get(CampaignStatus.active, 0),
        "icp_count": icp_count,
        "in_progress": in_progress,
        "best_hour": stats.best_hour,
        "hours_svg": answer_rate_by_hour_svg(hour_bars(stats)),
        "funnel": funnel_svg(funnel_stages(stats)),
    }


@router.get("")
async def dashboard(admin: AdminDep) -> HTMLResponse:
    """The seed's four cards, answer rate by hour and the funnel; the body refreshes itself."""
    return admin.render("dashboard.html", tab="dashboard", **await dashboard_context(admin))


@router.get("/dashboard/fragment")
async def dashboard_fragment(admin: AdminDep) -> HTMLResponse:
    """The dashboard's cards and charts alone (admin.js swaps them in every few seconds)."""
    html = templates.get_template("_dashboard_body.html").render(base=BASE_PATH, **await dashboard_context(admin))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


for _module in (campaigns, icps, prospects, calls, live):
    router.include_router(_module.router)
