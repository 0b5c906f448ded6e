"""The admin UI in a real headless Chromium against a real server.

A uvicorn server runs the whole product on loopback (temp SQLite database, the dialer loop and the
carrier twin with `run_background=True`), with a clock that reads a weekday morning in Madrid and
advances with real time, so the dialer is inside legal hours. The browser signs in, creates an ICP,
meets the template's validation message, creates the campaign, imports a CSV with one bad row,
activates the campaign on the carrier twin and watches the call appear on the live page with its
transcript, with no page reload. Screenshots of each tab go to tests/artifacts/screenshots/; with
COLDCALL_UPDATE_SCREENSHOT=1 the dashboard's also replaces assets/screenshots/dashboard.png.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from bot.clock import Clock
from bot.settings import PROJECT_ROOT, Settings
from db.migrate import upgrade

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = PROJECT_ROOT / "tests" / "artifacts" / "screenshots"
README_SCREENSHOT = PROJECT_ROOT / "assets" / "screenshots" / "dashboard.png"
BASE = "/admin/cold-calling"


class MadridMorningClock(Clock):
    """Wednesday 4 March 2026, 10:00 in Madrid (a working day), advancing with real time."""

    def __init__(self) -> None:
        self._start = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("Europe/Madrid")).astimezone(UTC)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    api_key: str
    settings: Settings


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The product on a free loopback port, background services on, in its own thread and loop."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from api.app import create_app
    from api.commands import create_profile

    tmp = tmp_path_factory.mktemp("admin-e2e")
    port = _free_port()
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp / 'coldcall.db'}",
        cache_dir=tmp / "cache",
        host="127.0.0.1",
        port=port,
        public_base_url=f"http://127.0.0.1:{port}",
        telnyx_api_key=None,
        elevenlabs_api_key=None,
        openai_api_key=None,
        openai_base_url=None,
        dialer_enabled=True,
        dialer_poll_secs=0.5,
        carrier_twin_port=_free_port(),
        carrier_twin_time_scale=4.0,
    )
    upgrade(settings.database_url)
    _, api_key = asyncio.run(create_profile(settings, "Ventas Demo"))
    app = create_app(settings, clock=MadridMorningClock(), run_background=True, migrate=False)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="admin-e2e-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start")
        time.sleep(0.05)
    try:
        yield Server(url=f"http://127.0.0.1:{port}", api_key=api_key, settings=settings)
    finally:
        uv.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser(server: Server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _sign_in_with_keyboard(page, server: Server) -> None:
    page.goto(f"{server.url}{BASE}/icps")
    assert "/login" in page.url  # a page asked before signing in leads to the form...
    _shot(page, "00-sign-in")
    page.keyboard.type(server.api_key)  # the key field has the focus
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}{BASE}/icps")  # ...and back to that page after it


def test_sales_team_runs_a_campaign_from_the_browser(server: Server, browser, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-ES")
    page = context.new_page()
    page.set_default_timeout(15_000)
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server.url) else outside.append(r.url))

    _sign_in_with_keyboard(page, server)
    expect(page.get_by_text("Modo simulado")).to_be_visible()

    # --- ICP -------------------------------------------------------------------------------
    page.get_by_role("link", name="Nuevo ICP").click()
    page.get_by_label("Nombre").fill("Director Comercial B2B SaaS")
    page.get_by_label("Sector").select_option("saas")
    page.get_by_label("Tamaño de empresa").select_option("medium")
    page.get_by_label("Problemas (uno por línea)").fill("Pocas reuniones cualificadas\nCiclo de venta largo")
    page.get_by_label("Propuesta de valor").fill("Automatiza prospección y aumenta conversión 3x")
    page.get_by_role("button", name="Crear ICP").click()
    expect(page.get_by_text("ICP creado.")).to_be_visible()
    row = page.get_by_role("row", name="Director Comercial B2B SaaS")
    expect(row.get_by_text("SaaS", exact=True)).to_be_visible()
    expect(row.get_by_text("Mediana (50–249)")).to_be_visible()
    _shot(page, "02-icps")

    # --- Campaign: a bad placeholder first ----------------------------------------------------
    page.get_by_role("navigation", name="Secciones").get_by_role("link", name="Campañas").click()
    page.get_by_role("link", name="Nueva campaña").click()
    page.get_by_label("Nombre").fill("Demo SaaS Madrid")
    page.get_by_label("ICP").select_option(label="Director Comercial B2B SaaS")
    page.get_by_label("Guion de apertura").fill("Hola {{first_name}}, te llamo de {{nuestra_empresa}}.")
    page.get_by_label("Número de origen (caller ID)").fill("+34 910 000 000")
    page.get_by_label("Número del comercial (transferencias)").fill("+34 910 000 001")
    page.get_by_role("button", name="Crear campaña").click()
    error = page.locator("#script_template-error")
    expect(error).to_contain_text("{{nuestra_empresa}}")
    expect(page.get_by_label("Guion de apertura")).to_have_attribute("aria-invalid", "true")
    _shot(page, "03-campaign-template-error")

    page.get_by_label("Guion de apertura").fill(
        "Hola {{first_name}}, te llamo porque en {{company}} {{pain_point}}. {{value_proposition}}."
    )
    page.get_by_role("button", name="Crear campaña").click()
    expect(page.get_by_text("Campaña creada.")).to_be_visible()
    expect(page.get_by_role("heading", name="Demo SaaS Madrid")).to_be_visible()

    # --- Prospects: CSV with one bad row ------------------------------------------------------
    page.get_by_role("link", name="Ver prospectos e importar CSV").click()
    csv_file = tmp_path / "prospectos.csv"
    csv_file.write_text(
        # The carrier twin picks a persona by the number's last digit: 0 interested, 1 asks the
        # price then declines, 2 busy, 5 asks for a callback.
        "nombre;teléfono;empresa;cargo;consent_basis;region\n"
        "Lucía Martín;+34 910 555 120;Acme Software;Directora Comercial;legitimate_interest;ES-MD\n"
        "Jorge Ruiz;+34 910 555 131;Nube SL;CEO;consent;ES-MD\n"
        "Pedro Sin Número;12345;Beta SL;CEO;consent;ES-MD\n"
        "Marta López;+34 910 555 142;Datos SA;Directora de Ventas;legitimate_interest;ES-MD\n"
        "Carmen Vidal;+34 910 555 155;Logística Sur;Gerente;existing_customer;ES-MD\n",
        encoding="utf-8",
    )
    page.get_by_label("Archivo CSV").set_input_files(str(csv_file))
    page.get_by_role("button", name="Importar").click()
    report = page.locator(".import-report")
    expect(report).to_contain_text("4 importados de 5 filas")
    bad_row = report.locator("tr.import-error")
    expect(bad_row).to_have_count(1)
    expect(bad_row.locator("td").first).to_have_text("4")
    expect(bad_row).to_contain_text("12345")
    expect(page.locator("#prospects-table")).to_contain_text("Lucía Martín")
    _shot(page, "04-prospects")

    # --- Activate on the carrier twin and watch the call live ---------------------------------
    page.get_by_role("navigation", name="Secciones").get_by_role("link", name="Campañas").click()
    page.get_by_role("button", name="Activar la campaña Demo SaaS Madrid").click()
    expect(page.get_by_text("Campaña activada")).to_be_visible()
    expect(page.get_by_role("row", name="Demo SaaS Madrid").get_by_text("Activa", exact=True)).to_be_visible()
    _shot(page, "01-campaigns")

    page.get_by_role("navigation", name="Secciones").get_by_role("link", name="En directo").click()
    page.evaluate("window.__sameDocument = true")
    call = page.locator("article.live-call", has_text="Lucía Martín")
    # When the page loaded, the prospect had not spoken yet: what follows arrives over the stream.
    assert call.locator(".turn.prospect").count() == 0
    expect(page.locator("#live-calls[data-connected=true]")).to_have_count(1)
    expect(call).to_have_count(1, timeout=60_000)
    expect(call.locator(".turn.bot").first).to_be_visible(timeout=120_000)
    expect(call.locator(".turn.prospect").first).to_be_visible(timeout=60_000)
    assert page.evaluate("window.__sameDocument === true"), "the live page reloaded"
    _shot(page, "05-live")

    # --- The call log ------------------------------------------------------------------------
    page.get_by_role("navigation", name="Secciones").get_by_role("link", name="Llamadas").click()
    page.locator("#calls-table tr", has_text="Lucía Martín").locator("a").first.click()
    expect(page.get_by_role("heading", name="Llamada a Lucía Martín")).to_be_visible()
    expect(page.locator(".conversation .turn").first).to_be_visible()
    _shot(page, "06-call")
    page.get_by_role("link", name="Volver a llamadas").click()
    _shot(page, "06-calls")

    page.get_by_role("navigation", name="Secciones").get_by_role("link", name="Panel").click()
    expect(page.locator('[data-card="calls"] .value')).not_to_have_text("0")
    dashboard = _shot(page, "00-dashboard")
    if os.environ.get("COLDCALL_UPDATE_SCREENSHOT") == "1":
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dashboard, README_SCREENSHOT)

    assert outside == [], f"the UI fetched from other origins: {outside}"
    context.close()


_UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
    .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
    .map(el => el.outerHTML.slice(0, 120))"""


def test_phone_layout_labels_and_keyboard_focus(server: Server, browser) -> None:
    """On a phone-sized screen nothing overflows sideways, every control has a label, and keyboard
    focus is always visible."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    _sign_in_with_keyboard(page, server)
    for path in ("", "/campaigns", "/campaigns/new", "/icps", "/icps/new", "/prospects", "/do-not-call", "/calls", "/live"):
        page.goto(f"{server.url}{BASE}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, overflow)
        assert page.evaluate(_UNLABELLED_CONTROLS) == [], path
    page.goto(f"{server.url}{BASE}")
    _shot(page, "07-dashboard-phone")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Saltar al contenido")
    expect(skip).to_be_focused()
    outline = skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"
    context.close()
