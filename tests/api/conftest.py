"""Helpers of the REST API tests: a tenant per test and quick ways to create its resources."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

SEED_ICP = {
    "name": "Director Comercial B2B SaaS",
    "industry": "technology",
    "companySize": "small",
    "painPoints": ["Prospección manual", "Bajo conversion rate"],
    "decisionMakerRole": "Director Comercial",
    "valueProposition": "Automatiza prospección y aumenta conversión 3x",
}


@pytest.fixture
async def tenant(make_tenant):
    return await make_tenant("Tenant A")


@pytest.fixture
async def other_tenant(make_tenant):
    return await make_tenant("Tenant B")


@pytest.fixture
def new_campaign(client: httpx.AsyncClient) -> Callable[..., Awaitable[dict]]:
    """POST a campaign for a tenant and return its JSON."""

    async def _make(tenant, **fields) -> dict:
        body = {"name": "Q1 2025 Outbound", "callerId": "+34910000000", **fields}
        response = await client.post("/api/v1/campaigns", json=body, headers=tenant.headers)
        assert response.status_code == 201, response.text
        return response.json()

    return _make


@pytest.fixture
def new_prospect(client: httpx.AsyncClient) -> Callable[..., Awaitable[dict]]:
    """POST a prospect into a campaign and return its JSON."""

    async def _make(tenant, campaign_id: str, phone: str = "612 345 678", **fields) -> dict:
        body = {"fullName": "María López", "phoneNumber": phone, **fields}
        response = await client.post(f"/api/v1/campaigns/{campaign_id}/prospects", json=body, headers=tenant.headers)
        assert response.status_code == 201, response.text
        return response.json()

    return _make
