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

from cstool.kpis.definitions import LIVE_EXCLUDED, numbers, status_of

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

    status = status_of(snapshots)
    mrr = numbers(snapshots, "mrr").fillna(0.0).clip(lower=0.0)
    mrr = mrr.where((status != "churned").fillna(True).to_numpy(dtype=bool), 0.0)
    as_of = snapshots["as_of"]
    if not pd.api.types.is_datetime64_any_dtype(as_of):
        as_of = pd.to_datetime(as_of)
    out = pd.DataFrame(
        {
            "as_of": as_of.dt.normalize().astype("datetime64[ns]"),
            "customer_id": snapshots["customer_id"].astype("string"),
            "mrr": mrr.to_numpy(),
            "live": ~status.isin(LIVE_EXCLUDED).to_numpy(dtype=bool),
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


def _bounds(days: pd.DatetimeIndex, period: Period) -> pd.DataFrame:
    """The periods with a snapshot on or before their start, and both bounding snapshots."""
    import numpy as np
    import pandas as pd

    first, last = days[0], days[-1]
    spans = pd.period_range(first, last, freq=_FREQ[period])
    starts = pd.DatetimeIndex(spans.start_time.normalize())
    ends = pd.DatetimeIndex((spans + 1).start_time.normalize())
    keep = np.asarray((starts >= first) & (starts < last))
    starts, ends = starts[keep], ends[keep]
    return pd.DataFrame(
        {
            "start": starts.astype("datetime64[ns]"),
            "end": ends.astype("datetime64[ns]"),
            "start_day": days.searchsorted(starts, side="right") - 1,
            "end_day": days.searchsorted(ends, side="right") - 1,
        }
    )


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
    day_of, uniques = pd.factorize(state["as_of"], sort=True)
    days = pd.DatetimeIndex(uniques)
    bounds = _bounds(days, period)
    if bounds.empty:
        return _empty_movements()
    customer_of, _ = pd.factorize(state["customer_id"])
    n_customers = int(customer_of.max()) + 1
    mrr_all = state["mrr"].to_numpy(dtype=float)
    live_end = np.bincount(day_of, weights=state["live"].to_numpy(dtype=float))
    live_end = live_end[bounds["end_day"].to_numpy()]
    # Rows grouped by snapshot: the rows of day d are order[offsets[d]:offsets[d + 1]].
    order = np.argsort(day_of, kind="stable")
    offsets = np.searchsorted(day_of[order], np.arange(len(days) + 1))
    start_day = bounds["start_day"].to_numpy()
    end_day = bounds["end_day"].to_numpy()
    n_periods = len(bounds)

    def rows(day_per_period: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers of each period's snapshot and the period of each (loop over periods)."""
        picked = [order[offsets[d] : offsets[d + 1]] for d in day_per_period]
        sizes = np.array([len(p) for p in picked], dtype=np.int64)
        taken = np.concatenate(picked) if picked else np.array([], dtype=np.int64)
        return taken, np.repeat(np.arange(n_periods), sizes)

    start_rows, start_period = rows(start_day)
    end_rows, end_period = rows(end_day)
    # One slot per (period, customer) in either bounding snapshot: an outer join on integers.
    keys = np.concatenate(
        [
            start_period * n_customers + customer_of[start_rows],
            end_period * n_customers + customer_of[end_rows],
        ]
    )
    slots, slot_of = np.unique(keys, return_inverse=True)
    m0 = np.bincount(slot_of[: len(start_rows)], mrr_all[start_rows], minlength=len(slots))
    m1 = np.bincount(slot_of[len(start_rows) :], mrr_all[end_rows], minlength=len(slots))
    slot_period = slots // n_customers
    slot_customer = slots % n_customers
    # Paid in a bounding snapshot before this period's start: a comeback is a reactivation.
    used = np.zeros(len(days), dtype=bool)
    used[start_day] = True
    used[end_day] = True
    paid = used[day_of] & (mrr_all > 0)
    first_paid = np.full(n_customers, len(days), dtype=np.int64)
    np.minimum.at(first_paid, customer_of[paid], day_of[paid])
    paid_before = first_paid[slot_customer] < start_day[slot_period]
    comes = (m0 == 0) & (m1 > 0)
    conditions = [
        comes & ~paid_before,
        (m0 > 0) & (m1 > m0),
        (m0 > 0) & (m1 > 0) & (m1 < m0),
        (m0 > 0) & (m1 == 0),
        comes & paid_before,
    ]
    amounts = [m1, m1 - m0, m0 - m1, m0, m1]

    def per_period(weights: np.ndarray) -> np.ndarray:
        return np.bincount(slot_period, weights, minlength=n_periods)

    out = bounds[["start", "end"]].copy()
    sums = {
        k: per_period(np.where(c, a, 0.0))
        for k, c, a in zip(KINDS, conditions, amounts, strict=True)
    }
    counts = {k: per_period(c.astype(float)) for k, c in zip(KINDS, conditions, strict=True)}
    for name in KINDS:
        out[f"{name}_mrr"] = sums[name]
    up = sums["new"] + sums["expansion"] + sums["reactivation"]
    down = sums["contraction"] + sums["churned"]
    out["net_new_mrr"] = up - down
    for name in KINDS:
        out[f"{name}_customers"] = counts[name].astype(np.int64)
    mrr_start = per_period(m0)
    out["mrr_start"] = mrr_start
    out["mrr_end"] = per_period(m1)
    customers_start = per_period((m0 > 0).astype(float))
    out["customers_start"] = customers_start.astype(np.int64)
    out["customers_end"] = per_period((m1 > 0).astype(float)).astype(np.int64)
    out["live_customers_end"] = live_end.astype(np.int64)
    out["logo_churn"] = _rate(counts["churned"], customers_start)
    kept = mrr_start - down
    out["gross_revenue_retention"] = _rate(kept, mrr_start)
    out["net_revenue_retention"] = _rate(kept + sums["expansion"], mrr_start)
    out["arpa"] = _rate(out["mrr_end"].to_numpy(), live_end, scale=1.0)
    out["quick_ratio"] = _rate(up, down, scale=1.0)
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
