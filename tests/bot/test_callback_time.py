"""Spanish call-back phrasings become the moment the prospect asked for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.callback_time import parse_callback_time

#: Tuesday 24 Nov 2026, 11:00 in Madrid.
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("mañana a las diez", "2026-11-25 10:00"),
        ("mañana por la tarde", "2026-11-25 17:00"),
        ("pasado mañana", "2026-11-26 10:00"),
        ("el jueves", "2026-11-26 10:00"),
        ("el lunes a las 9 y media", "2026-11-30 09:30"),
        ("llámame la semana que viene", "2026-11-30 10:00"),
        ("a las cinco", "2026-11-24 17:00"),
        ("esta tarde", "2026-11-24 17:00"),
        ("por la mañana", "2026-11-25 10:00"),
        ("en dos horas", "2026-11-24 13:00"),
        ("más tarde", "2026-11-24 13:00"),
        ("2026-12-01T16:30:00", "2026-12-01 16:30"),
        ("2026-12-01T15:30:00+00:00", "2026-12-01 16:30"),
        ("no sé, cuando sea", "2026-11-25 11:00"),
    ],
)
def test_phrases(when, expected):
    moment = parse_callback_time(when, NOW, "Europe/Madrid")
    assert moment.tzinfo is not None
    assert moment.strftime("%Y-%m-%d %H:%M") == expected
