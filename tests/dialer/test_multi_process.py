"""Four dialer processes (real OS processes) on PostgreSQL never dial one prospect twice."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.carrier_twin.server import CarrierTwin
from db.models import CallLog, CallSequenceStatus, Prospect
from tests.dialer.conftest import WEDNESDAY_10

pytestmark = pytest.mark.postgres

#: A dialer process: passes with the set clock until a pass finds nothing more to claim.
WORKER = """
import asyncio, sys
from datetime import datetime
from bot.clock import FixedClock
from bot.dialer import CampaignRunner
from bot.settings import Settings
from db.session import create_engine, make_sessionmaker

async def main():
    settings = Settings()
    engine = create_engine(settings.database_url)
    runner = CampaignRunner(settings=settings, sessionmaker=make_sessionmaker(engine),
                            clock=FixedClock(datetime.fromisoformat(sys.argv[1])))
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # all four start together
    idle = 0
    try:
        while idle < 8:
            report = await runner.run_once()
            idle = idle + 1 if report.claimed == 0 else 0
            await asyncio.sleep(0.05)
    finally:
        await runner.aclose()
        await engine.dispose()

asyncio.run(main())
"""


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_four_dialer_processes_never_dial_one_prospect_twice(
    database_url, twin_settings, clean_database, make_tenant, make_campaign
):
    sessionmaker = clean_database
    twin = CarrierTwin(twin_settings, play_calls=False)
    await twin.start()
    try:
        tenant = await make_tenant()
        prospect_ids = []
        for c in range(5):
            numbers = [f"+3491{c}{i:06d}" for i in range(100)]
            _, ids = await make_campaign(
                tenant.profile_id, numbers, max_concurrent_calls=1000, max_calls_per_day=1000
            )
            prospect_ids += ids
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TELEPHONY": "twin",
            "CARRIER_TWIN_PORT": str(twin_settings.carrier_twin_port),
            "MAX_CONCURRENT_CALLS": "1000",
            "DIALER_BATCH_SIZE": "50",
            "DIALER_PRERENDER_OPENER": "false",
            "PUBLIC_BASE_URL": twin_settings.public_base_url,
            "TELNYX_API_KEY": "",
        }
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", WORKER, WEDNESDAY_10.isoformat(), env=env,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(4)
        ]
        for proc in procs:
            assert (await asyncio.wait_for(proc.stdout.readline(), timeout=120)).strip() == b"ready"
        results = await asyncio.wait_for(asyncio.gather(*(p.communicate(b"go\n") for p in procs)), timeout=240)
        for proc, (_, err) in zip(procs, results, strict=True):
            assert proc.returncode == 0, err.decode()[-2000:]
    finally:
        await twin.stop()
    async with sessionmaker() as session:
        logs = list((await session.execute(select(CallLog))).scalars())
        prospects = list((await session.execute(select(Prospect))).scalars())
    assert len(prospects) == 500
    dials = Counter(r.body["to"] for r in twin.dials() if r.status == 200)
    assert len(dials) == 500 and max(dials.values()) == 1  # the carrier saw every number exactly once
    per_prospect = Counter(log.prospect_id for log in logs)
    assert len(per_prospect) == 500 and max(per_prospect.values()) == 1
    assert all(p.status == CallSequenceStatus.in_progress for p in prospects)
    assert all(log.call_sid for log in logs)
    dialers = Counter(log.metadata_["dialer"] for log in logs)
    assert len(dialers) >= 2, dialers  # the work really was shared between processes
    assert WEDNESDAY_10 - timedelta(seconds=1) <= min(log.started_at for log in logs)
