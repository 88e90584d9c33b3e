"""Revenue movements per period and signup cohorts, from stored snapshots (as ChartMogul does).

A period runs from its start to the next period's start (`end`); it compares the last
snapshot on or before `start` with the last one on or before `end`, so daily snapshots give the
same monthly figures as monthly ones. A customer's MRR in a snapshot is 0 when its status is
churned or its mrr is missing; absent from a snapshot, it has none. Between the two snapshots:

- new: 0 → > 0, never paying in an earlier bounding snapshot; reactivation: the same after
  having paid before (and then left, churned or gone to 0);
- expansion / contraction: > 0 → more / less (still > 0); churned: > 0 → 0 or gone.

Rates are percentages (0–100) like every KPI; a rate that cannot be computed is <NA>.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from cstool.kpis.definitions import churned_mask, live_mask, numbers

if TYPE_CHECKING:
    from datetime import date

    import numpy as np
    import pandas as pd

Period = Literal["week", "month", "quarter"]
PERIODS: tuple[Period, ...] = ("week", "month", "quarter")
_FREQ = {"week": "W-SUN", "month": "M", "quarter": "Q-DEC"}  # weeks start on Monday
KINDS = ("new", "expansion", "contraction", "churned", "reactivation")
MOVEMENT_COLUMNS = (
    "start",
    "end",
    "new_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "reactivation_mrr",
    "net_new_mrr",
    "new_customers",
    "expansion_customers",
    "contraction_customers",
    "churned_customers",
    "reactivation_customers",
    "mrr_start",
    "mrr_end",
    "customers_start",
    "customers_end",
    "live_customers_end",
    "logo_churn",
    "gross_revenue_retention",
    "net_revenue_retention",
    "arpa",
    "quick_ratio",
)
COHORT_COLUMNS = (
    "cohort",
    "months_since",
    "as_of",
    "customers",
    "live_customers",
    "customer_share",
    "mrr_start",
    "mrr",
    "mrr_share",
)


def _state(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Per snapshot row: as_of (day), customer_id, paying mrr (0 when churned), live flag."""
    import pandas as pd

    mrr = numbers(snapshots, "mrr").fillna(0.0).clip(lower=0.0)
    mrr = mrr.where(~churned_mask(snapshots), 0.0)
    out = pd.DataFrame(
        {
            "as_of": pd.to_datetime(snapshots["as_of"]).dt.normalize().astype("datetime64[ns]"),
            "customer_id": snapshots["customer_id"].astype("string"),
            "mrr": mrr.to_numpy(),
            "live": live_mask(snapshots),
        }
    )
    if "signup_date" in snapshots.columns:
        out["signup_date"] = pd.to_datetime(snapshots["signup_date"], errors="coerce").astype(
            "datetime64[ns]"
        )
    else:
        out["signup_date"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    return out


def _rate(part: np.ndarray, whole: np.ndarray, scale: float = 100.0) -> pd.arrays.FloatingArray:
    """scale × part / whole, <NA> where whole is 0."""
    import numpy as np
    import pandas as pd

    defined = whole > 0
    values = np.where(defined, scale * part / np.where(defined, whole, 1.0), 0.0)
    return pd.array(np.where(defined, values, np.nan), dtype="Float64")


def _empty_movements() -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame({name: pd.Series(dtype="float64") for name in MOVEMENT_COLUMNS})
    frame["start"] = frame["start"].astype("datetime64[ns]")
    frame["end"] = frame["end"].astype("datetime64[ns]")
    return frame


def movements(snapshots: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Revenue movements, one row per `period` between the snapshots that bound it.

    `snapshots` is `Store.load_snapshots()`'s frame (at least `as_of`, `customer_id`, `mrr`;
    `status` when known). Rows are sorted by `start`; `net_new_mrr` = new + expansion +
    reactivation − contraction − churned = `mrr_end` − `mrr_start`. `customers_start` and
    `customers_end` count paying customers (MRR > 0); `arpa` divides by live ones.
    """
    import numpy as np
    import pandas as pd

    if period not in _FREQ:
        from cstool.errors import UsageError

        raise UsageError(f"period {period!r}: expected one of week, month, quarter")
    if snapshots.empty:
        return _empty_movements()
    state = _state(snapshots)
    days = np.sort(state["as_of"].unique())
    first, last = pd.Timestamp(days[0]), pd.Timestamp(days[-1])
    spans = pd.period_range(first, last, freq=_FREQ[period])
    starts = spans.start_time.normalize()
    ends = (spans + 1).start_time.normalize()
    keep = np.asarray((starts >= first) & (starts < last))
    if not keep.any():
        return _empty_movements()
    starts, ends = starts[keep], ends[keep]
    day_index = pd.DatetimeIndex(days)
    bounds = pd.DataFrame(
        {
            "period": np.arange(len(starts)),
            "start": starts.astype("datetime64[ns]"),
            "end": ends.astype("datetime64[ns]"),
            "start_snapshot": day_index[day_index.searchsorted(starts, side="right") - 1],
            "end_snapshot": day_index[day_index.searchsorted(ends, side="right") - 1],
        }
    )
    live_end = (
        state.groupby("as_of")["live"].sum().reindex(bounds["end_snapshot"]).to_numpy(dtype=float)
    )
    used = pd.concat([bounds["start_snapshot"], bounds["end_snapshot"]]).unique()
    state = state.loc[state["as_of"].isin(used)]
    columns = ["as_of", "customer_id", "mrr"]
    at_start = bounds[["period", "start_snapshot"]].merge(
        state[columns], left_on="start_snapshot", right_on="as_of"
    )
    at_end = bounds[["period", "end_snapshot"]].merge(
        state[columns], left_on="end_snapshot", right_on="as_of"
    )
    pairs = at_start[["period", "customer_id", "mrr"]].merge(
        at_end[["period", "customer_id", "mrr"]],
        on=["period", "customer_id"],
        how="outer",
        suffixes=("_start", "_end"),
    )
    pairs = pairs.merge(bounds[["period", "start_snapshot"]], on="period")
    # Paid in a bounding snapshot before this period's start: a comeback is a reactivation.
    first_paid = (
        state.loc[state["mrr"] > 0].groupby("customer_id")["as_of"].min().rename("first_paid")
    )
    pairs = pairs.merge(first_paid, left_on="customer_id", right_index=True, how="left")
    m0 = pairs["mrr_start"].fillna(0.0).to_numpy()
    m1 = pairs["mrr_end"].fillna(0.0).to_numpy()
    paid_before = (pairs["first_paid"] < pairs["start_snapshot"]).fillna(False).to_numpy(bool)
    comes = (m0 == 0) & (m1 > 0)
    conditions = [
        comes & ~paid_before,
        (m0 > 0) & (m1 > m0),
        (m0 > 0) & (m1 > 0) & (m1 < m0),
        (m0 > 0) & (m1 == 0),
        comes & paid_before,
    ]
    amounts = np.select(conditions, [m1, m1 - m0, m0 - m1, m0, m1], 0.0)
    kind = np.select(conditions, list(KINDS), "")
    parts = pd.DataFrame({"period": pairs["period"].to_numpy(), "kind": kind, "amount": amounts})
    parts = parts.loc[parts["kind"] != ""]
    grouped = parts.groupby(["period", "kind"])["amount"].agg(["sum", "size"])
    index = pd.RangeIndex(len(bounds))
    sums = grouped["sum"].unstack("kind").reindex(index=index, columns=list(KINDS)).fillna(0.0)
    counts = grouped["size"].unstack("kind").reindex(index=index, columns=list(KINDS)).fillna(0)
    level = (
        pd.DataFrame(
            {
                "period": pairs["period"].to_numpy(),
                "mrr_start": m0,
                "mrr_end": m1,
                "customers_start": (m0 > 0).astype(np.int64),
                "customers_end": (m1 > 0).astype(np.int64),
            }
        )
        .groupby("period")
        .sum()
        .reindex(index, fill_value=0)
    )

    out = bounds[["start", "end"]].copy()
    for name in KINDS:
        out[f"{name}_mrr"] = sums[name].to_numpy(dtype=float)
    up = sums["new"] + sums["expansion"] + sums["reactivation"]
    down = sums["contraction"] + sums["churned"]
    out["net_new_mrr"] = (up - down).to_numpy(dtype=float)
    for name in KINDS:
        out[f"{name}_customers"] = counts[name].to_numpy(dtype=np.int64)
    mrr_start = level["mrr_start"].to_numpy(dtype=float)
    out["mrr_start"] = mrr_start
    out["mrr_end"] = level["mrr_end"].to_numpy(dtype=float)
    out["customers_start"] = level["customers_start"].to_numpy(dtype=np.int64)
    out["customers_end"] = level["customers_end"].to_numpy(dtype=np.int64)
    out["live_customers_end"] = live_end.astype(np.int64)
    out["logo_churn"] = _rate(
        counts["churned"].to_numpy(dtype=float), out["customers_start"].to_numpy(dtype=float)
    )
    kept = mrr_start - down.to_numpy()
    out["gross_revenue_retention"] = _rate(kept, mrr_start)
    out["net_revenue_retention"] = _rate(kept + sums["expansion"].to_numpy(), mrr_start)
    out["arpa"] = _rate(out["mrr_end"].to_numpy(), live_end, scale=1.0)
    out["quick_ratio"] = _rate(up.to_numpy(), down.to_numpy(), scale=1.0)
    return out[list(MOVEMENT_COLUMNS)].reset_index(drop=True)


def _empty_cohorts() -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame({name: pd.Series(dtype="float64") for name in COHORT_COLUMNS})
    frame["cohort"] = frame["cohort"].astype("string")
    frame["as_of"] = frame["as_of"].astype("datetime64[ns]")
    return frame


def cohorts(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Signup month × months since: share of the cohort's customers and of its MRR still live.

    A customer's cohort is the month of its signup_date (the latest snapshot that knows it),
    else of its first snapshot. Each month is read from its last snapshot. `customers` is the
    cohort's size, `mrr_start` the sum of each member's MRR in the first month it was seen;
    `customer_share` and `mrr_share` are percentages of those (<NA> for an MRR base of 0).
    Sorted by cohort, then months since.
    """
    import numpy as np

    if snapshots.empty:
        return _empty_cohorts()
    state = _state(snapshots)
    # The last snapshot of each calendar month stands for that month.
    month = state["as_of"].dt.to_period("M")
    month_last = state.groupby(month)["as_of"].transform("max")
    state = state.loc[state["as_of"] == month_last].copy()
    state["month"] = state["as_of"].dt.to_period("M")
    ordered = state.sort_values(["customer_id", "as_of"], kind="stable")
    first = ordered.groupby("customer_id").agg(
        first_month=("month", "first"), mrr_first=("mrr", "first")
    )
    signup = ordered.dropna(subset=["signup_date"]).groupby("customer_id")["signup_date"].last()
    members = first.join(signup.rename("signup_date"), how="left")
    signup_month = members["signup_date"].dt.to_period("M")
    members["cohort"] = signup_month.where(signup_month.notna(), members["first_month"])
    sizes = members.groupby("cohort").agg(
        customers=("mrr_first", "size"), mrr_start=("mrr_first", "sum")
    )
    rows = state.merge(members[["cohort"]], left_on="customer_id", right_index=True)
    rows["live_mrr"] = rows["mrr"].where(rows["live"], 0.0)
    live = rows.groupby(["cohort", "month"]).agg(
        live_customers=("live", "sum"), mrr=("live_mrr", "sum")
    )
    months = state.groupby("month")["as_of"].max().rename("as_of").reset_index()
    grid = sizes.reset_index().merge(months, how="cross")
    since = (grid["month"].dt.year - grid["cohort"].dt.year) * 12 + (
        grid["month"].dt.month - grid["cohort"].dt.month
    )
    grid["months_since"] = since.to_numpy(dtype=np.int64)
    grid = grid.loc[grid["months_since"] >= 0]
    grid = grid.merge(live, left_on=["cohort", "month"], right_index=True, how="left")
    grid["live_customers"] = grid["live_customers"].fillna(0).to_numpy(dtype=np.int64)
    grid["mrr"] = grid["mrr"].fillna(0.0).to_numpy(dtype=float)
    grid["customer_share"] = _rate(
        grid["live_customers"].to_numpy(dtype=float), grid["customers"].to_numpy(dtype=float)
    )
    grid["mrr_share"] = _rate(grid["mrr"].to_numpy(), grid["mrr_start"].to_numpy(dtype=float))
    grid["cohort"] = grid["cohort"].astype(str).astype("string")
    grid["as_of"] = grid["as_of"].astype("datetime64[ns]")
    grid["customers"] = grid["customers"].to_numpy(dtype=np.int64)
    grid = grid.sort_values(["cohort", "months_since"], kind="stable")
    return grid[list(COHORT_COLUMNS)].reset_index(drop=True)


REVENUE_COLUMNS = ("as_of", "customer_id", "mrr", "status", "signup_date")


def revenue_dates(dates: list[date]) -> list[date]:
    """The snapshot dates `movements` (every period) and `cohorts` read out of `dates`.

    For each week, month and quarter boundary: the last date on or before it; for each month:
    its last date; always the first and the last date. Sorted, distinct.
    """
    import numpy as np
    import pandas as pd

    if not dates:
        return []
    days = pd.DatetimeIndex(sorted(set(dates)))
    picked = {days[0], days[-1]}
    for freq in _FREQ.values():
        spans = pd.period_range(days[0], days[-1], freq=freq)
        bounds = pd.DatetimeIndex(spans.start_time.normalize()).append(
            pd.DatetimeIndex([(spans[-1] + 1).start_time.normalize()])
        )
        where = days.searchsorted(bounds, side="right") - 1
        picked.update(days[np.unique(where[where >= 0])])
    month_last = pd.Series(days, index=days).groupby(days.to_period("M")).max()
    picked.update(month_last)
    return sorted(pd.Timestamp(day).date() for day in picked)
