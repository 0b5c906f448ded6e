"""What every admin page shares: the signed-in tenant, CSRF, rendering, and the page-level errors.

The admin router uses `AdminRoute`, which turns the UI's own exceptions (sign-in required, bad
CSRF token, not found) and the service layer's "not found" into HTML answers in Spanish, so admin
pages never show the API's JSON errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from loguru import logger
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from api.admin.labels import all_labels
from api.admin.session import AdminSession, profile_for_key_id, read_session, write_session
from api.deps import SessionDep
from api.services.errors import ServiceError
from bot.clock import Clock
from bot.services import choose_services
from bot.settings import Settings
from db.models import Profile

#: Where the admin UI lives (the seed's address).
BASE_PATH = "/admin/cold-calling"
DISPLAY_TZ = "Europe/Madrid"

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


# --- Page-level errors --------------------------------------------------------------------------


class AdminError(Exception):
    """An answer other than the page: rendered by `AdminRoute`."""


class SignInRequired(AdminError):
    """No valid session: pages redirect to the sign-in form, fragments and streams answer 401."""


class CsrfRejected(AdminError):
    """A POST without the session's CSRF token."""


class PageNotFound(AdminError):
    """Nothing with this id for this tenant (another tenant's id looks the same: 404)."""

    def __init__(self, what_es: str = "La página") -> None:
        super().__init__(what_es)
        self.what_es = what_es


# --- Formatting -------------------------------------------------------------------------------


def format_datetime(value: datetime | None, tz: str | None = None) -> str:
    """A timestamp for people: day/month/year hour:minute in the given (or Madrid) time zone."""
    if value is None:
        return "—"
    try:
        zone = ZoneInfo(tz or DISPLAY_TZ)
    except Exception:  # an odd stored zone must not break the page
        zone = ZoneInfo(DISPLAY_TZ)
    return value.astimezone(zone).strftime("%d/%m/%Y %H:%M")


