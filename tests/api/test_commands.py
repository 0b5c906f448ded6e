"""The data commands behind `coldcall profiles create`, `prospects import` and `demo-data`."""

from __future__ import annotations

import phonenumbers
import pytest

from api.commands import CommandError, create_profile, import_prospects_file, load_demo_data


async def test_created_profile_key_works_and_is_stored_hashed(client, settings, sessionmaker):
    from sqlalchemy import select

    from db.models import ApiKey

    profile_id, key = await create_profile(settings, "Ventas Madrid")
    response = await client.get("/api/v1/icps", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    async with sessionmaker() as session:
        stored = (await session.scalars(select(ApiKey).where(ApiKey.user_id == profile_id))).one()
    assert stored.key_hash != key and key not in stored.key_hash and stored.prefix == key[:10]
    with pytest.raises(CommandError):
        await create_profile(settings, "   ")


async def test_demo_data_gives_a_ready_campaign(client, settings):
    output = await load_demo_data(settings)
    key = output.split("API key (shown once, store it now): ")[1].split()[0]
    headers = {"Authorization": f"Bearer {key}"}
    icps = (await client.get("/api/v1/icps", headers=headers)).json()["items"]
    assert [i["name"] for i in icps] == ["Director Comercial B2B SaaS"]
    assert icps[0]["pain_points"] == ["Prospección manual", "Bajo conversion rate"]
    campaigns = (await client.get("/api/v1/campaigns", headers=headers)).json()["items"]
    assert len(campaigns) == 1 and campaigns[0]["icp_id"] == icps[0]["id"]
    prospects = (
        await client.get(f"/api/v1/campaigns/{campaigns[0]['id']}/prospects", params={"limit": 50}, headers=headers)
    ).json()["items"]
    assert len(prospects) == 20
    assert len({p["phone_number"] for p in prospects}) == 20
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p["phone_number"])) for p in prospects)
    assert all(p["consent_basis"] and p["region"].startswith("ES-") for p in prospects)
    assert len({p["region"] for p in prospects}) >= 10
    assert all(p["status"] == "pending" and p["next_call_at"] for p in prospects)
    # The demo campaign can be activated as it is (a geographic caller id, a legal window).
    response = await client.post(
        f"/api/v1/campaigns/{campaigns[0]['id']}/status", json={"status": "active"}, headers=headers
    )
    assert response.status_code == 200, response.text


async def test_import_file_reports_lines(client, settings, tenant, new_campaign, tmp_path):
    campaign = await new_campaign(tenant)
    path = tmp_path / "prospectos.csv"
    path.write_bytes("nombre;teléfono\nÁngela;612 111 222\nMal;12\n".encode("latin-1"))
    report = await import_prospects_file(settings, campaign["id"], path)
    assert report.splitlines()[0] == "2 rows read: 1 imported, 0 duplicates skipped, 1 with errors."
    assert report.splitlines()[1].startswith("  line 3: ")
    with pytest.raises(CommandError, match="not a campaign id"):
        await import_prospects_file(settings, "nope", path)
    with pytest.raises(CommandError, match="Cannot read"):
        await import_prospects_file(settings, campaign["id"], tmp_path / "missing.csv")
    with pytest.raises(CommandError, match="no campaign"):
        await import_prospects_file(settings, "00000000-0000-0000-0000-000000000000", path)
