"""The dashboard's server-rendered SVG charts."""

from __future__ import annotations

import re

from api.admin.charts import FunnelStage, HourBar, answer_rate_by_hour_svg, funnel_svg


def test_hour_chart_draws_one_bar_per_hour_with_calls_and_marks_the_best() -> None:
    svg = str(answer_rate_by_hour_svg([HourBar(9, 10, 50.0), HourBar(10, 4, 100.0), HourBar(17, 0, None)]))
    bars = re.findall(r'<rect [^>]*class="(bar[^"]*)" data-hour="(\d+)"', svg)
    assert bars == [("bar", "9"), ("bar best", "10")]
    heights = {h: float(v) for v, h in re.findall(r'height="([\d.]+)" class="bar[^"]*" data-hour="(\d+)"', svg)}
    assert abs(heights["10"] - 2 * heights["9"]) < 0.2
    assert 'role="img"' in svg and "09h: 50 % de 10 llamadas" in svg and "Mejor hora: 10h." in svg


def test_hour_chart_says_when_there_is_nothing_yet() -> None:
    svg = str(answer_rate_by_hour_svg([]))
    assert "<rect" not in svg and "Todavía no hay llamadas" in svg


def test_funnel_bands_shrink_with_the_values_and_escape_labels() -> None:
    svg = str(funnel_svg([FunnelStage("Llamadas", 100), FunnelStage("Contestadas", 50), FunnelStage("<b>", 0)]))
    tops = []
    for points in re.findall(r'<polygon points="([^"]+)"', svg):
        (x1, _), (x2, _) = [map(float, p.split(",")) for p in points.split()[:2]]
        tops.append(x2 - x1)
    assert abs(tops[1] - tops[0] / 2) < 0.5 and tops[2] > 0
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert "Contestadas: 50 (50 %)" in svg


def test_funnel_of_no_calls_still_draws() -> None:
    svg = str(funnel_svg([FunnelStage("Llamadas", 0), FunnelStage("Contestadas", 0)]))
    assert svg.count("<polygon") == 2
