"""The transcript of a call in progress reaches the database turn by turn (the admin's live view)."""

from __future__ import annotations

import asyncio
import time

from bot.call_transcript import ConversationRecorder, LiveTranscriptWriter
from db.models import CallLog, Campaign


async def _call_log(sessionmaker, make_tenant) -> CallLog:
    tenant = await make_tenant()
    async with sessionmaker() as session, session.begin():
        campaign = Campaign(user_id=tenant.profile_id, name="En directo")
        session.add(campaign)
        await session.flush()
        log = CallLog(user_id=tenant.profile_id, campaign_id=campaign.id)
        session.add(log)
    return log


async def _saved_turns(sessionmaker, log_id) -> list[dict]:
    async with sessionmaker() as session:
        return (await session.get(CallLog, log_id)).transcript


async def _wait_for(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_each_completed_turn_is_saved_while_the_call_runs(sessionmaker, make_tenant):
    log = await _call_log(sessionmaker, make_tenant)
    recorder = ConversationRecorder(media_start=time.monotonic())
    writer = LiveTranscriptWriter(sessionmaker, log.id, recorder, min_interval=0.01)
    writer.start()
    try:
        now = time.monotonic()
        recorder.add_bot_turn("Hola María, soy Juan de Wallie.", now, now + 1.0)
        turns = await _wait_for(lambda: _saved_turns(sessionmaker, log.id))
        assert [t["text"] for t in turns] == ["Hola María, soy Juan de Wallie."]

        recorder.turns.append({"speaker": "prospect", "text": "¿Cuánto cuesta?", "start": 2.0, "end": 3.0})
        recorder._changed()
        turns = await _wait_for(
            lambda: _two(sessionmaker, log.id)
        )
        assert [t["speaker"] for t in turns] == ["bot", "prospect"]
        assert turns[1]["text"] == "¿Cuánto cuesta?"
    finally:
        await writer.stop()
    # After stop, nothing more is written: the final record of the call owns the row.
    recorder.add_bot_turn("Adiós.", time.monotonic(), time.monotonic())
    await asyncio.sleep(0.05)
    assert len(await _saved_turns(sessionmaker, log.id)) == 2


async def _two(sessionmaker, log_id):
    turns = await _saved_turns(sessionmaker, log_id)
    return turns if len(turns) == 2 else None
