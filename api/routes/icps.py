"""Routes: icps (being built)."""

from fastapi import APIRouter

router = APIRouter()
