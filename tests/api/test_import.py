"""CSV import: encodings, separators, bad rows with line numbers, duplicates, limits."""

from __future__ import annotations

CSV_UTF8 = (
    "full_name,phone_number,company,región,consent_basis,origen\n"  # "origen" is not a field: custom
    "María López,612 345 678,TechCorp,ES-MD,consent,feria\n"
    "Sin Teléfono,,Acme,,,\n"  # line 3: no phone
    "José Núñez,+34 699 888 777,Núñez SL,ES-AN,legitimate_interest,web\n"
    "\n"  # blank line: ignored
    "Número Malo,12345,Acme,,,\n"  # line 6: impossible number
    "María Duplicada,0034612345678,TechCorp,,,\n"  # duplicate of line 2 (other format)
    "Región Mala,611222333,X,Madrid,,\n"  # line 8: bad region
    '"Pérez, Ana",611 222 334,"Coma, SA",ES-CT,existing_customer,\n'  # quoted commas
)


async def _import(client, tenant, campaign_id, content: bytes, **kwargs):
    return await client.post(
        f"/api/v1/campaigns/{campaign_id}/prospects/import",
        content=content,
        headers={**tenant.headers, "Content-Type": "text/csv"},
        **kwargs,
    )


async def test_valid_rows_imported_bad_rows_reported_with_line_numbers(client, tenant, new_campaign):
    campaign = await new_campaign(tenant)
    response = await _import(client, tenant, campaign["id"], CSV_UTF8.encode("utf-8"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["total_rows"] == 7
    assert report["imported"] == 3
    assert report["skipped_duplicates"] == 1
    assert [e["line"] for e in report["errors"]] == [3, 6, 8]
    assert "phone_number" in report["errors"][0]["reason"]
    assert "not a valid phone number" in report["errors"][1]["reason"]
    assert "region" in report["errors"][2]["reason"] and report["errors"][2]["reason_es"]

    page = (await client.get(f"/api/v1/campaigns/{campaign['id']}/prospects", headers=tenant.headers)).json()
    rows = [(p["full_name"], p["phone_number"], p["region"], p["consent_basis"], p["custom_fields"]) for p in page["items"]]
    assert rows == [
        ("María López", "+34612345678", "ES-MD", "consent", {"origen": "feria"}),
        ("José Núñez", "+34699888777", "ES-AN", "legitimate_interest", {"origen": "web"}),
        ("Pérez, Ana", "+34611222334", "ES-CT", "existing_customer", {}),
    ]
    assert all(p["status"] == "pending" and p["next_call_at"] for p in page["items"])

    # Importing the same file again imports nothing new: every valid row is now a duplicate.
    again = (await _import(client, tenant, campaign["id"], CSV_UTF8.encode("utf-8"))).json()
    assert (again["imported"], again["skipped_duplicates"], len(again["errors"])) == (0, 4, 3)


async def test_latin1_semicolon_spanish_headers_and_multipart(client, tenant, new_campaign):
    campaign = await new_campaign(tenant)
    text = (
        "Nombre;Teléfono;Empresa;Cargo;Base legal\n"
        "Ángela Muñoz;612 111 222;Cañas SL;Directora;Interés legítimo\n"
        "Iñigo Ibáñez;612111223;;;Consentimiento\n"
    )
    response = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/prospects/import",
        files={"file": ("prospectos.csv", text.encode("latin-1"), "text/csv")},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 2 and response.json()["errors"] == []
    items = (await client.get(f"/api/v1/campaigns/{campaign['id']}/prospects", headers=tenant.headers)).json()["items"]
    assert [(p["full_name"], p["company"], p["role"], p["consent_basis"]) for p in items] == [
        ("Ángela Muñoz", "Cañas SL", "Directora", "legitimate_interest"),
        ("Iñigo Ibáñez", None, None, "consent"),
    ]


async def test_utf8_bom_and_camelcase_headers(client, tenant, new_campaign):
    campaign = await new_campaign(tenant)
    content = "\ufefffullName,phoneNumber,linkedinUrl\nA B,612345678,https://linkedin.com/in/ab\n".encode()
    report = (await _import(client, tenant, campaign["id"], content)).json()
    assert report["imported"] == 1, report


async def test_do_not_call_numbers_are_imported_as_do_not_call(client, tenant, new_campaign):
    await client.post("/api/v1/do-not-call", json={"phoneNumber": "612345678"}, headers=tenant.headers)
    campaign = await new_campaign(tenant)
    await _import(client, tenant, campaign["id"], b"full_name,phone_number\nA,612345678\nB,612345679\n")
    items = (await client.get(f"/api/v1/campaigns/{campaign['id']}/prospects", headers=tenant.headers)).json()["items"]
    assert [(p["full_name"], p["status"]) for p in items] == [("A", "do_not_call"), ("B", "pending")]


async def test_unusable_files_are_422_and_change_nothing(client, tenant, new_campaign):
    campaign = await new_campaign(tenant)
    for content in (b"", b"nombre,empresa\nA,B\n", b"\x00\x01\x02binary", b"phone_number\n612345678\n"):
        response = await _import(client, tenant, campaign["id"], content)
        assert response.status_code == 422, content
        assert response.json()["errors"][0]["field"] == "file"
    no_file = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/prospects/import",
        files={"other": ("x.csv", b"full_name,phone_number\n", "text/csv")},
        headers=tenant.headers,
    )
    assert no_file.status_code == 422
    rows_too_long = await _import(client, tenant, campaign["id"], b"full_name,phone_number\nA,612345678,extra\n")
    assert rows_too_long.json()["errors"][0]["line"] == 2
    items = (await client.get(f"/api/v1/campaigns/{campaign['id']}/prospects", headers=tenant.headers)).json()["items"]
    assert items == []


async def test_upload_limit_is_20_mib(client, tenant, new_campaign):
    campaign = await new_campaign(tenant)
    header = b"full_name,phone_number,notes\n"
    too_big = header + b"x" * (20 * 1024 * 1024)
    response = await _import(client, tenant, campaign["id"], too_big)
    assert response.status_code == 413 and "20 MiB" in response.json()["detail"]
    # 2 MiB is fine for an import (over the 1 MiB limit of JSON bodies).
    rows = b"".join(b"Persona %d,+3461%07d,%s\n" % (i, i, b"n" * 1000) for i in range(1100))
    assert len(header + rows) > 1024 * 1024
    response = await _import(client, tenant, campaign["id"], header + rows)
    assert response.status_code == 200
    assert response.json()["imported"] == 1100


async def test_report_lists_the_first_1000_bad_rows_and_counts_the_rest(client, tenant, new_campaign):
    campaign = await new_campaign(tenant)
    content = b"full_name,phone_number\n" + b"".join(b"P%d,12\n" % i for i in range(1005))
    report = (await _import(client, tenant, campaign["id"], content)).json()
    assert (report["total_rows"], report["imported"], len(report["errors"]), report["errors_omitted"]) == (
        1005, 0, 1000, 5,
    )
    assert report["errors"][0]["line"] == 2 and report["errors"][-1]["line"] == 1001