def format_duration(seconds: float | int | None) -> str:
    """"1 min 05 s" style; an em dash when unknown."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def format_seconds(value: float | None) -> str:
    """Offset into a call as m:ss."""
    if value is None:
        return ""
    minutes, secs = divmod(int(value), 60)
    return f"{minutes}:{secs:02d}"


def format_percent(value: float | None) -> str:
    """Spanish percent: "12,5 %"."""
    if value is None:
        return "—"
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + " %"


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["dt"] = format_datetime
templates.env.filters["duration"] = format_duration
templates.env.filters["seconds"] = format_seconds
templates.env.filters["pct"] = format_percent
templates.env.globals["labels"] = all_labels()


def simulated_parts(settings: Settings) -> list[str]:
    """Spanish sentences naming each part that runs on a local stand-in (the same choice the
    bot makes, `bot.services.choose_services`)."""
    services = choose_services(settings)
    parts = []
    if settings.uses_carrier_twin:
        parts.append("las llamadas van al simulador de operador local (no a Telnyx) con prospectos simulados")
    if services.stt == "simulated":
        parts.append("el reconocimiento de voz es simulado (el simulador entrega el texto de lo que dice el prospecto)")
    if services.tts == "offline":
        parts.append("la voz es la voz sin conexión (espeak-ng), no ElevenLabs")
    if services.llm == "scripted":
        parts.append("las respuestas abiertas las da un respondedor con guion, no un modelo de lenguaje")
    return parts


# --- The request context -------------------------------------------------------------------------


@dataclass
class Admin:
    """One admin request: the database session, the signed-in tenant and the session cookie."""

    request: Request
    db: AsyncSession
    session: AdminSession
    profile: Profile
    settings: Settings
    clock: Clock
    _form: FormData | None = field(default=None, repr=False)

    @property
    def profile_id(self) -> uuid.UUID:
        return self.profile.id

    async def form(self) -> FormData:
        """The posted form (already read once for the CSRF check)."""
        if self._form is None:
            self._form = await self.request.form()
        return self._form

    async def recover(self, *rows: object) -> None:
        """Roll back after a refused write and reload the tenant and the given rows (a rollback
        expires every loaded row, and async sessions never lazy-load)."""
        await self.db.rollback()
        for row in (self.profile, *rows):
            await self.db.refresh(row)

    def render(self, template: str, *, tab: str = "", status_code: int = 200, **context: Any) -> HTMLResponse:
        """Render a page of the signed-in UI."""
        return render_page(
            self.request,
            template,
            profile=self.profile,
            session=self.session,
            tab=tab,
            status_code=status_code,
            **context,
        )

    def redirect(self, path: str, notice: str | None = None) -> RedirectResponse:
        """303 to another admin page (after a POST), with an optional notice key (see NOTICES)."""
        url = f"{BASE_PATH}{path}"
        if notice:
            url += ("&" if "?" in url else "?") + f"aviso={quote(notice)}"
        return RedirectResponse(url, status_code=303)


#: Confirmations shown after a redirect; the query names a key, never free text (no reflected input).
NOTICES: dict[str, tuple[str, str]] = {
    "icp_created": ("ok", "ICP creado."),
    "icp_saved": ("ok", "ICP guardado."),
    "campaign_created": ("ok", "Campaña creada."),
    "campaign_saved": ("ok", "Campaña guardada."),
    "campaign_active": ("ok", "Campaña activada: el marcador empezará a llamar dentro del horario permitido."),
    "campaign_paused": ("ok", "Campaña en pausa: no se harán llamadas nuevas."),
    "campaign_completed": ("ok", "Campaña finalizada."),
    "campaign_archived": ("ok", "Campaña archivada."),
    "prospect_created": ("ok", "Prospecto añadido."),
    "prospect_converted": ("ok", "Prospecto marcado como convertido."),
    "prospect_unconverted": ("ok", "Se ha quitado la marca de convertido."),
    "dnc_added": ("ok", "Número añadido a la lista de no llamar."),
    "dnc_removed": ("ok", "Número quitado de la lista de no llamar."),
    "signed_out": ("info", "Has cerrado la sesión."),
    "expired": ("info", "Tu sesión ha caducado. Vuelve a entrar con tu clave de API."),
}


def render_page(
    request: Request,
    template: str,
    *,
    profile: Profile | None,
    session: AdminSession | None,
    tab: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render any admin template with the shared layout variables; keeps the session cookie set."""
    settings: Settings = request.app.state.settings
    session = session or AdminSession.fresh()
    notice = context.pop("notice", None)
    if notice is None:
        kind_text = NOTICES.get(request.query_params.get("aviso", ""))
        notice = {"kind": kind_text[0], "text": kind_text[1]} if kind_text else None
    response = templates.TemplateResponse(
        request,
        template,
        {
            "base": BASE_PATH,
            "profile": profile,
            "csrf_token": session.csrf_token,
            "tab": tab,
            "simulated": simulated_parts(settings),
            "notice": notice,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    write_session(request, response, session)
    return response


async def current_admin(request: Request, db: SessionDep) -> Admin:
    """The signed-in admin of this request; checks CSRF on every POST."""
    session = read_session(request)
    if session is None or session.api_key_id is None:
        raise SignInRequired()
    profile = await profile_for_key_id(db, session.api_key_id)
    if profile is None:
        raise SignInRequired()
    admin = Admin(
        request=request,
        db=db,
        session=session,
        profile=profile,
        settings=request.app.state.settings,
        clock=request.app.state.clock,
    )
    if request.method == "POST":
        form = await admin.form()
        token = form.get("csrf_token")
        if not session.csrf_matches(token if isinstance(token, str) else None):
            raise CsrfRejected()
    return admin


AdminDep = Annotated[Admin, Depends(current_admin)]


def parse_id(raw: str, what_es: str) -> uuid.UUID:
    """A path id; a malformed one is simply not found (as the API answers)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise PageNotFound(what_es) from None


# --- The route class ---------------------------------------------------------------------------


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/event-stream" not in accept and not request.url.path.endswith(("/stream", "/fragment"))


class AdminRoute(APIRoute):
    """Renders the admin UI's errors as Spanish HTML pages (or short text for fragments)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def admin_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                if not _wants_html(request):
                    return Response("Inicia sesión.", status_code=401, media_type="text/plain; charset=utf-8")
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                if request.method != "GET":
                    target = BASE_PATH
                return RedirectResponse(f"{BASE_PATH}/login?next={quote(target)}", status_code=303)
            except CsrfRejected:
                logger.info("admin: POST refused, missing or wrong CSRF token on {}", request.url.path)
                return render_page(
                    request,
                    "error.html",
                    profile=None,
                    session=read_session(request),
                    status_code=403,
                    title="Formulario caducado",
                    message="El formulario ha caducado o no viene de esta página. Vuelve atrás, "
                    "recarga la página e inténtalo de nuevo.",
                )
            except PageNotFound as exc:
                return _not_found(request, exc.what_es)
            except RequestValidationError:
                return _not_found(request, "La página")
            except ServiceError as exc:
                if exc.status_code == 404:
                    return _not_found(request, "La página")
                raise

        return admin_handler


def _not_found(request: Request, what_es: str) -> Response:
    if not _wants_html(request):
        return Response("No encontrado.", status_code=404, media_type="text/plain; charset=utf-8")
    return render_page(
        request,
        "error.html",
        profile=None,
        session=read_session(request),
        status_code=404,
        title="No encontrado",
        message=f"{what_es} que buscas no existe o no es de tu equipo.",
    )
