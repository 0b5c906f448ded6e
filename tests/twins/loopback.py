"""The one way the aiohttp-based twins serve: an app on a free loopback port, as a context manager."""

from __future__ import annotations

from typing import Self

from aiohttp import web


class LoopbackTwin:
    """Base of a twin served by aiohttp on 127.0.0.1 (port chosen by the OS).

    Subclasses add their routes in `add_routes` and call `super().__init__()`; `port` is known
    once the `async with` block is entered.
    """

    #: Largest request body the twin accepts (aiohttp's default is 1 MiB).
    client_max_size = 1024 * 1024

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=self.client_max_size)
        self.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None
