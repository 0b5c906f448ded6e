"""Routes: do_not_call (being built)."""

from fastapi import APIRouter

router = APIRouter()
