"""``coldcall demo``: a small campaign end to end on this machine, one prospect per persona.

It starts the real server (API, webhooks, media WebSocket, dialer) on a free loopback port with a
throw-away SQLite database, and the carrier twin in place of Telnyx; the dialer calls eight
simulated prospects (interested, asks the price then declines, busy, no answer, voicemail, asks for
a callback, opts out, wrong number), the bot talks to them over the media WebSocket, and the
webhooks close each call. The clock starts at the next working day, 10:00 in Madrid, and runs in
real time, so the calling policy lets the calls through whenever the demo is run.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time as dtime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import uvicorn
from loguru import logger
from sqlalchemy import select

from bot.calendar import non_working_reason
from bot.carrier_twin.personas import PERSONA_ORDER
from bot.clock import Clock
from bot.settings import Settings
from db.models import (
    CallLog,
    CallSequenceStatus,
    Campaign,
    CampaignStatus,
    ConsentBasis,
    DoNotCallNumber,
    IdealCustomerProfile,
    Profile,
    Prospect,
)
from db.queries import campaign_counters

MADRID = ZoneInfo("Europe/Madrid")
COUNTER_NAMES = ("total_calls", "calls_completed", "calls_answered", "calls_interested", "conversion_rate")


class RunningClock(Clock):
    """A clock that starts at a chosen moment and then runs in real time."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("RunningClock needs a timezone-aware start")
        self._start = start
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return (self._start + timedelta(seconds=time.monotonic() - self._origin)).astimezone(UTC)


def next_working_morning(today: date, region: str = "MD") -> datetime:
    """10:00 in Madrid on the first working day after ``today`` (weekends, holidays, bridges skipped)."""
    day = today + timedelta(days=1)
    while non_working_reason(day, "ES", region) is not None:
        day += timedelta(days=1)
    return datetime.combine(day, dtime(10), MADRID)


def persona_number(index: int) -> str:
    """A Madrid landline whose last digit makes the carrier twin play persona ``index``."""
    return f"+3491555010{index}"


@dataclass
class DemoCall:
    """One prospect's first call, as the demo prints it."""

    persona: str
    outcome: str | None
    attempts: int
    status: str
    next_call_at: str | None
    do_not_call: bool
    transferred: bool
    voicemail_left: bool
    hangup_cause: str | None
    duration_secs: int | None
    reply_latencies_ms: list[int] = field(default_factory=list)


@dataclass
class DemoReport:
    started_at: str
    simulated: list[str]
    calls: list[DemoCall]
    counters: dict[str, int]
    counters_from_logs: dict[str, int]
    campaign_status: str
    seconds: float


