"""Do-not-call endpoints: any number format, duplicates, stopping prospects, deleting, isolation."""

from __future__ import annotations

import uuid


async def test_add_list_lookup_delete(client, tenant, new_campaign, new_prospect):
    campaign = await new_campaign(tenant)
    prospect = await new_prospect(tenant, campaign["id"], phone="612345678")

    added = await client.post(
        "/api/v1/do-not-call", json={"phoneNumber": "0034 612-34-56-78", "reason": "Pidió no ser llamado"},
        headers=tenant.headers,
    )
    assert added.status_code == 201, added.text
    entry = added.json()
    assert entry["phone_number"] == "+34612345678" and entry["reason"] == "Pidió no ser llamado"
    # The pending prospect with that number is stopped at once.
    stopped = (await client.get(f"/api/v1/prospects/{prospect['id']}", headers=tenant.headers)).json()
    assert stopped["status"] == "do_not_call" and stopped["next_call_at"] is None

    duplicate = await client.post("/api/v1/do-not-call", json={"phone_number": "612345678"}, headers=tenant.headers)
    assert duplicate.status_code == 409

    await client.post("/api/v1/do-not-call", json={"phone_number": "+34 699 111 222"}, headers=tenant.headers)
    listed = (await client.get("/api/v1/do-not-call", headers=tenant.headers)).json()
    assert [e["phone_number"] for e in listed["items"]] == ["+34699111222", "+34612345678"]
    found = (await client.get("/api/v1/do-not-call", params={"phone_number": "612 345 678"}, headers=tenant.headers)).json()
    assert [e["id"] for e in found["items"]] == [entry["id"]]

    assert (await client.delete(f"/api/v1/do-not-call/{entry['id']}", headers=tenant.headers)).status_code == 204
    assert (await client.delete(f"/api/v1/do-not-call/{entry['id']}", headers=tenant.headers)).status_code == 404
    by_number = await client.delete("/api/v1/do-not-call", params={"phone_number": "699111222"}, headers=tenant.headers)
    assert by_number.status_code == 204
    assert (await client.get("/api/v1/do-not-call", headers=tenant.headers)).json()["items"] == []


async def test_bad_numbers_are_422(client, tenant):
    for body in ({"phoneNumber": "123"}, {"phoneNumber": ""}, {}, {"phoneNumber": "612345678", "extra": 1}):
        response = await client.post("/api/v1/do-not-call", json=body, headers=tenant.headers)
        assert response.status_code == 422, body
    lookup = await client.get("/api/v1/do-not-call", params={"phone_number": "abc"}, headers=tenant.headers)
    assert lookup.status_code == 422 and lookup.json()["errors"][0]["field"] == "phone_number"
    assert (await client.delete("/api/v1/do-not-call", params={"phone_number": "1"}, headers=tenant.headers)).status_code == 422


async def test_lists_are_per_tenant(client, tenant, other_tenant, new_campaign, new_prospect):
    entry = (await client.post("/api/v1/do-not-call", json={"phoneNumber": "612345678"}, headers=tenant.headers)).json()
    assert (await client.get("/api/v1/do-not-call", headers=other_tenant.headers)).json()["items"] == []
    for path, params in ((f"/api/v1/do-not-call/{entry['id']}", {}), ("/api/v1/do-not-call", {"phone_number": "612345678"})):
        response = await client.delete(path, params=params, headers=other_tenant.headers)
        assert response.status_code == 404
    # The same number is free to add (and to call) for another tenant.
    campaign = await new_campaign(other_tenant)
    prospect = await new_prospect(other_tenant, campaign["id"], phone="612345678")
    assert prospect["status"] == "pending"
    assert (await client.post("/api/v1/do-not-call", json={"phoneNumber": "612345678"}, headers=other_tenant.headers)).status_code == 201
    missing = await client.delete(f"/api/v1/do-not-call/{uuid.uuid4()}", headers=tenant.headers)
    assert missing.status_code == 404
