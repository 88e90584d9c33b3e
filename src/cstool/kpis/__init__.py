"""Portfolio KPIs, their change between snapshots, trends, revenue movements, cohorts, goals.

Pure functions on DataFrames (see `definitions` for what a frame holds); nothing here renders.
"""

from __future__ import annotations

from cstool.kpis.cache import (
    KPI_VERSION,
    cache_snapshot_kpis,
    cached_trend,
    kpi_variant,
    snapshot_kpis,
    trend_frame,
)
from cstool.kpis.compare import Comparison, compare, kpi_trend, trend
from cstool.kpis.definitions import (
    BANDS,
    CHANGE_KPIS,
    KPIS,
    LEVEL_KPIS,
    KpiDef,
    Kpis,
    live_mask,
    portfolio_kpis,
)
from cstool.kpis.goals import RETENTION_KPIS, GoalProgress, goal_name, goal_progress, kpi_range
from cstool.kpis.movements import COHORT_COLUMNS, MOVEMENT_COLUMNS, PERIODS, cohorts, movements
from cstool.kpis.portfolio import Portfolio, SnapshotHistory, compared_date, portfolio

__all__ = [
    "BANDS",
    "CHANGE_KPIS",
    "COHORT_COLUMNS",
    "KPIS",
    "KPI_VERSION",
    "LEVEL_KPIS",
    "MOVEMENT_COLUMNS",
    "PERIODS",
    "RETENTION_KPIS",
    "Comparison",
    "GoalProgress",
    "KpiDef",
    "Kpis",
    "Portfolio",
    "SnapshotHistory",
    "cache_snapshot_kpis",
    "cached_trend",
    "cohorts",
    "compare",
    "compared_date",
    "goal_name",
    "goal_progress",
    "kpi_range",
    "kpi_trend",
    "kpi_variant",
    "live_mask",
    "movements",
    "portfolio",
    "portfolio_kpis",
    "snapshot_kpis",
    "trend",
    "trend_frame",
]
