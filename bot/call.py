"""One answered call: the Telnyx media WebSocket in, a Pipecat pipeline run, the call log out.

`run_call(websocket, *, settings, sessionmaker, clock)` (contract C8) is what `/telnyx/media`
calls. It

1. reads Telnyx's handshake (``connected``, ``start``) with Pipecat's `parse_telephony_websocket`,
   keeping the raw ``start`` for its ``client_state``; the codec comes from
   ``start.media_format.encoding`` (PCMU or PCMA) and is used both ways;
2. loads the call's context (call log by ``client_state``, else by ``call_control_id``; prospect,
   campaign, ICP; the opener text the dialer stored in ``CallLog.metadata_["script"]``, rendered
   again with `ScriptGenerator` if absent); closes the stream (1008) unless it carries that call's
   token (`bot.media_auth`; upgrade header, else the ``connected`` message) while
   ``MEDIA_STREAM_AUTH`` is on; then loads the opener audio (`bot.assets.render_opener`, a cache
   hit when the dialer pre-rendered it);
3. builds the services (`bot.services`), the processors and the pipeline
   (`pipelines.call_pipeline.build_call_pipeline`), queues the opener so it plays the moment the
   pipeline is up, and runs it with `PipelineWorker` (`pipelines.call_worker`)/`WorkerRunner`;
4. wires the side effects: intents and LLM tools (transfer, callback, end, do-not-call), Telnyx
   hang-up when the bot ends the call, and at the end `bot.outcomes.record_bot_result` with the
   transcript, per-reply latency, outcome, sentiment, notes and next steps.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import WebSocket
from loguru import logger
from pipecat.frames.frames import ErrorFrame, FunctionCallResultProperties
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.runner.utils import parse_telephony_websocket
from pipecat.services.llm_service import FunctionCallParams
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams
from pipecat.workers.runner import WorkerRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocketState

from bot.assets import AudioLibrary, load_audio_library, render_opener
from bot.call_transcript import ConversationRecorder, LiveTranscriptWriter
from bot.callback_time import parse_callback_time
from bot.clock import Clock
from bot.media_auth import MEDIA_STREAM_TOKEN_HEADER, verify_media_stream_token
from bot.outcomes import BotResult, record_bot_result
from bot.replies import campaign_reply_texts
from bot.script import ScriptGenerator
from bot.services import (
    CALL_TOOLS,
    PHONE_SAMPLE_RATE,
    build_llm,
    build_stt,
    build_tts,
    call_instructions,
    choose_services,
    tool_arguments,
)
from bot.settings import DEFAULT_VOICE_IDS, Settings
from bot.telnyx_client import TelnyxCallControl, TelnyxError, decode_client_state
from bot.transfer import HotTransferManager
from db.models import CallLog, CallOutcome, Campaign, IdealCustomerProfile, Prospect
from pipelines.call_pipeline import (
    build_call_pipeline,
    build_call_transport,
    build_turn_strategies,
)
from pipelines.call_worker import build_call_worker
from processors.call_guards import CallGuard, GuardClips
from processors.filler_injector import FillerInjector
from processors.fillers import HumanFillerEngine
from processors.intent_router import IntentRouter
from processors import shared_turn_models
from processors.audio_clip import AudioClip
from processors.media_serializer import CallMediaSerializer, encode_g711
from processors.phone_whisper_stt import warm_up_whisper
from processors.scripted_responder import ScriptMaterial
from processors.speech_humanizer import PROTECTED_CONTEXT_PREFIXES, SpeechHumanizer
from processors.transfer_processor import CLIP_CONTEXT_PREFIX, TransferProcessor, clip_frames

#: How long to wait for Telnyx's ``connected`` + ``start`` before giving up on a stream.
HANDSHAKE_TIMEOUT_SECS = 10.0
#: After a failed transfer, when the seller calls back.
TRANSFER_FAILED_CALLBACK = timedelta(hours=1)
#: Outcomes the LLM's end_call may give.
_END_OUTCOMES = {o.value: o for o in CallOutcome}


class _EarlyOpener:
    """Plays the opener straight onto the socket while the pipeline is still being built.

    The bot must speak the moment the media stream starts, but building a call's pipeline
    (audio library, services, the vendors' connections at start) takes from a few to a few hundred
    milliseconds. This sends the opener's first packets at once (a small burst, then real time,
    like the transport), and at `handoff` returns the part not yet sent, which the pipeline plays
    from there, so the prospect hears one continuous sentence.
    """

    PACKET_BYTES = PHONE_SAMPLE_RATE * 2 * 20 // 1000
    #: Packets sent ahead of real time: covers the hand-over to the transport without a gap.
    BURST_PACKETS = 3

    def __init__(self, websocket: WebSocket, pcm: bytes, encoding: str) -> None:
        self._websocket = websocket
        self._pcm = pcm
        self._encoding = encoding
        self._sent = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.started_at: float | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._send(), name="early_opener")

    async def _send(self) -> None:
        started = time.monotonic()
        self.started_at = started
        packet = 0
        try:
            while self._sent < len(self._pcm) and not self._stop.is_set():
                chunk = self._pcm[self._sent : self._sent + self.PACKET_BYTES]
                payload = base64.b64encode(encode_g711(chunk, self._encoding)).decode("ascii")
                await self._websocket.send_text(json.dumps({"event": "media", "media": {"payload": payload}}))
                self._sent += len(chunk)
                packet += 1
                due = started + max(0, packet - self.BURST_PACKETS) * 0.02
                delay = due - time.monotonic()
                if delay > 0:
                    try:
                        await asyncio.wait_for(self._stop.wait(), delay)
                    except TimeoutError:
                        pass
        except (RuntimeError, OSError) as exc:
            logger.debug("Early opener stopped: {}", type(exc).__name__)
            self._stop.set()

    async def handoff(self) -> bytes:
        """Stop sending; the opener audio not sent yet (empty if it all went out)."""
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        return self._pcm[self._sent :]


class _HandshakeRecorder:
    """Lets `parse_telephony_websocket` read the handshake while keeping the raw messages.

    Pipecat's parser does not return ``start.client_state``, which names our call log.
    """

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        self.raw: list[str] = []

    async def iter_text(self):
        async for message in self._websocket.iter_text():
            self.raw.append(message)
            yield message

    def message(self, event: str) -> dict:
        """The first handshake message of this event, or {}."""
        for raw in self.raw:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("event") == event:
                return message
        return {}

    def start_payload(self) -> dict:
        start = self.message("start").get("start")
        return start if isinstance(start, dict) else {}


@dataclass
class CallContext:
    """Everything the bot needs to know about the call it is on."""

    call_log_id: uuid.UUID
    call_control_id: str
    encoding: str
    campaign: Campaign
    prospect: Prospect | None
    icp: IdealCustomerProfile | None
    opener_text: str


@dataclass
class CallState:
    """What happened on the call, filled in by event handlers while it runs."""

    outcome: CallOutcome | None = None
    callback_at: datetime | None = None
    callback_when: str | None = None
    do_not_call: bool = False
    transfer_reason: str | None = None
    transferred: bool = False
    transfer_failed: bool = False
    ended_by_bot: str | None = None
    error: str | None = None
    intents: list[str] = field(default_factory=list)


async def load_call_context(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    client_state: str | None,
    call_control_id: str,
    encoding: str,
    clock: Clock,
) -> CallContext | None:
    """The call log named by `client_state` (else found by `call_control_id`) and its context."""
    log_id = decode_client_state(client_state)
    # One round trip: the opener waits on it.
    query = (
        select(CallLog, Campaign, Prospect, IdealCustomerProfile)
        .join(Campaign, Campaign.id == CallLog.campaign_id)
        .outerjoin(Prospect, Prospect.id == CallLog.prospect_id)
        .outerjoin(IdealCustomerProfile, IdealCustomerProfile.id == Campaign.icp_id)
        .limit(1)
    )
    async with sessionmaker() as session:
        row = None
        if log_id is not None:
            row = (await session.execute(query.where(CallLog.id == log_id))).first()
        if row is None and call_control_id:
            row = (await session.execute(query.where(CallLog.call_sid == call_control_id))).first()
        if row is None:
            return None
        log, campaign, prospect, icp = row
        opener = (log.metadata_ or {}).get("script")
        if not isinstance(opener, str) or not opener.strip():
            opener = ScriptGenerator.generate_script(icp, prospect, campaign, now=clock.now())
        return CallContext(
            call_log_id=log.id,
            call_control_id=call_control_id or log.call_sid or "",
            encoding=encoding,
            campaign=campaign,
            prospect=prospect,
            icp=icp,
            opener_text=opener,
        )


def _voice_type(campaign: Campaign) -> str:
    value = campaign.voice_type
    return getattr(value, "value", value) or "male_professional"


def _material(context: CallContext) -> ScriptMaterial:
    icp = context.icp
    return ScriptMaterial(
        replies=campaign_reply_texts(context.campaign),
        objections=dict(context.campaign.objection_handling or {}),
        value_proposition=icp.value_proposition if icp else None,
        key_benefits=[str(b) for b in (icp.key_benefits or [])] if icp else [],
        goal=context.campaign.goal,
    )


def _warm_up_sync(settings: Settings) -> None:
    shared_turn_models.warm_up()
    if settings.whisper_model_dir:
        warm_up_whisper(str(settings.whisper_model_dir))
    for voice_type in DEFAULT_VOICE_IDS:
        try:
            load_audio_library(settings, voice_type)
        except Exception as exc:  # noqa: BLE001 - a missing library only costs its first call
            logger.warning("Audio library {} not preloaded: {}", voice_type, type(exc).__name__)


async def warm_up(settings: Settings) -> None:
    """Load what every call needs (VAD and turn models, Whisper, audio libraries) before the first
    call arrives, in a thread, so the first opener is as quick as the hundredth."""
    started = time.monotonic()
    await asyncio.to_thread(_warm_up_sync, settings)
    # Everything loaded so far (Pipecat, onnxruntime, SQLAlchemy, FastAPI, the audio libraries:
    # ~470,000 objects) lives as long as the process. Left to the cyclic collector, every full
    # collection walks all of it: 180 ms measured, with every call of the process stalled, and
    # call set-ups (each builds a pipeline of thousands of objects) trigger one every few calls.
    # Frozen, a full collection walks only what came later.
    gc.collect()
    gc.freeze()
    logger.info("Call models warmed up in {:.0f} ms", (time.monotonic() - started) * 1000)


async def run_call(
    websocket: WebSocket,
    *,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> None:
    """Run one call on an accepted (or about to be accepted) Telnyx media WebSocket."""
    if websocket.client_state == WebSocketState.CONNECTING:
        await websocket.accept()
    handshake = _HandshakeRecorder(websocket)
    try:
        transport_type, call_data = await asyncio.wait_for(
            parse_telephony_websocket(handshake), HANDSHAKE_TIMEOUT_SECS
        )
    except (TimeoutError, ValueError) as exc:
        logger.warning("Media stream closed: no valid Telnyx handshake ({})", type(exc).__name__)
        await _close(websocket, 1008, "expected Telnyx connected/start messages")
        return
    media_start = time.monotonic()
    start = handshake.start_payload()
    encoding = str(call_data.outbound_encoding or "PCMU").upper()
    if transport_type != "telnyx" or encoding not in ("PCMU", "PCMA"):
        logger.warning("Media stream refused: transport {} encoding {}", transport_type, encoding)
        await _close(websocket, 1003, "only Telnyx streams with PCMU or PCMA are supported")
        return
    context = await load_call_context(
        sessionmaker,
        client_state=start.get("client_state"),
        call_control_id=str(call_data.call_id or ""),
        encoding=encoding,
        clock=clock,
    )
    if context is None:
        logger.warning("Media stream refused: no call log for this stream")
        await _close(websocket, 1008, "unknown call")
        return
    if settings.media_stream_auth:
        # Telnyx sends the dial's stream_auth_token as an upgrade header and in `connected`.
        token = websocket.headers.get(MEDIA_STREAM_TOKEN_HEADER) or handshake.message("connected").get(
            MEDIA_STREAM_TOKEN_HEADER
        )
        if not verify_media_stream_token(settings, context.call_log_id, token if isinstance(token, str) else None):
            logger.warning(
                "Media stream refused for call {}: {} stream token",
                context.call_log_id,
                "invalid" if token else "missing",
            )
            await _close(websocket, 1008, "invalid stream token")
            return
    logger.info("Call {}: media stream started ({})", context.call_log_id, encoding)
    call = _CallRun(
        websocket=websocket,
        stream_id=str(call_data.stream_id or ""),
        context=context,
        settings=settings,
        sessionmaker=sessionmaker,
        clock=clock,
        media_start=media_start,
    )
    await call.run()


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    try:
        await websocket.close(code=code, reason=reason)
    except RuntimeError:
        pass


class _CallRun:
    """The pipeline of one call and its event handlers."""

    def __init__(
        self,
        *,
        websocket: WebSocket,
        stream_id: str,
        context: CallContext,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        media_start: float,
    ) -> None:
        self.websocket = websocket
        self.stream_id = stream_id
        self.context = context
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.media_start = media_start
        self.state = CallState()
        self.recorder = ConversationRecorder(media_start=media_start)
        self.services = choose_services(settings)
        self.guard: CallGuard | None = None
        self.transfer: TransferProcessor | None = None
        self.worker: PipelineWorker | None = None
        self.library: AudioLibrary | None = None

    # --- building -------------------------------------------------------------------------------
    async def _load_library(self) -> AudioLibrary:
        voice_type = _voice_type(self.context.campaign)
        return await asyncio.to_thread(load_audio_library, self.settings, voice_type, self.context.campaign)

    def _build(self, library: AudioLibrary) -> PipelineWorker:
        context, settings = self.context, self.settings
        voice_type = _voice_type(context.campaign)
        serializer = CallMediaSerializer(
            stream_id=self.stream_id,
            outbound_encoding=context.encoding,
            inbound_encoding=context.encoding,
            call_control_id=context.call_control_id,
            # We hang up ourselves (bot.telnyx_client), and never after a successful transfer.
            params=CallMediaSerializer.InputParams(auto_hang_up=False),
        )
        transport = build_call_transport(
            self.websocket,
            FastAPIWebsocketParams(
                audio_in_enabled=True,
                audio_out_enabled=True,
                add_wav_header=False,
                serializer=serializer,
                # One short silence at the end instead of Pipecat's 2 s.
                audio_out_end_silence_secs=0,
                # 80 ms media messages (Telnyx takes 20 ms to 30 s) instead of Pipecat's 40 ms: half
                # the messages, serialisations, sends and pacing wake-ups per second of the bot's
                # speech. Paced in real time either way; a barge-in's `clear` drops what Telnyx holds.
                audio_out_10ms_chunks=8,
            ),
            stop_secs=settings.vad_stop_secs,
            fallback_secs=settings.turn_fallback_secs,
            sample_rate=PHONE_SAMPLE_RATE,
        )
        stt = build_stt(settings)
        llm = build_llm(
            settings,
            instructions=call_instructions(
                campaign=context.campaign, icp=context.icp, prospect=context.prospect, script=context.opener_text
            ),
            material=_material(context),
        )
        tts = build_tts(settings, voice_type=voice_type)
        llm_context = LLMContext(tools=CALL_TOOLS)
        user_aggregator, assistant_aggregator = LLMContextAggregatorPair(
            llm_context,
            user_params=LLMUserAggregatorParams(
                user_turn_strategies=build_turn_strategies(
                    fallback_secs=settings.turn_fallback_secs,
                    min_barge_in_secs=settings.barge_in_min_secs,
                    objections=dict(context.campaign.objection_handling or {}),
                ),
                empty_user_turn=None,
            ),
        )
        objections = dict(context.campaign.objection_handling or {})
        router = IntentRouter(replies=library.reply, objections=objections, on_intent=self._on_intent)
        engine = HumanFillerEngine(
            {c: library.fillers(c) for c in _FILLER_CATEGORIES}, error_rate=settings.human_error_rate
        )
        fillers = FillerInjector(
            engine,
            trigger=settings.filler_trigger,
            delay_secs=settings.filler_delay_secs,
            max_filler_ms=settings.filler_max_ms,
            bridge_after_secs=settings.filler_bridge_secs or None,
        )
        humanizer = SpeechHumanizer(engine, protected_prefixes=(*PROTECTED_CONTEXT_PREFIXES, CLIP_CONTEXT_PREFIX))
        self.transfer = TransferProcessor(
            announcement=library.reply("transfer"),
            failure_clip=library.reply("transfer_failed"),
            on_transfer=self._on_transfer,
        )
        self.guard = CallGuard(
            clips=GuardClips(
                silence_prompt=library.reply("silence_prompt"),
                goodbye=library.reply("goodbye"),
                apology=library.reply("apology"),
            ),
            on_end=self._on_guard_end,
            silence_secs=settings.call_silence_secs,
            max_call_secs=settings.call_max_secs,
            dead_air_secs=settings.call_dead_air_secs,
        )
        for name in ("transfer_to_human", "schedule_callback", "end_call", "mark_do_not_call"):
            llm.register_function(name, getattr(self, f"_tool_{name}"))
        pipeline = build_call_pipeline(
            transport=transport,
            stt=stt,
            intent_router=router,
            filler_injector=fillers,
            user_aggregator=user_aggregator,
            llm=llm,
            tts=tts,
            transfer_processor=self.transfer,
            call_guard=self.guard,
            output_processors=[humanizer],
            assistant_aggregator=assistant_aggregator,
        )
        worker = build_call_worker(
            pipeline,
            params=PipelineParams(
                audio_in_sample_rate=PHONE_SAMPLE_RATE, audio_out_sample_rate=PHONE_SAMPLE_RATE,
                enable_metrics=settings.service_metrics,
            ),
            observers=[self.recorder],
            idle_timeout_secs=None,
            # No RTVI client on a phone line; it would only log our twin transcripts as unknown.
            enable_rtvi=False,
            # Pipecat's turn-tracking and latency observers see every frame hop of every call;
            # ConversationRecorder measures what we store, once per frame.
            enable_turn_tracking=False,
        )

        @transport.event_handler("on_client_disconnected")
        async def _on_disconnected(_transport, _client) -> None:
            logger.info("Call {}: media stream closed by the carrier", context.call_log_id)
            await worker.cancel()

        @worker.event_handler("on_pipeline_error")
        async def _on_error(_worker, frame: ErrorFrame) -> None:
            if self.guard is not None and not self.guard.ending:
                self.state.error = self.state.error or _short_error(frame)
                await self.guard.report_failure(_short_error(frame))

        return worker

    # --- running --------------------------------------------------------------------------------
    async def run(self) -> None:
        early: _EarlyOpener | None = None
        try:
            opener = await render_opener(self.settings, self.context.opener_text, _voice_type(self.context.campaign))
            early = _EarlyOpener(self.websocket, opener.pcm, self.context.encoding)
            early.start()
            library = await self._load_library()
            prepared = time.monotonic()
            self.library = library
            worker = self._build(library)
            logger.debug(
                "Call {}: pipeline built {:.0f} ms after media start ({:.0f} ms to build)",
                self.context.call_log_id,
                (time.monotonic() - self.media_start) * 1000,
                (time.monotonic() - prepared) * 1000,
            )
        except Exception as exc:  # noqa: BLE001 - record and close instead of a silent stream
            logger.exception("Call {}: could not start the bot", self.context.call_log_id)
            if early is not None:
                await early.handoff()
            self.state.error = f"bot start failed: {type(exc).__name__}"
            await _close(self.websocket, 1011, "bot failed to start")
            await self._record()
            return
        self.worker = worker

        @worker.event_handler("on_pipeline_started")
        async def _hand_over_opener(_worker, _frame) -> None:
            # The transport now owns the socket: it plays the rest of the opener from here.
            rest = await early.handoff()
            self.recorder.bot_audio_started(early.started_at or time.monotonic())
            if rest:
                remainder = AudioClip(id="opener", category="opener", text=opener.text, pcm=rest, offline=opener.offline)
                await worker.queue_frames(clip_frames(remainder, "opener"))
            else:
                self.recorder.add_bot_turn(opener.text, early.started_at or time.monotonic(), time.monotonic())

        runner = WorkerRunner(handle_sigint=False)
        live = LiveTranscriptWriter(self.sessionmaker, self.context.call_log_id, self.recorder)
        live.start()
        try:
            await runner.add_workers(worker)
            await runner.run()
        except Exception as exc:  # noqa: BLE001 - whatever broke, the log gets the result
            logger.exception("Call {}: pipeline failed", self.context.call_log_id)
            self.state.error = self.state.error or f"pipeline failed: {type(exc).__name__}"
        finally:
            await live.stop()
            await early.handoff()
            await self._after_call()

    async def _after_call(self) -> None:
        if self.state.ended_by_bot and not self.state.transferred:
            await self._hang_up()
        await self._record()

    async def _hang_up(self) -> None:
        try:
            control = TelnyxCallControl(self.settings)
            try:
                await control.hangup(self.context.call_control_id)
            finally:
                await control.aclose()
        except TelnyxError as exc:
            logger.warning("Call {}: hang-up failed ({})", self.context.call_log_id, type(exc).__name__)

    async def _record(self) -> None:
        result = self._result()
        try:
            await record_bot_result(
                self.sessionmaker, self.context.call_log_id, result, clock=self.clock, settings=self.settings
            )
        except Exception:  # noqa: BLE001 - never lose the call silently; the log says why
            logger.exception("Call {}: could not record the result", self.context.call_log_id)

    def _result(self) -> BotResult:
        state = self.state
        turns = self.recorder.finish()
        outcome = state.outcome
        if outcome is None:
            if state.transferred:
                outcome = CallOutcome.interested
            elif state.callback_at is not None:
                outcome = CallOutcome.callback
            elif any(t["speaker"] == "prospect" for t in turns):
                outcome = CallOutcome.answered
        notes, next_steps = _notes(state, turns)
        latencies = [t["latency_ms"] for t in turns if t["speaker"] == "bot" and t.get("latency_ms") is not None]
        return BotResult(
            outcome=outcome,
            transcript=turns,
            transcription=self.recorder.transcription(),
            sentiment=_sentiment(state, outcome),
            notes=notes,
            next_steps=next_steps,
            callback_at=state.callback_at,
            do_not_call=state.do_not_call,
            transfer_reason=state.transfer_reason,
            error=state.error,
            metadata={
                "services": self.services.as_dict(),
                "intents": state.intents,
                "ended_by": state.ended_by_bot or "prospect",
                "first_audio_ms": round(self.recorder.first_bot_audio_at * 1000) if self.recorder.first_bot_audio_at is not None else None,
                "reply_latency_ms": latencies,
            },
        )

    # --- event handlers -------------------------------------------------------------------------
    async def _on_intent(self, intent: str, text: str) -> None:
        self.state.intents.append(intent)
        if intent == "opt_out":
            self.state.do_not_call = True
            self.state.outcome = CallOutcome.not_interested
            await self._end("opt_out")
        elif intent in ("adios", "no_gracias"):
            self.state.outcome = self.state.outcome or CallOutcome.not_interested
            await self._end(intent)
        elif intent == "interested":
            self.state.transfer_reason = self.state.transfer_reason or "interested"

    async def _end(self, reason: str, clip=None) -> None:
        if self.state.ended_by_bot is None:
            self.state.ended_by_bot = reason
        if self.guard is not None:
            await self.guard.end_call(reason, clip)

    async def _on_transfer(self, reason: str) -> bool:
        self.state.transfer_reason = reason
        campaign = self.context.campaign
        manager = HotTransferManager(settings=self.settings)
        try:
            ok = await manager.transfer_call(self.context.call_control_id, campaign.transfer_number or "", reason)
        finally:
            await manager.aclose()
        if ok:
            self.state.transferred = True
            self.state.outcome = CallOutcome.interested
            self.state.ended_by_bot = "transferred"
            # The carrier now bridges the prospect to the seller; our stream is done.
            if self.guard is not None:
                await self.guard.end_call("transferred")
        else:
            self.state.transfer_failed = True
            self.state.ended_by_bot = "transfer_failed"
            self.state.outcome = CallOutcome.interested
            self.state.callback_at = self.clock.now() + TRANSFER_FAILED_CALLBACK
        return ok

    async def _on_guard_end(self, reason: str, error: str | None) -> None:
        if self.state.ended_by_bot is None:
            self.state.ended_by_bot = reason
        if error:
            self.state.error = self.state.error or error

    async def _tool_transfer_to_human(self, params: FunctionCallParams) -> None:
        reason = str(tool_arguments(params.arguments).get("reason") or "interested")[:200]
        await params.result_callback({"status": "transferring"}, properties=FunctionCallResultProperties(run_llm=False))
        if self.transfer is not None:
            await self.transfer.request_transfer(reason)

    async def _tool_schedule_callback(self, params: FunctionCallParams) -> None:
        when = str(tool_arguments(params.arguments).get("when") or "")[:200]
        tz = (self.context.prospect.timezone if self.context.prospect else None) or self.context.campaign.timezone
        try:
            moment = parse_callback_time(when, self.clock.now(), tz)
        except (KeyError, ValueError):
            moment = parse_callback_time(when, self.clock.now(), "Europe/Madrid")
        self.state.callback_at = moment
        self.state.callback_when = when
        self.state.outcome = CallOutcome.callback
        await params.result_callback(
            {"status": "scheduled", "callback_at": moment.isoformat()},
            properties=FunctionCallResultProperties(run_llm=False),
        )
        await self._end("callback", self._reply_clip("adios"))

    async def _tool_end_call(self, params: FunctionCallParams) -> None:
        outcome = _END_OUTCOMES.get(str(tool_arguments(params.arguments).get("outcome") or ""))
        if outcome is not None and self.state.outcome is None:
            self.state.outcome = outcome
        await params.result_callback({"status": "ending"}, properties=FunctionCallResultProperties(run_llm=False))
        await self._end("end_call")

    async def _tool_mark_do_not_call(self, params: FunctionCallParams) -> None:
        self.state.do_not_call = True
        self.state.outcome = CallOutcome.not_interested
        await params.result_callback({"status": "done"}, properties=FunctionCallResultProperties(run_llm=False))
        await self._end("opt_out", self._reply_clip("opt_out"))

    def _reply_clip(self, key: str):
        return self.library.reply(key) if self.library is not None else None


_FILLER_CATEGORIES = ("thinking", "agreeing", "transitioning", "breathing", "correction", "silence")


def _short_error(frame: ErrorFrame) -> str:
    source = type(frame.processor).__name__ if getattr(frame, "processor", None) else "pipeline"
    return f"{source}: {str(frame.error)[:200]}"


def _sentiment(state: CallState, outcome: CallOutcome | None) -> str | None:
    if state.do_not_call or outcome in (CallOutcome.not_interested, CallOutcome.wrong_number):
        return "negative"
    if outcome in (CallOutcome.interested, CallOutcome.callback):
        return "positive"
    if outcome is None:
        return None
    return "neutral"


def _notes(state: CallState, turns: list[dict]) -> tuple[str | None, str | None]:
    """Spanish notes and next steps for the admin UI."""
    spoke = sum(1 for t in turns if t["speaker"] == "prospect")
    if state.transferred:
        return f"Transferido a un comercial (motivo: {state.transfer_reason}).", "Seguimiento del comercial que atendió la llamada."
    if state.transfer_failed:
        when = state.callback_at.strftime("%d/%m %H:%M") if state.callback_at else "pronto"
        return "Interesado, pero la transferencia al comercial falló.", f"Devolver la llamada ({when} UTC)."
    if state.do_not_call:
        return "Pidió no recibir más llamadas.", "Ninguno: añadido a la lista de no llamar."
    if state.callback_at is not None:
        return (
            f"Pidió que le llamemos más tarde ({state.callback_when or 'sin hora concreta'}).",
            f"Llamar de nuevo el {state.callback_at.strftime('%d/%m/%Y a las %H:%M')}.",
        )
    if state.error:
        return "La llamada terminó por un problema técnico.", "Reintentar la llamada."
    if state.ended_by_bot == "silence":
        return "El prospecto no respondió.", None
    if state.ended_by_bot == "max_duration":
        return "Llamada cortada por duración máxima.", "Revisar la transcripción y hacer seguimiento."
    if state.intents and state.intents[-1] in ("adios", "no_gracias"):
        return "No está interesado.", None
    if spoke == 0:
        return "El prospecto no habló.", None
    return f"Conversación de {spoke} intervenciones del prospecto.", None
