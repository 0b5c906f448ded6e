"""bot.telnyx_client against the carrier twin: typed errors, client_state, the missing-key error."""

from __future__ import annotations

import uuid

import pytest

from bot.settings import Settings
from bot.telnyx_client import (
    TelnyxAuthError,
    TelnyxCallControl,
    TelnyxCallGone,
    TelnyxInvalidNumber,
    TelnyxRateLimited,
    TelnyxUnavailable,
    decode_client_state,
    encode_client_state,
)


def test_client_state_round_trip_and_garbage() -> None:
    call_log_id = uuid.uuid4()
    encoded = encode_client_state(call_log_id)
    assert decode_client_state(encoded) == call_log_id
    for garbage in (None, "", "not base64!", "aGVsbG8=", encode_client_state(call_log_id)[:-4]):
        assert decode_client_state(garbage) is None


def test_real_telephony_without_a_key_is_a_clear_error(tmp_path) -> None:
    settings = Settings(_env_file=None, telephony="telnyx", telnyx_api_key=None, cache_dir=tmp_path)
    with pytest.raises(TelnyxAuthError, match="TELNYX_API_KEY not found"):
        TelnyxCallControl(settings)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_errors_are_typed(twin_settings, carrier_twin) -> None:
    twin_settings.telnyx_max_retries = 0
    control = TelnyxCallControl(twin_settings)
    dial = dict(from_="+34910000000", client_state=encode_client_state(uuid.uuid4()), command_id="c-1")
    try:
        with pytest.raises(TelnyxInvalidNumber, match="422"):
            await control.dial(to="+340000", **dial)
        for status, error in ((429, TelnyxRateLimited), (503, TelnyxUnavailable), (401, TelnyxAuthError)):
            carrier_twin.fail_next(status)
            with pytest.raises(error):
                await control.dial(to="+34911234567", **dial)
        call_control_id = await control.dial(to="+34911234567", **dial)
        # A repeated command_id is the same call on Telnyx, not a second ring.
        assert await control.dial(to="+34911234567", **dial) == call_control_id
        assert len(carrier_twin.calls) == 1
        await control.transfer(call_control_id, to="+34910000001")
        await control.hangup(call_control_id)
        await carrier_twin.wait_idle(10)
        await control.hangup(call_control_id)  # already ended: not an error
        with pytest.raises(TelnyxCallGone):
            await control.start_playback(call_control_id, audio_url="http://127.0.0.1/x.wav")
    finally:
        await control.aclose()
    actions = [r.path.rsplit("/", 1)[-1] for r in carrier_twin.requests if "/actions/" in r.path]
    assert actions == ["transfer", "hangup", "hangup", "playback_start"]
