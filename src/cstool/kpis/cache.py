"""The snapshot KPI cache: one KPI row per stored snapshot, computed once and kept in the store.

A stored snapshot never changes, so its KPI row (level KPIs, change KPIs against the snapshot
before it) stays right for as long as the definitions and the settings they read stay the same:
`kpi_variant` names both, and a bump of KPI_VERSION retires every cached row.
"""

from __future__ import annotations

import contextlib
from datetime import date
from typing import TYPE_CHECKING, Protocol

from cstool.kpis.compare import compare
from cstool.kpis.definitions import CHANGE_KPIS, LEVEL_KPIS, Kpis, as_float, portfolio_kpis

if TYPE_CHECKING:
    import pandas as pd

    from cstool.config import Settings
    from cstool.store import Store

# 2: live customers only (churned and paused ones left out), churned status counts as churn.
KPI_VERSION = 2  # bump when a KPI's definition changes: cached rows then no longer apply


class _HasTrend(Protocol):
    @property
    def as_of(self) -> date: ...

    @property
    def trend(self) -> pd.DataFrame: ...


def kpi_variant(settings: Settings) -> str:
    """What cached KPI rows depend on: the definitions' version and the settings they read."""
    return f"kpis-v{KPI_VERSION};satisfied>={settings.kpis.satisfied_threshold!r}"


def snapshot_kpis(frame: pd.DataFrame, previous: pd.DataFrame | None, settings: Settings) -> Kpis:
    """One trend row: a snapshot's level KPIs and its change KPIs against the one before."""
    kpis = portfolio_kpis(frame, settings)
    if previous is None:
        kpis.update(dict.fromkeys(CHANGE_KPIS))
    else:
        kpis.update(compare(previous, frame).kpis)
    return kpis


def trend_frame(rows: dict[date, Kpis]) -> pd.DataFrame:
    """KPI rows by date as a trend frame: sorted `as_of` index, one float column per KPI."""
    import numpy as np
    import pandas as pd

    columns = list(LEVEL_KPIS) + list(CHANGE_KPIS)
    days = sorted(rows)
    values = [[np.nan if rows[d].get(k) is None else rows[d][k] for k in columns] for d in days]
    trend = pd.DataFrame(values, columns=columns, dtype="float64")
    trend.index = pd.Index(days, name="as_of")
    return trend


def cached_trend(
    store: Store, settings: Settings, dates: list[date], keep: set[date]
) -> tuple[pd.DataFrame, dict[date, pd.DataFrame]]:
    """The trend over the stored snapshots on `dates` and the frames of the `keep` dates.

    KPI rows come from the store's cache when they are there; the rest are computed from
    their snapshots (one in memory at a time, walking the dates in order) and cached.
    """
    from cstool.errors import UsageError

    variant = kpi_variant(settings)
    cached = store.snapshot_kpis(variant)
    rows: dict[date, Kpis] = {}
    missing: list[tuple[date, date | None]] = []
    for i, day in enumerate(dates):  # one step per snapshot date
        key = (day, dates[i - 1] if i else None)
        if key in cached:
            rows[day] = {k: as_float(v) for k, v in cached[key].items()}
        else:
            missing.append(key)
    missing_days = {day for day, _ in missing}
    wanted = keep | missing_days | {before for _, before in missing if before}
    frames: dict[date, pd.DataFrame] = {}
    fresh: list[tuple[date, date | None, Kpis]] = []
    earlier: pd.DataFrame | None = None
    for i, day in enumerate(dates):
        if day not in wanted:
            earlier = None
            continue
        frame = store.load_snapshot(day)
        if day in missing_days:
            before = dates[i - 1] if i else None
            fresh.append((day, before, snapshot_kpis(frame, earlier, settings)))
        if day in keep:
            frames[day] = frame
        earlier = frame
    rows.update({day: values for day, _, values in fresh})
    if fresh:
        # A read-only or busy store: the cache is only a shortcut, go on without it.
        with contextlib.suppress(UsageError):
            store.save_snapshot_kpis(variant, fresh)
    return trend_frame(rows), frames


def cache_snapshot_kpis(store: Store, settings: Settings, result: _HasTrend) -> None:
    """Cache the KPI row of the snapshot just stored from the table `result` describes.

    `result` (a Portfolio): its last trend row is that table's KPIs, its change KPIs against
    the latest snapshot before it: exactly the row `SnapshotHistory.from_store` would compute.
    """
    from cstool.errors import UsageError

    days: list[date] = list(result.trend.index)
    before = days[-2] if len(days) > 1 else None
    last = result.trend.iloc[-1]
    row = {str(name): as_float(last[name]) for name in result.trend.columns}
    with contextlib.suppress(UsageError):
        store.save_snapshot_kpis(kpi_variant(settings), [(result.as_of, before, row)])
