"""The media WebSocket admits a stream only with its call's token (the dial's ``stream_auth_token``,
sent back by Telnyx as the ``x-telnyx-streaming-auth-token`` header and in ``connected``).

Refused streams are closed with 1008 before the bot touches the call log. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import websockets
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.media_auth import MEDIA_STREAM_TOKEN_HEADER
from bot.settings import Settings
from bot.twin_media import SimulatedCallee
from db.models import CallLog
from tests.e2e.conftest import OPENER, load_log

pytestmark = pytest.mark.e2e


@pytest.fixture
def e2e_settings(e2e_settings: Settings, database_url: str) -> Settings:
    """The e2e settings on each database in turn."""
    return e2e_settings.model_copy(update={"database_url": database_url})


@pytest.fixture
def e2e_sessionmaker(sessionmaker: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    return sessionmaker


async def _snapshot(sessionmaker: async_sessionmaker[AsyncSession], call_log_id: uuid.UUID) -> dict:
    async with sessionmaker() as session:
        log = await session.get(CallLog, call_log_id)
        return {attr.key: getattr(log, attr.key) for attr in CallLog.__mapper__.column_attrs}


async def _open_stream(url: str, call, *, header_token: str | None = None, connected_token: str | None = None):
    """Telnyx's handshake for `call`; returns the close frame the server answered with."""
    connected = {"event": "connected", "version": "1.0.0"}
    if connected_token is not None:
        connected[MEDIA_STREAM_TOKEN_HEADER] = connected_token
    start = {
        "event": "start",
        "sequence_number": "1",
        "stream_id": str(uuid.uuid4()),
        "start": {
            "call_control_id": call.call_control_id,
            "client_state": call.client_state,
            "from": "+34910000000",
            "to": "+34600000000",
            "media_format": {"encoding": "PCMU", "sample_rate": 8000, "channels": 1},
        },
    }
    headers = {MEDIA_STREAM_TOKEN_HEADER: header_token} if header_token is not None else {}
    async with websockets.connect(url, additional_headers=headers, open_timeout=10) as ws:
        await ws.send(json.dumps(connected))
        await ws.send(json.dumps(start))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
    return closed.value.rcvd


@pytest.mark.parametrize("where", ["none", "header", "connected"])
async def test_a_stream_without_the_calls_token_is_refused(where, start_server, seed_call, e2e_sessionmaker):
    server = await start_server()
    call, other = await seed_call(), await seed_call()
    before = await _snapshot(e2e_sessionmaker, call.call_log_id)
    # A wrong token is the token of another call: valid, but not for this one.
    wrong = server.media_token(other)
    close = await _open_stream(
        server.media_url,
        call,
        header_token=wrong if where == "header" else None,
        connected_token=wrong if where == "connected" else None,
    )

    assert close is not None and close.code == 1008
    assert close.reason == "invalid stream token"
    await asyncio.sleep(0.2)  # nothing may arrive late either
    assert await _snapshot(e2e_sessionmaker, call.call_log_id) == before
    assert server.telnyx.actions == [], "a refused stream must not hang up the call"


async def test_a_wrong_header_is_not_rescued_by_the_connected_message(start_server, seed_call):
    server = await start_server()
    call, other = await seed_call(), await seed_call()
    close = await _open_stream(
        server.media_url, call, header_token=server.media_token(other), connected_token=server.media_token(call)
    )
    assert close is not None and close.code == 1008


async def _answered(server, callee: SimulatedCallee, sessionmaker, call) -> None:
    recording = await callee.run()
    assert recording.first_bot_audio_after(recording.media_start) is not None, "the opener never played"
    assert recording.closed_by == "callee"
    log = await load_log(sessionmaker, call.call_log_id)
    assert log.transcript and (log.transcript[0]["speaker"], log.transcript[0]["text"]) == ("bot", OPENER)


async def test_the_right_token_in_the_header_is_admitted(start_server, seed_call, e2e_sessionmaker):
    server = await start_server()
    call = await seed_call()
    callee = SimulatedCallee(
        server.media_url, call_control_id=call.call_control_id, client_state=call.client_state,
        headers={MEDIA_STREAM_TOKEN_HEADER: server.media_token(call)}, listen_secs=1.0, max_call_secs=20,
    )
    await _answered(server, callee, e2e_sessionmaker, call)


async def test_the_right_token_only_in_the_connected_message_is_admitted(start_server, seed_call, e2e_sessionmaker):
    server = await start_server()
    call = await seed_call()
    callee = SimulatedCallee(
        server.media_url, call_control_id=call.call_control_id, client_state=call.client_state,
        auth_token=server.media_token(call), listen_secs=1.0, max_call_secs=20,
    )
    # Some proxies drop unknown headers: then only the `connected` field carries the token.
    del callee.headers[MEDIA_STREAM_TOKEN_HEADER]
    await _answered(server, callee, e2e_sessionmaker, call)


async def test_the_check_can_be_turned_off(start_server, seed_call, e2e_sessionmaker):
    server = await start_server(media_stream_auth=False)
    call = await seed_call()
    callee = SimulatedCallee(
        server.media_url, call_control_id=call.call_control_id, client_state=call.client_state,
        listen_secs=1.0, max_call_secs=20,
    )
    await _answered(server, callee, e2e_sessionmaker, call)
