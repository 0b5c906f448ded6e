"""The calling policy with a set clock: windows, legal hours, holidays, time zones, follow-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.policy import (
    activation_error,
    next_callable_at,
    next_step,
    not_callable_now_reason,
    prospect_timezone,
    suppression_reason,
)
from db.models import CallOutcome, CallSequenceStatus, Campaign, ConsentBasis, Prospect

MADRID = ZoneInfo("Europe/Madrid")
CANARY = ZoneInfo("Atlantic/Canary")


def campaign(**kw) -> Campaign:
    values = dict(
        call_window_start=8,
        call_window_end=24,
        timezone="Europe/Madrid",
        max_attempts=3,
        follow_up_sequence=[1, 3, 7],
        caller_id="+34910000000",
    )
    values.update(kw)
    return Campaign(**values)


def prospect(number: str = "+34911234567", **kw) -> Prospect:
    values = dict(
        phone_number=number,
        timezone=None,
        region=None,
        consent_basis=ConsentBasis.legitimate_interest,
        status=CallSequenceStatus.pending,
        total_attempts=0,
        technical_retries=0,
        callback_at=None,
    )
    values.update(kw)
    return Prospect(**values)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def test_not_before_nine_in_madrid_even_if_the_campaign_allows_it() -> None:
    c, p = campaign(call_window_start=8), prospect(region="ES-MD")
    at = local(MADRID, 2026, 12, 2, 8, 59)  # a Wednesday
    assert not_callable_now_reason(p, c, at) == "outside calling hours"
    assert next_callable_at(p, c, at) == local(MADRID, 2026, 12, 2, 9, 0)
    assert not_callable_now_reason(p, c, local(MADRID, 2026, 12, 2, 9, 0)) is None


def test_nothing_at_or_after_21_local() -> None:
    c, p = campaign(call_window_end=24), prospect()
    assert not_callable_now_reason(p, c, local(MADRID, 2026, 12, 2, 20, 59)) is None
    assert not_callable_now_reason(p, c, local(MADRID, 2026, 12, 2, 21, 0)) == "outside calling hours"
    assert not_callable_now_reason(p, c, local(MADRID, 2026, 12, 2, 23, 30)) == "outside calling hours"
    # The next opening is the following working day at 9:00.
    assert next_callable_at(p, c, local(MADRID, 2026, 12, 2, 21, 0)) == local(MADRID, 2026, 12, 3, 9, 0)


def test_no_calls_on_8_december_in_madrid_nor_its_bridge() -> None:
    c, p = campaign(), prospect(region="ES-MD")
    assert not_callable_now_reason(p, c, local(MADRID, 2026, 12, 8, 11, 0)).startswith("holiday")
    # Monday 7 December 2026 is Madrid's moved Constitution Day: the next opening is Wednesday.
    assert next_callable_at(p, c, local(MADRID, 2026, 12, 4, 21, 0)) == local(MADRID, 2026, 12, 9, 9, 0)


def test_weekends_are_skipped() -> None:
    c, p = campaign(), prospect()
    saturday = local(MADRID, 2026, 11, 28, 11, 0)
    assert not_callable_now_reason(p, c, saturday) == "weekend"
    assert next_callable_at(p, c, saturday) == local(MADRID, 2026, 11, 30, 9, 0)


def test_a_canary_number_is_called_on_canary_time() -> None:
    c, p = campaign(), prospect("+34928123456")  # Las Palmas landline
    assert prospect_timezone(p, c) == CANARY
    # 09:30 in Madrid is 08:30 in Las Palmas: too early there.
    assert not_callable_now_reason(p, c, local(MADRID, 2026, 12, 2, 9, 30)) == "outside calling hours"
    assert next_callable_at(p, c, local(MADRID, 2026, 12, 2, 9, 30)) == local(CANARY, 2026, 12, 2, 9, 0)
    # 21:30 in Madrid is 20:30 in Las Palmas: still allowed there.
    assert not_callable_now_reason(p, c, local(MADRID, 2026, 12, 2, 21, 30)) is None


def test_time_zone_precedence() -> None:
    c = campaign(timezone="Europe/Madrid")
    assert prospect_timezone(prospect("+34911234567", timezone="America/Bogota"), c) == ZoneInfo("America/Bogota")
    # A Spanish mobile spans both zones: the campaign's zone decides.
    assert prospect_timezone(prospect("+34612345678"), c) == MADRID
    assert prospect_timezone(prospect("+34612345678"), campaign(timezone="Atlantic/Canary")) == CANARY
    assert prospect_timezone(prospect("+4930123456"), c) == ZoneInfo("Europe/Berlin")


def test_campaign_window_is_respected_inside_legal_hours() -> None:
    c, p = campaign(call_window_start=10, call_window_end=14), prospect()
    assert not_callable_now_reason(p, c, local(MADRID, 2026, 12, 2, 9, 30)) == "outside calling hours"
    assert not_callable_now_reason(p, c, local(MADRID, 2026, 12, 2, 14, 0)) == "outside calling hours"
    assert next_callable_at(p, c, local(MADRID, 2026, 12, 2, 14, 0)) == local(MADRID, 2026, 12, 3, 10, 0)


def test_suppression() -> None:
    assert suppression_reason(prospect(), set()) is None
    assert "do-not-call list" in suppression_reason(prospect("+34911234567"), {"+34911234567"})
    assert "consent" in suppression_reason(prospect(consent_basis=None), set())
    assert suppression_reason(prospect(status=CallSequenceStatus.do_not_call), set()) is not None


def test_activation_refuses_a_mobile_caller_id() -> None:
    assert activation_error(campaign(caller_id="+34910000000")) is None
    assert activation_error(campaign(caller_id="+34900123456")) is None
    assert "mobile" in activation_error(campaign(caller_id="+34612345678"))
    assert "caller ID" in activation_error(campaign(caller_id=None))
    assert "valid" in activation_error(campaign(caller_id="+3412"))
    assert "legal hours" in activation_error(campaign(call_window_start=21, call_window_end=23))


def _step(c: Campaign, p: Prospect, outcome: CallOutcome | None, attempt: int, at: datetime, **kw):
    args = dict(
        outcome=outcome,
        attempt=attempt,
        call_started_at=at,
        technical_failures=0,
        do_not_call=False,
        callback_at=None,
        max_technical_retries=3,
        technical_retry_delay=timedelta(minutes=5),
    )
    args.update(kw)
    return next_step(p, c, **args)


def test_follow_up_sequence_day_1_3_7() -> None:
    c, p = campaign(), prospect()
    first = local(MADRID, 2026, 11, 23, 10, 0)  # Monday: day 1
    step = _step(c, p, CallOutcome.no_answer, 1, first)
    assert step.status == CallSequenceStatus.scheduled and step.total_attempts == 1
    assert step.next_call_at == local(MADRID, 2026, 11, 25, 9, 0)  # day 3 (Wednesday)
    second = local(MADRID, 2026, 11, 25, 9, 5)
    step = _step(c, p, CallOutcome.voicemail, 2, second)
    assert step.next_call_at == local(MADRID, 2026, 11, 30, 9, 0)  # day 7 = Sunday 29 -> Monday 30
    step = _step(c, p, CallOutcome.busy, 3, local(MADRID, 2026, 11, 30, 9, 5))
    assert step.status == CallSequenceStatus.completed and step.next_call_at is None


def test_outcomes_map_to_next_steps() -> None:
    c, p, at = campaign(), prospect(), local(MADRID, 2026, 11, 24, 10, 0)
    assert _step(c, p, CallOutcome.interested, 1, at).is_qualified
    assert _step(c, p, CallOutcome.not_interested, 1, at).status == CallSequenceStatus.completed
    assert _step(c, p, CallOutcome.wrong_number, 1, at).status == CallSequenceStatus.do_not_call
    assert _step(c, p, CallOutcome.answered, 1, at, do_not_call=True).status == CallSequenceStatus.do_not_call
    thursday = local(MADRID, 2026, 11, 26, 10, 0)
    step = _step(c, p, CallOutcome.callback, 3, at, callback_at=thursday)
    assert (step.status, step.next_call_at) == (CallSequenceStatus.scheduled, thursday)  # even after the last attempt


def test_technical_failures_do_not_spend_attempts_but_are_bounded() -> None:
    c, p, at = campaign(), prospect(), local(MADRID, 2026, 11, 24, 10, 0)
    step = _step(c, p, CallOutcome.failed, 1, at, technical_failures=1)
    assert step.total_attempts == 0 and step.next_call_at == at + timedelta(minutes=5)
    step = _step(c, p, CallOutcome.failed, 1, at, technical_failures=4)
    assert step.total_attempts == 1 and step.next_call_at == local(MADRID, 2026, 11, 26, 9, 0)


@pytest.mark.parametrize("hour", [9, 20])
def test_the_edges_of_the_legal_window_are_callable(hour: int) -> None:
    assert not_callable_now_reason(prospect(), campaign(), local(MADRID, 2026, 12, 2, hour, 0)) is None


def test_utc_input_is_fine() -> None:
    at = datetime(2026, 12, 2, 7, 59, tzinfo=UTC)  # 08:59 Madrid
    assert not_callable_now_reason(prospect(), campaign(), at) == "outside calling hours"
