"""Portfolio KPIs, their change between two snapshots, trends over snapshots, and goals.

Pure functions on DataFrames: a frame here is a scored table (or a stored snapshot) with
at least `customer_id`, `mrr`, `satisfaction`, `health`, `band` and `nps`. Shares and rates
are percentages (0–100); money is in the table's own currency; `None` means "not defined"
(no customers, no NPS answers, nothing to compare with).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal

from cstool.config import Goal, Settings

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cstool.store import Store

KpiKind = Literal["count", "money", "percent", "score", "nps"]
Better = Literal["up", "down", "neutral"]
BANDS = ("red", "yellow", "green")


@dataclass(frozen=True)
class KpiDef:
    """How a KPI is named, shown and judged."""

    label: str
    kind: KpiKind
    better: Better
    definition: str


KPIS: dict[str, KpiDef] = {
    "customers": KpiDef("Customers", "count", "up", "rows in the customer table"),
    "mrr": KpiDef("MRR", "money", "up", "sum of mrr (missing counts as 0)"),
    "mrr_at_risk": KpiDef("MRR at risk", "money", "down", "sum of mrr of red and yellow customers"),
    "mrr_at_risk_red": KpiDef("MRR at risk (red)", "money", "down", "sum of mrr of red customers"),
    "mrr_at_risk_yellow": KpiDef(
        "MRR at risk (yellow)", "money", "down", "sum of mrr of yellow customers"
    ),
    "satisfied_share": KpiDef(
        "Satisfied", "percent", "up", "% of customers with satisfaction ≥ the threshold"
    ),
    "mean_satisfaction": KpiDef("Mean satisfaction", "score", "up", "mean satisfaction (0–100)"),
    "mean_health": KpiDef("Mean health", "score", "up", "mean health (0–100)"),
    "green_share": KpiDef("Green", "percent", "up", "% of customers in the green band"),
    "yellow_share": KpiDef("Yellow", "percent", "neutral", "% of customers in the yellow band"),
    "red_share": KpiDef("Red", "percent", "down", "% of customers in the red band"),
    "nps": KpiDef("NPS", "nps", "up", "% promoters (9–10) − % detractors (0–6) among answers"),
    "nps_responses": KpiDef("NPS answers", "count", "neutral", "customers with an NPS answer"),
    "retention_rate": KpiDef(
        "Customer retention", "percent", "up", "% of the earlier snapshot's customers still here"
    ),
    "logo_churn": KpiDef(
        "Logo churn", "percent", "down", "% of the earlier snapshot's customers gone"
    ),
    "gross_revenue_retention": KpiDef(
        "Gross revenue retention",
        "percent",
        "up",
        "Σ min(mrr now, mrr then) over kept customers ÷ Σ mrr then",
    ),
    "net_revenue_retention": KpiDef(
        "Net revenue retention", "percent", "up", "Σ mrr now over kept customers ÷ Σ mrr then"
    ),
    "new_customers": KpiDef(
        "New customers", "count", "up", "customers not in the earlier snapshot"
    ),
    "churned_customers": KpiDef(
        "Churned customers", "count", "down", "earlier snapshot's customers no longer here"
    ),
}

# KPIs of one table (the rest compare two).
LEVEL_KPIS = (
    "customers",
    "mrr",
    "mrr_at_risk",
    "mrr_at_risk_red",
    "mrr_at_risk_yellow",
    "satisfied_share",
    "mean_satisfaction",
    "mean_health",
    "green_share",
    "yellow_share",
    "red_share",
    "nps",
    "nps_responses",
)
CHANGE_KPIS = (
    "retention_rate",
    "logo_churn",
    "gross_revenue_retention",
    "net_revenue_retention",
    "new_customers",
    "churned_customers",
)

Kpis = dict[str, float | None]


def _as_float(value: object) -> float | None:
    """A plain float, or None for NaN/NA/None."""
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as float64 with NaN for missing (all NaN when the column is absent)."""
    import numpy as np
    import pandas as pd

    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[column], errors="coerce").astype("float64")


