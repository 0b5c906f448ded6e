"""Calendar knowledge: working days, holidays, bridge days, fiscal deadlines and the moment's context.

The one place that knows the Spanish calendar. The dialer asks `non_working_reason` to skip
weekends, holidays and bridge days; the Humanizer Engine (bot/script.py) asks `detect_contexts` what
is going on in a prospect's life at a given moment. Both read the same tables, so they never
disagree about whether a day is a holiday.

Holidays come from the `holidays` package (national plus regional with an ISO 3166-2 subdivision
such as "ES-MD"). Fiscal windows are the Agencia Tributaria's standing calendar:

* modelos 303 (IVA), 111 and 115 (retenciones): 1-20 April, July and October;
* modelo 303 of the fourth quarter and the annual summary 390: 1-30 January;
* Renta (IRPF campaign): early April to 30 June;
* modelo 200 (Impuesto sobre Sociedades): 1-25 July.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType

import holidays
from dateutil.easter import easter

#: Days before a deadline that count as "the deadline week": openers say "esta semana".
DEADLINE_WEEK_DAYS = 7
#: Days before a deadline when the pressure is at its peak.
DEADLINE_RUSH_DAYS = 2

#: Role words (accent-free, lower case) of people who file taxes or run the books.
_FINANCE_ROLE_WORDS = (
    "financ",
    "cfo",
    "contab",
    "contabl",
    "administra",
    "fiscal",
    "tesorer",
    "controller",
    "gestor",
    "asesor",
    "tax",
    "accounting",
    "account manager de finanzas",
    "auditor",
    "economic",
)


@dataclass(frozen=True, slots=True)
class FiscalWindow:
    """A filing period: the returns due, its first day and its deadline (both inclusive)."""

    key: str
    #: What the period is, in Spanish, for people reading the admin UI and the logs.
    label: str
    start_month: int
    start_day: int
    end_month: int
    end_day: int

    def span(self, year: int) -> tuple[date, date]:
        return date(year, self.start_month, self.start_day), date(year, self.end_month, self.end_day)


#: The fiscal calendar of Spanish companies (see the module docstring).
FISCAL_WINDOWS: tuple[FiscalWindow, ...] = (
    FiscalWindow("fiscal_annual_vat", "IVA del cuarto trimestre y resumen anual (modelos 303 y 390)", 1, 1, 1, 30),
    FiscalWindow("fiscal_quarterly", "IVA y retenciones trimestrales (modelos 303, 111 y 115)", 4, 1, 4, 20),
    FiscalWindow("fiscal_renta", "Campaña de la Renta (IRPF)", 4, 2, 6, 30),
    FiscalWindow("fiscal_quarterly", "IVA y retenciones trimestrales (modelos 303, 111 y 115)", 7, 1, 7, 20),
    FiscalWindow("fiscal_corporate", "Impuesto sobre Sociedades (modelo 200)", 7, 1, 7, 25),
    FiscalWindow("fiscal_quarterly", "IVA y retenciones trimestrales (modelos 303, 111 y 115)", 10, 1, 10, 20),
)

#: Christmas season in Spain: from the Lotería de Navidad to Reyes (6 January), inclusive.
CHRISTMAS_START = (12, 22)
CHRISTMAS_END = (1, 6)


@dataclass(frozen=True, slots=True)
class MomentContext:
    """One real-world circumstance of a moment, with how strongly it should shape the opener.

    `key` names the circumstance ("fiscal_quarterly", "holiday_eve", "august", "monday",
    "morning", ...); `score` orders them (higher wins); `detail` carries facts an opener may use
    (deadline, days left, holiday name).
    """

    key: str
    score: int
    detail: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


def split_region(region: str | None, default_country: str = "ES") -> tuple[str, str | None]:
    """("ES", "MD") from an ISO 3166-2 code like "ES-MD"; a bare "MD" keeps the default country."""
    if not region or not region.strip():
        return default_country, None
    code = region.strip().upper()
    if "-" in code:
        country, _, subdivision = code.partition("-")
        return country or default_country, subdivision or None
    return default_country, code


@lru_cache(maxsize=256)
def _holiday_table(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    """Holidays of one country/subdivision/year, with Spanish names where the package has them.

    An unknown subdivision falls back to the national list (a wrong region must not stop calls),
    an unknown country to no holidays at all.
    """
    # Spanish names where the package has them; it falls back to its default language otherwise.
    try:
        table = holidays.country_holidays(country, subdiv=subdivision, years=year, language="es")
    except NotImplementedError:
        if subdivision is None or country not in holidays.list_supported_countries():
            return MappingProxyType({})
        table = holidays.country_holidays(country, years=year, language="es")
    return MappingProxyType(dict(table))


def holiday_name(day: date, country: str = "ES", subdivision: str | None = None) -> str | None:
    """The name of the public holiday on `day` (national or of the subdivision), or None."""
    country, subdivision = _normalise(country, subdivision)
    return _holiday_table(country, subdivision, day.year).get(day)


def _normalise(country: str, subdivision: str | None) -> tuple[str, str | None]:
    # Accept both ("ES", "MD") and ("ES", "ES-MD") so callers can pass the model's region as is.
    if subdivision and "-" in subdivision:
        country, subdivision = split_region(subdivision, country)
    return country.upper(), (subdivision.upper() if subdivision else None)


def _is_off(day: date, country: str, subdivision: str | None) -> bool:
    return day.weekday() >= 5 or holiday_name(day, country, subdivision) is not None


def is_bridge_day(day: date, country: str = "ES", subdivision: str | None = None) -> bool:
    """A working day squeezed between two days off, at least one a holiday (a "puente").

    E.g. the Monday before a Tuesday holiday, the Friday after a Thursday holiday.
    """
    country, subdivision = _normalise(country, subdivision)
    if _is_off(day, country, subdivision):
        return False
    before, after = day - timedelta(days=1), day + timedelta(days=1)
    if not (_is_off(before, country, subdivision) and _is_off(after, country, subdivision)):
        return False
    return holiday_name(before, country, subdivision) is not None or holiday_name(after, country, subdivision) is not None


def non_working_reason(day: date, country: str = "ES", subdivision: str | None = None) -> str | None:
    """Why `day` is not a day to call business people: "weekend", "holiday: <name>", "bridge day".

    None for a working day. `subdivision` is a region code ("MD" or "ES-MD"); unknown codes fall
    back to the national calendar.
    """
    country, subdivision = _normalise(country, subdivision)
    if day.weekday() >= 5:
        return "weekend"
    name = holiday_name(day, country, subdivision)
    if name is not None:
        return f"holiday: {name}"
    if is_bridge_day(day, country, subdivision):
        return "bridge day"
    return None


def is_finance_role(role: str | None) -> bool:
    """True for roles that file taxes or keep the books (CFO, contable, administración, ...)."""
    if not role:
        return False
    plain = _fold(role)
    return any(word in plain for word in _FINANCE_ROLE_WORDS)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def active_fiscal_windows(day: date) -> list[tuple[FiscalWindow, int]]:
    """Fiscal windows open on `day`, each with the days left to its deadline (0 on the last day)."""
    found = []
    for window in FISCAL_WINDOWS:
        start, end = window.span(day.year)
        if start <= day <= end:
            found.append((window, (end - day).days))
    return found


def _fiscal_contexts(day: date, role: str | None) -> list[MomentContext]:
    finance = is_finance_role(role)
    contexts = []
    for window, days_left in active_fiscal_windows(day):
        deadline_week = days_left < DEADLINE_WEEK_DAYS
        if not (deadline_week or finance):
            # Early in a long window only the people who file the returns feel it.
            continue
        score = 55
        if deadline_week:
            score = 80
        if days_left <= DEADLINE_RUSH_DAYS:
            score = 88
        if finance:
            score += 10
        deadline = window.span(day.year)[1]
        contexts.append(
            MomentContext(
                window.key,
                score,
                MappingProxyType(
                    {
                        "label": window.label,
                        "deadline": deadline,
                        "days_left": days_left,
                        "deadline_week": deadline_week,
                        "finance_role": finance,
                    }
                ),
            )
        )
    return contexts


def _season_contexts(day: date) -> list[MomentContext]:
    contexts = []
    month_day = (day.month, day.day)
    if month_day >= CHRISTMAS_START or month_day <= CHRISTMAS_END:
        if month_day == (12, 24):
            contexts.append(MomentContext("christmas_eve", 95))
        elif month_day == (12, 31):
            contexts.append(MomentContext("new_years_eve", 95))
        else:
            contexts.append(MomentContext("christmas", 60))
    easter_sunday = easter(day.year)
    if easter_sunday - timedelta(days=7) <= day <= easter_sunday + timedelta(days=1):
        contexts.append(MomentContext("semana_santa", 60, MappingProxyType({"easter": easter_sunday})))
    if day.month == 8:
        contexts.append(MomentContext("august", 55))
    return contexts


def _holiday_contexts(day: date, country: str, subdivision: str | None) -> list[MomentContext]:
    contexts = []
    today = holiday_name(day, country, subdivision)
    if today is not None:
        contexts.append(MomentContext("holiday", 90, MappingProxyType({"name": today})))
        return contexts
    if day.weekday() >= 5:
        contexts.append(MomentContext("weekend", 85))
        return contexts
    if is_bridge_day(day, country, subdivision):
        contexts.append(MomentContext("bridge_day", 75))
    tomorrow = holiday_name(day + timedelta(days=1), country, subdivision)
    if tomorrow is not None:
        contexts.append(MomentContext("holiday_eve", 70, MappingProxyType({"name": tomorrow})))
    # The first working day after a holiday, even across a weekend (a Monday after a Friday holiday).
    previous = day - timedelta(days=1)
    while previous.weekday() >= 5 and holiday_name(previous, country, subdivision) is None:
        previous -= timedelta(days=1)
    before = holiday_name(previous, country, subdivision)
    if before is not None and (day - previous).days <= 3:
        contexts.append(MomentContext("holiday_after", 65, MappingProxyType({"name": before})))
    return contexts


def part_of_day(local: datetime) -> str:
    """"morning" until 14:00 (Spanish lunch), "afternoon" until 21:00, then "evening"."""
    if 6 <= local.hour < 14:
        return "morning"
    if 14 <= local.hour < 21:
        return "afternoon"
    return "evening"


def detect_contexts(
    local: datetime,
    *,
    role: str | None = None,
    country: str = "ES",
    subdivision: str | None = None,
) -> list[MomentContext]:
    """Everything notable about a moment in the prospect's local time, strongest first.

    `local` must already be in the prospect's time zone. The list always ends with the part of the
    day ("morning", "afternoon" or "evening"), so there is always a context to greet with.
    """
    country, subdivision = _normalise(country, subdivision)
    day = local.date()
    # The fiscal calendar is Spain's (Agencia Tributaria); elsewhere only holidays and seasons apply.
    fiscal = _fiscal_contexts(day, role) if country == "ES" else []
    contexts = fiscal + _season_contexts(day) + _holiday_contexts(day, country, subdivision)
    if day.weekday() == 0:
        contexts.append(MomentContext("monday", 30))
    elif day.weekday() == 4:
        contexts.append(MomentContext("friday", 30))
    contexts.sort(key=lambda c: c.score, reverse=True)
    contexts.append(MomentContext(part_of_day(local), 10))
    return contexts
