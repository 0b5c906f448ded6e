"""Admin UI protection: sign-in, session cookie, CSRF on every POST, and tenant isolation of every
page and fragment (another tenant's id answers 404, as the API does)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from fastapi.routing import APIRoute
from sqlalchemy import func, select, update

from api.admin import routes as admin_routes
from db.models import ApiKey, Campaign, DoNotCallNumber, IdealCustomerProfile, Prospect
from tests.admin.conftest import BASE, TenantData, csrf_from, sign_in

PUBLIC = {("GET", f"{BASE}/login"), ("POST", f"{BASE}/login"), ("GET", f"{BASE}/static/{{name}}")}


def admin_route_templates() -> set[tuple[str, str]]:
    """(method, path template) of every admin route, so a new route cannot miss these tests."""
    found: set[tuple[str, str]] = set()

    def walk(routes, prefix: str) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                path = route.path if route.path.startswith(BASE) else prefix + route.path
                found.update((method, path) for method in route.methods)
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes, prefix)

    walk(admin_routes.router.routes, BASE)
    return found


def get_urls(data: TenantData) -> dict[str, str]:
    """Every GET page and fragment that shows tenant data, keyed by its route template."""
    return {
        BASE: BASE,
        f"{BASE}/dashboard/fragment": f"{BASE}/dashboard/fragment",
        f"{BASE}/campaigns": f"{BASE}/campaigns",
        f"{BASE}/campaigns/new": f"{BASE}/campaigns/new",
        f"{BASE}/campaigns/{{campaign_id}}": f"{BASE}/campaigns/{data.campaign_id}",
        f"{BASE}/campaigns/{{campaign_id}}/edit": f"{BASE}/campaigns/{data.campaign_id}/edit",
        f"{BASE}/icps": f"{BASE}/icps",
        f"{BASE}/icps/new": f"{BASE}/icps/new",
        f"{BASE}/icps/{{icp_id}}": f"{BASE}/icps/{data.icp_id}",
        f"{BASE}/prospects": f"{BASE}/prospects?campaign={data.campaign_id}",
        f"{BASE}/do-not-call": f"{BASE}/do-not-call",
        f"{BASE}/calls": f"{BASE}/calls?campaign={data.campaign_id}",
        f"{BASE}/calls/{{call_id}}": f"{BASE}/calls/{data.call_id}",
        f"{BASE}/live": f"{BASE}/live",
        f"{BASE}/live/fragment": f"{BASE}/live/fragment?call={data.live_call_id}",
        f"{BASE}/live/stream": f"{BASE}/live/stream?call={data.live_call_id}",
    }


def post_urls(data: TenantData) -> dict[str, tuple[str, dict]]:
    """Every POST with a valid-looking body, keyed by its route template."""
    return {
        f"{BASE}/logout": (f"{BASE}/logout", {}),
        f"{BASE}/icps/new": (f"{BASE}/icps/new", {"name": "Intruso"}),
        f"{BASE}/icps/{{icp_id}}": (f"{BASE}/icps/{data.icp_id}", {"name": "Intruso"}),
        f"{BASE}/campaigns/new": (f"{BASE}/campaigns/new", {"name": "Intrusa"}),
        f"{BASE}/campaigns/{{campaign_id}}/edit": (f"{BASE}/campaigns/{data.campaign_id}/edit", {"name": "Intrusa"}),
        f"{BASE}/campaigns/{{campaign_id}}/status": (f"{BASE}/campaigns/{data.campaign_id}/status", {"status": "archived"}),
        f"{BASE}/campaigns/{{campaign_id}}/prospects": (
            f"{BASE}/campaigns/{data.campaign_id}/prospects",
            {"full_name": "Intruso", "phone_number": "612999888"},
        ),
        f"{BASE}/campaigns/{{campaign_id}}/prospects/import": (
            f"{BASE}/campaigns/{data.campaign_id}/prospects/import",
            {},
        ),
        f"{BASE}/prospects/{{prospect_id}}/converted": (f"{BASE}/prospects/{data.prospect_id}/converted", {"converted": "false"}),
        f"{BASE}/do-not-call": (f"{BASE}/do-not-call", {"phone_number": "612999777"}),
        f"{BASE}/do-not-call/{{entry_id}}/delete": (f"{BASE}/do-not-call/{data.dnc_id}/delete", {}),
    }


_CSV = {"file": ("p.csv", "full_name,phone_number\nIntruso,612999666\n".encode(), "text/csv")}


async def _snapshot(sessionmaker) -> tuple:
    """What a refused POST must leave untouched."""
    async with sessionmaker() as session:
        return (
            await session.scalar(select(func.count(IdealCustomerProfile.id))),
            await session.scalar(select(func.count(Campaign.id))),
            await session.scalar(select(func.count(Prospect.id))),
            await session.scalar(select(func.count(DoNotCallNumber.id))),
            tuple(sorted((c.name, c.status.value) for c in await session.scalars(select(Campaign)))),
            tuple(sorted(i.name for i in await session.scalars(select(IdealCustomerProfile)))),
            tuple(sorted((p.full_name, p.is_converted) for p in await session.scalars(select(Prospect)))),
        )


async def test_every_route_is_covered_by_these_tests(client, make_tenant, seed_tenant) -> None:
    tenant = await make_tenant()
    data = await seed_tenant(tenant.profile_id, "cobertura")
    covered = {("GET", t) for t in get_urls(data)} | {("POST", t) for t in post_urls(data)} | PUBLIC
    routes = {(m, p) for m, p in admin_route_templates() if m in ("GET", "POST")}
    assert routes == covered


async def test_pages_need_a_session(client: httpx.AsyncClient, make_tenant, seed_tenant, sessionmaker) -> None:
    tenant = await make_tenant()
    data = await seed_tenant(tenant.profile_id, "anon")
    for template, url in get_urls(data).items():
        answer = await client.get(url)
        if template.endswith(("/fragment", "/stream")):
            assert answer.status_code == 401, url
        else:
            assert answer.status_code == 303, url
            assert answer.headers["location"].startswith(f"{BASE}/login?next="), url
        assert data.names["campaign"] not in answer.text
    before = await _snapshot(sessionmaker)
    for url, body in post_urls(data).values():
        answer = await client.post(url, data=body, files=_CSV if url.endswith("/import") else None)
        assert answer.status_code == 303 and "/login" in answer.headers["location"], url
    assert await _snapshot(sessionmaker) == before


async def test_sign_in_checks_the_key_and_the_form_token(client: httpx.AsyncClient, make_tenant, sessionmaker) -> None:
    tenant = await make_tenant()
    page = await client.get(f"{BASE}/login?next={BASE}/icps")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/admin" in cookie
    token = csrf_from(page.text)

    wrong = await client.post(f"{BASE}/login", data={"api_key": "cc_nope", "csrf_token": token})
    assert wrong.status_code == 401 and "no es válida" in wrong.text
    empty = await client.post(f"{BASE}/login", data={"api_key": "", "csrf_token": token})
    assert empty.status_code == 422 and "Escribe tu clave" in empty.text
    no_token = await client.post(f"{BASE}/login", data={"api_key": tenant.api_key})
    assert no_token.status_code == 403
    assert tenant.api_key not in no_token.text  # the key is never echoed back

    ok = await client.post(f"{BASE}/login", data={"api_key": tenant.api_key, "csrf_token": token, "next": f"{BASE}/icps"})
    assert ok.status_code == 303 and ok.headers["location"] == f"{BASE}/icps"
    assert tenant.api_key not in ok.headers["set-cookie"]  # the cookie names the key's id, not the key
    # The CSRF token is rotated at sign-in.
    assert csrf_from((await client.get(f"{BASE}/icps")).text) != token


async def test_sign_in_never_redirects_off_site(client: httpx.AsyncClient, make_tenant) -> None:
    tenant = await make_tenant()
    for target in ("https://evil.example/", "//evil.example/admin/cold-calling", "/api/v1/icps"):
        client.cookies.clear()
        page = await client.get(f"{BASE}/login")
        ok = await client.post(
            f"{BASE}/login", data={"api_key": tenant.api_key, "csrf_token": csrf_from(page.text), "next": target}
        )
        assert ok.headers["location"] == BASE, target


async def test_sign_out_and_revoked_keys_end_the_session(client: httpx.AsyncClient, make_tenant, sessionmaker) -> None:
    tenant = await make_tenant()
    csrf = await sign_in(client, tenant.api_key)
    out = await client.post(f"{BASE}/logout", data={"csrf_token": csrf})
    assert out.status_code == 303
    assert (await client.get(f"{BASE}/icps")).status_code == 303

    await sign_in(client, tenant.api_key)
    assert (await client.get(f"{BASE}/icps")).status_code == 200
    again = await client.get(f"{BASE}/login?next={BASE}/calls")  # signed in: straight on
    assert again.status_code == 303 and again.headers["location"] == f"{BASE}/calls"
    async with sessionmaker() as session:
        await session.execute(
            update(ApiKey).where(ApiKey.user_id == tenant.profile_id).values(revoked_at=datetime.now(UTC))
        )
        await session.commit()
    assert (await client.get(f"{BASE}/icps")).status_code == 303
    assert (await client.get(f"{BASE}/login")).status_code == 200  # a revoked key's session signs in anew


async def test_a_forged_cookie_is_no_session(client: httpx.AsyncClient, make_tenant) -> None:
    tenant = await make_tenant()
    await sign_in(client, tenant.api_key)
    value = client.cookies.get("coldcall_admin")
    client.cookies.clear()
    client.cookies.set("coldcall_admin", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"), path="/admin")
    assert (await client.get(f"{BASE}/icps")).status_code == 303


async def test_every_post_needs_the_sessions_csrf_token(
    client: httpx.AsyncClient, make_tenant, seed_tenant, sessionmaker
) -> None:
    tenant = await make_tenant()
    data = await seed_tenant(tenant.profile_id, "csrf")
    # A token from another browser session is worth nothing in this one.
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    foreign_token = await sign_in(other, tenant.api_key)
    await other.aclose()
    await sign_in(client, tenant.api_key)
    before = await _snapshot(sessionmaker)
    for url, body in post_urls(data).values():
        files = _CSV if url.endswith("/import") else None
        for token in (None, "", "x" * 43, foreign_token):
            form = dict(body) if token is None else {**body, "csrf_token": token}
            answer = await client.post(url, data=form, files=files)
            assert answer.status_code == 403, (url, token)
            assert "El formulario ha caducado" in answer.text
    assert await _snapshot(sessionmaker) == before
    assert (await client.get(f"{BASE}/icps")).status_code == 200  # still signed in


async def test_no_page_or_fragment_of_another_tenant(
    client: httpx.AsyncClient, make_tenant, seed_tenant, sessionmaker
) -> None:
    owner = await make_tenant("Dueño")
    intruder = await make_tenant("Intruso")
    theirs = await seed_tenant(owner.profile_id, "ajeno")
    ours = await seed_tenant(intruder.profile_id, "propio")
    csrf = await sign_in(client, intruder.api_key)
    secret_texts = [v for k, v in theirs.names.items()]
    for template, url in get_urls(theirs).items():
        answer = await client.get(url)
        names_an_id = "{" in template or "?" in url
        if names_an_id:
            assert answer.status_code == 404, url
        else:
            assert answer.status_code == 200, url
        for text in secret_texts:
            assert text not in answer.text, (url, text)
    # Lists and the live view show only the intruder's own rows.
    live = await client.get(f"{BASE}/live/fragment")
    assert ours.names["live_turn"] in live.text and theirs.names["live_turn"] not in live.text

    before = await _snapshot(sessionmaker)
    for template, (url, body) in post_urls(theirs).items():
        if "{" not in template:
            continue
        answer = await client.post(url, data={**body, "csrf_token": csrf}, files=_CSV if url.endswith("/import") else None)
        assert answer.status_code == 404, url
        for text in secret_texts:
            assert text not in answer.text, (url, text)
    assert await _snapshot(sessionmaker) == before
    # Malformed ids are just "not found", never a 500.
    for url in (f"{BASE}/campaigns/nope", f"{BASE}/calls/123", f"{BASE}/prospects?campaign=x", f"{BASE}/live/fragment?call=x"):
        assert (await client.get(url)).status_code == 404, url


async def test_static_files_are_served_and_nothing_else(client: httpx.AsyncClient) -> None:
    css = await client.get(f"{BASE}/static/admin.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = await client.get(f"{BASE}/static/admin.js")
    assert js.status_code == 200 and "EventSource" in js.text
    for name in ("..%2Froutes.py", "routes.py", ".hidden.css", "nope.css"):
        assert (await client.get(f"{BASE}/static/{name}")).status_code == 404, name
    # No page loads anything from another origin (everything is vendored).
    login = await client.get(f"{BASE}/login")
    assert not re.search(r'(src|href)="(https?:)?//', login.text)
