"""The `coldcall` command line (typer).

Each command is a thin shell over a function of the module that owns the work, imported inside the
command so that `coldcall --help` stays fast and one command's heavy imports don't slow the others.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Outbound AI cold-calling platform.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
profiles_app = typer.Typer(help="Tenants and their API keys.", no_args_is_help=True)
prospects_app = typer.Typer(help="Prospects of a campaign.", no_args_is_help=True)
assets_app = typer.Typer(help="Pre-rendered audio: fillers and replies.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(profiles_app, name="profiles")
app.add_typer(prospects_app, name="prospects")
app.add_typer(assets_app, name="assets")


def _settings():
    from bot.settings import Settings

    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError: show the sentence, not a traceback
        typer.secho(f"Configuration error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def _run(coro):
    """Run a command coroutine; a `CommandError` is shown as its sentence, not a traceback."""
    from api.commands import CommandError

    try:
        return asyncio.run(coro)
    except CommandError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the API, admin UI, dialer and (without TELNYX_API_KEY) the local carrier twin."""
    import uvicorn

    from api.app import create_app

    settings = _settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    if host or port:
        settings.public_base_url = f"http://{settings.host}:{settings.port}"
    app_ = create_app(settings, run_background=settings.dialer_enabled)
    typer.echo(f"coldcall serving on http://{settings.host}:{settings.port} (admin: /admin/cold-calling, API docs: /docs)")
    # No permessage-deflate: the media stream is base64 audio (barely compressible) at 50 messages
    # a second per call each way, and zlib on every message was a visible share of a call's CPU.
    uvicorn.run(
        app_, host=settings.host, port=settings.port, log_level=settings.log_level.lower(), ws_per_message_deflate=False
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations up to REVISION (default: the latest)."""
    from db.migrate import upgrade

    upgrade(_settings().database_url, revision)
    typer.echo(f"Database upgraded to {revision}.")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. 'base' or '-1'.")) -> None:
    """Revert the migrations down to REVISION."""
    from db.migrate import downgrade

    downgrade(_settings().database_url, revision)
    typer.echo(f"Database downgraded to {revision}.")


@profiles_app.command("create")
def profiles_create(name: str) -> None:
    """Create a tenant profile and print its new API key (shown only this once)."""
    from api.commands import create_profile

    profile_id, key = _run(create_profile(_settings(), name))
    typer.echo(f"Profile {name!r} created: {profile_id}")
    typer.echo(f"API key (shown once, store it now): {key}")


@prospects_app.command("import")
def prospects_import(campaign_id: str, file: Path) -> None:
    """Import prospects into CAMPAIGN_ID from a CSV FILE (UTF-8 or Latin-1, comma or semicolon)."""
    from api.commands import import_prospects_file

    report = _run(import_prospects_file(_settings(), campaign_id, file))
    typer.echo(report)


@app.command("demo-data")
def demo_data() -> None:
    """Load the seed's ICP, a campaign and 20 prospects into a new demo profile."""
    from api.commands import load_demo_data

    typer.echo(_run(load_demo_data(_settings())))


@assets_app.command("generate")
def assets_generate(
    voice_type: Annotated[str, typer.Option(help="One of the four voice types.")] = "male_professional",
    offline: Annotated[bool, typer.Option(help="Use the offline espeak-ng voice even with a key.")] = False,
) -> None:
    """Render every filler and pre-rendered reply for a voice type, with a manifest."""
    from bot.assets import generate_assets_cli

    generate_assets_cli(_settings(), voice_type=voice_type, offline=offline)


@app.command()
def dialer() -> None:
    """Run the dialer loop on its own (several can run against one PostgreSQL)."""
    from bot.dialer import run_dialer_process

    asyncio.run(run_dialer_process(_settings()))


@app.command()
def demo(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False) -> None:
    """Run a small campaign end to end on the carrier twin and print each call."""
    from bot.demo import run_demo_cli

    run_demo_cli(_settings(), as_json=as_json)


if __name__ == "__main__":
    app()
