"""Campaign endpoints: create/patch validation, the status life cycle, tenant isolation."""

from __future__ import annotations

import uuid

import pytest

from bot.replies import DEFAULT_REPLIES
from bot.script import KNOWN_PLACEHOLDERS
from tests.api.conftest import SEED_ICP


async def test_create_with_seed_example_gets_defaults(client, tenant):
    icp = (await client.post("/api/v1/icps", json=SEED_ICP, headers=tenant.headers)).json()
    body = {
        "name": "Q1 2025 Outbound",
        "icpId": icp["id"],
        "maxCallsPerDay": 50,
        "scriptTemplate": "Hola {{first_name}}, soy Juan de Wallie...",
    }
    response = await client.post("/api/v1/campaigns", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert campaign["status"] == "draft"
    assert campaign["icp_id"] == icp["id"]
    assert (campaign["call_window_start"], campaign["call_window_end"]) == (9, 18)
    assert campaign["timezone"] == "Europe/Madrid" and campaign["language"] == "es-ES"
    assert campaign["voice_type"] == "male_professional"
    six = ("dime_mas", "no_gracias", "cuando", "cuanto_cuesta", "no_entiendo", "adios")
    assert campaign["pregenerated_replies"] == {k: DEFAULT_REPLIES[k] for k in six}
    assert campaign["total_calls"] == 0

    listed = (await client.get("/api/v1/campaigns", headers=tenant.headers)).json()
    assert [c["id"] for c in listed["items"]] == [campaign["id"]]
    drafts = await client.get("/api/v1/campaigns", params={"status": "active"}, headers=tenant.headers)
    assert drafts.json()["items"] == []
    bad = await client.get("/api/v1/campaigns", params={"status": "running"}, headers=tenant.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


async def test_own_replies_overlay_the_defaults_and_phones_are_normalised(client, tenant):
    body = {
        "name": "C",
        "pregeneratedReplies": {"cuanto_cuesta": "Desde 99 euros al mes."},
        "callerId": "91 000 00 00",
        "transferNumber": "0034 910 000 001",
    }
    campaign = (await client.post("/api/v1/campaigns", json=body, headers=tenant.headers)).json()
    assert campaign["pregenerated_replies"]["cuanto_cuesta"] == "Desde 99 euros al mes."
    assert campaign["pregenerated_replies"]["adios"] == DEFAULT_REPLIES["adios"]
    assert campaign["caller_id"] == "+34910000000"
    assert campaign["transfer_number"] == "+34910000001"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"scriptTemplate": "Hola {{nombre_de_pila}}"}, "script_template", "{{first_name}}"),
        ({"callWindowStart": 18, "callWindowEnd": 9}, "call_window_end", "end after it starts"),
        ({"callWindowStart": 10, "callWindowEnd": 10}, "call_window_end", "end after it starts"),
        ({"callWindowEnd": 25}, "callWindowEnd", "24"),
        ({"callWindowStart": -1}, "callWindowStart", "0"),
        ({"maxCallsPerDay": 0}, "maxCallsPerDay", "1"),
        ({"timezone": "Europe/Madird"}, "timezone", "IANA"),
        ({"callerId": "12"}, "callerId", "not a valid phone number"),
        ({"voiceType": "robot"}, "voiceType", "male_professional"),
        ({"status": "active"}, "status", "Extra inputs"),
        ({"followUpSequence": [0]}, "followUpSequence.0", "1"),
        ({"startDate": "2026-03-01T00:00:00+00:00", "endDate": "2026-02-01T00:00:00+00:00"}, "end_date", "after"),
        ({"startDate": "2026-03-01T00:00:00"}, "startDate", "timezone"),
    ],
)
async def test_bad_campaign_is_422_naming_field_and_problem(client, tenant, body, field, words):
    response = await client.post("/api/v1/campaigns", json={"name": "C", **body}, headers=tenant.headers)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert [e["field"] for e in payload["errors"]] == [field]
    assert words in payload["detail"], payload["detail"]
    assert payload["detail_es"]


