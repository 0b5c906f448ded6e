"""End-to-end fixtures: a real uvicorn server on loopback, twins of Telnyx REST / OpenAI /
ElevenLabs, a call log in the database, and Spanish prospect clips made with espeak-ng + sox.

Each test seeds its own call (a fresh tenant), starts the app with the settings it needs, and
talks to ``/telnyx/media`` with `bot.twin_media.SimulatedCallee` over a real WebSocket.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from bot.assets import render_opener
from bot.media_auth import media_stream_token
from bot.settings import Settings
from bot.telnyx_client import encode_client_state
from db.models import CallLog, Campaign, CampaignStatus, IdealCustomerProfile, Profile, Prospect
from db.session import create_engine, make_sessionmaker
from tests.twins.speech import prospect_speech
from tests.twins.telnyx_rest import TelnyxRestTwin

pytestmark = pytest.mark.e2e

VOICE_TYPE = "female_professional"
OPENER = "Hola Marta, soy Lucía de Facturalia."
TRANSFER_NUMBER = "+34910000999"
OBJECTIONS = {
    "ya_tenemos_proveedor": {
        "triggers": ["ya tenemos proveedor", "ya trabajamos con otra empresa"],
        "response": "Lo entiendo. Muchos clientes nos usan junto a su proveedor actual.",
    }
}


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., bytes]:
    """``speech(text, voice="es")`` -> 8 kHz 16-bit PCM of a synthetic prospect saying it."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("espeak-ng and sox are needed to make prospect audio")
    directory = tmp_path_factory.mktemp("prospect_audio")

    def _speech(text: str, voice: str = "es") -> bytes:
        return prospect_speech(text, directory, voice)

    return _speech


@dataclass
class SeededCall:
    call_log_id: uuid.UUID
    prospect_id: uuid.UUID
    campaign_id: uuid.UUID
    user_id: uuid.UUID
    client_state: str
    call_control_id: str


@pytest.fixture
async def e2e_sessionmaker(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def seed_call(e2e_sessionmaker: async_sessionmaker[AsyncSession]) -> Callable[..., Awaitable[SeededCall]]:
    """A tenant, ICP, active campaign, prospect and an answered call log with its opener."""

    async def _seed(*, script: str | None = OPENER, transfer_number: str | None = TRANSFER_NUMBER) -> SeededCall:
        call_control_id = f"v3:{uuid.uuid4().hex}"
        async with e2e_sessionmaker() as session, session.begin():
            profile = Profile(name="Equipo comercial")
            session.add(profile)
            await session.flush()
            icp = IdealCustomerProfile(
                user_id=profile.id,
                name="Pymes de servicios",
                value_proposition="Automatizamos la facturación de las pymes",
                key_benefits=["ahorras diez horas al mes en facturas", "cobras antes con recordatorios automáticos"],
                pain_points=["facturación manual"],
            )
            session.add(icp)
            await session.flush()
            campaign = Campaign(
                user_id=profile.id,
                icp_id=icp.id,
                name="Facturalia Q4",
                goal="Conseguir una demo con un comercial",
                status=CampaignStatus.active,
                transfer_number=transfer_number,
                voice_type=VOICE_TYPE,
                objection_handling=OBJECTIONS,
                caller_id="+34612345678",
            )
            session.add(campaign)
            await session.flush()
            prospect = Prospect(
                user_id=profile.id,
                campaign_id=campaign.id,
                full_name="Marta Ruiz",
                company="Ruiz Asesores",
                role="Gerente",
                phone_number=f"+3460{uuid.uuid4().int % 10**7:07d}",
            )
            session.add(prospect)
            await session.flush()
            log = CallLog(
                user_id=profile.id,
                campaign_id=campaign.id,
                prospect_id=prospect.id,
                call_sid=call_control_id,
                metadata_={"script": script} if script else {},
            )
            session.add(log)
            await session.flush()
            return SeededCall(log.id, prospect.id, campaign.id, profile.id, encode_client_state(log.id), call_control_id)

    return _seed


@dataclass
class CallServer:
    settings: Settings
    telnyx: TelnyxRestTwin
    port: int

    @property
    def media_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/telnyx/media"

    def media_token(self, call: SeededCall) -> str:
        """The ``stream_auth_token`` the dialer would have sent for this call."""
        return media_stream_token(self.settings, call.call_log_id)


@pytest.fixture
def e2e_settings(sqlite_url: str, tmp_path: Path) -> Settings:
    """Everything local: SQLite, offline voice, scripted responder, simulated STT."""
    return Settings(
        _env_file=None,
        database_url=sqlite_url,
        cache_dir=tmp_path / "cache",
        telnyx_api_key=None,
        elevenlabs_api_key=None,
        openai_api_key=None,
        openai_base_url=None,
        whisper_model_dir=None,
        dialer_enabled=False,
        telephony="twin",
        telnyx_max_retries=0,
    )


@pytest.fixture
async def start_server(e2e_settings: Settings) -> AsyncIterator[Callable[..., Awaitable[CallServer]]]:
    """``await start_server(**settings_overrides)`` -> a uvicorn server with the app, on loopback."""
    servers: list[tuple[uvicorn.Server, asyncio.Task, TelnyxRestTwin]] = []

    async def _start(**overrides) -> CallServer:
        telnyx = TelnyxRestTwin()
        await telnyx.__aenter__()
        settings = e2e_settings.model_copy(update={"carrier_twin_port": telnyx.port, **overrides})
        settings.public_base_url = "http://127.0.0.1:0"
        app = create_app(settings, migrate=False)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", ws="websockets-sansio"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        servers.append((server, task, telnyx))
        port = server.servers[0].sockets[0].getsockname()[1]
        # The dialer renders the opener when it dials; do the same so the call starts on a cache hit.
        await render_opener(settings, OPENER, VOICE_TYPE)
        return CallServer(settings=settings, telnyx=telnyx, port=port)

    yield _start
    for server, task, telnyx in servers:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        await telnyx.__aexit__(None, None, None)


async def load_log(sessionmaker: async_sessionmaker[AsyncSession], call_log_id: uuid.UUID, *, timeout: float = 5.0) -> CallLog:
    """The call log once the bot has written its result (the write follows the stream's end)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with sessionmaker() as session:
            log = await session.get(CallLog, call_log_id)
            # The live transcript grows during the call; the bot's final write sets bot_outcome.
            if log is not None and (log.error or "bot_outcome" in (log.metadata_ or {})):
                return log
        if asyncio.get_running_loop().time() > deadline:
            return log
        await asyncio.sleep(0.05)
