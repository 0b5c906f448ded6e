"""FastAPI dependencies: settings, clock, a database session per request, the current tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.security import hash_api_key
from bot.clock import Clock
from bot.settings import Settings
from db.models import ApiKey, Profile


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.sessionmaker


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]

_bearer = HTTPBearer(auto_error=False)


async def profile_for_key(session: AsyncSession, key: str) -> Profile | None:
    """The profile an API key belongs to, or None for an unknown or revoked key."""
    row = await session.execute(
        select(Profile)
        .join(ApiKey, ApiKey.user_id == Profile.id)
        .where(ApiKey.key_hash == hash_api_key(key), ApiKey.revoked_at.is_(None))
    )
    return row.scalar_one_or_none()


async def get_current_profile(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Profile:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Missing API key: send it as 'Authorization: Bearer <api key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    profile = await profile_for_key(session, credentials.credentials)
    if profile is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "This API key is not valid (unknown or revoked).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return profile


CurrentProfile = Annotated[Profile, Depends(get_current_profile)]
