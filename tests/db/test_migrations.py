"""Migrations: up to head, down to base and up again, on a fresh SQLite file and a fresh PostgreSQL
database; at head the schema matches the models exactly (no autogenerate differences)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from db.migrate import downgrade, upgrade
from db.models import Base
from db.session import create_engine
from tests.conftest import _pg_admin, _pg_url

SEED_TABLES = {"ideal_customer_profiles", "cold_call_campaigns", "cold_call_prospects", "cold_call_logs"}
PRODUCT_TABLES = {"profiles", "api_keys", "clients", "do_not_call_numbers", "telnyx_webhook_events"}
PG_ENUMS = {"campaign_status", "call_outcome", "call_sequence_status", "icp_industry", "icp_company_size"}


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (the shared test databases are already migrated)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"coldcall_mig_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _schema(url: str) -> tuple[set[str], set[str], list]:
    """(tables, PostgreSQL enum types, differences between the models and the database)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def read(sync_conn):
                tables = set(inspect(sync_conn).get_table_names()) - {"alembic_version"}
                enums = set()
                if sync_conn.dialect.name == "postgresql":
                    enums = {e["name"] for e in inspect(sync_conn).get_enums()}
                diff = compare_metadata(MigrationContext.configure(sync_conn), Base.metadata) if tables else []
                return tables, enums, diff

            return await conn.run_sync(read)
    finally:
        await engine.dispose()


def test_upgrade_downgrade_upgrade(fresh_url: str):
    upgrade(fresh_url)
    tables, enums, diff = asyncio.run(_schema(fresh_url))
    assert SEED_TABLES | PRODUCT_TABLES <= tables
    assert tables == set(Base.metadata.tables)
    assert diff == [], f"models and migrations disagree: {diff}"
    if fresh_url.startswith("postgresql"):
        assert PG_ENUMS <= enums

    downgrade(fresh_url, "base")
    tables, enums, _ = asyncio.run(_schema(fresh_url))
    assert tables == set()
    assert enums == set()  # the enum types go too, so a second upgrade can create them again

    upgrade(fresh_url)
    tables, _, diff = asyncio.run(_schema(fresh_url))
    assert tables == set(Base.metadata.tables) and diff == []
