"""The FastAPI application: REST v1, Telnyx webhooks and media WebSocket, admin UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.admin import routes as admin_routes
from api.errors import install_error_handling
from api.routes import calls, campaigns, do_not_call, health, icps, media, prospects, stats, telnyx_webhooks
from bot.clock import Clock
from bot.runtime import Runtime
from bot.settings import Settings, get_settings
from db.migrate import upgrade_async
from db.session import create_engine, make_sessionmaker


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    run_background: bool = False,
    migrate: bool | None = None,
) -> FastAPI:
    """Build the app. `run_background` starts the dialer (and the carrier twin when Telnyx is not
    configured); `migrate` applies migrations at start (default: on SQLite, the embedded store)."""
    settings = settings or get_settings()
    clock = clock or Clock()
    if migrate is None:
        migrate = settings.database_url.startswith("sqlite")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await upgrade_async(settings.database_url)
        engine = create_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        runtime = Runtime(settings=settings, sessionmaker=app.state.sessionmaker, clock=clock)
        app.state.runtime = runtime
        if run_background:
            await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            await engine.dispose()

    app = FastAPI(
        title="coldcall",
        version="0.1.0",
        summary="Outbound AI cold-calling platform: ICPs, campaigns, dialer, realtime voice agent.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handling(app)
    app.state.clock = clock
    app.include_router(health.router)
    for module in (icps, campaigns, prospects, calls, stats, do_not_call):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(telnyx_webhooks.router)
    app.include_router(media.router)
    app.include_router(admin_routes.router)
    return app
