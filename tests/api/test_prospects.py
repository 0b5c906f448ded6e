"""Prospect endpoints: create (due now, normalised), list with filters and pages, patch, delete."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from bot.clock import FixedClock

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def fixed_clock(client) -> FixedClock:
    clock = FixedClock(NOW)
    client.app.state.clock = clock
    return clock


async def test_seed_add_prospect_is_normalised_and_due_now(client, tenant, new_campaign, fixed_clock):
    campaign = await new_campaign(tenant)
    body = {
        "campaignId": campaign["id"],
        "fullName": "María López",
        "company": "TechCorp",
        "role": "Directora Comercial",
        "phoneNumber": "612 345 678",
        "email": "maria@techcorp.com",
        "linkedinUrl": "https://linkedin.com/in/marialopez",
        "region": "es-md",
        "timezone": "Europe/Madrid",
        "consentBasis": "legitimate_interest",
        "customFields": {"origen": "feria"},
    }
    response = await client.post(f"/api/v1/campaigns/{campaign['id']}/prospects", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    prospect = response.json()
    assert prospect["phone_number"] == "+34612345678"
    assert prospect["region"] == "ES-MD"
    assert prospect["status"] == "pending"
    assert datetime.fromisoformat(prospect["next_call_at"]) == NOW
    assert prospect["consent_basis"] == "legitimate_interest"
    assert prospect["custom_fields"] == {"origen": "feria"}
    fetched = await client.get(f"/api/v1/prospects/{prospect['id']}", headers=tenant.headers)
    assert fetched.json() == prospect


async def test_duplicate_phone_in_a_campaign_is_409_but_fine_in_another(client, tenant, new_campaign, new_prospect):
    first, second = await new_campaign(tenant), await new_campaign(tenant)
    await new_prospect(tenant, first["id"], phone="+34 612 345 678")
    again = await client.post(
        f"/api/v1/campaigns/{first['id']}/prospects",
        json={"fullName": "Otra", "phoneNumber": "0034612345678"},
        headers=tenant.headers,
    )
    assert again.status_code == 409 and "already in the campaign" in again.json()["detail"]
    await new_prospect(tenant, second["id"], phone="612345678")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fullName": "A", "phoneNumber": "12345"}, "phoneNumber"),
        ({"fullName": "A", "phoneNumber": "+34 012 345 678"}, "phoneNumber"),
        ({"fullName": "A"}, "phone_number"),
        ({"phoneNumber": "612345678"}, "full_name"),
        ({"fullName": "A", "phoneNumber": "612345678", "region": "ES-XX"}, "region"),
        ({"fullName": "A", "phoneNumber": "612345678", "region": "Madrid"}, "region"),
        ({"fullName": "A", "phoneNumber": "612345678", "timezone": "Madrid"}, "timezone"),
        ({"fullName": "A", "phoneNumber": "612345678", "email": "nope"}, "email"),
        ({"fullName": "A", "phoneNumber": "612345678", "consentBasis": "yes"}, "consentBasis"),
        ({"fullName": "A", "phoneNumber": "612345678", "age": 40}, "age"),
        ({"fullName": "A", "phoneNumber": "612345678", "clientId": str(uuid.uuid4())}, "client_id"),
        ({"fullName": "A", "phoneNumber": "612345678", "campaignId": str(uuid.uuid4())}, "campaign_id"),
    ],
)
async def test_bad_prospect_is_422_naming_the_field(client, tenant, new_campaign, body, field):
    campaign = await new_campaign(tenant)
    response = await client.post(f"/api/v1/campaigns/{campaign['id']}/prospects", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert field.split(".")[0] in response.json()["detail"] or field in response.json()["detail"]


async def test_list_filters_by_status_and_pages_in_insert_order(client, tenant, new_campaign, new_prospect):
    campaign = await new_campaign(tenant)
    numbers = [f"+3461234560{i}" for i in range(5)]
    ids = [(await new_prospect(tenant, campaign["id"], phone=n, fullName=f"P{i}"))["id"] for i, n in enumerate(numbers)]
    await client.patch(f"/api/v1/prospects/{ids[1]}", json={"status": "do_not_call"}, headers=tenant.headers)
    url = f"/api/v1/campaigns/{campaign['id']}/prospects"
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "status": "pending"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(url, params=params, headers=tenant.headers)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [ids[0], ids[2], ids[3], ids[4]]
    dnc = (await client.get(url, params={"status": "do_not_call"}, headers=tenant.headers)).json()["items"]
    assert [p["id"] for p in dnc] == [ids[1]]
    assert (await client.get(url, params={"status": "nope"}, headers=tenant.headers)).status_code == 422


async def test_patch_rules(client, tenant, new_campaign, new_prospect, fixed_clock):
    campaign = await new_campaign(tenant)
    prospect = await new_prospect(tenant, campaign["id"])
    other = await new_prospect(tenant, campaign["id"], phone="612345679")
    url = f"/api/v1/prospects/{prospect['id']}"

    stopped = await client.patch(url, json={"status": "completed"}, headers=tenant.headers)
    assert stopped.json()["status"] == "completed" and stopped.json()["next_call_at"] is None
    requeued = await client.patch(url, json={"status": "pending"}, headers=tenant.headers)
    assert requeued.json()["status"] == "pending"
    assert datetime.fromisoformat(requeued.json()["next_call_at"]) == NOW

    converted = await client.patch(url, json={"isConverted": True, "isQualified": True}, headers=tenant.headers)
    assert converted.json()["is_converted"] is True
    assert datetime.fromisoformat(converted.json()["converted_at"]) == NOW

    renumbered = await client.patch(url, json={"phoneNumber": "699 888 777"}, headers=tenant.headers)
    assert renumbered.json()["phone_number"] == "+34699888777"
    clash = await client.patch(url, json={"phoneNumber": other["phone_number"]}, headers=tenant.headers)
    assert clash.status_code == 409

    for body, field in (
        ({"status": "in_progress"}, "status"),
        ({"phoneNumber": None}, "phone_number"),
        ({"nextCallAt": "2026-03-02T10:00:00"}, "nextCallAt"),
    ):
        response = await client.patch(url, json=body, headers=tenant.headers)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field

    assert (await client.delete(url, headers=tenant.headers)).status_code == 204
    assert (await client.get(url, headers=tenant.headers)).status_code == 404


async def test_a_prospect_on_the_do_not_call_list_is_never_due(client, tenant, new_campaign):
    await client.post("/api/v1/do-not-call", json={"phoneNumber": "612 000 111"}, headers=tenant.headers)
    campaign = await new_campaign(tenant)
    response = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/prospects",
        json={"fullName": "A", "phoneNumber": "+34612000111"},
        headers=tenant.headers,
    )
    assert response.status_code == 201
    assert response.json()["status"] == "do_not_call" and response.json()["next_call_at"] is None


async def test_closed_campaigns_take_no_prospects(client, tenant, new_campaign):
    campaign = await new_campaign(tenant)
    await client.post(f"/api/v1/campaigns/{campaign['id']}/status", json={"status": "archived"}, headers=tenant.headers)
    response = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/prospects", json={"fullName": "A", "phoneNumber": "612345678"},
        headers=tenant.headers,
    )
    assert response.status_code == 409


async def test_another_tenants_prospect_is_404(client, tenant, other_tenant, new_campaign, new_prospect):
    campaign = await new_campaign(tenant)
    prospect = await new_prospect(tenant, campaign["id"])
    for pid in (prospect["id"], str(uuid.uuid4())):
        for method, kwargs in (("GET", {}), ("PATCH", {"json": {"notes": "x"}}), ("DELETE", {})):
            response = await client.request(method, f"/api/v1/prospects/{pid}", headers=other_tenant.headers, **kwargs)
            assert response.status_code == 404 and response.json()["detail"] == "Prospect not found."
    assert (await client.get(f"/api/v1/prospects/{prospect['id']}", headers=tenant.headers)).json()["notes"] is None


async def test_concurrent_duplicates_give_one_prospect_and_409s(client, tenant, new_campaign):
    import asyncio

    campaign = await new_campaign(tenant)
    url = f"/api/v1/campaigns/{campaign['id']}/prospects"
    responses = await asyncio.gather(
        *(client.post(url, json={"fullName": f"P{i}", "phoneNumber": "612345678"}, headers=tenant.headers) for i in range(6))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409, 409, 409, 409, 409], [r.text for r in responses]
    items = (await client.get(url, headers=tenant.headers)).json()["items"]
    assert len(items) == 1
