"""The Telnyx media-streaming WebSocket: one answered call per connection (contract C8)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, WebSocket

from bot.call import run_call, warm_up


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Models and audio every call needs are loaded before the first call, not during it.
    await warm_up(app.state.settings)
    yield


router = APIRouter(tags=["telnyx"], lifespan=_lifespan)


@router.websocket("/telnyx/media")
async def telnyx_media(websocket: WebSocket) -> None:
    """Telnyx (or the carrier twin) streams a call's audio here; the bot answers on it."""
    state = websocket.app.state
    await run_call(websocket, settings=state.settings, sessionmaker=state.sessionmaker, clock=state.clock)
