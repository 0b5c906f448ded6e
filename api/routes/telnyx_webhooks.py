"""Telnyx Call Control webhooks (signed, idempotent) and the voicemail audio Telnyx plays."""

from __future__ import annotations

import io
import json
import uuid
import wave

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, Response, status
from loguru import logger
from telnyx.lib.webhook_verification import WebhookVerificationError, verify_webhook_signature

from api.deps import ClockDep, SessionDep, SessionmakerDep, SettingsDep
from bot.call_events import apply_call_event, run_carrier_actions
from bot.carrier_twin.signing import trusted_webhook_keys
from db.models import Campaign

router = APIRouter(tags=["telnyx"])


def _verified(raw: bytes, headers: dict[str, str], keys: list[str]) -> bool:
    for key in keys:
        try:
            verify_webhook_signature(raw, headers, key)
            return True
        except (WebhookVerificationError, UnicodeDecodeError, ValueError):
            continue
    return False


@router.post("/telnyx/webhooks", include_in_schema=False)
async def telnyx_webhook(
    request: Request,
    background: BackgroundTasks,
    settings: SettingsDep,
    clock: ClockDep,
    sessionmaker: SessionmakerDep,
) -> dict[str, str]:
    """Verify the ed25519 signature over ``timestamp|raw body`` (±300 s), then apply the event once."""
    raw = await request.body()
    keys = trusted_webhook_keys(settings)
    if not keys:
        logger.error("telnyx webhook refused: TELNYX_PUBLIC_KEY is not set")
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Webhook signatures cannot be checked: set TELNYX_PUBLIC_KEY to your Telnyx account's public key.",
        )
    if not _verified(raw, dict(request.headers), keys):
        logger.warning("telnyx webhook refused: bad, missing or stale signature")
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "The webhook signature is missing, does not match the body, or is older than 5 minutes.",
        )
    try:
        event = json.loads(raw)
    except ValueError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "The webhook body is not valid JSON.") from None
    try:
        result = await apply_call_event(sessionmaker, event, clock=clock, settings=settings)
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    if result.actions:
        runtime = request.app.state.runtime
        background.add_task(
            run_carrier_actions,
            result.actions,
            call_control=runtime.call_control,
            voicemail_url=f"{settings.public_base_url}/telnyx/voicemail/{{campaign_id}}.wav",
        )
    return {"status": result.status}


@router.get("/telnyx/voicemail/{campaign_id}.wav", include_in_schema=False)
async def voicemail_audio(campaign_id: uuid.UUID, session: SessionDep, settings: SettingsDep) -> Response:
    """The campaign's pre-rendered voicemail message as a WAV file (what ``playback_start`` fetches)."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such campaign.")
    from bot.assets import load_audio_library  # the audio stack loads only when a voicemail is due

    clip = load_audio_library(settings, str(campaign.voice_type), campaign).reply("voicemail")
    if clip is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This campaign has no voicemail message rendered yet.")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(clip.sample_rate)
        wav.writeframes(clip.pcm)
    return Response(buffer.getvalue(), media_type="audio/wav")
