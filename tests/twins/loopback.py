"""Serving on loopback: the aiohttp-based twins (a context manager), an ASGI app under uvicorn, and TLS."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from pathlib import Path
from typing import Self

import uvicorn
from aiohttp import web


class LoopbackTwin:
    """Base of a twin served by aiohttp on 127.0.0.1 (port chosen by the OS).

    Subclasses add their routes in `add_routes` and call `super().__init__()`; `port` is known
    once the `async with` block is entered. Set `ssl_context` (a server context) before entering
    to serve over TLS (https, wss), as the real vendors do.
    """

    #: Largest request body the twin accepts (aiohttp's default is 1 MiB).
    client_max_size = 1024 * 1024
    ssl_context: ssl.SSLContext | None = None

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
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None


def loopback_tls(directory: Path) -> tuple[Path, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1 (openssl, valid one day) in `directory`: its PEM
    file, for a client to trust (``SSL_CERT_FILE``), and a server context serving it."""
    cert, key = directory / "loopback-cert.pem", directory / "loopback-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return cert, server


async def serve_app(app) -> tuple[uvicorn.Server, asyncio.Task, int]:
    """Run `app` with uvicorn on a free loopback port in this event loop."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", ws="websockets-sansio",
                      ws_per_message_deflate=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return server, task, server.servers[0].sockets[0].getsockname()[1]


async def stop_app(server: uvicorn.Server, task: asyncio.Task) -> None:
    server.should_exit = True
    await asyncio.gather(task, return_exceptions=True)