def _level_parts(frame: pd.DataFrame, satisfied_threshold: float) -> pd.DataFrame:
    """Per-customer 0/1 flags and amounts whose per-group sums give the level KPIs."""
    import numpy as np
    import pandas as pd

    mrr = _numbers(frame, "mrr").fillna(0.0)
    band = frame["band"].astype("string").fillna("")
    red = (band == "red").to_numpy(dtype=bool)
    yellow = (band == "yellow").to_numpy(dtype=bool)
    green = (band == "green").to_numpy(dtype=bool)
    satisfaction = _numbers(frame, "satisfaction")
    nps = _numbers(frame, "nps")
    answered = nps.notna().to_numpy()
    mrr_values = mrr.to_numpy()
    return pd.DataFrame(
        {
            "customers": np.ones(len(frame)),
            "mrr": mrr_values,
            "mrr_at_risk_red": np.where(red, mrr_values, 0.0),
            "mrr_at_risk_yellow": np.where(yellow, mrr_values, 0.0),
            "satisfied": (satisfaction >= satisfied_threshold).to_numpy(dtype=float),
            "satisfaction": satisfaction.to_numpy(),
            "health": _numbers(frame, "health").to_numpy(),
            "green": green.astype(float),
            "yellow": yellow.astype(float),
            "red": red.astype(float),
            "promoters": (nps >= 9).to_numpy(dtype=float),
            "detractors": (nps <= 6).to_numpy(dtype=float),
            "nps_responses": answered.astype(float),
        },
        index=frame.index,
    )


