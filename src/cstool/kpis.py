"""Portfolio KPIs, their change between two snapshots, trends over snapshots, and goals.

Pure functions on DataFrames: a frame here is a scored table (or a stored snapshot) with
at least `customer_id`, `mrr`, `satisfaction`, `health`, `band` and `nps`. Shares and rates
are percentages (0–100); money is in the table's own currency; `None` means "not defined"
(no customers, no NPS answers, nothing to compare with).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal

from cstool.config import Goal, Settings

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

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
    with np.errstate(divide="ignore", invalid="ignore"):
        customers = np.where(start > 0, 100.0 / start, np.nan)
        revenue = np.where(start_mrr > 0, 100.0 / start_mrr, np.nan)
        return {
            "retention_rate": kept.sum(axis=-1) * customers,
            "logo_churn": gone.sum(axis=-1) * customers,
            "gross_revenue_retention": np.where(kept, np.minimum(then, now), 0.0).sum(axis=-1)
            * revenue,
            "net_revenue_retention": np.where(kept, now, 0.0).sum(axis=-1) * revenue,
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

    before = _id_frame(previous, ("mrr", "band"))
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
    name_col = "name_now" if "name_now" in changed.columns else None
    moved = pd.DataFrame(
        {
            "customer_id": changed["customer_id"],
            "name": changed[name_col] if name_col else pd.Series(pd.NA, index=changed.index),
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

    def _listing(mask: np.ndarray, suffix: str) -> pd.DataFrame:
        part = joined.loc[mask]
        names = part.get(f"name{suffix}", pd.Series(pd.NA, index=part.index))
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
    trend = pd.concat([level, change], axis=1)[columns].astype("float64")
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


@dataclass(frozen=True)
class Portfolio:
    """Everything the report shows about the whole customer base on one date."""

    as_of: date
    compared_with: date | None
    kpis: Kpis  # level KPIs now, plus change KPIs against `compared_with`
    previous: Kpis | None  # the same KPIs at `compared_with`
    comparison: Comparison | None
    trend: pd.DataFrame  # one row per snapshot date ≤ as_of plus as_of itself
    goals: list[GoalProgress]


def portfolio(
    frame: pd.DataFrame,
    settings: Settings,
    as_of: date,
    snapshots: pd.DataFrame | None = None,
    since: date | None = None,
) -> Portfolio:
    """KPIs on `as_of`, the change since the snapshot at `since` (default: the latest before
    `as_of`), the trend over the stored snapshots and the goals' progress.

    Snapshots dated on or after `as_of` are left out, so back-filled reports reproduce.
    """
    import numpy as np
    import pandas as pd

    from cstool.errors import UsageError

    if snapshots is None or snapshots.empty:
        earlier = pd.DataFrame(columns=["as_of", "customer_id", "mrr", "band"])
        trend = kpi_trend(earlier, settings)
        dates: list[date] = []
    else:
        codes, all_dates = _snapshot_dates(snapshots)
        keep_codes = [i for i, d in enumerate(all_dates) if d < as_of]
        earlier = snapshots.loc[codes.isin(keep_codes).to_numpy()]
        trend = kpi_trend(earlier, settings)
        dates = [d for d in all_dates if d < as_of]

    compared_with: date | None
    if since is not None:
        if since not in dates:
            shown = ", ".join(d.isoformat() for d in dates[-5:]) or "none"
            raise UsageError(
                f"--since: no snapshot on {since.isoformat()} before {as_of.isoformat()}",
                hint=f"latest snapshots: {shown}; take one with `cstool snapshot --as-of DATE`",
            )
        compared_with = since
    else:
        compared_with = dates[-1] if dates else None

    kpis = portfolio_kpis(frame, settings)
    comparison: Comparison | None = None
    previous: Kpis | None = None
    if compared_with is not None:
        codes, all_dates = _snapshot_dates(earlier)
        base = earlier.loc[(codes == all_dates.index(compared_with)).to_numpy()]
        comparison = compare(base, frame)
        previous = portfolio_kpis(base, settings)
        if compared_with in trend.index:
            row = trend.loc[compared_with]
            previous.update({k: _as_float(row[k]) for k in CHANGE_KPIS})
        kpis.update(comparison.kpis)
    else:
        kpis.update(dict.fromkeys(CHANGE_KPIS))

    now_row = pd.DataFrame(
        [[np.nan if kpis[k] is None else kpis[k] for k in trend.columns]],
        columns=trend.columns,
        index=pd.Index([as_of], name="as_of"),
    )
    # The trend's change KPIs run snapshot to snapshot; today's row compares with the last one.
    if dates and compared_with != dates[-1]:
        latest = earlier.loc[(_snapshot_dates(earlier)[0] == len(dates) - 1).to_numpy()]
        step = compare(latest, frame).kpis
        for k in CHANGE_KPIS:
            now_row.loc[as_of, k] = np.nan if step[k] is None else step[k]
    full_trend = pd.concat([trend, now_row]) if len(trend) else now_row
    full_trend = full_trend.astype("float64")
    trend_dates: list[date] = [*dates, as_of]

    goals = []
    for goal in settings.goals:
        values = full_trend[goal.metric].tolist() if goal.metric in full_trend.columns else []
        history = [(d, float(v)) for d, v in zip(trend_dates, values, strict=False) if d < as_of]
        # Today's value from the trend row, so change KPIs run from the latest snapshot.
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
