"""Who is called when: the one calling policy of the product.

Every decision takes the moment as an argument (from `bot.clock.Clock`), so tests and demos set it.

Rules, in the order they are checked:

* **Never**: a prospect in ``do_not_call``, a number on the tenant's do-not-call list, a prospect
  without a ``consent_basis``, a Spanish number from a mobile caller id (a campaign with one cannot
  be activated, see `activation_error`).
* **When**: the campaign's window (``call_window_start``-``call_window_end``, whole hours) in the
  prospect's local time -- its own ``timezone``, else the one its number implies (``phonenumbers``;
  a number that spans several zones, e.g. a Spanish mobile, falls back to the campaign's), else the
  campaign's. Weekdays only, never on a holiday or bridge day of the prospect's country and region
  (`bot.calendar.non_working_reason`). For Spanish numbers the legal hours for commercial calls
  (weekdays 09:00-21:00 local) are a hard limit whatever the campaign says.
* **How often**: at most ``max_attempts`` attempts (default 3). ``follow_up_sequence`` lists the
  campaign days of the attempts, day 1 being the first attempt (the seed's "día 1, día 3, día 7",
  the default ``[1, 3, 7]``): the gap between attempt *k* and *k+1* is ``seq[k] - seq[k-1]`` days
  (the last gap repeats when ``max_attempts`` is longer than the list), counted from the local date of
  the previous attempt, and the attempt falls at the next window opening on or after that date. A
  callback time the prospect asked for comes first and is honoured even after the last attempt.
* **How many**: ``max_calls_per_day`` per campaign (calendar day in the campaign's time zone),
  ``max_concurrent_calls`` per campaign and ``settings.max_concurrent_calls`` for the account; these
  are applied by the dialer's claim (`bot.dialer`).

A prospect that cannot be called now is never polled: `next_callable_at` gives the next window
opening, which becomes its ``next_call_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as phone_timezone

from bot.calendar import non_working_reason, split_region
from db.models import CallOutcome, CallSequenceStatus, Campaign, Prospect

DEFAULT_FOLLOW_UP_SEQUENCE = (1, 3, 7)
#: Spain: commercial calls only on weekdays 09:00-21:00 local (see docs/external-protocols.md §7).
LEGAL_HOURS: dict[str, tuple[int, int]] = {"ES": (9, 21)}
#: How far ahead `next_callable_at` looks for an opening before giving up (holiday runs are short).
SEARCH_DAYS = 60
#: Outcomes that end the sequence because the prospect was reached and answered the question.
FINAL_OUTCOMES = frozenset({CallOutcome.not_interested, CallOutcome.answered})
#: Outcomes after which the prospect is tried again per the follow-up sequence.
RETRY_OUTCOMES = frozenset({CallOutcome.voicemail, CallOutcome.no_answer, CallOutcome.busy})
CALLABLE_STATUSES = (CallSequenceStatus.pending, CallSequenceStatus.scheduled)


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _parse(number: str | None) -> phonenumbers.PhoneNumber | None:
    if not number:
        return None
    try:
        return phonenumbers.parse(number, "ES")
    except phonenumbers.NumberParseException:
        return None


def number_country(number: str | None) -> str | None:
    """ISO country of a number (``"ES"`` for +34...), or None when it cannot be parsed."""
    parsed = _parse(number)
    return phonenumbers.region_code_for_number(parsed) if parsed else None


def prospect_timezone(prospect: Prospect, campaign: Campaign) -> ZoneInfo:
    """The prospect's own zone, else the only zone its number implies, else the campaign's."""
    own = _zone(prospect.timezone)
    if own is not None:
        return own
    parsed = _parse(prospect.phone_number)
    if parsed is not None:
        zones = [z for z in phone_timezone.time_zones_for_number(parsed) if z != "Etc/Unknown"]
        if len(zones) == 1 and (zone := _zone(zones[0])) is not None:
            return zone
        if campaign.timezone in zones:
            return ZoneInfo(campaign.timezone)
    return _zone(campaign.timezone) or ZoneInfo("Europe/Madrid")


def prospect_calendar(prospect: Prospect, zone: ZoneInfo) -> tuple[str, str | None]:
    """(country, subdivision) whose holidays apply: ``region`` "ES-MD" -> ("ES", "MD")."""
    country = number_country(prospect.phone_number) or "ES"
    if prospect.region:
        return split_region(prospect.region, country)
    # A Canary number without a region still gets the Canary Islands' holidays.
    if country == "ES" and zone.key == "Atlantic/Canary":
        return country, "CN"
    return country, None


@dataclass(frozen=True)
class CallingWindow:
    """The hours of one local day in which a prospect may be called (start inclusive, end exclusive)."""

    start: datetime
    end: datetime


def window_on(prospect: Prospect, campaign: Campaign, day: date) -> CallingWindow | None:
    """The calling window on a local date, or None on a non-working day or when nothing is left."""
    zone = prospect_timezone(prospect, campaign)
    if day.weekday() >= 5:
        return None
    country, subdivision = prospect_calendar(prospect, zone)
    if non_working_reason(day, country, subdivision) is not None:
        return None
    start_hour, end_hour = campaign.call_window_start, campaign.call_window_end
    legal = LEGAL_HOURS.get(country)
    if legal is not None:
        start_hour, end_hour = max(start_hour, legal[0]), min(end_hour, legal[1])
    if start_hour >= end_hour:
        return None
    start = datetime.combine(day, time(start_hour), zone)
    end = datetime.combine(day, time(0), zone) + timedelta(hours=end_hour) if end_hour == 24 else datetime.combine(
        day, time(end_hour), zone
    )
    return CallingWindow(start.astimezone(UTC), end.astimezone(UTC))


def not_callable_now_reason(prospect: Prospect, campaign: Campaign, at: datetime) -> str | None:
    """Why the prospect may not be called at this moment (window, weekend, holiday), or None."""
    zone = prospect_timezone(prospect, campaign)
    local = at.astimezone(zone)
    if local.weekday() >= 5:
        return "weekend"
    country, subdivision = prospect_calendar(prospect, zone)
    reason = non_working_reason(local.date(), country, subdivision)
    if reason is not None:
        return reason
    window = window_on(prospect, campaign, local.date())
    if window is None or not (window.start <= at < window.end):
        return "outside calling hours"
    return None


def next_callable_at(prospect: Prospect, campaign: Campaign, after: datetime) -> datetime | None:
    """The first moment at or after ``after`` when the prospect may be called (None: none in sight)."""
    zone = prospect_timezone(prospect, campaign)
    day = after.astimezone(zone).date()
    for offset in range(SEARCH_DAYS):
        window = window_on(prospect, campaign, day + timedelta(days=offset))
        if window is not None and after < window.end:
            return max(after, window.start)
    return None


def suppression_reason(prospect: Prospect, do_not_call: set[str] | frozenset[str]) -> str | None:
    """Why this prospect must never be called (opt-out, suppression list, no consent), or None."""
    if prospect.status == CallSequenceStatus.do_not_call:
        return "prospect is on do-not-call"
    if prospect.phone_number in do_not_call:
        return "number is on the tenant's do-not-call list"
    if prospect.consent_basis is None:
        return "no consent basis recorded for this prospect"
    return None


def follow_up_gap_days(campaign: Campaign, attempts_done: int) -> int:
    """Days between attempt ``attempts_done`` and the next one, per the follow-up sequence."""
    sequence = [int(d) for d in (campaign.follow_up_sequence or DEFAULT_FOLLOW_UP_SEQUENCE)]
    if len(sequence) < 2:
        return max(1, sequence[0] if sequence else 1)
    index = min(max(attempts_done, 1), len(sequence) - 1)
    return max(1, sequence[index] - sequence[index - 1])


def next_attempt_at(prospect: Prospect, campaign: Campaign, last_attempt_at: datetime) -> datetime | None:
    """When the follow-up attempt after ``prospect.total_attempts`` attempts falls (None: none left)."""
    if prospect.total_attempts >= campaign.max_attempts:
        return None
    zone = prospect_timezone(prospect, campaign)
    due_day = last_attempt_at.astimezone(zone).date() + timedelta(days=follow_up_gap_days(campaign, prospect.total_attempts))
    start_of_day = datetime.combine(due_day, time(0), zone).astimezone(UTC)
    return next_callable_at(prospect, campaign, start_of_day)


def campaign_day_start(campaign: Campaign, at: datetime) -> datetime:
    """Midnight of ``at``'s calendar day in the campaign's time zone (the daily cap's day)."""
    zone = _zone(campaign.timezone) or ZoneInfo("Europe/Madrid")
    return datetime.combine(at.astimezone(zone).date(), time(0), zone).astimezone(UTC)


@dataclass(frozen=True)
class NextStep:
    """What happens to a prospect after a call: its new status and when it is next due."""

    status: CallSequenceStatus
    next_call_at: datetime | None
    total_attempts: int
    technical_retries: int
    is_qualified: bool = False
    callback_at: datetime | None = None
    last_error: str | None = None


def next_step(
    prospect: Prospect,
    campaign: Campaign,
    *,
    outcome: CallOutcome | None,
    attempt: int,
    call_started_at: datetime,
    technical_failures: int,
    do_not_call: bool,
    callback_at: datetime | None,
    max_technical_retries: int,
    technical_retry_delay: timedelta,
    error: str | None = None,
) -> NextStep:
    """The prospect's next step after the call numbered ``attempt`` ended with ``outcome``.

    Pure and idempotent: it depends only on the call and the counts derived from the logs, so
    re-applying it (a late bot result, a redelivered hang-up) gives the same answer.
    ``technical_failures`` is how many calls of this same attempt number failed technically.
    """
    if do_not_call or outcome == CallOutcome.wrong_number:
        return NextStep(CallSequenceStatus.do_not_call, None, attempt, prospect.technical_retries)
    if outcome == CallOutcome.interested:
        return NextStep(CallSequenceStatus.completed, None, attempt, prospect.technical_retries, is_qualified=True)
    if outcome == CallOutcome.callback:
        when = callback_at or prospect.callback_at
        if when is not None:
            when = next_callable_at(prospect, campaign, when) or when
            return NextStep(CallSequenceStatus.scheduled, when, attempt, prospect.technical_retries, callback_at=when)
        outcome = CallOutcome.no_answer  # asked to be called "later" with no time: the normal sequence
    if outcome in FINAL_OUTCOMES:
        return NextStep(CallSequenceStatus.completed, None, attempt, prospect.technical_retries)
    if outcome in (None, CallOutcome.failed) and technical_failures <= max_technical_retries:
        # A technical failure does not spend the attempt; it is retried soon, a bounded number of times.
        retry_at = next_callable_at(prospect, campaign, call_started_at + technical_retry_delay)
        status = CallSequenceStatus.scheduled if retry_at else CallSequenceStatus.completed
        return NextStep(status, retry_at, attempt - 1, technical_failures, last_error=error)
    # voicemail, no_answer, busy (or technical failures past the bound): the follow-up sequence.
    done = NextStep(CallSequenceStatus.completed, None, attempt, technical_failures if outcome == CallOutcome.failed else 0)
    if attempt >= campaign.max_attempts:
        return done
    probe = Prospect(
        phone_number=prospect.phone_number, timezone=prospect.timezone, region=prospect.region, total_attempts=attempt
    )
    when = next_attempt_at(probe, campaign, call_started_at)
    if when is None:
        return done
    return NextStep(CallSequenceStatus.scheduled, when, attempt, done.technical_retries)


class ActivationProblem(str):
    """Why a campaign cannot be activated: the English sentence (the API's), with `.es` in Spanish
    for the admin UI. A `str`, so callers that only need the English text use it as one."""

    es: str

    def __new__(cls, en: str, es: str) -> "ActivationProblem":
        problem = super().__new__(cls, en)
        problem.es = es
        return problem


def caller_id_error(caller_id: str | None) -> ActivationProblem | None:
    """Why a caller id cannot be used for commercial calls to Spain, or None."""
    if not caller_id:
        return ActivationProblem(
            "The campaign has no caller ID (caller_id); set a geographic, 800/900 or 400 number first.",
            "La campaña no tiene número de origen (caller_id); pon primero un número geográfico, 800/900 o 400.",
        )
    parsed = _parse(caller_id)
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        return ActivationProblem(
            f"The caller ID {caller_id!r} is not a valid phone number in E.164 format (e.g. +34910000000).",
            f"El número de origen {caller_id!r} no es un teléfono válido en formato E.164 (p. ej. +34910000000).",
        )
    if phonenumbers.number_type(parsed) in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE) and (
        phonenumbers.region_code_for_number(parsed) == "ES"
        or phonenumbers.number_type(parsed) == PhoneNumberType.MOBILE
    ):
        return ActivationProblem(
            "The caller ID is a mobile number: since 7 June 2025 (Orden TDF/149/2025) commercial calls to "
            "Spain may not come from mobile numbers. Use a geographic, 800/900 or 400 number.",
            "El número de origen es un móvil: desde el 7 de junio de 2025 (Orden TDF/149/2025) las llamadas "
            "comerciales a España no pueden hacerse desde móviles. Usa un número geográfico, 800/900 o 400.",
        )
    return None


def activation_error(campaign: Campaign) -> ActivationProblem | None:
    """Why the campaign cannot be set active (English for the API's 409, `.es` for the UI), or None."""
    error = caller_id_error(campaign.caller_id)
    if error is not None:
        return error
    start, end = campaign.call_window_start, campaign.call_window_end
    legal_start, legal_end = LEGAL_HOURS["ES"]
    if max(start, legal_start) >= min(end, legal_end):
        return ActivationProblem(
            f"The call window {start}:00-{end}:00 has no overlap with the legal hours for commercial calls "
            f"in Spain ({legal_start}:00-{legal_end}:00), so nobody could ever be called.",
            f"La franja de llamadas {start}:00-{end}:00 no coincide con el horario legal de las llamadas "
            f"comerciales en España ({legal_start}:00-{legal_end}:00): no se podría llamar a nadie.",
        )
    if campaign.max_attempts < 1:
        return ActivationProblem("max_attempts must be at least 1.", "El número máximo de intentos debe ser al menos 1.")
    return None