def _free_socket(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    # Listening now, not when uvicorn's start-up ends: the dialer starts inside that start-up and
    # the carrier twin's first webhooks would be refused (a dropped "answered" left the call hung).
    sock.listen(128)
    return sock


async def _seed(sessionmaker, personas: list[str], now: datetime) -> tuple[object, dict]:
    async with sessionmaker() as session, session.begin():
        profile = Profile(name="Demo")
        session.add(profile)
        await session.flush()
        icp = IdealCustomerProfile(
            user_id=profile.id,
            name="Pymes de software",
            industry="saas",
            pain_points=["facturación manual", "cobros con retraso"],
            value_proposition="automatizar la facturación y los cobros",
            decision_maker_role="CEO",
        )
        session.add(icp)
        await session.flush()
        campaign = Campaign(
            user_id=profile.id,
            icp_id=icp.id,
            name="Demo: facturación automática",
            status=CampaignStatus.active,
            caller_id="+34910000000",
            transfer_number="+34910000001",
            call_window_start=9,
            call_window_end=19,
            max_concurrent_calls=len(personas),
            max_calls_per_day=50,
            follow_up_sequence=[1, 3, 7],
            start_date=now,
        )
        session.add(campaign)
        await session.flush()
        numbers = {}
        for persona in personas:
            number = persona_number(PERSONA_ORDER.index(persona))
            numbers[number] = persona
            session.add(
                Prospect(
                    user_id=profile.id,
                    campaign_id=campaign.id,
                    full_name=f"Cliente {persona.replace('_', ' ')}",
                    company="Ejemplo S.L.",
                    role="CEO",
                    phone_number=number,
                    region="ES-MD",
                    consent_basis=ConsentBasis.legitimate_interest,
                    status=CallSequenceStatus.pending,
                    next_call_at=now,
                )
            )
        return campaign.id, numbers


async def _finished(sessionmaker, campaign_id, expected: int) -> bool:
    async with sessionmaker() as session:
        prospects = list((await session.execute(select(Prospect).where(Prospect.campaign_id == campaign_id))).scalars())
        logs = list((await session.execute(select(CallLog).where(CallLog.campaign_id == campaign_id))).scalars())
    if len(logs) < expected or any(p.status == CallSequenceStatus.in_progress for p in prospects):
        return False
    # A call whose media stream ran also waits for the bot's verdict (it may land after the hang-up).
    return all("bot_outcome" in (log.metadata_ or {}) for log in logs if (log.metadata_ or {}).get("stream"))


async def run_demo(
    settings: Settings, *, personas: list[str] | None = None, timeout_secs: float = 240.0, start: datetime | None = None
) -> DemoReport:
    """Run the demo campaign and return what happened to each prospect."""
    from api.app import create_app  # the server lives above bot/; only the demo needs all of it

    personas = list(personas or PERSONA_ORDER)
    began = time.monotonic()
    clock = RunningClock(start or next_working_morning(datetime.now(MADRID).date()))
    app_socket = _free_socket(settings.host)
    port = app_socket.getsockname()[1]
    settings = settings.model_copy(
        update={
            "telephony": "twin",
            "port": port,
            "public_base_url": f"http://{settings.host}:{port}",
            "carrier_twin_port": 0,
            "dialer_poll_secs": 0.3,
            "dialer_enabled": True,
        }
    )
    app = create_app(settings, clock=clock, run_background=True, migrate=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio"))
    serve_task = asyncio.create_task(server.serve(sockets=[app_socket]))
    try:
        while not server.started:
            if serve_task.done():
                serve_task.result()
            await asyncio.sleep(0.05)
        sessionmaker = app.state.sessionmaker
        campaign_id, numbers = await _seed(sessionmaker, personas, clock.now())
        deadline = time.monotonic() + timeout_secs
        while not await _finished(sessionmaker, campaign_id, len(personas)):
            if time.monotonic() > deadline:
                logger.warning("demo: timed out waiting for the calls to finish")
                break
            await asyncio.sleep(0.3)
        return await _report(sessionmaker, settings, campaign_id, numbers, clock, time.monotonic() - began)
    finally:
        server.should_exit = True
        await asyncio.gather(serve_task, return_exceptions=True)


async def _report(sessionmaker, settings: Settings, campaign_id, numbers: dict, clock: RunningClock, secs: float) -> DemoReport:
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        prospects = list((await session.execute(select(Prospect).where(Prospect.campaign_id == campaign_id))).scalars())
        logs = list((await session.execute(select(CallLog).where(CallLog.campaign_id == campaign_id))).scalars())
        blocked = set(
            (await session.execute(select(DoNotCallNumber.phone_number).where(DoNotCallNumber.user_id == campaign.user_id))).scalars()
        )
        from_logs = await campaign_counters(session, campaign_id)
    by_prospect = {log.prospect_id: log for log in sorted(logs, key=lambda log: log.attempt)}
    calls = []
    for prospect in sorted(prospects, key=lambda p: PERSONA_ORDER.index(numbers[p.phone_number])):
        log = by_prospect.get(prospect.id)
        meta = (log.metadata_ if log else None) or {}
        latencies = [int(t["latency_ms"]) for t in (log.transcript if log else []) if t.get("speaker") == "bot" and t.get("latency_ms") is not None]
        calls.append(
            DemoCall(
                persona=numbers[prospect.phone_number],
                outcome=log.outcome.value if log and log.outcome else None,
                attempts=prospect.total_attempts,
                status=prospect.status.value,
                next_call_at=prospect.next_call_at.astimezone(MADRID).isoformat() if prospect.next_call_at else None,
                do_not_call=prospect.phone_number in blocked,
                transferred=bool(meta.get("transferred")),
                voicemail_left=bool(meta.get("voicemail_left")),
                hangup_cause=log.hangup_cause if log else None,
                duration_secs=log.duration if log else None,
                reply_latencies_ms=latencies,
            )
        )
    simulated = ["telephony (carrier twin)"]
    if settings.whisper_model_dir is None and settings.openai_api_key is None:
        simulated.append("speech recognition (twin transcripts)")
    if settings.uses_offline_voice:
        simulated.append("voice (offline espeak-ng)")
    if settings.uses_scripted_responder:
        simulated.append("LLM (scripted responder)")
    return DemoReport(
        started_at=clock._start.isoformat(),
        simulated=simulated,
        calls=calls,
        counters={name: getattr(campaign, name) for name in COUNTER_NAMES},
        counters_from_logs=from_logs,
        campaign_status=campaign.status.value,
        seconds=round(secs, 1),
    )


def format_report(report: DemoReport) -> str:
    """The demo's table for people."""
    lines = [
        f"Demo campaign (clock starts {report.started_at}); simulated: {', '.join(report.simulated)}",
        "",
        f"{'persona':<20} {'outcome':<15} {'att':>3}  {'status':<12} {'next call':<26} reply latencies (ms)",
    ]
    for call in report.calls:
        extras = []
        if call.transferred:
            extras.append("transferred")
        if call.voicemail_left:
            extras.append("voicemail left")
        if call.do_not_call:
            extras.append("do-not-call")
        latencies = ", ".join(str(v) for v in call.reply_latencies_ms) or "-"
        lines.append(
            f"{call.persona:<20} {call.outcome or '-':<15} {call.attempts:>3}  {call.status:<12} "
            f"{(call.next_call_at or '-')[:25]:<26} {latencies}{'  [' + ', '.join(extras) + ']' if extras else ''}"
        )
    lines += [
        "",
        "Counters: " + ", ".join(f"{k}={v}" for k, v in report.counters.items())
        + ("  (match the call logs)" if report.counters == report.counters_from_logs else "  (DIFFER from the call logs!)"),
        f"Campaign status: {report.campaign_status}; took {report.seconds} s.",
    ]
    return "\n".join(lines)


def run_demo_cli(settings: Settings, as_json: bool = False) -> None:
    """``coldcall demo [--json]``: run the demo on a throw-away database and print the result."""
    # The pipeline logs every frame at DEBUG; the demo's output is the table (errors still show).
    logger.remove()
    logger.add(sys.stderr, level="ERROR")
    with tempfile.TemporaryDirectory(prefix="coldcall-demo-") as tmp:
        demo_settings = settings.model_copy(
            update={"database_url": f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}", "carrier_twin_time_scale": 5.0}
        )
        report = asyncio.run(run_demo(demo_settings))
    if as_json:
        print(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
