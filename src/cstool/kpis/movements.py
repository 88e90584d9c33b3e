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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from cstool.kpis.definitions import numbers, status_masks
from cstool.numeric import sorted_codes

if TYPE_CHECKING:
    from collections.abc import Sequence
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


def _state(snapshots: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per snapshot row, as arrays: as_of (day, datetime64[ns]), paying mrr (0 when
    churned), live flag, signup_date (datetime64[ns], NaT when unknown)."""
    import numpy as np
    import pandas as pd

    live, churned = status_masks(snapshots)
    mrr = numbers(snapshots, "mrr").fillna(0.0).clip(lower=0.0)
    mrr = mrr.where(~churned, 0.0)
    as_of = snapshots["as_of"]
    if not pd.api.types.is_datetime64_any_dtype(as_of):
        as_of = pd.to_datetime(as_of)
    if "signup_date" in snapshots.columns:
        signup = pd.to_datetime(snapshots["signup_date"], errors="coerce").astype("datetime64[ns]")
        signup_values = signup.to_numpy(dtype="datetime64[ns]")
    else:
        signup_values = np.full(len(snapshots), np.datetime64("NaT"), dtype="datetime64[ns]")
    return {
        "as_of": _days(as_of),
        "mrr": mrr.to_numpy(dtype=float),
        "live": live,
        "signup": signup_values,
    }


def _days(as_of: pd.Series) -> np.ndarray:
    """A datetime column cut to the day, as datetime64[ns] (no copy when it is already:
    stored snapshots are dated at midnight)."""
    import numpy as np

    if as_of.dtype == np.dtype("datetime64[ns]"):
        values = as_of.to_numpy()
        if not (values.view(np.int64) % DAY_NS).any():  # every one at midnight (not NaT)
            return values
    return as_of.dt.normalize().astype("datetime64[ns]").to_numpy(dtype="datetime64[ns]")


DAY_NS = 86_400_000_000_000


@dataclass(frozen=True)
class _Book:
    """Snapshot rows as integer-coded arrays, built once for every period and the cohorts."""

    days: pd.DatetimeIndex  # distinct snapshot days, sorted
    day_of: np.ndarray  # each row's index into days
    customer_of: np.ndarray  # each row's customer code
    n_customers: int
    mrr: np.ndarray  # paying MRR (0 when churned or missing)
    live: np.ndarray  # bool
    signup: np.ndarray  # datetime64[ns], NaT when unknown
    # Rows grouped by day: day d is order[offsets[d]:offsets[d + 1]]; None when the rows
    # come grouped already (day d is rows offsets[d] to offsets[d + 1]).
    order: np.ndarray | None
    offsets: np.ndarray
    # Per snapshot day: live customers, MRR and paying customers (the same for every period).
    day_live: np.ndarray
    day_mrr: np.ndarray
    day_paying: np.ndarray
    # Work the periods share (weeks, months and quarters between monthly snapshots bound
    # many of the same pairs): first paying day per set of bounding days, and each pair's
    # movements, keyed by (bounding days, start day, end day).
    shared: dict[object, np.ndarray] = field(default_factory=dict)


def _book(snapshots: pd.DataFrame | Sequence[pd.DataFrame], ids: np.ndarray | None = None) -> _Book:
    """The rows of `snapshots` (a frame, or frames taken as one after the other: no
    concatenated frame is built) coded once."""
    import numpy as np
    import pandas as pd

    parts = [snapshots] if isinstance(snapshots, pd.DataFrame) else list(snapshots)
    states = [_state(part) for part in parts]
    state = {
        name: states[0][name] if len(states) == 1 else np.concatenate([s[name] for s in states])
        for name in ("as_of", "mrr", "live", "signup")
    }
    day_of, uniques = sorted_codes(state["as_of"])  # one pass when sorted by day
    if ids is not None:
        customer_of = ids
    else:
        customer_ids = [part["customer_id"].astype("string") for part in parts]
        joined = customer_ids[0] if len(parts) == 1 else pd.concat(customer_ids)
        customer_of = pd.factorize(joined)[0]
    # Rows grouped by day; stored snapshots come sorted by as_of already.
    # (no identity permutation, nor its copy of the day codes: 2 x 2.4M int64 to fault in).
    if len(day_of) < 2 or bool(np.all(day_of[1:] >= day_of[:-1])):
        order, grouped = None, day_of
    else:
        order = np.argsort(day_of, kind="stable")
        grouped = day_of[order]
    days = pd.DatetimeIndex(uniques)
    mrr, live = state["mrr"], state["live"]
    return _Book(
        days=days,
        day_of=day_of,
        customer_of=customer_of,
        n_customers=int(customer_of.max()) + 1 if len(customer_of) else 0,
        mrr=mrr,
        live=live,
        signup=state["signup"],
        order=order,
        offsets=np.searchsorted(grouped, np.arange(len(days) + 1)),
        day_live=np.bincount(day_of, weights=live.astype(float), minlength=len(days)),
        day_mrr=np.bincount(day_of, weights=mrr, minlength=len(days)),
        day_paying=np.bincount(day_of, weights=(mrr > 0).astype(float), minlength=len(days)),
    )


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
    if period not in _FREQ:
        from cstool.errors import UsageError

        raise UsageError(f"period {period!r}: expected one of week, month, quarter")
    if snapshots.empty:
        return _empty_movements()
    return _movements(_book(snapshots), period)


def all_movements(
    snapshots: pd.DataFrame, periods: tuple[Period, ...] = PERIODS
) -> dict[str, pd.DataFrame]:
    """`movements` for each of `periods`, reading the snapshots once."""
    if snapshots.empty:
        return {str(period): _empty_movements() for period in periods}
    book = _book(snapshots)
    return {str(period): _movements(book, period) for period in periods}


def movements_and_cohorts(
    snapshots: pd.DataFrame | Sequence[pd.DataFrame],
    periods: tuple[Period, ...] = PERIODS,
    *,
    ids: np.ndarray | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """`all_movements` and `cohorts` of the same snapshots, coding them once for both
    (`ids`: the rows' customer_id codes as `pd.factorize` gives them, if already known).

    `snapshots` may be several frames, taken as their concatenation (without building it)."""
    import pandas as pd

    parts = [snapshots] if isinstance(snapshots, pd.DataFrame) else list(snapshots)
    if sum(len(part) for part in parts) == 0:
        return {str(period): _empty_movements() for period in periods}, _empty_cohorts()
    snapshots = [part for part in parts if len(part)] if len(parts) > 1 else parts
    book = _book(snapshots, ids)
    return {str(period): _movements(book, period) for period in periods}, _cohorts(book)


def _movements(book: _Book, period: Period) -> pd.DataFrame:
    import numpy as np

    days = book.days
    bounds = _bounds(days, period)
    if bounds.empty:
        return _empty_movements()
    day_of, customer_of, n_customers = book.day_of, book.customer_of, book.n_customers
    mrr_all = book.mrr
    live_end = book.day_live[bounds["end_day"].to_numpy()]
    order, offsets = book.order, book.offsets
    start_day = bounds["start_day"].to_numpy()
    end_day = bounds["end_day"].to_numpy()
    # Paid in a bounding snapshot before this period's start: a comeback is a reactivation.
    used = np.zeros(len(days), dtype=bool)
    used[start_day] = True
    used[end_day] = True
    used_key = ("used", used.tobytes())
    first_paid = book.shared.get(used_key)
    if first_paid is None:
        paid = used[day_of] & (mrr_all > 0)
        first_paid = np.full(n_customers, len(days), dtype=np.int64)
        np.minimum.at(first_paid, customer_of[paid], day_of[paid])
        book.shared[used_key] = first_paid

    def snapshot_mrr(day: int) -> np.ndarray:
        """Each customer's MRR in the snapshot of `day` (0 when absent): a dense array."""
        start, stop = offsets[day], offsets[day + 1]
        rows = slice(start, stop) if order is None else order[start:stop]
        values = np.zeros(n_customers)
        values[customer_of[rows]] = mrr_all[rows]
        return values

    # Per snapshot: its MRR and paying customers (what a period without a change reports).
    day_mrr, day_paying = book.day_mrr, book.day_paying
    names = [f"{kind}_{what}" for what in ("mrr", "customers") for kind in KINDS]
    names += ["mrr_start", "mrr_end", "customers_start", "customers_end"]
    table = np.zeros((len(bounds), len(names)))
    table[:, -4] = day_mrr[start_day]
    table[:, -3] = day_mrr[end_day]
    table[:, -2] = day_paying[start_day]
    table[:, -1] = day_paying[end_day]
    # Movements only where the bounding snapshots differ, once per distinct pair (weeks
    # between two monthly snapshots share one): one step per pair, never per customer.
    moving = start_day != end_day
    pairs, pair_of = np.unique(
        np.stack([start_day[moving], end_day[moving]], axis=1), axis=0, return_inverse=True
    )
    n_kinds = len(KINDS)
    per_pair = np.zeros((len(pairs), 2 * n_kinds))
    for p, (s_day, e_day) in enumerate(pairs):
        pair_key = (used_key, int(s_day), int(e_day))
        known = book.shared.get(pair_key)
        if known is not None:
            per_pair[p] = known
            continue
        m0, m1 = snapshot_mrr(int(s_day)), snapshot_mrr(int(e_day))
        paid_before = first_paid < s_day
        comes = (m0 == 0) & (m1 > 0)
        kind = np.select(
            [
                comes & ~paid_before,
                (m0 > 0) & (m1 > m0),
                (m0 > 0) & (m1 > 0) & (m1 < m0),
                (m0 > 0) & (m1 == 0),
                comes & paid_before,
            ],
            np.arange(n_kinds),
            default=n_kinds,  # no movement
        )
        # Each movement's amount, positive: new, expansion and reactivation add m1 − m0,
        # contraction and churn take m0 − m1 away.
        amount = np.abs(m1 - m0)
        per_pair[p, :n_kinds] = np.bincount(kind, weights=amount, minlength=n_kinds + 1)[:-1]
        per_pair[p, n_kinds:] = np.bincount(kind, minlength=n_kinds + 1)[:-1]
        book.shared[pair_key] = per_pair[p].copy()
    table[np.flatnonzero(moving), : 2 * n_kinds] = per_pair[pair_of.reshape(-1)]
    parts = dict(zip(names, table.T, strict=True))
    sums = {kind: parts[f"{kind}_mrr"] for kind in KINDS}
    counts = {kind: parts[f"{kind}_customers"] for kind in KINDS}
    out = bounds[["start", "end"]].copy()
    for name in KINDS:
        out[f"{name}_mrr"] = sums[name]
    up = sums["new"] + sums["expansion"] + sums["reactivation"]
    down = sums["contraction"] + sums["churned"]
    out["net_new_mrr"] = up - down
    for name in KINDS:
        out[f"{name}_customers"] = counts[name].astype(np.int64)
    mrr_start = parts["mrr_start"]
    customers_start = parts["customers_start"]
    out["mrr_start"] = mrr_start
    out["mrr_end"] = parts["mrr_end"]
    out["customers_start"] = customers_start.astype(np.int64)
    out["customers_end"] = parts["customers_end"].astype(np.int64)
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
    a cohort's months start at the first snapshot that saw one of its members.
    `customer_share` and `mrr_share` are percentages of those (<NA> for an MRR base of 0).
    Sorted by cohort, then months since.
    """
    if snapshots.empty:
        return _empty_cohorts()
    return _cohorts(_book(snapshots))


def _cohorts(book: _Book) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    days = book.days
    day_month = (days.year * 12 + days.month - 1).to_numpy(dtype=np.int64)
    # The last snapshot of each calendar month stands for that month.
    last_of_month = np.r_[day_month[1:] != day_month[:-1], True]
    if last_of_month.all():  # monthly snapshots: every row (no copies of them)
        day_of, customer = book.day_of, book.customer_of
        mrr, live, signup = book.mrr, book.live, book.signup
    else:
        rows = last_of_month[book.day_of]
        day_of = book.day_of[rows]
        customer = book.customer_of[rows]
        mrr, live, signup = book.mrr[rows], book.live[rows], book.signup[rows]
    n = book.n_customers
    first_day = np.full(n, len(days), dtype=np.int64)
    np.minimum.at(first_day, customer, day_of)
    seen = first_day < len(days)
    at_first = day_of == first_day[customer]
    mrr_first = np.zeros(n)
    mrr_first[customer[at_first]] = mrr[at_first]
    # Signup month from the latest month snapshot that knows it, else the first month seen.
    cohort = np.where(seen, day_month[np.minimum(first_day, len(days) - 1)], -1)
    known = ~np.isnat(signup)
    if known.any():
        stamps = pd.DatetimeIndex(signup[known])
        signup_month = (stamps.year * 12 + stamps.month - 1).to_numpy(dtype=np.int64)
        _latest_signup_month(cohort, customer[known], day_of[known], signup_month)
    members = np.flatnonzero(seen)
    cohort_codes, cohort_months = pd.factorize(cohort[members], sort=True)
    cohort_of = np.full(n, -1, dtype=np.int64)
    cohort_of[members] = cohort_codes
    k = len(cohort_months)
    sizes = np.bincount(cohort_codes, minlength=k)
    base = np.bincount(cohort_codes, weights=mrr_first[members], minlength=k)
    # The months read, sorted, one day each (the month's last): coded per day, not per row.
    months = day_month[last_of_month]
    m = len(months)
    month_of_day = np.full(len(days), -1, dtype=np.int64)
    month_of_day[last_of_month] = np.arange(m)
    month_codes = month_of_day[day_of]
    slot = cohort_of[customer] * m + month_codes
    live_count = np.bincount(slot, weights=live.astype(float), minlength=k * m)
    live_mrr = np.bincount(slot, weights=np.where(live, mrr, 0.0), minlength=k * m)
    month_day = days[last_of_month].to_numpy(dtype="datetime64[ns]")  # each month's day
    grid_cohort = np.repeat(np.arange(k), m)
    grid_month = np.tile(np.arange(m), k)
    since = np.asarray(months)[grid_month] - np.asarray(cohort_months)[grid_cohort]
    # A month is shown from the first snapshot that saw any member of the cohort (a month read
    # before its members signed up would say 0 % retained).
    cohort_first = np.full(k, len(days), dtype=np.int64)
    np.minimum.at(cohort_first, cohort_codes, first_day[members])
    month_day_index = days.searchsorted(month_day)
    keep = (since >= 0) & (month_day_index[grid_month] >= cohort_first[grid_cohort])
    grid_cohort, grid_month, since = grid_cohort[keep], grid_month[keep], since[keep]
    cells = grid_cohort * m + grid_month
    labels = [f"{c // 12:04d}-{c % 12 + 1:02d}" for c in np.asarray(cohort_months)]  # per cohort
    out = pd.DataFrame(
        {
            "cohort": pd.array(np.asarray(labels, dtype=object)[grid_cohort], dtype="string"),
            "months_since": since.astype(np.int64),
            "as_of": pd.DatetimeIndex(month_day[grid_month]).astype("datetime64[ns]"),
            "customers": sizes[grid_cohort].astype(np.int64),
            "live_customers": live_count[cells].astype(np.int64),
            "mrr_start": base[grid_cohort],
            "mrr": live_mrr[cells],
        }
    )
    out["customer_share"] = _rate(
        out["live_customers"].to_numpy(dtype=float), out["customers"].to_numpy(dtype=float)
    )
    out["mrr_share"] = _rate(out["mrr"].to_numpy(), out["mrr_start"].to_numpy())
    return out[list(COHORT_COLUMNS)].reset_index(drop=True)


def _latest_signup_month(
    cohort: np.ndarray, customer: np.ndarray, day_of: np.ndarray, signup_month: np.ndarray
) -> None:
    """Set `cohort[c]` to the signup month of customer c's row on its latest day (the last
    such row when a day has several), for each customer with a row here.

    One maximum per customer of (day, position) as one integer: what a stable sort by
    (customer, day) and the last row of each customer give, without sorting 2.4M rows.
    """
    import numpy as np
    import pandas as pd

    n_rows = len(customer)
    if n_rows and int(customer.min()) < 0:  # a row without an ID (code -1): as before
        latest = (
            pd.DataFrame({"c": customer, "d": day_of, "m": signup_month})
            .sort_values(["c", "d"], kind="stable")
            .groupby("c")["m"]
            .last()
        )
        cohort[latest.index.to_numpy()] = latest.to_numpy()
        return
    key = day_of.astype(np.int64) * n_rows + np.arange(n_rows, dtype=np.int64)
    best = np.full(len(cohort), -1, dtype=np.int64)
    np.maximum.at(best, customer, key)
    has = np.flatnonzero(best >= 0)
    cohort[has] = signup_month[best[has] % n_rows]


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
