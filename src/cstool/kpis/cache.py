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


# Rows loaded from the store at once while computing trend rows: 24 monthly snapshots of
# 100k customers load in one go, a long daily history in slices that bound the memory.
ROWS_PER_LOAD = 3_000_000


def _load_plan(
    dates: list[date], sizes: dict[date, int], missing: set[int], wanted: set[int]
) -> list[list[int]]:
    """Positions into `dates` to load, in slices of at most ROWS_PER_LOAD rows (one
    snapshot at least). A slice holds each missing row's predecessor before it: a slice
    that starts with a missing row also loads the one before."""
    needed = sorted(missing | {i - 1 for i in missing if i} | wanted)
    plan: list[list[int]] = []
    rows = 0
    for i in needed:
        size = sizes.get(dates[i], 0)
        if plan and rows + size <= ROWS_PER_LOAD:
            plan[-1].append(i)
            rows += size
            continue
        plan.append([i - 1, i] if i in missing and i else [i])
        rows = sum(sizes.get(dates[j], 0) for j in plan[-1])
    return plan


# The snapshot columns the KPI trend reads.
TREND_COLUMNS = ("customer_id", "mrr", "satisfaction", "health", "band", "nps", "status")


def stored_history(
    store: Store,
    settings: Settings,
    dates: list[date],
    keep: set[date],
    rows_of: set[date],
    row_columns: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, dict[date, pd.DataFrame], pd.DataFrame | None]:
    """The trend over the stored snapshots on `dates`, the frames of the `keep` dates (every
    column) and the rows of the `rows_of` dates (one frame with `as_of` and the trend's
    columns plus `row_columns`; None when there are none).

    KPI rows come from the store's cache when they are there; the rest are computed
    column-wise (`trend`: one groupby on as_of, dates × customers arrays) over the
    snapshots loaded together, and cached when the store is writable. Every snapshot
    needed is loaded once.
    """
    import pandas as pd

    from cstool.errors import UsageError
    from cstool.kpis.compare import trend

    variant = kpi_variant(settings)
    cached = store.snapshot_kpis(variant)
    rows: dict[date, Kpis] = {}
    missing: set[int] = set()
    for i, day in enumerate(dates):  # one step per snapshot date
        key = (day, dates[i - 1] if i else None)
        if key in cached:
            rows[day] = {k: as_float(v) for k, v in cached[key].items()}
        else:
            missing.add(i)
    position = {day: i for i, day in enumerate(dates)}
    wanted = {position[d] for d in rows_of if d in position}
    columns = [*TREND_COLUMNS, *(c for c in row_columns if c not in TREND_COLUMNS)]
    # Kept in full (names too, for the listings): one or two snapshots, loaded on their own.
    frames = {day: store.load_snapshot(day) for day in sorted(keep) if day in position}
    kept_rows: list[pd.DataFrame] = []
    fresh: list[tuple[date, date | None, Kpis]] = []
    done: set[int] = set()  # a slice may load again the last snapshot of the one before
    for part in _load_plan(dates, store.snapshot_sizes(), missing, wanted):
        days = [dates[i] for i in part]
        loaded = store.load_snapshots(days, columns)
        if missing & set(part):
            computed = trend(loaded, settings, days)
            for k, i in enumerate(part):
                # The first of a slice has no predecessor here (unless it is the first date).
                if i in missing and i not in done and (k > 0 or i == 0):
                    row = computed.iloc[k]
                    values = {str(name): as_float(row[name]) for name in computed.columns}
                    fresh.append((dates[i], dates[i - 1] if i else None, values))
        stamps = loaded["as_of"]
        picked = [dates[i] for i in part if dates[i] in rows_of and i not in done]
        done.update(part)
        if picked:
            chosen = stamps.isin(pd.DatetimeIndex([pd.Timestamp(d) for d in picked]))
            kept_rows.append(loaded if chosen.all() else loaded.loc[chosen.to_numpy()])
    rows.update({day: values for day, _, values in fresh})
    if fresh:
        # A read-only or busy store: the cache is only a shortcut, go on without it.
        with contextlib.suppress(UsageError):
            store.save_snapshot_kpis(variant, fresh)
    if not kept_rows:
        revenue = None
    elif len(kept_rows) == 1:
        revenue = kept_rows[0].reset_index(drop=True)
    else:
        revenue = pd.concat(kept_rows, ignore_index=True)
    return trend_frame(rows), frames, revenue


def cached_trend(
    store: Store, settings: Settings, dates: list[date], keep: set[date]
) -> tuple[pd.DataFrame, dict[date, pd.DataFrame]]:
    """The trend over the stored snapshots on `dates` and the frames of the `keep` dates.

    KPI rows come from the store's cache when they are there; the rest are computed from
    their snapshots, loaded together (see `stored_history`), and cached.
    """
    kpi_trend, frames, _ = stored_history(store, settings, dates, keep, set())
    return kpi_trend, frames


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
