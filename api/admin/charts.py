"""Server-rendered inline SVG charts for the dashboard: no JavaScript library, nothing to fetch.

Each chart is accessible: a `role="img"` with a title and a description that says the numbers in
words, so a screen reader gets what the picture shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class HourBar:
    """One hour of the day: how many calls were placed and the share of them that were answered."""

    hour: int
    calls: int
    answer_rate: float | None  # percent, 0..100; None when there were no calls


@dataclass(frozen=True)
class FunnelStage:
    """One step of the funnel (calls -> answered -> interested -> converted)."""

    label: str
    value: int


def _pct(value: float) -> str:
    return f"{value:.0f} %" if value == int(value) else f"{value:.1f} %".replace(".", ",")


def answer_rate_by_hour_svg(bars: Sequence[HourBar], *, title: str = "Tasa de respuesta por hora") -> Markup:
    """A bar chart of the answer rate (percent) by hour of the day, hours 0-23 on the x axis.

    Hours with no calls show no bar; the best hour is highlighted.
    """
    by_hour = {b.hour: b for b in bars}
    width, height = 720, 260
    left, right, top, bottom = 44, 12, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / 24
    bar_w = slot * 0.7
    rated = [b for b in bars if b.answer_rate is not None and b.calls > 0]
    best = max(rated, key=lambda b: (b.answer_rate, b.calls), default=None)

    parts: list[str] = []
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{pct}%</text>'
        )
    for hour in range(24):
        x = left + hour * slot + (slot - bar_w) / 2
        bar = by_hour.get(hour)
        if hour % 3 == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" class="axis" '
                f'text-anchor="middle">{hour:02d}h</text>'
            )
        if bar is None or bar.answer_rate is None or bar.calls == 0:
            continue
        h = max(plot_h * min(bar.answer_rate, 100) / 100, 1.5)
        cls = "bar best" if bar is best else "bar"
        tip = f"{hour:02d}:00 — {_pct(bar.answer_rate)} de {bar.calls} llamadas"
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'class="{cls}" data-hour="{hour}"><title>{escape(tip)}</title></rect>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" class="axis" text-anchor="middle">'
        "Hora del día (zona horaria de la campaña)</text>"
    )

    if rated:
        desc = "; ".join(f"{b.hour:02d}h: {_pct(b.answer_rate)} de {b.calls} llamadas" for b in rated)
        if best is not None:
            desc += f". Mejor hora: {best.hour:02d}h."
    else:
        desc = "Todavía no hay llamadas."
    empty = (
        ""
        if rated
        else f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" class="empty" '
        'text-anchor="middle">Todavía no hay llamadas</text>'
    )
    return Markup(
        f'<svg viewBox="0 0 {width} {height}" class="chart chart-hours" role="img" '
        f'aria-labelledby="hours-title hours-desc" preserveAspectRatio="xMidYMid meet">'
        f'<title id="hours-title">{escape(title)}</title><desc id="hours-desc">{escape(desc)}</desc>'
        + "".join(parts)
        + empty
        + "</svg>"
    )


def funnel_svg(stages: Sequence[FunnelStage], *, title: str = "Embudo de conversión") -> Markup:
    """A funnel: one band per stage, its width proportional to the stage's value against the first,
    with the value and the share of the first stage written beside each band."""
    width, band_h, gap = 720, 48, 10
    funnel_w, label_x = 420, 450  # bands on the left, labels in a column on the right
    height = len(stages) * (band_h + gap) + 8
    top_value = stages[0].value if stages else 0
    min_w = 14.0  # a stage of zero keeps a visible sliver
    widths = [max(min_w, funnel_w * stage.value / top_value) if top_value else min_w for stage in stages]
    cx = funnel_w / 2 + 4
    parts: list[str] = []
    for i, stage in enumerate(stages):
        y = 4 + i * (band_h + gap)
        w_top = widths[i]
        w_bottom = widths[i + 1] if i + 1 < len(stages) else w_top * 0.85
        points = (
            f"{cx - w_top / 2:.1f},{y} {cx + w_top / 2:.1f},{y} "
            f"{cx + w_bottom / 2:.1f},{y + band_h} {cx - w_bottom / 2:.1f},{y + band_h}"
        )
        share = (stage.value / top_value * 100) if top_value else 0.0
        label = f"{stage.label}: {stage.value}" + (f" ({_pct(share)})" if i else "")
        parts.append(
            f'<polygon points="{points}" class="stage stage-{i}"><title>{escape(label)}</title></polygon>'
            f'<text x="{label_x}" y="{y + band_h / 2 - 3:.1f}" class="stage-label">{escape(stage.label)}</text>'
            f'<text x="{label_x}" y="{y + band_h / 2 + 19:.1f}" class="stage-value">{stage.value}'
            + (f" · {escape(_pct(share))}" if i else "")
            + "</text>"
        )
    desc = ", ".join(f"{s.label} {s.value}" for s in stages) or "Sin datos."
    return Markup(
        f'<svg viewBox="0 0 {width} {height}" class="chart chart-funnel" role="img" '
        f'aria-labelledby="funnel-title funnel-desc" preserveAspectRatio="xMidYMid meet">'
        f'<title id="funnel-title">{escape(title)}</title><desc id="funnel-desc">{escape(desc)}</desc>'
        + "".join(parts)
        + "</svg>"
    )
