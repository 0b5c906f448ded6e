"""The statistics of `db.queries` (the stats API's one computation) shaped for the charts."""

from __future__ import annotations

from api.admin.charts import FunnelStage, HourBar
from db.queries import CallStats


def hour_bars(stats: CallStats) -> list[HourBar]:
    """The stats' hourly buckets as chart bars (completed calls and their answer rate)."""
    return [HourBar(hour=b.hour, calls=b.completed, answer_rate=b.answer_rate) for b in stats.by_hour]


def funnel_stages(stats: CallStats) -> list[FunnelStage]:
    """The funnel calls -> answered -> interested -> converted, in the stats' own definitions."""
    return [
        FunnelStage("Llamadas", stats.total_calls),
        FunnelStage("Contestadas", stats.answered),
        FunnelStage("Interesados", stats.interested),
        FunnelStage("Convertidos", stats.converted),
    ]
