"""Fixtures of the dialer tests: a campaign with prospects, the carrier twin on a free port."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.carrier_twin.server import CarrierTwin
from bot.clock import FixedClock
from bot.settings import Settings
from db.models import CallSequenceStatus, Campaign, CampaignStatus, ConsentBasis, IdealCustomerProfile, Prospect

MADRID = ZoneInfo("Europe/Madrid")
#: A Wednesday morning in Madrid, inside every window the tests use.
WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=MADRID)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(WEDNESDAY_10)


@pytest.fixture
def twin_settings(settings: Settings) -> Settings:
    """The test settings pointed at a carrier twin on a free loopback port, fast personas."""
    settings.carrier_twin_port = 0
    settings.carrier_twin_time_scale = 20.0
    settings.telnyx_max_retries = 2
    settings.dialer_batch_size = 100
    settings.max_concurrent_calls = 50
    return settings


@pytest.fixture
async def carrier_twin(twin_settings: Settings) -> AsyncIterator[CarrierTwin]:
    twin = CarrierTwin(twin_settings)
    await twin.start()
    try:
        yield twin
    finally:
        await twin.stop()


CampaignFactory = Callable[..., Awaitable[tuple[uuid.UUID, list[uuid.UUID]]]]


@pytest.fixture
def make_campaign(clean_database: async_sessionmaker[AsyncSession], clock: FixedClock) -> CampaignFactory:
    """An active campaign owned by ``user_id`` with prospects (numbers given), all due now.

    The dialer's queries span every tenant, so the database is emptied first: other tests'
    active campaigns would otherwise be claimed (or deferred) too.
    """
    sessionmaker = clean_database

    async def _make(user_id: uuid.UUID, numbers: list[str], **campaign_fields) -> tuple[uuid.UUID, list[uuid.UUID]]:
        async with sessionmaker() as session, session.begin():
            icp = IdealCustomerProfile(user_id=user_id, name="Pymes SaaS", value_proposition="automatizar la facturación")
            session.add(icp)
            await session.flush()
            fields = dict(
                name="Campaña de prueba",
                status=CampaignStatus.active,
                caller_id="+34910000000",
                transfer_number="+34910000001",
                call_window_start=9,
                call_window_end=20,
                max_calls_per_day=100,
                max_concurrent_calls=50,
                follow_up_sequence=[1, 3, 7],
            )
            fields.update(campaign_fields)
            campaign = Campaign(user_id=user_id, icp_id=icp.id, **fields)
            session.add(campaign)
            await session.flush()
            ids = []
            for i, number in enumerate(numbers):
                prospect = Prospect(
                    user_id=user_id,
                    campaign_id=campaign.id,
                    full_name=f"Prospecto {i}",
                    company=f"Empresa {i} S.L.",
                    role="CEO",
                    phone_number=number,
                    consent_basis=ConsentBasis.legitimate_interest,
                    status=CallSequenceStatus.pending,
                    next_call_at=clock.now(),
                )
                session.add(prospect)
                await session.flush()
                ids.append(prospect.id)
            return campaign.id, ids

    return _make
