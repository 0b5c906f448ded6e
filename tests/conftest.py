"""Shared fixtures. Database tests run twice: on SQLite and on PostgreSQL (127.0.0.1:5432).

Each test run creates a fresh PostgreSQL database (dropped at the end) and a fresh SQLite file, and
migrates both once with Alembic. Tests stay independent by working inside their own tenant
(`make_tenant`), which is also how the product keeps tenants apart; tests that need an empty
database (the dialer's global queries) use `clean_database`.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.security import generate_api_key
from bot.settings import Settings
from db.migrate import upgrade
from db.models import ApiKey, Base, Profile
from db.session import create_engine, make_sessionmaker

PG_ADMIN_URL = os.environ.get("COLDCALL_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_url(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{dbname}"


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A fresh, migrated PostgreSQL database for this test run."""
    name = f"coldcall_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = _pg_url(name)
    upgrade(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh, migrated SQLite file for this test run."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'coldcall.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once per database."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def clean_database(sessionmaker: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Empty every table first (for tests whose queries span all tenants)."""
    async with sessionmaker() as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(table.delete())
        await session.commit()
    return sessionmaker


@dataclass
class Tenant:
    profile_id: uuid.UUID
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@pytest.fixture
def make_tenant(sessionmaker: async_sessionmaker[AsyncSession]) -> Callable[..., Awaitable[Tenant]]:
    """Create a profile with one API key."""

    async def _make(name: str = "Test tenant") -> Tenant:
        key, prefix, digest = generate_api_key()
        async with sessionmaker() as session:
            profile = Profile(name=name)
            session.add(profile)
            await session.flush()
            session.add(ApiKey(user_id=profile.id, prefix=prefix, key_hash=digest))
            await session.commit()
            return Tenant(profile.id, key)

    return _make


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its database, a private cache dir, every external service unset."""
    return Settings(
        _env_file=None,
        database_url=database_url,
        cache_dir=tmp_path / "cache",
        telnyx_api_key=None,
        elevenlabs_api_key=None,
        openai_api_key=None,
        openai_base_url=None,
        dialer_enabled=False,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client bound to the app in-process (lifespan run; no background services)."""
    from api.app import create_app

    app = create_app(settings, migrate=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http
