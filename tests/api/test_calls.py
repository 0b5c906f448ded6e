"""Call-log endpoints: filters, pages, detail with transcript, tenant isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from db.models import CallLegStatus, CallLog, CallOutcome

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _log(sessionmaker, tenant, campaign_id: str, prospect_id: str | None, minute: int, **fields) -> str:
    async with sessionmaker() as session:
        log = CallLog(
            user_id=tenant.profile_id,
            campaign_id=uuid.UUID(campaign_id),
            prospect_id=uuid.UUID(prospect_id) if prospect_id else None,
            created_at=T0 + timedelta(minutes=minute),
            **fields,
        )
        session.add(log)
        await session.commit()
        return str(log.id)


async def test_list_filter_page_and_detail(client, sessionmaker, tenant, new_campaign, new_prospect):
    first, second = await new_campaign(tenant), await new_campaign(tenant)
    maria = await new_prospect(tenant, first["id"])
    jose = await new_prospect(tenant, first["id"], phone="612345679")
    transcript = [
        {"speaker": "bot", "text": "Hola María, soy Juan de Wallie.", "start": 0.2, "end": 2.9, "latency_ms": None},
        {"speaker": "prospect", "text": "¿Cuánto cuesta?", "start": 3.4, "end": 4.3},
        {"speaker": "bot", "text": "Desde 149 euros al mes.", "start": 4.6, "end": 6.0, "latency_ms": 310},
    ]
    detailed = await _log(
        sessionmaker, tenant, first["id"], maria["id"], 0,
        status=CallLegStatus.ended, outcome=CallOutcome.interested, duration=42, transcript=transcript,
        transcription="Bot: Hola María...", to_number="+34612345678", metadata_={"script": "Hola María"},
    )
    other_ids = [await _log(sessionmaker, tenant, first["id"], jose["id"], m) for m in (1, 2)]
    in_second = await _log(sessionmaker, tenant, second["id"], None, 3)

    detail = (await client.get(f"/api/v1/calls/{detailed}", headers=tenant.headers)).json()
    assert detail["outcome"] == "interested" and detail["duration"] == 42
    assert detail["transcript"][2]["latency_ms"] == 310
    assert detail["metadata"] == {"script": "Hola María"}
    assert detail["status"] == "ended"

    everything = (await client.get("/api/v1/calls", headers=tenant.headers)).json()["items"]
    assert [c["id"] for c in everything] == [in_second, *reversed(other_ids), detailed]  # newest first
    by_campaign = (await client.get("/api/v1/calls", params={"campaign_id": first["id"]}, headers=tenant.headers)).json()
    assert len(by_campaign["items"]) == 3
    by_prospect = (await client.get("/api/v1/calls", params={"prospect_id": maria["id"]}, headers=tenant.headers)).json()
    assert [c["id"] for c in by_prospect["items"]] == [detailed]
    seed_style = (await client.get("/api/v1/calls", params={"prospectId": maria["id"]}, headers=tenant.headers)).json()
    assert [c["id"] for c in seed_style["items"]] == [detailed]

    page1 = (await client.get("/api/v1/calls", params={"limit": 3}, headers=tenant.headers)).json()
    page2 = (
        await client.get("/api/v1/calls", params={"limit": 3, "cursor": page1["next_cursor"]}, headers=tenant.headers)
    ).json()
    assert [c["id"] for c in page1["items"] + page2["items"]] == [c["id"] for c in everything]
    assert page2["next_cursor"] is None

    for bad in ({"campaign_id": "nope"}, {"limit": 500}):
        assert (await client.get("/api/v1/calls", params=bad, headers=tenant.headers)).status_code == 422


async def test_another_tenants_calls_are_invisible(client, sessionmaker, tenant, other_tenant, new_campaign):
    campaign = await new_campaign(tenant)
    call_id = await _log(sessionmaker, tenant, campaign["id"], None, 0)
    for cid in (call_id, str(uuid.uuid4())):
        response = await client.get(f"/api/v1/calls/{cid}", headers=other_tenant.headers)
        assert response.status_code == 404 and response.json()["detail"] == "Call not found."
    listed = await client.get("/api/v1/calls", params={"campaign_id": campaign["id"]}, headers=other_tenant.headers)
    assert listed.json()["items"] == []
    assert (await client.get(f"/api/v1/calls/{call_id}", headers=tenant.headers)).status_code == 200
