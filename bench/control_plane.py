"""Control-plane benchmark: CSV import throughput and the latency of the stats and list endpoints.

For each database (a fresh SQLite file and a fresh PostgreSQL database, both dropped at the end):

* **import**: one `POST /campaigns/{id}/prospects/import` of a CSV with N rows (UTF-8, comma),
  through the real app in process (httpx ASGI transport): rows per second.
* **stats**: `GET /campaigns/{id}/stats` over M call logs spread across 30 days and 24 hours
  (p50/p95 of S requests).
* **list**: `GET /campaigns/{id}/prospects?limit=50` deep in the list (a cursor from the middle),
  p50/p95 — keyset pagination should not slow down with depth.

Usage: ``.venv/bin/python bench/control_plane.py [--rows 20000] [--calls 100000] [--samples 30]``.
Results go to ``bench/results/control_plane.json``. PostgreSQL at 127.0.0.1:5432 (``BENCH_PG_ADMIN``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from api.app import create_app  # noqa: E402
from api.commands import create_profile  # noqa: E402
from bot.settings import Settings  # noqa: E402
from db.migrate import upgrade_async  # noqa: E402
from db.models import CallLegStatus, CallLog, CallOutcome, Prospect  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
OUTCOMES = list(CallOutcome)


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    }


async def _run(url: str, rows: int, calls: int, samples: int) -> dict:
    await upgrade_async(url)
    settings = Settings(_env_file=None, database_url=url, dialer_enabled=False, cache_dir=Path(tempfile.mkdtemp()))
    _, key = await create_profile(settings, "bench")
    headers = {"Authorization": f"Bearer {key}"}
    app = create_app(settings, migrate=False)
    result: dict = {}
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=600) as http:
            campaign = (
                await http.post("/api/v1/campaigns", json={"name": "Bench", "callerId": "+34910000000"}, headers=headers)
            ).json()
            cid = campaign["id"]
            csv = "full_name,phone_number,company,region,consent_basis\n" + "".join(
                f"Persona {i},+3461{i:07d},Empresa {i % 97},ES-MD,consent\n" for i in range(rows)
            )
            start = time.perf_counter()
            response = await http.post(
                f"/api/v1/campaigns/{cid}/prospects/import",
                content=csv.encode(),
                headers={**headers, "Content-Type": "text/csv"},
            )
            elapsed = time.perf_counter() - start
            assert response.status_code == 200 and response.json()["imported"] == rows, response.text
            result["import"] = {
                "rows": rows,
                "bytes": len(csv),
                "seconds": round(elapsed, 2),
                "rows_per_second": round(rows / elapsed),
            }

            sessionmaker = app.state.sessionmaker
            async with sessionmaker() as session:
                profile_id = (await session.execute(select(Prospect.user_id).limit(1))).scalar_one()
                prospect_ids = list((await session.scalars(select(Prospect.id).limit(5000))).all())
                rng = random.Random(7)
                base = datetime(2026, 2, 1, tzinfo=UTC)
                batch = []
                for i in range(calls):
                    started = base + timedelta(minutes=rng.randrange(30 * 24 * 60))
                    outcome = rng.choice(OUTCOMES)
                    batch.append(
                        {
                            "id": uuid.uuid4(),
                            "user_id": profile_id,
                            "campaign_id": uuid.UUID(cid),
                            "prospect_id": rng.choice(prospect_ids),
                            "status": CallLegStatus.ended,
                            "started_at": started,
                            "created_at": started,
                            "updated_at": started,
                            "outcome": outcome,
                            "duration": rng.randrange(5, 300),
                        }
                    )
                    if len(batch) == 5000:
                        await session.execute(insert(CallLog), batch)
                        batch = []
                if batch:
                    await session.execute(insert(CallLog), batch)
                await session.commit()

            times = []
            for _ in range(samples):
                start = time.perf_counter()
                response = await http.get(f"/api/v1/campaigns/{cid}/stats", headers=headers)
                times.append(time.perf_counter() - start)
                assert response.status_code == 200 and response.json()["total_calls"] == calls
            result["stats"] = {"calls": calls, "samples": samples, **_ms(times)}

            page = (await http.get(f"/api/v1/campaigns/{cid}/prospects", params={"limit": 200}, headers=headers)).json()
            for _ in range(rows // 400):  # walk to the middle of the list
                page = (
                    await http.get(
                        f"/api/v1/campaigns/{cid}/prospects",
                        params={"limit": 200, "cursor": page["next_cursor"]},
                        headers=headers,
                    )
                ).json()
            times = []
            for _ in range(samples):
                start = time.perf_counter()
                response = await http.get(
                    f"/api/v1/campaigns/{cid}/prospects", params={"limit": 50, "cursor": page["next_cursor"]}, headers=headers
                )
                times.append(time.perf_counter() - start)
                assert response.status_code == 200 and len(response.json()["items"]) == 50
            result["list_deep_page"] = {"samples": samples, **_ms(times)}
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()

    results: dict = {"rows": args.rows, "calls": args.calls, "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = await _run(f"sqlite+aiosqlite:///{tmp}/bench.db", args.rows, args.calls, args.samples)
        print("sqlite", json.dumps(results["sqlite"]))
    name = f"coldcall_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        pg_url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
        results["postgres"] = await _run(pg_url, args.rows, args.calls, args.samples)
        print("postgres", json.dumps(results["postgres"]))
    finally:
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
    out = Path(__file__).resolve().parent / "results" / "control_plane.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    asyncio.run(main())