def _level_from_sums(sums: pd.DataFrame, means: pd.DataFrame) -> pd.DataFrame:
    """Turn per-group sums (and means of the scores) into the level KPIs, column-wise."""
    import numpy as np
    import pandas as pd

    n = sums["customers"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = 100.0 / np.where(n > 0, n, np.nan)
        answers = sums["nps_responses"].to_numpy()
        nps = (
            (sums["promoters"] - sums["detractors"]).to_numpy()
            * 100.0
            / np.where(answers > 0, answers, np.nan)
        )
    out = pd.DataFrame(index=sums.index)
    out["customers"] = n
    out["mrr"] = sums["mrr"]
    out["mrr_at_risk"] = sums["mrr_at_risk_red"] + sums["mrr_at_risk_yellow"]
    out["mrr_at_risk_red"] = sums["mrr_at_risk_red"]
    out["mrr_at_risk_yellow"] = sums["mrr_at_risk_yellow"]
    out["satisfied_share"] = sums["satisfied"].to_numpy() * share
    out["mean_satisfaction"] = means["satisfaction"]
    out["mean_health"] = means["health"]
    out["green_share"] = sums["green"].to_numpy() * share
    out["yellow_share"] = sums["yellow"].to_numpy() * share
    out["red_share"] = sums["red"].to_numpy() * share
    out["nps"] = nps
    out["nps_responses"] = answers
    return out[list(LEVEL_KPIS)]


def portfolio_kpis(frame: pd.DataFrame, settings: Settings) -> Kpis:
    """The level KPIs of one scored table (or one snapshot)."""
    import numpy as np

    parts = _level_parts(frame, settings.kpis.satisfied_threshold)
    key = np.zeros(len(parts), dtype=np.int64)
    sums = parts.groupby(key).sum()
    means = parts[["satisfaction", "health"]].groupby(key).mean()
    if sums.empty:  # no customers at all
        return {
            name: (0.0 if KPIS[name].kind in ("count", "money") else None) for name in LEVEL_KPIS
        }
    row = _level_from_sums(sums, means).iloc[0]
    return {name: _as_float(row[name]) for name in LEVEL_KPIS}


@dataclass(frozen=True)
class Comparison:
    """What changed between an earlier table and a later one."""

    kpis: Kpis
    migrations: pd.DataFrame  # from_band × to_band counts of kept customers
    moved: pd.DataFrame  # customer_id, from_band, to_band, direction, mrr (kept, band changed)
    new: pd.DataFrame  # customer_id, mrr of customers only in the later table
    churned: pd.DataFrame  # customer_id, mrr of customers only in the earlier table


def _id_frame(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    import pandas as pd

    out = pd.DataFrame({"customer_id": frame["customer_id"].astype("string")})
    for name in columns:
        if name == "band":
            out[name] = frame[name].astype("string") if name in frame.columns else pd.NA
        else:
            out[name] = _numbers(frame, name)
    if "name" in frame.columns:
        out["name"] = frame["name"].astype("string")
    return out


def _change_kpis(
    kept: np.ndarray, gone: np.ndarray, came: np.ndarray, then: np.ndarray, now: np.ndarray
) -> dict[str, np.ndarray]:
    """Change KPIs from aligned customer arrays (last axis = customers; NaN when undefined).

    `kept`/`gone`/`came`: in both tables / only the earlier / only the later; `then`/`now`:
    mrr in each table with missing as 0.
    """
    import numpy as np

    kept, gone, came = np.atleast_2d(kept), np.atleast_2d(gone), np.atleast_2d(came)
    then, now = np.atleast_2d(then), np.atleast_2d(now)
    start = (kept | gone).sum(axis=-1).astype(float)
    start_mrr = np.where(kept | gone, then, 0.0).sum(axis=-1)

    def percent(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.where(whole > 0, 100.0 * part / np.where(whole > 0, whole, 1.0), np.nan)

    return {
        "retention_rate": percent(kept.sum(axis=-1), start),
        "logo_churn": percent(gone.sum(axis=-1), start),
        "gross_revenue_retention": percent(
            np.where(kept, np.minimum(then, now), 0.0).sum(axis=-1), start_mrr
        ),
        "net_revenue_retention": percent(np.where(kept, now, 0.0).sum(axis=-1), start_mrr),
        "new_customers": came.sum(axis=-1).astype(float),
        "churned_customers": gone.sum(axis=-1).astype(float),
    }


def compare(previous: pd.DataFrame, current: pd.DataFrame) -> Comparison:
    """Retention, churn, revenue retention, new customers and band migrations between two tables.

    Customers are matched by customer_id; a customer missing from the later table has churned,
    one missing from the earlier table is new. Missing mrr counts as 0.
    """
    import numpy as np
    import pandas as pd

    # Names come from the later table (snapshots do not keep them), else the earlier one.
    before = _id_frame(previous, ("mrr", "band")).rename(columns={"name": "name_then"})
    after = _id_frame(current, ("mrr", "band"))
    joined = before.merge(
        after, on="customer_id", how="outer", suffixes=("_then", "_now"), indicator=True
    )
    kept = (joined["_merge"] == "both").to_numpy()
    gone = (joined["_merge"] == "left_only").to_numpy()
    came = (joined["_merge"] == "right_only").to_numpy()
    then = joined["mrr_then"].fillna(0.0).to_numpy()
    now = joined["mrr_now"].fillna(0.0).to_numpy()
    kpis = {k: _as_float(v[0]) for k, v in _change_kpis(kept, gone, came, then, now).items()}

    both = joined.loc[kept]
    from_band = pd.Categorical(both["band_then"], categories=list(BANDS))
    to_band = pd.Categorical(both["band_now"], categories=list(BANDS))
    migrations = pd.crosstab(from_band, to_band, dropna=False).reindex(
        index=list(BANDS), columns=list(BANDS), fill_value=0
    )
    migrations.index.name = "from_band"
    migrations.columns.name = "to_band"

    rank = {band: i for i, band in enumerate(BANDS)}
    changed = both.loc[both["band_then"].ne(both["band_now"]).fillna(False).astype(bool)]
    rank_then = changed["band_then"].map(rank).astype("float64")
    rank_now = changed["band_now"].map(rank).astype("float64")
    moved = pd.DataFrame(
        {
            "customer_id": changed["customer_id"],
            "name": _names(changed),
            "from_band": changed["band_then"],
            "to_band": changed["band_now"],
            "direction": np.where(rank_now.to_numpy() > rank_then.to_numpy(), "up", "down"),
            "mrr": changed["mrr_now"],
        }
    )
    # Worsened first (they need attention), biggest MRR first, ties by customer_id.
    moved["_down"] = moved["direction"] == "down"
    moved = (
        moved.sort_values(
            ["_down", "mrr", "customer_id"],
            ascending=[False, False, True],
            kind="stable",
            na_position="last",
        )
        .drop(columns="_down")
        .reset_index(drop=True)
    )

    def _listing(mask: np.ndarray, suffix: str) -> pd.DataFrame:  # suffix: which table's mrr
        part = joined.loc[mask]
        names = _names(part)
        listing = pd.DataFrame(
            {"customer_id": part["customer_id"], "name": names, "mrr": part[f"mrr{suffix}"]}
        )
        return listing.sort_values(
            ["mrr", "customer_id"], ascending=[False, True], kind="stable", na_position="last"
        ).reset_index(drop=True)

    return Comparison(
        kpis=kpis,
        migrations=migrations,
        moved=moved,
        new=_listing(came, "_now"),
        churned=_listing(gone, "_then"),
    )


def _names(joined: pd.DataFrame) -> pd.Series:
    """Each row's name from the later table, else the earlier one (missing when neither)."""
    import pandas as pd

    missing = pd.Series(pd.NA, index=joined.index, dtype="string")
    now = joined["name"] if "name" in joined.columns else missing
    then = joined["name_then"] if "name_then" in joined.columns else missing
    return now.fillna(then)


def _frames_by_date(snapshots: pd.DataFrame) -> dict[date, pd.DataFrame]:
    """Stored snapshots split into one frame per as-of date."""
    if snapshots.empty:
        return {}
    codes, dates = _snapshot_dates(snapshots)
    groups = snapshots.groupby(codes.to_numpy()).indices
    return {day: snapshots.iloc[groups[i]].reset_index(drop=True) for i, day in enumerate(dates)}


def _snapshot_dates(snapshots: pd.DataFrame) -> tuple[pd.Series, list[date]]:
    """Integer codes per row and the sorted distinct as_of dates (converted once each)."""
    import pandas as pd

    codes, uniques = pd.factorize(snapshots["as_of"], sort=True)
    dates = [pd.Timestamp(value).date() for value in uniques]
    return pd.Series(codes, index=snapshots.index), dates


def kpi_trend(snapshots: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """One row of KPIs per snapshot date (sorted), change KPIs against the snapshot before.

    `snapshots` has an `as_of` column (date, datetime or ISO text) and one row per customer
    and date. The result is indexed by `as_of` (datetime.date), one column per KPI.
    """
    import numpy as np
    import pandas as pd

    columns = list(LEVEL_KPIS) + list(CHANGE_KPIS)
    if snapshots.empty:
        empty = pd.DataFrame(columns=columns, dtype="float64")
        empty.index.name = "as_of"
        return empty
    codes, dates = _snapshot_dates(snapshots)
    parts = _level_parts(snapshots, settings.kpis.satisfied_threshold)
    sums = parts.groupby(codes.to_numpy()).sum()
    means = parts[["satisfaction", "health"]].groupby(codes.to_numpy()).mean()
    level = _level_from_sums(sums, means)
    # Each customer's presence and mrr on each date, as dates × customers arrays.
    ids, _ = pd.factorize(snapshots["customer_id"].astype("string"))
    row_dates = codes.to_numpy()
    present = np.zeros((len(dates), int(ids.max()) + 1), dtype=bool)
    present[row_dates, ids] = True
    mrr = np.zeros(present.shape)
    mrr[row_dates, ids] = _numbers(snapshots, "mrr").fillna(0.0).to_numpy()
    change = pd.DataFrame(np.nan, index=level.index, columns=list(CHANGE_KPIS))
    if len(dates) > 1:
        before, after = present[:-1], present[1:]
        steps = _change_kpis(before & after, before & ~after, after & ~before, mrr[:-1], mrr[1:])
        for name in CHANGE_KPIS:
            change.loc[change.index[1:], name] = steps[name]
    trend = pd.concat([level, change], axis="columns")[columns].astype("float64")
    trend.index = pd.Index(dates, name="as_of")
    return trend


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


KPI_VERSION = 1  # bump when a KPI's definition changes: cached rows then no longer apply


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


@dataclass(frozen=True)
class History:
    """What stored snapshots tell: one KPI row per snapshot date (change KPIs against the
    snapshot before it) and the snapshot frames at hand (at least the latest and the one to
    compare with), keyed by date."""

    trend: pd.DataFrame
    frames: dict[date, pd.DataFrame]

    @classmethod
    def from_snapshots(cls, snapshots: pd.DataFrame | None, settings: Settings) -> History:
        """All of it from snapshots in memory (as `Store.load_snapshots` returns them)."""
        if snapshots is None or snapshots.empty:
            return cls(trend_frame({}), {})
        return cls(kpi_trend(snapshots, settings), _frames_by_date(snapshots))

    @classmethod
    def from_store(
        cls, store: Store, settings: Settings, as_of: date, since: date | None = None
    ) -> History:
        """The snapshots stored before `as_of`, reading only what the KPI cache lacks.

        KPI rows come from the store's cache when they are there (a stored snapshot never
        changes); the rest are computed from their snapshots and cached. Loaded in full: the
        latest snapshot and the one to compare with (`since`).
        """
        from cstool.errors import UsageError

        dates = [d for d in store.snapshot_dates() if d < as_of]
        if not dates:
            return cls(trend_frame({}), {})
        variant = kpi_variant(settings)
        cached = store.snapshot_kpis(variant)
        rows: dict[date, Kpis] = {}
        missing: list[tuple[date, date | None]] = []
        for i, day in enumerate(dates):  # one step per snapshot date
            key = (day, dates[i - 1] if i else None)
            if key in cached:
                rows[day] = {k: _as_float(v) for k, v in cached[key].items()}
            else:
                missing.append(key)
        compared = compared_date(dates, as_of, since)
        keep = {dates[-1]} | ({compared} if compared else set())
        missing_days = {day for day, _ in missing}
        wanted = keep | missing_days | {before for _, before in missing if before}
        # One snapshot in memory at a time (plus those kept), walking the dates in order.
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
        return cls(trend_frame(rows), frames)

    def before(self, as_of: date) -> History:
        """Only the snapshots dated before `as_of`."""
        keep = [d for d in self.trend.index if d < as_of]
        return History(self.trend.loc[keep], {d: f for d, f in self.frames.items() if d < as_of})


def cache_snapshot_kpis(store: Store, settings: Settings, result: Portfolio) -> None:
    """Cache the KPI row of the snapshot just stored from the table `result` describes.

    `result`'s last trend row is that table's KPIs, its change KPIs against the latest
    snapshot before it: exactly the row `History.from_store` would compute later.
    """
    from cstool.errors import UsageError

    days: list[date] = list(result.trend.index)
    before = days[-2] if len(days) > 1 else None
    last = result.trend.iloc[-1]
    row = {str(name): _as_float(last[name]) for name in result.trend.columns}
    with contextlib.suppress(UsageError):
        store.save_snapshot_kpis(kpi_variant(settings), [(result.as_of, before, row)])


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


def portfolio(
    frame: pd.DataFrame,
    settings: Settings,
    as_of: date,
    snapshots: pd.DataFrame | History | None = None,
    since: date | None = None,
) -> Portfolio:
    """KPIs on `as_of`, the change since the snapshot at `since` (default: the latest before
    `as_of`), the trend over the stored snapshots and the goals' progress.

    Snapshots dated on or after `as_of` are left out, so back-filled reports reproduce.
    """
    import pandas as pd

    if not isinstance(snapshots, History):
        snapshots = History.from_snapshots(snapshots, settings)
    past = snapshots.before(as_of)
    dates: list[date] = list(past.trend.index)
    compared_with = compared_date(dates, as_of, since)

    kpis = portfolio_kpis(frame, settings)
    comparison: Comparison | None = None
    previous: Kpis | None = None
    if compared_with is not None:
        comparison = compare(past.frames[compared_with], frame)
        row = past.trend.loc[compared_with]
        previous = {k: _as_float(row[k]) for k in past.trend.columns}
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

    goals = []
    for goal in settings.goals:
        values = full_trend[goal.metric].tolist() if goal.metric in full_trend.columns else []
        history = [(d, float(v)) for d, v in zip(trend_dates, values, strict=False) if d < as_of]
        current = _as_float(values[-1]) if values else None
        goals.append(goal_progress(goal, history, current, as_of))

    return Portfolio(
        as_of=as_of,
        compared_with=compared_with,
        kpis=kpis,
        previous=previous,
        comparison=comparison,
        trend=full_trend,
        goals=goals,
    )
