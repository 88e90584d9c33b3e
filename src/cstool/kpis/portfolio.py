"""The portfolio on one date: KPIs, the change since a snapshot, trends, movements, goals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from cstool.kpis.cache import stored_history, trend_frame
from cstool.kpis.compare import Comparison, _frames_by_date, compare, trend
from cstool.kpis.definitions import CHANGE_KPIS, Kpis, as_float, portfolio_kpis
from cstool.kpis.goals import RETENTION_KPIS, GoalProgress, goal_progress
from cstool.kpis.movements import (
    PERIODS,
    REVENUE_COLUMNS,
    movements_and_cohorts,
    revenue_dates,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cstool.config import Goal, Settings
    from cstool.store import Store


def _revenue_rows(snapshots: pd.DataFrame) -> pd.DataFrame:
    """The columns movements and cohorts read (those the snapshots have)."""
    return snapshots[[c for c in REVENUE_COLUMNS if c in snapshots.columns]]


def _extended_codes(codes: np.ndarray, uniques: np.ndarray, more: pd.Series) -> np.ndarray:
    """The `pd.factorize` codes of the rows coded as `codes` (over `uniques`) followed by the
    rows `more`: an ID seen before keeps its code, a new one gets the next, in order."""
    import numpy as np
    import pandas as pd

    more = more.astype("string")
    # Only the IDs the coded rows use (first-appearance codes: 0 .. max).
    known = pd.Index(uniques[: int(codes.max()) + 1 if len(codes) else 0], dtype="string")
    found = known.get_indexer(more)
    missing = more.isna().to_numpy()
    new = (found < 0) & ~missing
    fresh, _ = pd.factorize(more[new])
    found[new] = len(known) + fresh
    found[missing] = -1
    return np.concatenate([codes, found.astype(codes.dtype)])


def _empty_revenue() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            "as_of": pd.Series(dtype="datetime64[ns]"),
            "customer_id": pd.Series(dtype="string"),
            "mrr": pd.Series(dtype="float64"),
        }
    )


@dataclass(frozen=True)
class SnapshotHistory:
    """What stored snapshots tell: one KPI row per snapshot date (change KPIs against the
    snapshot before it), the snapshot frames at hand (at least the latest and the one to
    compare with) keyed by date, and the rows revenue movements and cohorts read."""

    trend: pd.DataFrame
    frames: dict[date, pd.DataFrame]
    revenue: pd.DataFrame = field(default_factory=_empty_revenue)
    # The revenue rows' customer_id codes and uniques as `pd.factorize` gives them (None:
    # not known), so that movements and cohorts do not code 2.4M IDs again.
    revenue_ids: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_snapshots(cls, snapshots: pd.DataFrame | None, settings: Settings) -> SnapshotHistory:
        """All of it from snapshots in memory (as `Store.load_snapshots` returns them)."""
        if snapshots is None or snapshots.empty:
            return cls(trend_frame({}), {})
        return cls(trend(snapshots, settings), _frames_by_date(snapshots), _revenue_rows(snapshots))

    @classmethod
    def from_store(
        cls, store: Store, settings: Settings, as_of: date, since: date | None = None
    ) -> SnapshotHistory:
        """The snapshots stored before `as_of`, reading only what the KPI cache lacks.

        KPI rows come from the store's cache when they are there (a stored snapshot never
        changes); the rest are computed column-wise from their snapshots and cached (when the
        store is writable). Kept in full: the latest snapshot and the one to compare with
        (`since`); for movements and cohorts, the snapshots on period boundaries and month
        ends. Each snapshot needed is loaded once.
        """
        dates = [d for d in store.snapshot_dates() if d < as_of]
        if not dates:
            return cls(trend_frame({}), {})
        compared = compared_date(dates, as_of, since)
        keep = {dates[-1]} | ({compared} if compared else set())
        kpi_trend, frames, rows = stored_history(
            store, settings, dates, keep, set(revenue_dates(dates)), REVENUE_COLUMNS
        )
        revenue = _revenue_rows(rows) if rows is not None else _empty_revenue()
        return cls(kpi_trend, frames, revenue)

    def before(self, as_of: date) -> SnapshotHistory:
        """Only the snapshots dated before `as_of`."""
        import pandas as pd

        keep = [d for d in self.trend.index if d < as_of]
        revenue, ids = self.revenue, self.revenue_ids
        if len(revenue):
            days = pd.to_datetime(revenue["as_of"])
            earlier = (days < pd.Timestamp(as_of)).to_numpy()
            if not earlier.all():  # else: every row, not a copy of them
                revenue, ids = revenue.loc[earlier], None
        return SnapshotHistory(
            self.trend.loc[keep], {d: f for d, f in self.frames.items() if d < as_of}, revenue, ids
        )


@dataclass(frozen=True)
class Portfolio:
    """Everything the report shows about the whole customer base on one date."""

    as_of: date
    compared_with: date | None
    kpis: Kpis  # level KPIs now, plus change KPIs against `compared_with`
    previous: Kpis | None  # the same KPIs at `compared_with`
    comparison: Comparison | None
    trend: pd.DataFrame  # one row per snapshot date before as_of, plus as_of itself
    goals: list[GoalProgress]
    # Revenue movements per period ("week", "month", "quarter") over the snapshots and as_of.
    movements: dict[str, pd.DataFrame] = field(default_factory=dict)
    cohorts: pd.DataFrame | None = None  # signup month × months since (see kpis.cohorts)
    skipped_rows: int = 0  # rows of the customer file --skip-invalid left out


def compared_date(dates: list[date], as_of: date, since: date | None) -> date | None:
    """The snapshot to compare with: `since` (which must be stored), else the latest."""
    from cstool.errors import UsageError

    if since is None:
        return dates[-1] if dates else None
    if since not in dates:
        shown = ", ".join(d.isoformat() for d in dates[-5:]) or "none"
        raise UsageError(
            f"--since: no snapshot on {since.isoformat()} before {as_of.isoformat()}",
            hint=f"snapshots stored: {shown}; take one with `cstool snapshot --as-of DATE`",
        )
    return since


def _period_value(monthly: pd.DataFrame, metric: str) -> pd.Series:
    """A retention-type KPI per monthly period, as the KPI defines it (percent or count)."""
    if metric == "retention_rate":
        return 100.0 - monthly["logo_churn"].astype("float64")
    return monthly[metric].astype("float64")


def _goal_values(
    goal: Goal,
    full_trend: pd.DataFrame,
    trend_dates: list[date],
    monthly: pd.DataFrame,
    as_of: date,
) -> tuple[list[tuple[date, float]], float | None]:
    """A goal's dated history (before as_of) and its current value.

    Retention-type goals read monthly periods (dated by the day they end; the current value
    is the latest complete month's, else the month so far), never day-over-day changes.
    """
    import math

    if goal.metric in RETENTION_KPIS and len(monthly):
        values = _period_value(monthly, goal.metric).to_numpy()
        ends = [day.date() for day in monthly["end"]]
        points = [(d, float(v)) for d, v in zip(ends, values, strict=True) if not math.isnan(v)]
        complete = [(d, v) for d, v in points if d <= as_of]
        if complete:
            return complete[:-1], complete[-1][1]
        return [], points[-1][1] if points else None
    values_list = full_trend[goal.metric].tolist() if goal.metric in full_trend.columns else []
    history = [(d, float(v)) for d, v in zip(trend_dates, values_list, strict=False) if d < as_of]
    current = as_float(values_list[-1]) if values_list else None
    return history, current


def portfolio(
    frame: pd.DataFrame,
    settings: Settings,
    as_of: date,
    snapshots: pd.DataFrame | SnapshotHistory | None = None,
    since: date | None = None,
) -> Portfolio:
    """KPIs on `as_of`, the change since the snapshot at `since` (default: the latest before
    `as_of`), the trend over the stored snapshots, revenue movements, cohorts and goals.

    Snapshots dated on or after `as_of` are left out, so back-filled reports reproduce; the
    table itself counts as the snapshot of `as_of` for movements and cohorts.
    """
    import pandas as pd

    if not isinstance(snapshots, SnapshotHistory):
        snapshots = SnapshotHistory.from_snapshots(snapshots, settings)
    past = snapshots.before(as_of)
    dates: list[date] = list(past.trend.index)
    compared_with = compared_date(dates, as_of, since)

    kpis = portfolio_kpis(frame, settings)
    comparison: Comparison | None = None
    previous: Kpis | None = None
    if compared_with is not None:
        comparison = compare(past.frames[compared_with], frame)
        row = past.trend.loc[compared_with]
        previous = {k: as_float(row[k]) for k in past.trend.columns}
        kpis.update(comparison.kpis)
    else:
        kpis.update(dict.fromkeys(CHANGE_KPIS))

    # Today's trend row: its change KPIs run from the latest snapshot, like every other row.
    today = dict(kpis)
    if dates and compared_with != dates[-1]:
        today.update(compare(past.frames[dates[-1]], frame).kpis)
    now_row = trend_frame({as_of: today})
    full_trend = pd.concat([past.trend, now_row]) if len(past.trend) else now_row
    full_trend = full_trend.astype("float64")
    trend_dates: list[date] = [*dates, as_of]

    current = _revenue_rows(frame).assign(as_of=pd.Timestamp(as_of))
    # The stored rows, then today's: taken one after the other (no 2.4M-row concatenation).
    revenue = [past.revenue, current] if len(past.revenue) else [current]
    ids = None
    if past.revenue_ids is not None and len(past.revenue):
        ids = _extended_codes(*past.revenue_ids, current["customer_id"])
    period_movements, cohort_table = movements_and_cohorts(revenue, PERIODS, ids=ids)

    goals = []
    for goal in settings.goals:
        history, value = _goal_values(
            goal, full_trend, trend_dates, period_movements["month"], as_of
        )
        goals.append(goal_progress(goal, history, value, as_of))

    return Portfolio(
        as_of=as_of,
        compared_with=compared_with,
        kpis=kpis,
        previous=previous,
        comparison=comparison,
        trend=full_trend,
        goals=goals,
        movements=period_movements,
        cohorts=cohort_table,
    )
