"""bot/calendar.py: working days, holidays, bridge days, fiscal windows and moment contexts."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.calendar import (
    active_fiscal_windows,
    detect_contexts,
    holiday_name,
    is_bridge_day,
    is_finance_role,
    non_working_reason,
    part_of_day,
    split_region,
)

MADRID = ZoneInfo("Europe/Madrid")


def keys(local: datetime, **kwargs) -> list[str]:
    return [c.key for c in detect_contexts(local, **kwargs)]


# --- non_working_reason (what the dialer uses) --------------------------------------------------


def test_weekend_and_working_day() -> None:
    assert non_working_reason(date(2026, 11, 28)) == "weekend"  # Saturday
    assert non_working_reason(date(2026, 11, 29)) == "weekend"  # Sunday
    assert non_working_reason(date(2026, 11, 25)) is None  # an ordinary Wednesday


def test_national_holiday_has_its_spanish_name() -> None:
    assert non_working_reason(date(2026, 10, 12)) == "holiday: Fiesta Nacional de España"
    assert non_working_reason(date(2026, 12, 25)) == "holiday: Natividad del Señor"


def test_madrid_regional_holiday_is_a_working_day_elsewhere() -> None:
    # 25 July 2025 (Santiago Apóstol, a Friday) was a holiday in the Comunidad de Madrid only.
    day = date(2025, 7, 25)
    assert non_working_reason(day, "ES", "MD") is not None
    assert non_working_reason(day, "ES", "MD").startswith("holiday: ")
    assert non_working_reason(day, "ES", "ES-MD") == non_working_reason(day, "ES", "MD")  # ISO 3166-2 form
    assert non_working_reason(day, "ES", "CT") is None
    assert non_working_reason(day, "ES", "AN") is None
    assert non_working_reason(day) is None  # national calendar


def test_bridge_days() -> None:
    # Monday before the Tuesday holiday of 8 December 2026.
    assert non_working_reason(date(2026, 12, 7)) == "bridge day"
    assert is_bridge_day(date(2026, 12, 7))
    # Friday after the Thursday holiday of 1 May 2025.
    assert non_working_reason(date(2025, 5, 2), "ES", "CT") == "bridge day"
    # In Madrid the same Monday is a holiday in its own right, so it is not "a bridge".
    assert non_working_reason(date(2026, 12, 7), "ES", "MD").startswith("holiday: ")
    assert not is_bridge_day(date(2026, 12, 7), "ES", "MD")
    # A Monday after a Sunday holiday is not a bridge (nothing squeezed between days off).
    assert non_working_reason(date(2026, 11, 2), "ES", "CT") is None


def test_unknown_region_or_country_never_stops_calls() -> None:
    assert non_working_reason(date(2026, 10, 12), "ES", "XX") == "holiday: Fiesta Nacional de España"
    assert non_working_reason(date(2026, 11, 25), "QQ") is None
    assert holiday_name(date(2026, 11, 25), "QQ") is None


def test_split_region() -> None:
    assert split_region("ES-MD") == ("ES", "MD")
    assert split_region("md") == ("ES", "MD")
    assert split_region(None) == ("ES", None)
    assert split_region("  ") == ("ES", None)


# --- Fiscal windows -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 30), {"fiscal_annual_vat": 0}),
        (date(2026, 1, 31), {}),
        (date(2026, 4, 1), {"fiscal_quarterly": 19}),
        (date(2026, 4, 15), {"fiscal_quarterly": 5, "fiscal_renta": 76}),
        (date(2026, 6, 30), {"fiscal_renta": 0}),
        (date(2026, 7, 20), {"fiscal_quarterly": 0, "fiscal_corporate": 5}),
        (date(2026, 7, 25), {"fiscal_corporate": 0}),
        (date(2026, 10, 21), {}),
        (date(2026, 3, 10), {}),
    ],
)
def test_fiscal_windows(day: date, expected: dict[str, int]) -> None:
    assert {w.key: left for w, left in active_fiscal_windows(day)} == expected


def test_finance_roles() -> None:
    assert is_finance_role("Directora Financiera")
    assert is_finance_role("CFO")
    assert is_finance_role("Responsable de Administración")
    assert is_finance_role("Jefe de contabilidad")
    assert not is_finance_role("Directora Comercial")
    assert not is_finance_role(None)


# --- Moment contexts (what the Humanizer uses) -------------------------------------------------------


def test_iva_week_is_strongest_for_anyone() -> None:
    contexts = detect_contexts(datetime(2026, 4, 15, 10, tzinfo=MADRID), role="Directora Comercial")
    top = contexts[0]
    assert top.key == "fiscal_quarterly"
    assert top.detail["deadline_week"] is True
    assert top.detail["days_left"] == 5
    assert contexts[-1].key == "morning"


def test_early_fiscal_window_only_for_finance_roles() -> None:
    moment = datetime(2026, 4, 8, 10, tzinfo=MADRID)
    assert "fiscal_quarterly" not in keys(moment, role="Director Comercial")
    finance = detect_contexts(moment, role="Directora Financiera")
    assert finance[0].key == "fiscal_quarterly"
    assert finance[0].detail["deadline_week"] is False


def test_deadline_rush_and_finance_roles_score_higher() -> None:
    week = detect_contexts(datetime(2026, 4, 14, 10, tzinfo=MADRID), role="Ventas")[0]
    rush = detect_contexts(datetime(2026, 4, 20, 10, tzinfo=MADRID), role="Ventas")[0]
    finance = detect_contexts(datetime(2026, 4, 20, 10, tzinfo=MADRID), role="CFO")[0]
    assert week.key == rush.key == finance.key == "fiscal_quarterly"
    assert week.score < rush.score < finance.score


def test_renta_deadline_week() -> None:
    contexts = detect_contexts(datetime(2026, 6, 26, 11, tzinfo=MADRID), role="Gerente")  # a Friday
    assert contexts[0].key == "fiscal_renta"
    assert contexts[0].detail["days_left"] == 4
    assert "friday" in [c.key for c in contexts]


def test_fiscal_weeks_are_spanish() -> None:
    moment = datetime(2026, 4, 15, 10, tzinfo=MADRID)
    assert keys(moment, country="PT")[0] != "fiscal_quarterly"
    assert "fiscal_quarterly" not in keys(moment, country="FR")


def test_corporate_tax_deadline() -> None:
    assert keys(datetime(2026, 7, 23, 11, tzinfo=MADRID))[0] == "fiscal_corporate"


def test_august_day() -> None:
    assert keys(datetime(2026, 8, 12, 11, tzinfo=MADRID))[0] == "august"


def test_christmas_eve_beats_the_holiday_eve() -> None:
    found = keys(datetime(2026, 12, 24, 10, tzinfo=MADRID))
    assert found[0] == "christmas_eve"
    assert "holiday_eve" in found  # 25 December is tomorrow


def test_christmas_season_runs_to_reyes() -> None:
    assert keys(datetime(2026, 12, 29, 10, tzinfo=MADRID))[0] == "christmas"
    assert keys(datetime(2027, 1, 5, 10, tzinfo=MADRID))[0] in {"christmas", "holiday_eve"}
    assert "christmas" not in keys(datetime(2027, 1, 7, 10, tzinfo=MADRID))


def test_semana_santa_from_the_date_of_easter() -> None:
    # Easter Sunday 2026 is 5 April: Palm Sunday 29 March to Easter Monday 6 April.
    assert "semana_santa" in keys(datetime(2026, 3, 31, 10, tzinfo=MADRID))
    assert "semana_santa" in keys(datetime(2026, 4, 6, 10, tzinfo=MADRID))
    assert "semana_santa" not in keys(datetime(2026, 4, 7, 10, tzinfo=MADRID))
    assert "semana_santa" not in keys(datetime(2026, 3, 27, 10, tzinfo=MADRID))


def test_holiday_eve_and_after() -> None:
    # Friday 14 August 2026; Saturday the 15th is the Asunción.
    assert keys(datetime(2026, 8, 14, 10, tzinfo=MADRID))[0] == "holiday_eve"
    # Tuesday after the Monday holiday of 12 October.
    assert keys(datetime(2026, 10, 13, 10, tzinfo=MADRID))[0] == "holiday_after"


def test_bridge_day_context_and_regional_holiday_context() -> None:
    assert keys(datetime(2026, 12, 7, 10, tzinfo=MADRID))[0] == "bridge_day"
    assert keys(datetime(2026, 12, 7, 10, tzinfo=MADRID), subdivision="MD")[0] == "holiday"
    madrid = detect_contexts(datetime(2025, 7, 25, 10, tzinfo=MADRID), subdivision="ES-MD")
    assert madrid[0].key == "holiday"
    assert madrid[0].detail["name"]
    # In Catalonia it is an ordinary Friday (and the modelo 200 deadline).
    catalonia = keys(datetime(2025, 7, 25, 10, tzinfo=MADRID), subdivision="CT")
    assert "holiday" not in catalonia
    assert catalonia[0] == "fiscal_corporate"
    assert "friday" in catalonia


def test_monday_morning_and_friday_afternoon() -> None:
    monday = keys(datetime(2026, 11, 23, 9, 30, tzinfo=MADRID))
    assert monday == ["monday", "morning"]
    friday = keys(datetime(2026, 11, 27, 16, 0, tzinfo=MADRID))
    assert friday == ["friday", "afternoon"]
    assert keys(datetime(2026, 11, 25, 12, 0, tzinfo=MADRID)) == ["morning"]


def test_part_of_day_spanish_hours() -> None:
    assert part_of_day(datetime(2026, 11, 25, 13, 59)) == "morning"
    assert part_of_day(datetime(2026, 11, 25, 14, 0)) == "afternoon"
    assert part_of_day(datetime(2026, 11, 25, 20, 59)) == "afternoon"
    assert part_of_day(datetime(2026, 11, 25, 21, 0)) == "evening"