async def test_unknown_placeholder_lists_the_known_ones(client, tenant, new_campaign):
    campaign = await new_campaign(tenant)
    response = await client.patch(
        f"/api/v1/campaigns/{campaign['id']}", json={"scriptTemplate": "Hola {{nombre}}"}, headers=tenant.headers
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "{{nombre}}" in detail
    for name in KNOWN_PLACEHOLDERS:
        assert "{{" + name + "}}" in detail


async def test_patch_is_checked_against_the_stored_campaign(client, tenant, new_campaign):
    campaign = await new_campaign(tenant, callWindowStart=9, callWindowEnd=18)
    url = f"/api/v1/campaigns/{campaign['id']}"
    assert (await client.patch(url, json={"callWindowStart": 19}, headers=tenant.headers)).status_code == 422
    ok = await client.patch(url, json={"callWindowStart": 10, "maxCallsPerDay": 80}, headers=tenant.headers)
    assert ok.status_code == 200
    assert (ok.json()["call_window_start"], ok.json()["call_window_end"], ok.json()["max_calls_per_day"]) == (10, 18, 80)
    assert (await client.patch(url, json={"name": None}, headers=tenant.headers)).status_code == 422
    status_patch = await client.patch(url, json={"status": "active"}, headers=tenant.headers)
    assert status_patch.status_code == 422 and "/status" in status_patch.json()["detail"]


async def test_status_life_cycle(client, tenant, new_campaign):
    campaign = await new_campaign(tenant)
    url = f"/api/v1/campaigns/{campaign['id']}/status"

    async def move(status: str) -> tuple[int, dict]:
        response = await client.post(url, json={"status": status}, headers=tenant.headers)
        return response.status_code, response.json()

    code, body = await move("paused")
    assert code == 409
    assert "draft" in body["detail"] and "active, archived" in body["detail"]
    assert body["detail_es"]
    assert (await move("completed"))[0] == 409

    code, body = await move("active")
    assert code == 200 and body["status"] == "active" and body["start_date"] is not None
    assert (await move("active"))[0] == 409
    assert (await move("draft"))[0] == 409
    assert (await move("paused"))[1]["status"] == "paused"
    # The seed's updateCampaignStatus body: {campaignId, status}.
    seed_style = await client.post(url, json={"campaignId": campaign["id"], "status": "active"}, headers=tenant.headers)
    assert seed_style.status_code == 200 and seed_style.json()["status"] == "active"
    code, body = await move("completed")
    assert code == 200 and body["end_date"] is not None
    code, body = await move("active")
    assert code == 409 and "completed" in body["detail"]
    patch = await client.patch(f"/api/v1/campaigns/{campaign['id']}", json={"name": "x"}, headers=tenant.headers)
    assert patch.status_code == 409
    assert (await move("archived"))[1]["status"] == "archived"
    assert (await move("paused"))[0] == 409

    wrong_id = await client.post(url, json={"campaignId": str(uuid.uuid4()), "status": "archived"}, headers=tenant.headers)
    assert wrong_id.status_code == 422
    assert (await move("deleted"))[0] == 422


async def test_any_status_can_be_archived(client, tenant, new_campaign):
    campaign = await new_campaign(tenant)
    response = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/status", json={"status": "archived"}, headers=tenant.headers
    )
    assert response.status_code == 200 and response.json()["status"] == "archived"


