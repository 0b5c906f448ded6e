"""Background work of a server process: the dialer loop and, without Telnyx, the carrier twin.

Owned by the dialer issue; `api.app` starts and stops it with the application's lifespan.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.settings import Settings


class Runtime:
    """Starts and stops the process's background services."""

    def __init__(self, *, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.clock = clock

    async def start(self) -> None:
        """Start the dialer loop (and the carrier twin). Filled in by the dialer issue."""

    async def stop(self) -> None:
        """Stop everything `start` started; safe to call when nothing was started."""
