"""Admin UI over HTTP (no browser): every page renders the tenant's data, forms write through the
control plane's services and show its messages beside the fields."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from db.models import Campaign, CampaignStatus, IdealCustomerProfile, Prospect
from tests.admin.conftest import BASE, sign_in


async def _draft_campaign(sessionmaker, profile_id, name: str) -> Campaign:
    async with sessionmaker() as session:
        campaign = Campaign(user_id=profile_id, name=name, status=CampaignStatus.draft)
        session.add(campaign)
        await session.commit()
        return campaign


async def test_every_page_renders_the_tenants_data(client: httpx.AsyncClient, make_tenant, seed_tenant) -> None:
    tenant = await make_tenant("Equipo Norte")
    data = await seed_tenant(tenant.profile_id, "norte")
    await sign_in(client, tenant.api_key)

    dashboard = await client.get(BASE)
    assert "Equipo Norte" in dashboard.text
    for label in ("Campañas", "ICPs", "Llamadas", "Conversión"):
        assert f'<div class="label">{label}</div>' in dashboard.text
    # Two calls (one ended, one live), one answered: the funnel says so in its description.
    assert "Llamadas 2, Contestadas 1, Interesados 1, Convertidos 1" in dashboard.text
    assert 'class="bar best"' in dashboard.text
    assert "Modo simulado" in dashboard.text

    fragment = await client.get(f"{BASE}/dashboard/fragment")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert '<div class="value">2</div>' in fragment.text and "1 en curso" in fragment.text

    pages = {
        "/campaigns": [data.names["campaign"], "En pausa"],
        f"/campaigns/{data.campaign_id}": [data.names["campaign"], "Tasa de respuesta", data.names["icp"]],
        f"/campaigns/{data.campaign_id}/edit": [data.names["campaign"]],
        "/icps": [data.names["icp"], "SaaS", "Mediana (50–249)"],
        f"/icps/{data.icp_id}": [data.names["icp"]],
        f"/prospects?campaign={data.campaign_id}": [data.names["prospect"], "Interesado"],
        "/do-not-call": [data.names["dnc"], "Pidió la baja"],
        "/calls": [data.names["prospect"], "Interesado", "312 ms"],
        f"/calls/{data.call_id}": [data.names["turn"], "respuesta en", "312 ms", "<audio"],
        "/live": [data.names["live_turn"]],
        "/live/fragment": [data.names["live_turn"]],
        f"/live/fragment?call={data.live_call_id}": [data.names["live_turn"]],
    }
    for path, expected in pages.items():
        answer = await client.get(BASE + path)
        assert answer.status_code == 200, (path, answer.text[:500])
        for text in expected:
            assert text in answer.text, (path, text)


async def test_icp_form_creates_and_shows_problems_beside_fields(client: httpx.AsyncClient, make_tenant, sessionmaker) -> None:
    tenant = await make_tenant()
    csrf = await sign_in(client, tenant.api_key)

    bad = await client.post(f"{BASE}/icps/new", data={"csrf_token": csrf, "name": "", "industry": "saas"})
    assert bad.status_code == 422
    assert re.search(r'id="name-error">[^<]+</p>', bad.text)

    good = await client.post(
        f"{BASE}/icps/new",
        data={
            "csrf_token": csrf,
            "name": "Director Comercial B2B SaaS",
            "industry": "saas",
            "company_size": "medium",
            "pain_points": "Pocas reuniones\n\nCiclo de venta largo\n",
            "is_active": "on",
        },
    )
    assert good.status_code == 303
    async with sessionmaker() as session:
        icp = await session.scalar(select(IdealCustomerProfile).where(IdealCustomerProfile.user_id == tenant.profile_id))
    assert icp.pain_points == ["Pocas reuniones", "Ciclo de venta largo"]
    assert icp.is_active

    edit = await client.post(
        f"{BASE}/icps/{icp.id}", data={"csrf_token": csrf, "name": "Otro nombre", "industry": "retail"}
    )
    assert edit.status_code == 303
    async with sessionmaker() as session:
        icp = await session.get(IdealCustomerProfile, icp.id)
    assert (icp.name, icp.industry.value, icp.pain_points, icp.is_active) == ("Otro nombre", "retail", [], False)


async def test_campaign_template_problem_is_shown_beside_the_field(client: httpx.AsyncClient, make_tenant, sessionmaker) -> None:
    tenant = await make_tenant()
    csrf = await sign_in(client, tenant.api_key)
    form = {
        "csrf_token": csrf,
        "name": "Campaña Q1",
        "script_template": "Hola {{first_name}}, soy de {{empresa_mia}}.",
        "call_window_start": "9",
        "call_window_end": "18",
        "follow_up_sequence": "1, 3, 7",
        "timezone": "Europe/Madrid",
    }
    bad = await client.post(f"{BASE}/campaigns/new", data=form)
    assert bad.status_code == 422
    error = re.search(r'id="script_template-error">([^<]+)</p>', bad.text)
    assert error and "{{empresa_mia}}" in error.group(1) and "{{first_name}}" in error.group(1)
    assert "Hola {{first_name}}, soy de {{empresa_mia}}." in bad.text  # what was typed is kept

    form["script_template"] = "Hola {{first_name}}, ¿qué tal en {{company}}?"
    form["caller_id"] = "910 000 000"
    good = await client.post(f"{BASE}/campaigns/new", data=form)
    assert good.status_code == 303
    async with sessionmaker() as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.user_id == tenant.profile_id))
    assert campaign.status == CampaignStatus.draft
    assert campaign.follow_up_sequence == [1, 3, 7]
    assert campaign.caller_id == "+34910000000"
    assert good.headers["location"].endswith(f"/campaigns/{campaign.id}?aviso=campaign_created")
    page = await client.get(good.headers["location"])
    assert "Campaña creada." in page.text


async def test_play_pause_follow_the_status_rules(client: httpx.AsyncClient, make_tenant, sessionmaker) -> None:
    tenant = await make_tenant()
    csrf = await sign_in(client, tenant.api_key)
    campaign = await _draft_campaign(sessionmaker, tenant.profile_id, "Sin número")

    listing = await client.get(f"{BASE}/campaigns")
    assert f'aria-label="Activar la campaña Sin número"' in listing.text
    assert "Pausar la campaña" not in listing.text

    # A draft cannot be paused: the service's sentence is shown, nothing changes.
    refused = await client.post(f"{BASE}/campaigns/{campaign.id}/status", data={"csrf_token": csrf, "status": "paused"})
    assert refused.status_code == 409
    assert "no puede pasar a" in refused.text
    # From the list, the list comes back with the sentence; activating without a caller id is refused.
    no_caller = await client.post(
        f"{BASE}/campaigns/{campaign.id}/status", data={"csrf_token": csrf, "status": "active", "back": "list"}
    )
    assert no_caller.status_code == 409 and "<h1>Campañas</h1>" in no_caller.text
    assert 'class="notice error"' in no_caller.text
    async with sessionmaker() as session:
        assert (await session.get(Campaign, campaign.id)).status == CampaignStatus.draft


async def test_csv_upload_reports_each_bad_row(client: httpx.AsyncClient, make_tenant, sessionmaker) -> None:
    tenant = await make_tenant()
    csrf = await sign_in(client, tenant.api_key)
    campaign = await _draft_campaign(sessionmaker, tenant.profile_id, "Importación")
    csv_text = (
        "nombre;teléfono;empresa;consent_basis\n"
        "Ana Pérez;612 345 678;Acme;legitimate_interest\n"
        "Número Malo;12;Acme;consent\n"
        "Luis Gómez;+34 699 111 222;Beta;consent\n"
    ).encode("utf-8")
    answer = await client.post(
        f"{BASE}/campaigns/{campaign.id}/prospects/import",
        data={"csrf_token": csrf},
        files={"file": ("prospectos.csv", csv_text, "text/csv")},
    )
    assert answer.status_code == 200
    assert "<strong>2</strong> importados de 3 filas" in answer.text
    row = re.search(r'<tr class="import-error"><td class="num">(\d+)</td><td>([^<]+)</td>', answer.text)
    assert row and row.group(1) == "3" and "teléfono" in row.group(2)
    assert "Ana Pérez" in answer.text and "Luis Gómez" in answer.text
    async with sessionmaker() as session:
        phones = set(await session.scalars(select(Prospect.phone_number).where(Prospect.campaign_id == campaign.id)))
    assert phones == {"+34612345678", "+34699111222"}

    empty = await client.post(
        f"{BASE}/campaigns/{campaign.id}/prospects/import",
        data={"csrf_token": csrf},
        files={"file": ("vacio.csv", b"", "text/csv")},
    )
    assert empty.status_code == 422 and "vacío" in empty.text


async def test_do_not_call_list_add_and_remove(client: httpx.AsyncClient, make_tenant) -> None:
    tenant = await make_tenant()
    csrf = await sign_in(client, tenant.api_key)
    bad = await client.post(f"{BASE}/do-not-call", data={"csrf_token": csrf, "phone_number": "abc"})
    assert bad.status_code == 422 and 'id="phone_number-error"' in bad.text
    added = await client.post(f"{BASE}/do-not-call", data={"csrf_token": csrf, "phone_number": "612 000 111"})
    assert added.status_code == 303
    page = await client.get(f"{BASE}/do-not-call")
    assert "+34612000111" in page.text
    again = await client.post(f"{BASE}/do-not-call", data={"csrf_token": csrf, "phone_number": "+34612000111"})
    assert again.status_code == 409 and "ya está en la lista" in again.text
    entry_id = re.search(r'/do-not-call/([0-9a-f-]{36})/delete', page.text).group(1)
    removed = await client.post(f"{BASE}/do-not-call/{entry_id}/delete", data={"csrf_token": csrf})
    assert removed.status_code == 303
    assert "+34612000111" not in (await client.get(f"{BASE}/do-not-call")).text


def test_banner_names_only_the_simulated_parts() -> None:
    from api.admin.context import simulated_parts
    from bot.settings import Settings

    offline = simulated_parts(Settings(_env_file=None, telnyx_api_key=None, elevenlabs_api_key=None, openai_api_key=None))
    assert len(offline) == 4 and any("Telnyx" in p for p in offline) and any("espeak-ng" in p for p in offline)
    real = Settings(
        _env_file=None, telnyx_api_key="KEY0123456789", elevenlabs_api_key="sk_0123456789", openai_api_key="sk-0123456789"
    )
    assert simulated_parts(real) == []


async def test_call_page_shows_services_and_survives_odd_stored_data(
    client: httpx.AsyncClient, make_tenant, seed_tenant, sessionmaker
) -> None:
    from db.models import CallLog

    tenant = await make_tenant()
    data = await seed_tenant(tenant.profile_id, "raro")
    async with sessionmaker() as session:
        call = await session.get(CallLog, data.call_id)
        call.transcript = [
            "not a turn",
            {"speaker": "bot"},
            {"speaker": "bot", "text": "", "start": 1.0, "latency_ms": 250},
            {"speaker": "prospect", "text": "¿Cuánto cuesta?", "start": 2.0},
        ]
        call.metadata_ = {
            "services": {"stt": "simulated", "llm": "scripted", "tts": "offline"},
            "intents": ["cuanto_cuesta"],
            "first_audio_ms": 42,
            "reply_latency_ms": "not a list",
        }
        call.recording_url = "javascript:alert(1)"
        await session.commit()
    await sign_in(client, tenant.api_key)
    page = await client.get(f"{BASE}/calls/{data.call_id}")
    assert page.status_code == 200
    assert "¿Cuánto cuesta?" in page.text and "250 ms" in page.text and "42 ms" in page.text
    assert "Respondedor con guion (simulado)" in page.text and "cuanto_cuesta" in page.text
    assert "javascript:" not in page.text and "no tiene grabación" in page.text


async def test_marking_a_prospect_converted_moves_the_conversion_card(
    client: httpx.AsyncClient, make_tenant, seed_tenant, sessionmaker
) -> None:
    tenant = await make_tenant()
    data = await seed_tenant(tenant.profile_id, "venta")
    csrf = await sign_in(client, tenant.api_key)
    assert "100 %" in (await client.get(f"{BASE}/dashboard/fragment")).text  # seeded as converted
    undo = await client.post(
        f"{BASE}/prospects/{data.prospect_id}/converted", data={"csrf_token": csrf, "converted": "false"}
    )
    assert undo.status_code == 303
    async with sessionmaker() as session:
        prospect = await session.get(Prospect, data.prospect_id)
    assert not prospect.is_converted and prospect.converted_at is None
    cards = (await client.get(f"{BASE}/dashboard/fragment")).text
    assert re.search(r'data-card="conversion">\s*<div class="label">Conversión</div>\s*<div class="value">0 %', cards)
    page = await client.get(undo.headers["location"])
    assert "Marcar convertido" in page.text and "Se ha quitado la marca de convertido." in page.text


async def test_stored_text_is_escaped_everywhere(client: httpx.AsyncClient, make_tenant, seed_tenant) -> None:
    tenant = await make_tenant()
    data = await seed_tenant(tenant.profile_id, "<img src=x onerror=alert(1)>")
    await sign_in(client, tenant.api_key)
    paths = ["/campaigns", "/icps", f"/prospects?campaign={data.campaign_id}", "/calls", f"/calls/{data.call_id}"]
    for path in [*paths, "/live", "/live/fragment"]:
        page = await client.get(BASE + path)
        assert page.status_code == 200, path
        assert "<img src=x" not in page.text and "&lt;img src=x" in page.text, path


async def test_campaign_edit_saves_every_field_and_refuses_closed_campaigns(
    client: httpx.AsyncClient, make_tenant, sessionmaker
) -> None:
    tenant = await make_tenant()
    csrf = await sign_in(client, tenant.api_key)
    created = await client.post(f"{BASE}/campaigns/new", data={"csrf_token": csrf, "name": "Original"})
    assert created.status_code == 303
    async with sessionmaker() as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.user_id == tenant.profile_id))
    form_page = await client.get(f"{BASE}/campaigns/{campaign.id}/edit")
    assert "cuanto_cuesta: " in form_page.text  # the seed's replies are editable as "clave: texto" lines

    edit = {
        "csrf_token": csrf,
        "name": "Renombrada",
        "call_window_start": "10",
        "call_window_end": "14",
        "timezone": "Atlantic/Canary",
        "language": "es-ES",
        "max_calls_per_day": "20",
        "max_concurrent_calls": "2",
        "max_attempts": "4",
        "follow_up_sequence": "1 2 5",
        "voice_type": "female_friendly",
        "objection_handling": "ya_tenemos_proveedor: Lo entiendo, muchos clientes nos usan a la vez.",
        "pregenerated_replies": "cuanto_cuesta: Depende del volumen; te lo cuento en dos minutos.",
    }
    saved = await client.post(f"{BASE}/campaigns/{campaign.id}/edit", data=edit)
    assert saved.status_code == 303
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign.id)
    assert (campaign.name, campaign.call_window_start, campaign.call_window_end, campaign.timezone) == (
        "Renombrada", 10, 14, "Atlantic/Canary"
    )
    assert campaign.follow_up_sequence == [1, 2, 5] and campaign.voice_type.value == "female_friendly"
    assert campaign.objection_handling == {"ya_tenemos_proveedor": "Lo entiendo, muchos clientes nos usan a la vez."}
    assert campaign.pregenerated_replies["cuanto_cuesta"] == "Depende del volumen; te lo cuento en dos minutos."

    bad_window = await client.post(f"{BASE}/campaigns/{campaign.id}/edit", data={**edit, "call_window_end": "8"})
    assert bad_window.status_code == 422 and 'id="call_window_end-error"' in bad_window.text
    bad_lines = await client.post(
        f"{BASE}/campaigns/{campaign.id}/edit", data={**edit, "objection_handling": "sin dos puntos"}
    )
    assert bad_lines.status_code == 422 and "clave: texto" in bad_lines.text

    archived = await client.post(
        f"{BASE}/campaigns/{campaign.id}/status", data={"csrf_token": csrf, "status": "archived"}
    )
    assert archived.status_code == 303
    closed = await client.post(f"{BASE}/campaigns/{campaign.id}/edit", data=edit)
    assert closed.status_code == 409 and "ya no se puede modificar" in closed.text


async def test_adding_one_prospect_and_a_duplicate(client: httpx.AsyncClient, make_tenant, sessionmaker) -> None:
    tenant = await make_tenant()
    csrf = await sign_in(client, tenant.api_key)
    campaign = await _draft_campaign(sessionmaker, tenant.profile_id, "Una a una")
    form = {"csrf_token": csrf, "full_name": "Ana Pérez", "phone_number": "612 345 670", "consent_basis": "consent"}
    added = await client.post(f"{BASE}/campaigns/{campaign.id}/prospects", data=form)
    assert added.status_code == 303
    page = await client.get(added.headers["location"])
    assert "Prospecto añadido." in page.text and "+34612345670" in page.text and "Pendiente" in page.text
    again = await client.post(f"{BASE}/campaigns/{campaign.id}/prospects", data=form)
    assert again.status_code == 409 and "Ya hay un prospecto con este número" in again.text
    bad = await client.post(f"{BASE}/campaigns/{campaign.id}/prospects", data={**form, "email": "no-es-correo"})
    assert bad.status_code == 422 and 'id="email-error"' in bad.text
