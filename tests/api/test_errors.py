"""Cross-cutting behaviour: authentication, error bodies, size limits, OpenAPI, and a fuzz test that
no input makes the server answer 500."""

from __future__ import annotations

import json
import random
import uuid

import pytest

from tests.api.conftest import SEED_ICP

PROTECTED = [
    ("GET", "/api/v1/icps"),
    ("POST", "/api/v1/icps"),
    ("GET", "/api/v1/campaigns"),
    ("GET", "/api/v1/calls"),
    ("GET", "/api/v1/stats"),
    ("GET", "/api/v1/do-not-call"),
    ("GET", f"/api/v1/prospects/{uuid.uuid4()}"),
]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer cc_wrong"}, {"Authorization": "Basic abc"}])
async def test_every_resource_needs_a_valid_key(client, headers):
    for method, path in PROTECTED:
        response = await client.request(method, path, headers=headers, json={"name": "x"})
        assert response.status_code == 401, (method, path)
        assert "API key" in response.json()["detail"]


async def test_health_and_openapi_are_public(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/docs")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    for path in (
        "/api/v1/icps", "/api/v1/icps/{icp_id}", "/api/v1/campaigns", "/api/v1/campaigns/{campaign_id}",
        "/api/v1/campaigns/{campaign_id}/status", "/api/v1/campaigns/{campaign_id}/prospects",
        "/api/v1/campaigns/{campaign_id}/prospects/import", "/api/v1/prospects/{prospect_id}", "/api/v1/calls",
        "/api/v1/calls/{call_id}", "/api/v1/campaigns/{campaign_id}/stats", "/api/v1/stats", "/api/v1/do-not-call",
    ):
        assert path in spec["paths"], path


async def test_broken_json_and_wrong_types_are_422_with_sentences(client, tenant):
    headers = {**tenant.headers, "Content-Type": "application/json"}
    for content in (b"{", b"[]", b'"text"', b"null", "{\"name\": \"a\u0000b\"}".encode(), b'{"name": "x", "painPoints": [NaN]}'):
        response = await client.post("/api/v1/icps", content=content, headers=headers)
        assert response.status_code == 422, content
        assert response.json()["detail"] and response.json()["detail_es"]


async def test_json_bodies_over_1_mib_are_413(client, tenant):
    big = {"name": "x", "description": "a" * (1024 * 1024)}
    response = await client.post("/api/v1/icps", json=big, headers=tenant.headers)
    assert response.status_code == 413 and "1 MiB" in response.json()["detail"]

    async def chunks():  # no Content-Length: the limit applies while streaming
        yield b'{"name": "x", "description": "'
        for _ in range(300):
            yield b"a" * 4096
        yield b'"}'

    streamed = await client.post(
        "/api/v1/icps", content=chunks(), headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert (await client.get("/api/v1/icps", headers=tenant.headers)).json()["items"] == []


def _random_value(rng: random.Random, depth: int = 0):
    kinds = ["str", "int", "float", "bool", "null", "phone", "uuid", "date"] + (["list", "dict"] if depth < 4 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return rng.choice(["", " ", "x" * rng.randint(1, 300), "ñáé€😀", "{{nombre}}", "a\u0000b", "Europe/Madrid", "ES-MD"])
    if kind == "int":
        return rng.choice([0, -1, 1, 24, 25, 10**20, -(10**20), rng.randint(-1000, 1000)])
    if kind == "float":
        return rng.choice([0.5, -3.2, 1e308, 9.75])
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "null":
        return None
    if kind == "phone":
        return rng.choice(["612 345 678", "+34 91 000 00 00", "123", "+1 202 555 0101", "+99999"])
    if kind == "uuid":
        return str(uuid.uuid4())
    if kind == "date":
        return rng.choice(["2026-03-02T10:00:00+01:00", "2026-03-02", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "nope"])
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(FIELDS): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


FIELDS = [
    "name", "fullName", "full_name", "phoneNumber", "phone_number", "status", "icpId", "industry", "companySize",
    "painPoints", "maxCallsPerDay", "callWindowStart", "callWindowEnd", "timezone", "scriptTemplate",
    "objectionHandling", "followUpSequence", "callerId", "transferNumber", "voiceType", "pregeneratedReplies",
    "startDate", "endDate", "region", "consentBasis", "customFields", "email", "linkedinUrl", "nextCallAt",
    "isConverted", "campaignId", "clientId", "reason", "unknown",
]


async def test_fuzz_no_input_gives_a_500(client, tenant, new_campaign, new_prospect):
    icp = (await client.post("/api/v1/icps", json=SEED_ICP, headers=tenant.headers)).json()
    campaign = await new_campaign(tenant)
    prospect = await new_prospect(tenant, campaign["id"])
    targets = [
        ("POST", "/api/v1/icps"),
        ("PATCH", f"/api/v1/icps/{icp['id']}"),
        ("POST", "/api/v1/campaigns"),
        ("PATCH", f"/api/v1/campaigns/{campaign['id']}"),
        ("POST", f"/api/v1/campaigns/{campaign['id']}/status"),
        ("POST", f"/api/v1/campaigns/{campaign['id']}/prospects"),
        ("PATCH", f"/api/v1/prospects/{prospect['id']}"),
        ("POST", "/api/v1/do-not-call"),
    ]
    rng = random.Random(20261124)
    statuses: set[int] = set()
    for _ in range(150):
        method, path = rng.choice(targets)
        body = _random_value(rng) if rng.random() < 0.2 else {rng.choice(FIELDS): _random_value(rng) for _ in range(rng.randint(1, 6))}
        response = await client.request(method, path, content=json.dumps(body).encode(), headers={**tenant.headers, "Content-Type": "application/json"})
        assert response.status_code < 500, (method, path, body, response.text)
        statuses.add(response.status_code)
    for path in ("/api/v1/calls", "/api/v1/icps", f"/api/v1/campaigns/{campaign['id']}/prospects", "/api/v1/do-not-call"):
        for _ in range(10):
            params = {rng.choice(["limit", "cursor", "status", "campaign_id", "prospect_id", "phone_number"]): str(_random_value(rng))}
            response = await client.get(path, params=params, headers=tenant.headers)
            assert response.status_code < 500, (path, params, response.text)
    for content in (b"\xff\xfe\x00", b"a;b;c\n1;2;3\n", "full_name,phone_number\n\"unterminated,612345678\n".encode(), b"\r\r\n\n,,,"):
        response = await client.post(
            f"/api/v1/campaigns/{campaign['id']}/prospects/import", content=content, headers={**tenant.headers, "Content-Type": "text/csv"}
        )
        assert response.status_code < 500, (content, response.text)
    assert 422 in statuses  # the fuzzer did reach validation
