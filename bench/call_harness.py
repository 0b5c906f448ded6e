"""Shared harness of the call benchmarks: a seeded database, the twins, our server and the stock one.

* ``seed_calls(url, n)``: n call logs (one tenant, ICP, active campaign, prospects) ready to stream.
* `StockCallApp`: a FastAPI app whose ``/telnyx/media`` runs the stock Pipecat cascade
  (`pipelines.call_pipeline.build_stock_pipeline`): transport, STT, user aggregator with Silero VAD
  and Pipecat's default turn strategies (smart-turn V3, 3 s fallback), OpenAI LLM, ElevenLabs TTS,
  transport; the opener is spoken by the TTS when the stream starts.
* `prospect_clip(text)`: espeak-ng + sox, 8 kHz 16-bit PCM (cached in the temp directory).

Our product server is `api.app.create_app` itself, configured with `bench_settings`.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi import FastAPI, WebSocket  # noqa: E402
from pipecat.audio.vad.silero import SileroVADAnalyzer  # noqa: E402
from pipecat.frames.frames import TTSSpeakFrame  # noqa: E402
from pipecat.pipeline.worker import PipelineParams, PipelineWorker  # noqa: E402
from pipecat.processors.aggregators.llm_context import LLMContext  # noqa: E402
from pipecat.processors.aggregators.llm_response_universal import (  # noqa: E402
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.runner.utils import parse_telephony_websocket  # noqa: E402
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport  # noqa: E402
from pipecat.workers.runner import WorkerRunner  # noqa: E402

from bot.services import build_llm, build_stt, build_tts  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.telnyx_client import encode_client_state  # noqa: E402
from db.migrate import upgrade_async  # noqa: E402
from db.models import CallLog, Campaign, CampaignStatus, IdealCustomerProfile, Profile, Prospect  # noqa: E402
from db.session import create_engine, make_sessionmaker  # noqa: E402
from pipelines.call_pipeline import build_stock_pipeline  # noqa: E402
from processors.media_serializer import CallMediaSerializer  # noqa: E402
from processors.scripted_responder import ScriptMaterial  # noqa: E402
from tests.twins.speech import prospect_speech  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "coldcall-bench-clips"
VOICE_TYPE = "female_professional"
OPENER = "Hola Marta, soy Lucía de Facturalia."


def prospect_clip(text: str, voice: str = "es") -> bytes:
    """A synthetic prospect saying `text`: 8 kHz 16-bit mono PCM, silence trimmed (cached on disk)."""
    return prospect_speech(text, CACHE, voice)


def p95(ascending: list[float]) -> float | None:
    """The 95th percentile (nearest rank) of values sorted ascending; None when there are none."""
    if not ascending:
        return None
    return ascending[min(len(ascending) - 1, max(0, round(0.95 * len(ascending)) - 1))]


async def seed_calls(database_url: str, n: int) -> list[tuple[str, str]]:
    """Create `n` answered call logs; returns (call_control_id, client_state) per call."""
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    out: list[tuple[str, str]] = []
    try:
        async with sessionmaker() as session, session.begin():
            profile = Profile(name="Bench")
            session.add(profile)
            await session.flush()
            icp = IdealCustomerProfile(
                user_id=profile.id, name="Pymes", value_proposition="Automatizamos la facturación de las pymes",
                key_benefits=["ahorras diez horas al mes en facturas"],
            )
            session.add(icp)
            await session.flush()
            campaign = Campaign(
                user_id=profile.id, icp_id=icp.id, name="Bench", goal="Conseguir una demo",
                status=CampaignStatus.active, transfer_number="+34910000999", voice_type=VOICE_TYPE,
            )
            session.add(campaign)
            await session.flush()
            for i in range(n):
                prospect = Prospect(
                    user_id=profile.id, campaign_id=campaign.id, full_name="Marta Ruiz", company="Ruiz Asesores",
                    phone_number=f"+3460{i:07d}",
                )
                session.add(prospect)
                await session.flush()
                call_control_id = f"v3:{uuid.uuid4().hex}"
                log = CallLog(
                    user_id=profile.id, campaign_id=campaign.id, prospect_id=prospect.id,
                    call_sid=call_control_id, metadata_={"script": OPENER},
                )
                session.add(log)
                await session.flush()
                out.append((call_control_id, encode_client_state(log.id)))
    finally:
        await engine.dispose()
    return out


def bench_settings(database_url: str, cache_dir: Path, **overrides) -> Settings:
    """Product settings for a benchmark: everything local unless overridden with twin URLs."""
    values = dict(
        _env_file=None, database_url=database_url, cache_dir=cache_dir, telnyx_api_key=None,
        elevenlabs_api_key=None, openai_api_key=None, openai_base_url=None, whisper_model_dir=None,
        dialer_enabled=False, telephony="twin", telnyx_max_retries=0, log_level="WARNING",
    )
    values.update(overrides)
    return Settings(**values)


class StockCallApp:
    """The stock Pipecat cascade behind ``/telnyx/media`` (the benchmark baseline)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = FastAPI()
        self.app.add_api_websocket_route("/telnyx/media", self._media)

    async def _media(self, websocket: WebSocket) -> None:
        await websocket.accept()
        _, call_data = await parse_telephony_websocket(websocket)
        encoding = call_data.outbound_encoding or "PCMU"
        serializer = CallMediaSerializer(
            stream_id=call_data.stream_id or "", outbound_encoding=encoding, inbound_encoding=encoding,
            params=CallMediaSerializer.InputParams(auto_hang_up=False),
        )
        transport = FastAPIWebsocketTransport(
            websocket=websocket,
            params=FastAPIWebsocketParams(audio_in_enabled=True, audio_out_enabled=True, serializer=serializer),
        )
        stt = build_stt(self.settings)
        llm = build_llm(self.settings, instructions="Eres un comercial. Responde en español.", material=ScriptMaterial(replies={}))
        tts = build_tts(self.settings, voice_type=VOICE_TYPE)
        user, assistant = LLMContextAggregatorPair(
            LLMContext(), user_params=LLMUserAggregatorParams(vad_analyzer=SileroVADAnalyzer())
        )
        pipeline = build_stock_pipeline(
            transport=transport, stt=stt, llm=llm, tts=tts, user_aggregator=user, assistant_aggregator=assistant
        )
        worker = PipelineWorker(
            pipeline,
            params=PipelineParams(audio_in_sample_rate=8000, audio_out_sample_rate=8000),
            idle_timeout_secs=None,
            enable_rtvi=False,
        )

        @transport.event_handler("on_client_connected")
        async def _connected(_t, _c) -> None:
            await worker.queue_frame(TTSSpeakFrame(OPENER))

        @transport.event_handler("on_client_disconnected")
        async def _gone(_t, _c) -> None:
            await worker.cancel()

        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        await runner.run()
