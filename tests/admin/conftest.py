"""Fixtures of the admin UI tests: a signed-in httpx client per tenant, and data helpers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    CallLegStatus,
    CallLog,
    CallOutcome,
    Campaign,
    CampaignStatus,
    ConsentBasis,
    DoNotCallNumber,
    IcpCompanySize,
    IcpIndustry,
    IdealCustomerProfile,
    Prospect,
)

BASE = "/admin/cold-calling"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = _CSRF_RE.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def sign_in(http: httpx.AsyncClient, api_key: str) -> str:
    """Sign in through the form, as a person does; returns the new session's CSRF token."""
    page = await http.get(f"{BASE}/login")
    assert page.status_code == 200
    answer = await http.post(f"{BASE}/login", data={"api_key": api_key, "csrf_token": csrf_from(page.text)})
    assert answer.status_code == 303, answer.text
    dashboard = await http.get(BASE)
    assert dashboard.status_code == 200
    return csrf_from(dashboard.text)


@dataclass
class TenantData:
    """One tenant's rows, created directly in the database (as the dialer and the bot would)."""

    icp_id: uuid.UUID
    campaign_id: uuid.UUID
    prospect_id: uuid.UUID
    call_id: uuid.UUID
    live_call_id: uuid.UUID
    dnc_id: uuid.UUID
    names: dict[str, str]


@pytest.fixture
def seed_tenant(sessionmaker: async_sessionmaker[AsyncSession]) -> Callable[..., Awaitable[TenantData]]:
    """ICP, campaign, prospect, an ended call with a transcript, a live call and a do-not-call entry."""

    async def _seed(profile_id: uuid.UUID, tag: str, *, now: datetime | None = None) -> TenantData:
        now = now or datetime.now(UTC)
        names = {
            "icp": f"ICP {tag}",
            "campaign": f"Campaña {tag}",
            "prospect": f"Lucía {tag}",
            "turn": f"Hola, soy el bot de {tag}",
            "live_turn": f"¿Sigues ahí, {tag}?",
            "dnc": "+34911000" + str(abs(hash(tag)) % 1000).zfill(3),
        }
        async with sessionmaker() as session:
            icp = IdealCustomerProfile(
                user_id=profile_id, name=names["icp"], industry=IcpIndustry.saas, company_size=IcpCompanySize.medium
            )
            session.add(icp)
            await session.flush()
            campaign = Campaign(user_id=profile_id, icp_id=icp.id, name=names["campaign"], status=CampaignStatus.paused)
            session.add(campaign)
            await session.flush()
            prospect = Prospect(
                user_id=profile_id,
                campaign_id=campaign.id,
                full_name=names["prospect"],
                phone_number="+346" + str(uuid.uuid4().int % 10**8).zfill(8),
                consent_basis=ConsentBasis.legitimate_interest,
                total_attempts=1,
                last_call_outcome=CallOutcome.interested,
                is_converted=True,
            )
            session.add(prospect)
            await session.flush()
            started = now - timedelta(hours=1)
            call = CallLog(
                user_id=profile_id,
                campaign_id=campaign.id,
                prospect_id=prospect.id,
                call_sid=f"v3:{uuid.uuid4().hex}",
                status=CallLegStatus.ended,
                started_at=started,
                answered_at=started + timedelta(seconds=5),
                ended_at=started + timedelta(seconds=65),
                duration=60,
                outcome=CallOutcome.interested,
                recording_url="https://recordings.example.test/call.mp3",
                transcript=[
                    {"speaker": "bot", "text": names["turn"], "start": 0.1, "end": 2.0, "latency_ms": None},
                    {"speaker": "prospect", "text": "Dime más", "start": 2.5, "end": 3.2},
                    {"speaker": "bot", "text": "Claro, te cuento.", "start": 3.5, "end": 5.0, "latency_ms": 312.0},
                ],
            )
            live = CallLog(
                user_id=profile_id,
                campaign_id=campaign.id,
                prospect_id=prospect.id,
                call_sid=f"v3:{uuid.uuid4().hex}",
                status=CallLegStatus.answered,
                started_at=now - timedelta(seconds=30),
                answered_at=now - timedelta(seconds=25),
                transcript=[{"speaker": "bot", "text": names["live_turn"], "start": 0.1, "end": 1.0}],
            )
            dnc = DoNotCallNumber(user_id=profile_id, phone_number=names["dnc"], reason="Pidió la baja")
            session.add_all([call, live, dnc])
            await session.commit()
            return TenantData(icp.id, campaign.id, prospect.id, call.id, live.id, dnc.id, names)

    return _seed
