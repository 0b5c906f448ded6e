"""Dialer scale benchmark: 1,000,000 prospects across 100 campaigns on PostgreSQL.

Creates a dedicated database (dropped at the end), migrates it, loads the data with
``generate_series`` (no ORM inserts), then measures:

* **claim**: the dialer's claim of 100 due prospects -- lock the active campaigns with due
  prospects (``FOR UPDATE SKIP LOCKED``) and select 100 due prospects (``FOR UPDATE SKIP LOCKED``,
  `bot.dialer.due_prospects_query`), then mark them in_progress -- one transaction, rolled back so
  every sample sees the same data. Target: p95 <= 50 ms.
* **pass**: a whole `CampaignRunner.claim()` of 100 prospects (campaign locks, budgets, policy
  checks, call-log rows, prospects marked in_progress), committed -- how long the campaign rows
  stay locked per pass; openers are rendered after it, outside the locks.
* the query plan (``EXPLAIN``) of the claim query, which must use an index.

Usage: ``.venv/bin/python bench/dialer.py [--prospects 1000000] [--campaigns 100] [--samples 200]``.
Results go to ``bench/results/dialer.json``. Needs PostgreSQL at 127.0.0.1:5432 (``BENCH_PG_ADMIN``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
from sqlalchemy import select, text, update  # noqa: E402

from bot.clock import FixedClock  # noqa: E402
from bot.dialer import CampaignRunner, due_prospects_query  # noqa: E402
from bot.policy import CALLABLE_STATUSES  # noqa: E402
from bot.settings import Settings  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import CallSequenceStatus, Campaign, CampaignStatus, Prospect  # noqa: E402
from db.session import create_engine, make_sessionmaker  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
RESULTS = Path(__file__).resolve().parent / "results" / "dialer.json"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Madrid"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def load(url: str, prospects: int, campaigns: int) -> dict:
    """Bulk-load with generate_series: ~20% due now, the rest due later or finished."""
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        started = time.perf_counter()
        user_id = uuid.uuid4()
        await conn.execute("INSERT INTO profiles (id, name) VALUES ($1, 'bench')", user_id)
        await conn.execute(
            """
            INSERT INTO cold_call_campaigns (id, user_id, name, status, caller_id, max_calls_per_day,
                                             max_concurrent_calls, call_window_start, call_window_end)
            SELECT gen_random_uuid(), $1, 'bench ' || g, 'active', '+34910000000', 100000, 1000, 9, 20
            FROM generate_series(1, $2) AS g
            """,
            user_id,
            campaigns,
        )
        await conn.execute(
            """
            WITH c AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM cold_call_campaigns)
            INSERT INTO cold_call_prospects (id, user_id, campaign_id, full_name, phone_number, consent_basis,
                                             status, next_call_at, region)
            SELECT gen_random_uuid(), $1, c.id, 'Prospecto ' || g,
                   '+3491' || lpad(g::text, 7, '0'), 'legitimate_interest',
                   (CASE WHEN (g / $4) % 10 < 2 THEN 'pending'
                         WHEN (g / $4) % 10 < 6 THEN 'scheduled'
                         ELSE 'completed' END)::call_sequence_status,
                   CASE WHEN (g / $4) % 10 < 2 THEN $3::timestamptz - (g % 3600) * interval '1 second'
                        WHEN (g / $4) % 10 < 6 THEN $3::timestamptz + (1 + g % 7) * interval '1 day'
                        ELSE NULL END,
                   'ES-MD'
            FROM generate_series(1, $2) AS g JOIN c ON c.n = g % $4
            """,
            user_id,
            prospects,
            NOW,
            campaigns,
        )
        await conn.execute("ANALYZE")
        due = await conn.fetchval(
            "SELECT count(*) FROM cold_call_prospects WHERE status IN ('pending','scheduled') AND next_call_at <= $1",
            NOW,
        )
        return {"load_secs": round(time.perf_counter() - started, 1), "due_prospects": due}
    finally:
        await conn.close()


async def measure(url: str, samples: int) -> dict:
    engine = create_engine(url)
    sessionmaker = make_sessionmaker(engine)
    claim_ms: list[float] = []
    try:
        campaign_ids = list((await _scalars(sessionmaker, select(Campaign.id))))
        for _ in range(samples):
            async with sessionmaker() as session:
                started = time.perf_counter()
                async with session.begin():
                    locked = list(
                        (
                            await session.execute(
                                select(Campaign.id)
                                .where(Campaign.status == CampaignStatus.active, Campaign.id.in_(campaign_ids))
                                .with_for_update(skip_locked=True)
                            )
                        ).scalars()
                    )
                    ids = list(
                        (await session.execute(due_prospects_query(NOW, locked, 100).with_only_columns(Prospect.id))).scalars()
                    )
                    await session.execute(
                        update(Prospect).where(Prospect.id.in_(ids)).values(status=CallSequenceStatus.in_progress)
                    )
                    assert len(ids) == 100
                    claim_ms.append((time.perf_counter() - started) * 1000)
                    await session.rollback()
        async with sessionmaker() as session:
            compiled = due_prospects_query(NOW, campaign_ids, 100).compile(
                dialect=engine.dialect, compile_kwargs={"literal_binds": True}
            )
            plan_rows = (await session.execute(text(f"EXPLAIN (ANALYZE, FORMAT TEXT) {compiled}"))).scalars().all()
            await session.rollback()
        plan = "\n".join(plan_rows)
        settings = Settings(_env_file=None, database_url=url, dialer_prerender_opener=False, max_concurrent_calls=100000,
                            dialer_batch_size=100)
        runner = CampaignRunner(settings=settings, sessionmaker=sessionmaker, clock=FixedClock(NOW))
        pass_ms = []
        for _ in range(10):
            started = time.perf_counter()
            _, planned = await runner.claim()
            pass_ms.append((time.perf_counter() - started) * 1000)
            assert len(planned) == 100, len(planned)
        await runner.aclose()
        return {
            "claim_100": {
                "samples": samples,
                "p50_ms": round(statistics.median(claim_ms), 2),
                "p95_ms": round(percentile(claim_ms, 0.95), 2),
                "max_ms": round(max(claim_ms), 2),
                "target_p95_ms": 50,
            },
            "full_pass_100": {
                "samples": len(pass_ms),
                "p50_ms": round(statistics.median(pass_ms), 2),
                "p95_ms": round(percentile(pass_ms, 0.95), 2),
            },
            "plan": plan,
            "plan_uses_index": "ix_cold_call_prospects_due" in plan and "Seq Scan on cold_call_prospects" not in plan,
        }
    finally:
        await engine.dispose()


async def _scalars(sessionmaker, query):
    async with sessionmaker() as session:
        return (await session.execute(query)).scalars().all()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prospects", type=int, default=1_000_000)
    parser.add_argument("--campaigns", type=int, default=100)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    name = f"coldcall_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    try:
        await asyncio.to_thread(upgrade, url)
        loaded = await load(url, args.prospects, args.campaigns)
        print(f"loaded {args.prospects} prospects in {args.campaigns} campaigns in {loaded['load_secs']} s "
              f"({loaded['due_prospects']} due)")
        results = await measure(url, args.samples)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    report = {
        "benchmark": "dialer claim",
        "prospects": args.prospects,
        "campaigns": args.campaigns,
        **loaded,
        **results,
        "callable_statuses": [s.value for s in CALLABLE_STATUSES],
        "measured_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    claim = results["claim_100"]
    print(f"claim of 100 due prospects: p50 {claim['p50_ms']} ms, p95 {claim['p95_ms']} ms (target <= 50 ms)")
    print(f"full dialer pass of 100: p50 {results['full_pass_100']['p50_ms']} ms, p95 {results['full_pass_100']['p95_ms']} ms")
    print(f"query plan uses the due index: {results['plan_uses_index']}")
    for line in results["plan"].splitlines():
        print("   ", line if len(line) < 160 else line[:157] + "...")
    print(f"results written to {RESULTS}")


if __name__ == "__main__":
    asyncio.run(main())
