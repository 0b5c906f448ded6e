"""Tab Llamadas: call logs with outcome and duration, and a page per call with the transcript as a
conversation, each bot reply's latency and the recording when there is one."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.admin.context import AdminDep, AdminRoute, PageNotFound, parse_id
from api.schemas.calls import TranscriptTurn
from api.schemas.common import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from api.services import calls as call_service
from api.services import campaigns as campaign_service
from api.services.errors import ValidationProblem
from db.models import CallLegStatus, CallLog, Campaign, Prospect

router = APIRouter(route_class=AdminRoute)

#: What a call ran on (`bot.services.ServiceChoice`), in words; simulated parts say so.
SERVICE_LABELS: dict[str, str] = {
    "stt": "Reconocimiento de voz",
    "llm": "Respuestas abiertas",
    "tts": "Voz",
    "stt:whisper": "Whisper local",
    "stt:openai": "OpenAI",
    "stt:simulated": "Simulado (texto del simulador)",
    "llm:openai": "Modelo de lenguaje (API compatible con OpenAI)",
    "llm:scripted": "Respondedor con guion (simulado)",
    "tts:elevenlabs": "ElevenLabs",
    "tts:offline": "Voz sin conexión espeak-ng (simulada)",
}


def transcript_turns(call: CallLog) -> list[TranscriptTurn]:
    """The call's transcript turns; a malformed stored turn is skipped, not an error page."""
    turns: list[TranscriptTurn] = []
    for raw in call.transcript or []:
        if not isinstance(raw, dict):
            continue
        try:
            turns.append(TranscriptTurn.model_validate(raw))
        except ValueError:
            continue
    return turns


def spoken_turns(turns: Iterable[TranscriptTurn]) -> list[TranscriptTurn]:
    """The turns with words (a bot turn of only a breath or a pause has none) to show as a chat."""
    return [t for t in turns if t.text.strip()]


def reply_latencies(turns: Iterable[TranscriptTurn]) -> list[float]:
    """The latency (ms) of each bot reply that has one."""
    return [t.latency_ms for t in turns if t.speaker == "bot" and t.latency_ms is not None]


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else []


def call_latencies(call: CallLog, turns: list[TranscriptTurn] | None = None) -> list[float]:
    """Each bot reply's latency (ms): from the transcript turns, else the bot's own list in the
    call's metadata."""
    found = reply_latencies(turns if turns is not None else transcript_turns(call))
    if found:
        return found
    raw = _as_list((call.metadata_ or {}).get("reply_latency_ms"))
    return [float(v) for v in raw if isinstance(v, int | float) and not isinstance(v, bool)]


def playable_recording(url: str | None) -> str | None:
    """A recording URL the page may put in an <audio> element (http(s) or a path on this server)."""
    if not url:
        return None
    if url.startswith(("https://", "http://", "/")) and not url.startswith("//"):
        return url
    return None


async def names_for(
    db: AsyncSession, owner: uuid.UUID, calls: Iterable[CallLog]
) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    """Prospect and campaign names for a page of calls (two queries, tenant-scoped)."""
    calls = list(calls)
    prospect_ids = {c.prospect_id for c in calls if c.prospect_id}
    campaign_ids = {c.campaign_id for c in calls}
    prospects: dict[uuid.UUID, str] = {}
    campaigns: dict[uuid.UUID, str] = {}
    if prospect_ids:
        rows = await db.execute(
            select(Prospect.id, Prospect.full_name).where(Prospect.id.in_(prospect_ids), Prospect.user_id == owner)
        )
        prospects = dict(rows.all())
    if campaign_ids:
        rows = await db.execute(
            select(Campaign.id, Campaign.name).where(Campaign.id.in_(campaign_ids), Campaign.user_id == owner)
        )
        campaigns = dict(rows.all())
    return prospects, campaigns


@router.get("/calls")
async def call_list(admin: AdminDep, campaign: str | None = None, cursor: str | None = None) -> HTMLResponse:
    """The tenant's calls, newest first, optionally of one campaign."""
    campaign_id: uuid.UUID | None = None
    if campaign:
        campaign_id = parse_id(campaign, "La campaña")
        await campaign_service.get_campaign(admin.db, admin.profile, campaign_id)
    try:
        rows, next_cursor = await call_service.list_calls(
            admin.db, admin.profile, campaign_id=campaign_id, limit=DEFAULT_PAGE_SIZE, cursor=cursor
        )
    except ValidationProblem:  # a stale or edited cursor: show the first page
        rows, next_cursor = await call_service.list_calls(
            admin.db, admin.profile, campaign_id=campaign_id, limit=DEFAULT_PAGE_SIZE
        )
    prospects, campaign_names = await names_for(admin.db, admin.profile_id, rows)
    campaigns, _ = await campaign_service.list_campaigns(admin.db, admin.profile, limit=MAX_PAGE_SIZE)
    latency: dict[uuid.UUID, float | None] = {}
    for call in rows:
        values = call_latencies(call)
        latency[call.id] = sum(values) / len(values) if values else None
    return admin.render(
        "calls.html",
        tab="calls",
        calls=rows,
        next_cursor=next_cursor,
        prospects=prospects,
        campaign_names=campaign_names,
        campaign_options=[(str(c.id), c.name) for c in campaigns],
        campaign_filter=str(campaign_id) if campaign_id else "",
        mean_latency=latency,
    )


@router.get("/calls/{call_id}")
async def call_detail(admin: AdminDep, call_id: str) -> HTMLResponse:
    """One call: facts, the conversation with each reply's latency, and the recording."""
    call = await call_service.get_call(admin.db, admin.profile, parse_id(call_id, "La llamada"))
    prospects, campaign_names = await names_for(admin.db, admin.profile_id, [call])
    turns = transcript_turns(call)
    metadata: dict[str, Any] = call.metadata_ or {}
    latencies = call_latencies(call, turns)
    if call.campaign_id not in campaign_names:  # cannot happen for a tenant's own log; be strict anyway
        raise PageNotFound("La llamada")
    services = metadata.get("services") if isinstance(metadata.get("services"), dict) else {}
    return admin.render(
        "call_detail.html",
        tab="calls",
        call=call,
        prospect_name=prospects.get(call.prospect_id) if call.prospect_id else None,
        campaign_name=campaign_names[call.campaign_id],
        turns=spoken_turns(turns),
        latencies=latencies,
        latency_mean=sum(latencies) / len(latencies) if latencies else None,
        latency_max=max(latencies) if latencies else None,
        recording=playable_recording(call.recording_url),
        in_progress=call.status != CallLegStatus.ended,
        services=[(SERVICE_LABELS.get(k, k), SERVICE_LABELS.get(f"{k}:{v}", v)) for k, v in services.items()],
        first_audio_ms=metadata.get("first_audio_ms"),
        intents=[str(i) for i in _as_list(metadata.get("intents"))],
        transfer_reason=metadata.get("transfer_reason"),
    )
