"""ICP endpoints: CRUD, camelCase input, validation, pagination and tenant isolation."""

from __future__ import annotations

import uuid

from tests.api.conftest import SEED_ICP


async def test_create_with_seed_example_then_get_list_patch_delete(client, tenant):
    created = await client.post("/api/v1/icps", json=SEED_ICP, headers=tenant.headers)
    assert created.status_code == 201, created.text
    icp = created.json()
    assert icp["company_size"] == "small"
    assert icp["pain_points"] == ["Prospección manual", "Bajo conversion rate"]
    assert icp["decision_maker_role"] == "Director Comercial"
    assert icp["is_active"] is True

    fetched = await client.get(f"/api/v1/icps/{icp['id']}", headers=tenant.headers)
    assert fetched.status_code == 200 and fetched.json() == icp

    listed = await client.get("/api/v1/icps", headers=tenant.headers)
    assert [i["id"] for i in listed.json()["items"]] == [icp["id"]]
    assert listed.json()["next_cursor"] is None

    patched = await client.patch(
        f"/api/v1/icps/{icp['id']}", json={"isActive": False, "description": "Nueva"}, headers=tenant.headers
    )
    assert patched.status_code == 200
    assert patched.json()["is_active"] is False and patched.json()["description"] == "Nueva"
    assert patched.json()["name"] == SEED_ICP["name"]  # untouched fields stay

    only_active = await client.get("/api/v1/icps", params={"is_active": "true"}, headers=tenant.headers)
    assert only_active.json()["items"] == []

    deleted = await client.delete(f"/api/v1/icps/{icp['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/v1/icps/{icp['id']}", headers=tenant.headers)).status_code == 404


async def test_deleting_an_icp_keeps_its_campaigns(client, tenant, new_campaign):
    icp = (await client.post("/api/v1/icps", json=SEED_ICP, headers=tenant.headers)).json()
    campaign = await new_campaign(tenant, icpId=icp["id"])
    assert campaign["icp_id"] == icp["id"]
    assert (await client.delete(f"/api/v1/icps/{icp['id']}", headers=tenant.headers)).status_code == 204
    again = await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=tenant.headers)
    assert again.status_code == 200 and again.json()["icp_id"] is None


async def test_bad_input_is_422_naming_the_field(client, tenant):
    cases = [
        ({"industry": "technology"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x", "industry": "astrology"}, "industry"),
        ({"name": "x", "companySize": "huge"}, "companySize"),
        ({"name": "x", "painPoints": "not a list"}, "painPoints"),
        ({"name": "x", "colour": "blue"}, "colour"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/icps", json=body, headers=tenant.headers)
        assert response.status_code == 422, body
        payload = response.json()
        assert field in payload["detail"], payload
        assert [e["field"] for e in payload["errors"]] == [field]
        assert payload["errors"][0]["message_es"]


async def test_patch_cannot_clear_the_name(client, tenant):
    icp = (await client.post("/api/v1/icps", json=SEED_ICP, headers=tenant.headers)).json()
    response = await client.patch(f"/api/v1/icps/{icp['id']}", json={"name": None}, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"


async def test_pagination_walks_every_icp_once(client, tenant):
    for i in range(5):
        assert (await client.post("/api/v1/icps", json={"name": f"ICP {i}"}, headers=tenant.headers)).status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/icps", params=params, headers=tenant.headers)).json()
        seen += [i["name"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"ICP {i}" for i in reversed(range(5))]  # newest first
    for bad in ({"limit": 0}, {"limit": 201}, {"cursor": "garbage!"}):
        response = await client.get("/api/v1/icps", params=bad, headers=tenant.headers)
        assert response.status_code == 422, bad


async def test_another_tenants_icp_is_404_like_a_missing_one(client, tenant, other_tenant):
    icp = (await client.post("/api/v1/icps", json=SEED_ICP, headers=tenant.headers)).json()
    missing = str(uuid.uuid4())
    for icp_id in (icp["id"], missing):
        for method, kwargs in (("GET", {}), ("PATCH", {"json": {"name": "x"}}), ("DELETE", {})):
            response = await client.request(method, f"/api/v1/icps/{icp_id}", headers=other_tenant.headers, **kwargs)
            assert response.status_code == 404
            assert response.json()["detail"] == "ICP not found."
    assert (await client.get("/api/v1/icps", headers=other_tenant.headers)).json()["items"] == []
    assert (await client.get(f"/api/v1/icps/{icp['id']}", headers=tenant.headers)).json()["name"] == SEED_ICP["name"]
