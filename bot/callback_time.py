"""When to call back, from what the prospect said ("mañana a las diez", "el jueves por la tarde").

`parse_callback_time(when, now, tz)` understands an ISO 8601 date-time (what an LLM tool call
usually sends) and the common Spanish phrasings; anything it cannot read falls back to the next
day at the same hour. The dialer's policy still moves the result into the campaign's calling
window and off holidays, so this only has to get the prospect's intention right.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_WEEKDAYS = {"lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6}
_NUMBERS = {
    "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
}
_HOUR = re.compile(r"\ba las? (\d{1,2}|" + "|".join(_NUMBERS) + r")(?:[:.h ](\d{2}))?( y media| y cuarto)?")
_IN_HOURS = re.compile(r"\ben (\d{1,2}|una|un par de|dos|tres) horas?\b")
#: Default hours of the parts of the day.
_MORNING, _AFTERNOON, _DEFAULT = 10, 17, 10


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def _hour_value(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBERS[token]


def parse_callback_time(when: str, now: datetime, tz: str | ZoneInfo = "Europe/Madrid") -> datetime:
    """The moment (timezone-aware, in `tz`) the prospect asked to be called back."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    local_now = now.astimezone(zone)
    text = (when or "").strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is not None:
        return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed.astimezone(zone)
    folded = _fold(text)

    if m := _IN_HOURS.search(folded):
        amount = {"una": 1, "un par de": 2, "dos": 2, "tres": 3}.get(m.group(1)) or int(m.group(1))
        return local_now + timedelta(hours=amount)
    if "mas tarde" in folded or "luego" in folded.split():
        return local_now + timedelta(hours=2)

    day = local_now.date()
    explicit_day = False
    if "pasado manana" in folded:
        day, explicit_day = day + timedelta(days=2), True
    elif re.search(r"\bmanana\b", folded.replace("por la manana", "")):
        # "mañana" the day, not "por la mañana" the part of the day.
        day, explicit_day = day + timedelta(days=1), True
    if "semana que viene" in folded or "proxima semana" in folded:
        day, explicit_day = day + timedelta(days=7 - day.weekday()), True
    for name, index in _WEEKDAYS.items():
        if re.search(rf"\b{name}\b", folded):
            ahead = (index - local_now.weekday()) % 7 or 7
            day, explicit_day = local_now.date() + timedelta(days=ahead), True
            break

    hour, minute = None, 0
    if m := _HOUR.search(folded):
        hour = _hour_value(m.group(1))
        minute = int(m.group(2)) if m.group(2) else {" y media": 30, " y cuarto": 15}.get(m.group(3) or "", 0)
        afternoon = "tarde" in folded or "noche" in folded
        if afternoon and hour < 12:
            hour += 12
        elif not afternoon and hour <= 7:
            # "a las cinco" in business talk is 17:00, not 05:00.
            hour += 12
    elif "tarde" in folded:
        hour = _AFTERNOON
    elif "por la manana" in folded:
        hour = _MORNING

    if not explicit_day and hour is None:
        # Unreadable: tomorrow, same time.
        return local_now + timedelta(days=1)
    moment = datetime.combine(day, time(hour if hour is not None else _DEFAULT, minute), tzinfo=zone)
    if moment <= local_now:
        moment += timedelta(days=1)
    return moment
