"""Goals: baseline, progress and a straight-line projection to the deadline."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from cstool.config import Goal
from cstool.kpis.definitions import KPIS

# Goals on these KPIs are judged on period figures (monthly movements), never day-over-day.
RETENTION_KPIS = (
    "retention_rate",
    "logo_churn",
    "gross_revenue_retention",
    "net_revenue_retention",
    "new_customers",
    "churned_customers",
)


def kpi_range(metric: str) -> tuple[float, float]:
    """The values a KPI can take: NPS −100…100, shares and scores 0–100, counts and money ≥ 0.

    Net revenue retention is a percentage that expansion lifts past 100, so only ≥ 0.
    """
    kind = KPIS[metric].kind if metric in KPIS else "score"
    if kind == "nps":
        return (-100.0, 100.0)
    if kind in ("count", "money") or metric == "net_revenue_retention":
        return (0.0, math.inf)
    return (0.0, 100.0)


GoalStatus = Literal["achieved", "on track", "behind", "missed", "no data"]


@dataclass(frozen=True)
class GoalProgress:
    """Where one goal stands on the as-of date."""

    name: str
    metric: str
    target: float
    deadline: date
    baseline: float | None
    baseline_date: date | None
    current: float | None
    projected: float | None  # the fitted line's value at the deadline
    progress: float | None  # 0–1: share of the way from baseline to target
    status: GoalStatus
    days_left: int
    points: int  # how many dated values the projection used
    higher_is_better: bool = field(default=True)

    @property
    def on_track(self) -> bool | None:
        """True when achieved or projected to reach the target; None when undecidable."""
        if self.status in ("achieved", "on track"):
            return True
        if self.status in ("behind", "missed"):
            return False
        return None


def goal_name(goal: Goal) -> str:
    """The goal's own name, else `<KPI label> → <target> by <deadline>`."""
    if goal.name:
        return goal.name
    label = KPIS[goal.metric].label if goal.metric in KPIS else goal.metric
    return f"{label} → {goal.target:g} by {goal.deadline.isoformat()}"


def goal_progress(
    goal: Goal, history: list[tuple[date, float]], current: float | None, as_of: date
) -> GoalProgress:
    """Baseline, progress and a straight-line projection to the deadline for one goal.

    `history` holds the metric's (date, value) from the snapshots before `as_of`; `current`
    is its value on `as_of`. The baseline is the goal's own, else the earliest value known.
    The projection is a least-squares line through the dated values (at least two needed).
    """
    import numpy as np

    points = sorted((d, v) for d, v in history if d < as_of and not math.isnan(v))
    if current is not None:
        points.append((as_of, current))
    baseline_date: date | None = None
    if goal.baseline is not None:
        baseline: float | None = goal.baseline
    elif points:
        baseline_date, baseline = points[0]
    else:
        baseline = None
    # Which way is progress: the configured baseline says it, else the KPI's own direction
    # (a measured baseline may already lie past the target).
    better = KPIS[goal.metric].better if goal.metric in KPIS else "neutral"
    if goal.baseline is not None and goal.target != goal.baseline:
        higher = goal.target > goal.baseline
    elif better != "neutral" or baseline is None or goal.target == baseline:
        higher = better != "down"
    else:
        higher = goal.target > baseline

    def reached(value: float) -> bool:
        return value >= goal.target if higher else value <= goal.target

    projected: float | None = None
    if len(points) >= 2:
        x = np.array([(d - as_of).days for d, _ in points], dtype=float)
        y = np.array([v for _, v in points], dtype=float)
        if np.ptp(x) > 0:
            slope, intercept = np.polyfit(x, y, 1)
            projected = float(intercept + slope * (goal.deadline - as_of).days)
            # A straight line leaves the metric's range (a share past 100 %, NPS past 100).
            low, high = kpi_range(goal.metric)
            projected = min(high, max(low, projected))

    progress: float | None = None
    if current is not None and baseline is not None:
        if goal.target == baseline or reached(baseline):
            progress = 1.0 if reached(current) else 0.0
        else:
            progress = float(min(1.0, max(0.0, (current - baseline) / (goal.target - baseline))))

    status: GoalStatus
    if current is None:
        status = "no data"
    elif reached(current):
        status = "achieved"
    elif as_of >= goal.deadline:
        status = "missed"
    elif projected is None:
        status = "no data"
    else:
        status = "on track" if reached(projected) else "behind"

    return GoalProgress(
        name=goal_name(goal),
        metric=goal.metric,
        target=goal.target,
        deadline=goal.deadline,
        baseline=baseline,
        baseline_date=baseline_date,
        current=current,
        projected=projected,
        progress=progress,
        status=status,
        days_left=(goal.deadline - as_of).days,
        points=len(points),
        higher_is_better=higher,
    )
