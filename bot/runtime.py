"""Background work of a server process: the dialer loop and, without Telnyx, the carrier twin.

`api.app` starts and stops it with the application's lifespan. `call_control` is the process's one
Telnyx client (the webhook route uses it for the voicemail drop and hang-ups).
"""

from __future__ import annotations

import asyncio

from loguru import logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.carrier_twin.server import CarrierTwin
from bot.clock import Clock
from bot.dialer import CampaignRunner, ColdCallingDialer
from bot.settings import Settings
from bot.telnyx_client import TelnyxCallControl


class Runtime:
    """Starts and stops the process's background services."""

    def __init__(self, *, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.carrier_twin: CarrierTwin | None = None
        self.runner: CampaignRunner | None = None
        self._call_control: TelnyxCallControl | None = None
        self._stop = asyncio.Event()
        self._dialer_task: asyncio.Task | None = None

    @property
    def call_control(self) -> TelnyxCallControl:
        """The process's Telnyx client (created on first use; raises when TELNYX_API_KEY is missing)."""
        if self._call_control is None:
            self._call_control = TelnyxCallControl(self.settings)
        return self._call_control

    async def start(self) -> None:
        """Start the carrier twin (when Telnyx is not configured) and the dialer loop."""
        if self.settings.uses_carrier_twin:
            self.carrier_twin = CarrierTwin(self.settings, self.clock)
            await self.carrier_twin.start()
            logger.info("telephony: local carrier twin (no TELNYX_API_KEY); calls are simulated")
        self.runner = CampaignRunner(
            settings=self.settings,
            sessionmaker=self.sessionmaker,
            clock=self.clock,
            dialer=ColdCallingDialer(self.settings, self.call_control),
        )
        self._stop.clear()
        self._dialer_task = asyncio.create_task(self.runner.run_forever(self._stop))

    async def stop(self) -> None:
        """Stop everything `start` started; safe to call when nothing was started."""
        self._stop.set()
        if self._dialer_task is not None:
            await asyncio.gather(self._dialer_task, return_exceptions=True)
            self._dialer_task = None
        if self.carrier_twin is not None:
            await self.carrier_twin.stop()
            self.carrier_twin = None
        if self._call_control is not None:
            await self._call_control.aclose()
            self._call_control = None
