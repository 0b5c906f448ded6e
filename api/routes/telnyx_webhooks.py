"""Routes: telnyx_webhooks (being built)."""

from fastapi import APIRouter

router = APIRouter()
