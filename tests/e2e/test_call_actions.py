"""What the bot does, end to end: barge-in clears its audio (a backchannel does not), an opt-out
ends the call politely and marks the prospect, interest hot-transfers the call through Telnyx."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.twin_media import CalleeTurn, SimulatedCallee
from db.models import CallOutcome, CallSequenceStatus, DoNotCallNumber, Prospect
from tests.e2e.conftest import TRANSFER_NUMBER, load_log

pytestmark = pytest.mark.e2e

PRICE = "¿Cuánto cuesta?"
#: No commas: espeak's comma pauses outlast the VAD stop and would earn a filler mid-sentence.
BARGE_IN = "Perdona que ahora mismo estoy conduciendo y no puedo hablar contigo"


def _callee(server, call, turns, **kwargs) -> SimulatedCallee:
    kwargs.setdefault("max_call_secs", 40)
    return SimulatedCallee(
        server.media_url, call_control_id=call.call_control_id, client_state=call.client_state, turns=turns,
        auth_token=server.media_token(call), **kwargs,
    )


async def test_barge_in_clears_but_backchannel_does_not(start_server, seed_call, speech):
    server = await start_server()
    call = await seed_call()
    turns = [
        CalleeTurn(text=PRICE, pcm=speech(PRICE)),
        # While the (long) price reply plays: a backchannel, then a real interruption.
        CalleeTurn(text="Ajá", pcm=speech("ajá"), barge_in_after_secs=1.0),
        CalleeTurn(text=BARGE_IN, pcm=speech(BARGE_IN), barge_in_after_secs=1.0),
    ]
    recording = await _callee(server, call, turns, listen_secs=1.0).run()

    backchannel, barge_in = recording.turns[1], recording.turns[2]
    clears = [m.at for m in recording.events("clear")]
    assert not [t for t in clears if backchannel.speech_start <= t < barge_in.speech_start], "a backchannel cut the bot"
    after = [t for t in clears if t >= barge_in.speech_start]
    assert after, "barge-in produced no clear"
    assert after[0] - barge_in.speech_start < 1.5
    # Once cleared, the price reply stops: no more of it arrives while the prospect talks.
    tail = recording.bot_audio(after=after[0] + 0.2)
    assert not [m for m in tail if m.at < barge_in.speech_end - 0.3]


async def test_opt_out_marks_do_not_call_and_ends_politely(start_server, seed_call, speech, e2e_sessionmaker):
    server = await start_server()
    call = await seed_call()
    text = "No me llames más, por favor"
    recording = await _callee(server, call, [CalleeTurn(text=text, pcm=speech(text))], hang_up_after_secs=None).run()

    assert recording.closed_by == "bot"
    log = await load_log(e2e_sessionmaker, call.call_log_id)
    bot_text = " ".join(t["text"] for t in log.transcript if t["speaker"] == "bot")
    assert "no volveremos a llamarte" in bot_text
    assert log.outcome == CallOutcome.not_interested
    assert log.metadata_["do_not_call"] is True
    async with e2e_sessionmaker() as session:
        prospect = await session.get(Prospect, call.prospect_id)
        assert prospect.status == CallSequenceStatus.do_not_call
        listed = (await session.execute(select(DoNotCallNumber).where(DoNotCallNumber.user_id == call.user_id))).scalars().all()
        assert [n.phone_number for n in listed] == [prospect.phone_number]
    hangups = server.telnyx.of("hangup")
    assert [h.call_control_id for h in hangups] == [call.call_control_id]
    assert hangups[0].authorization.startswith("Bearer ")


async def test_interest_hot_transfers_to_the_seller(start_server, seed_call, speech, e2e_sessionmaker):
    server = await start_server()
    call = await seed_call()
    text = "Sí, me interesa"
    recording = await _callee(server, call, [CalleeTurn(text=text, pcm=speech(text))], hang_up_after_secs=None).run()

    transfers = server.telnyx.of("transfer")
    assert [(t.call_control_id, t.body["to"]) for t in transfers] == [(call.call_control_id, TRANSFER_NUMBER)]
    # The transfer line is said before Telnyx is asked to transfer.
    speech_end = recording.turns[0].speech_end
    announcement = recording.first_bot_audio_after(speech_end)
    assert announcement is not None and announcement < transfers[0].at
    assert not server.telnyx.of("hangup"), "a transferred call must not be hung up"
    log = await load_log(e2e_sessionmaker, call.call_log_id)
    assert log.outcome == CallOutcome.interested
    assert log.metadata_["transfer_reason"] == "interested"
    assert "Te paso ahora mismo con un compañero" in " ".join(t["text"] for t in log.transcript)


async def test_failed_transfer_apologises_and_schedules_a_callback(start_server, seed_call, speech, e2e_sessionmaker):
    server = await start_server()
    server.telnyx.fail_actions["transfer"] = 503
    call = await seed_call()
    text = "Sí, me interesa"
    recording = await _callee(server, call, [CalleeTurn(text=text, pcm=speech(text))], hang_up_after_secs=None).run()

    assert recording.closed_by == "bot"
    log = await load_log(e2e_sessionmaker, call.call_log_id)
    assert "mi compañero no está disponible" in " ".join(t["text"] for t in log.transcript)
    assert log.metadata_.get("callback_at")
    assert log.outcome == CallOutcome.interested
    assert [h.call_control_id for h in server.telnyx.of("hangup")] == [call.call_control_id]