async def test_activation_asks_the_calling_policy(client, tenant, new_campaign):
    no_caller_id = await new_campaign(tenant, callerId=None)
    response = await client.post(
        f"/api/v1/campaigns/{no_caller_id['id']}/status", json={"status": "active"}, headers=tenant.headers
    )
    assert response.status_code == 409 and "caller ID" in response.json()["detail"]

    mobile = await new_campaign(tenant, callerId="+34612345678")
    response = await client.post(
        f"/api/v1/campaigns/{mobile['id']}/status", json={"status": "active"}, headers=tenant.headers
    )
    assert response.status_code == 409 and "mobile" in response.json()["detail"]
    # The admin UI shows the Spanish sentence: all of it Spanish, no English inside.
    assert "es un móvil" in response.json()["detail_es"] and "mobile" not in response.json()["detail_es"]
    again = await client.get(f"/api/v1/campaigns/{mobile['id']}", headers=tenant.headers)
    assert again.json()["status"] == "draft"

    active = await new_campaign(tenant)
    assert (
        await client.post(f"/api/v1/campaigns/{active['id']}/status", json={"status": "active"}, headers=tenant.headers)
    ).status_code == 200
    # An active campaign may not take a change that would have blocked its activation.
    response = await client.patch(
        f"/api/v1/campaigns/{active['id']}", json={"callerId": "+34612345678"}, headers=tenant.headers
    )
    assert response.status_code == 409 and "Pause the campaign first" in response.json()["detail"]
    stored = (await client.get(f"/api/v1/campaigns/{active['id']}", headers=tenant.headers)).json()
    assert stored["caller_id"] == "+34910000000"


async def test_another_tenants_campaign_is_404_everywhere(client, tenant, other_tenant, new_campaign):
    campaign = await new_campaign(tenant)
    icp = (await client.post("/api/v1/icps", json=SEED_ICP, headers=tenant.headers)).json()
    for cid in (campaign["id"], str(uuid.uuid4())):
        for method, path, kwargs in (
            ("GET", "", {}),
            ("PATCH", "", {"json": {"name": "x"}}),
            ("POST", "/status", {"json": {"status": "archived"}}),
            ("GET", "/prospects", {}),
            ("POST", "/prospects", {"json": {"fullName": "A", "phoneNumber": "612345678"}}),
            ("POST", "/prospects/import", {"content": b"full_name,phone_number\nA,612345678\n"}),
            ("GET", "/stats", {}),
        ):
            response = await client.request(
                method, f"/api/v1/campaigns/{cid}{path}", headers=other_tenant.headers, **kwargs
            )
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["detail"] == "Campaign not found."
    assert (await client.get("/api/v1/campaigns", headers=other_tenant.headers)).json()["items"] == []
    # Another tenant's ICP cannot be linked either.
    response = await client.post(
        "/api/v1/campaigns", json={"name": "C", "icpId": icp["id"]}, headers=other_tenant.headers
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "icp_id"
    stored = (await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=tenant.headers)).json()
    assert stored["status"] == "draft" and stored["name"] == campaign["name"]


async def test_activation_and_reply_changes_render_the_campaign_audio(client, tenant, new_campaign, settings):
    campaign = await new_campaign(tenant, pregeneratedReplies={"cuanto_cuesta": "Cuesta noventa y nueve euros al mes."})

    def rendered() -> set:
        return {p for p in settings.cache_dir.rglob("*") if p.is_file()} if settings.cache_dir.exists() else set()

    assert rendered() == set()  # a draft renders nothing
    response = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/status", json={"status": "active"}, headers=tenant.headers
    )
    assert response.status_code == 200
    after_activation = rendered()
    assert after_activation, "activating should render the campaign's own reply"
    response = await client.patch(
        f"/api/v1/campaigns/{campaign['id']}",
        json={"pregeneratedReplies": {"cuanto_cuesta": "Ahora cuesta ciento veinte euros al mes."}},
        headers=tenant.headers,
    )
    assert response.status_code == 200
    assert rendered() > after_activation


async def test_objections_in_both_shapes_round_trip(client, tenant, new_campaign):
    objections = {
        "precio_alto": {"triggers": ["es muy caro", "demasiado caro"], "response": "Entiendo, ¿comparado con qué?"},
        "ya_tenemos_proveedor": "Entiendo. ¿Qué es lo que más valoras de tu proveedor actual?",
    }
    campaign = await new_campaign(tenant, objectionHandling=objections)
    assert campaign["objection_handling"] == objections
    for bad in ({"precio": {"response": "x"}}, {"Precio Alto": "x"}, {"precio": ""}):
        response = await client.patch(
            f"/api/v1/campaigns/{campaign['id']}", json={"objectionHandling": bad}, headers=tenant.headers
        )
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"].startswith("objectionHandling")
