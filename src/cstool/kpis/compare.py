"""What changed between two tables (retention, churn, band migrations) and KPI trends.

A customer counts as present in a table when it is in it and its status is not "churned"
(nor "prospect": not a customer yet);
present in the earlier table and not in the later one, it churned (also when the later table
keeps it with status churned).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cstool.kpis.definitions import (
    BANDS,
    CHANGE_KPIS,
    LEVEL_KPIS,
    Kpis,
    _level_from_sums,
    _level_masks,
    as_float,
    churned_mask,
    numbers,
    status_masks,
)
from cstool.numeric import sorted_codes

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import date

    import numpy as np
    import pandas as pd

    from cstool.config import Settings


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
            out[name] = numbers(frame, name)
    if "name" in frame.columns:
        out["name"] = frame["name"].astype("string")
    out["churned"] = churned_mask(frame)
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
    # Present: in the table and not churned there (a churned row is kept for the record).
    was = joined["_merge"].isin(["both", "left_only"]).to_numpy() & ~joined["churned_then"].eq(
        True
    ).to_numpy(dtype=bool)
    is_ = joined["_merge"].isin(["both", "right_only"]).to_numpy() & ~joined["churned_now"].eq(
        True
    ).to_numpy(dtype=bool)
    kept = was & is_
    gone = was & ~is_
    came = is_ & ~was
    then = joined["mrr_then"].fillna(0.0).to_numpy()
    now = joined["mrr_now"].fillna(0.0).to_numpy()
    kpis = {k: as_float(v[0]) for k, v in _change_kpis(kept, gone, came, then, now).items()}

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
    import numpy as np
    import pandas as pd

    as_of = snapshots["as_of"]
    if as_of.dtype == np.dtype("datetime64[ns]"):  # one pass when sorted by day
        codes, uniques = sorted_codes(as_of.to_numpy())
        dates = [pd.Timestamp(value).date() for value in uniques]
    else:
        found, distinct = pd.factorize(as_of, sort=True)
        codes, dates = np.asarray(found), [pd.Timestamp(value).date() for value in distinct]
    return pd.Series(codes, index=snapshots.index), dates


def trend(
    snapshots: pd.DataFrame,
    settings: Settings,
    days: Sequence[date] | None = None,
    *,
    ids: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row of KPIs per snapshot date (sorted), change KPIs against the snapshot before.

    `snapshots` has an `as_of` column (date, datetime or ISO text) and one row per customer
    and date. The result is indexed by `as_of` (datetime.date), one column per KPI. `days`
    (sorted, covering every as_of of the rows) gives the dates to report, also those whose
    snapshot holds no rows (a stored empty snapshot: 0 customers). `ids`: the rows'
    customer_id codes as `pd.factorize` gives them, when the caller has them already.
    """
    import numpy as np
    import pandas as pd

    columns = list(LEVEL_KPIS) + list(CHANGE_KPIS)
    if snapshots.empty and not days:
        empty = pd.DataFrame(columns=columns, dtype="float64")
        empty.index.name = "as_of"
        return empty
    codes, dates = _snapshot_dates(snapshots)
    row_dates = codes.to_numpy()
    if days is not None:
        # Positions into `days` (a date the rows do not have keeps an empty row).
        wanted = pd.DatetimeIndex([pd.Timestamp(d) for d in days])
        found = pd.DatetimeIndex([pd.Timestamp(d) for d in dates])
        position = wanted.get_indexer(found)
        if (position < 0).any():
            raise ValueError("trend: `days` must cover every as_of of the snapshots")
        row_dates = position[row_dates] if len(row_dates) else row_dates
        dates = list(days)
    n_days = len(dates)
    # The status coded once, for the level KPIs (live) and the change KPIs (churned).
    live, churned = status_masks(snapshots)
    sums, means = _level_sums(snapshots, settings, row_dates, n_days, live)
    level = _level_from_sums(sums, means)
    # Each customer's presence and mrr on each date, as dates × customers arrays.
    if ids is None:
        ids, _ = pd.factorize(snapshots["customer_id"].astype("string"))
    n_ids = int(ids.max()) + 1 if len(ids) else 0
    present = np.zeros((n_days, n_ids), dtype=bool)
    present[row_dates, ids] = ~churned
    mrr = np.zeros(present.shape)
    mrr[row_dates, ids] = numbers(snapshots, "mrr").fillna(0.0).to_numpy()
    change = pd.DataFrame(np.nan, index=level.index, columns=list(CHANGE_KPIS))
    if n_days > 1:
        # One pair of dates at a time: the same row sums as one call over all the pairs
        # (each row is summed alone either way), without 2-D temporaries of every pair.
        steps = {name: np.empty(n_days - 1) for name in CHANGE_KPIS}
        for day in range(n_days - 1):
            before, after = present[day], present[day + 1]
            step = _change_kpis(
                before & after, before & ~after, after & ~before, mrr[day], mrr[day + 1]
            )
            for name in CHANGE_KPIS:
                steps[name][day] = step[name][0]
        for name in CHANGE_KPIS:
            change.loc[change.index[1:], name] = steps[name]
    trend = pd.concat([level, change], axis="columns")[columns].astype("float64")
    trend.index = pd.Index(dates, name="as_of")
    return trend


def _level_sums(
    snapshots: pd.DataFrame,
    settings: Settings,
    row_dates: np.ndarray,
    n_days: int,
    live: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per day: the sums of the level parts, and the NaN-skipping means of satisfaction and
    health (NaN for a day with none), as `_level_from_sums` reads them.

    Rows sorted by day (as stored snapshots come) are read one day's slice at a time: the
    parts of 100k rows, not 13 arrays of 2.4M (each a fresh allocation, page-faulted in).
    The sums are `_day_sums`' (bincount's floats) either way.
    """
    import itertools

    import numpy as np
    import pandas as pd

    threshold = settings.kpis.satisfied_threshold
    bounds = _day_bounds(row_dates, n_days)
    if bounds is None:
        parts = _level_masks(snapshots, threshold, live)
        per_day = _day_sums(row_dates, n_days)
        sums = pd.DataFrame(
            {k: per_day(v) for k, v in parts.items() if k not in ("satisfaction", "health")}
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            means = pd.DataFrame(
                {  # NaN-skipping means, like groupby().mean(); NaN for a day with none
                    k: per_day(parts[k], skip_nan=True) / per_day(~np.isnan(parts[k]))
                    for k in ("satisfaction", "health")
                }
            )
        return sums, means
    rows: list[dict[str, float]] = []
    for a, b in itertools.pairwise(bounds):
        part = _level_masks(snapshots.iloc[a:b], threshold, live[a:b])
        row: dict[str, float] = {}
        for name, values in part.items():
            if name in ("satisfaction", "health"):
                row[name] = _running_sum(np.nan_to_num(values))
                row[f"{name}_n"] = float(np.count_nonzero(~np.isnan(values)))
            elif values.dtype == np.bool_:
                row[name] = float(np.count_nonzero(values))
            else:
                row[name] = _running_sum(values)
        rows.append(row)
    names = [k for k in _LEVEL_PARTS if k not in ("satisfaction", "health")]
    sums = pd.DataFrame({k: np.array([r.get(k, 0.0) for r in rows]) for k in names})
    with np.errstate(invalid="ignore", divide="ignore"):
        means = pd.DataFrame(
            {
                k: np.array([r.get(k, 0.0) for r in rows])
                / np.array([r.get(f"{k}_n", 0.0) for r in rows])
                for k in ("satisfaction", "health")
            }
        )
    return sums, means


# The parts `_level_masks` gives, in its order.
_LEVEL_PARTS = (
    "customers",
    "mrr",
    "mrr_at_risk_red",
    "mrr_at_risk_yellow",
    "satisfied",
    "satisfaction",
    "health",
    "green",
    "yellow",
    "red",
    "promoters",
    "detractors",
    "nps_responses",
)


def _running_sum(values: np.ndarray) -> float:
    """The sum bincount gives one bin: added in order from +0.0 (0.0 when empty)."""
    import numpy as np

    return float(np.cumsum(values)[-1]) + 0.0 if len(values) else 0.0


def _day_bounds(row_dates: np.ndarray, n_days: int) -> np.ndarray | None:
    """Where each day's rows start (and the last ends), when the rows are sorted by day
    and the days few enough for a loop over them; else None."""
    import numpy as np

    n_rows = len(row_dates)
    if n_days > SLICED_DAYS or (n_rows > 1 and not bool(np.all(row_dates[1:] >= row_dates[:-1]))):
        return None
    return np.searchsorted(row_dates, np.arange(n_days + 1))


def _day_sums(row_dates: np.ndarray, n_days: int) -> Callable[..., np.ndarray]:
    """A function giving per-day sums of a row array, exactly as
    `np.bincount(row_dates, weights=values, minlength=n_days)` gives them.

    Flags (bool) are counted; numbers are added in row order. Stored snapshots come sorted
    by as_of, so each day's rows are one slice: a count and a running sum per slice (no
    float copy of 2.4M flags, no 2.4M-row bincount per KPI). A running sum adds in the same
    order as bincount, so the sums are the same floats (+ 0.0: bincount starts at +0.0,
    so a sum of -0.0 is 0.0). `skip_nan`: NaN counts as 0 (`np.nan_to_num`).
    """
    import itertools

    import numpy as np

    bounds = _day_bounds(row_dates, n_days)

    def per_day(values: np.ndarray, *, skip_nan: bool = False) -> np.ndarray:
        if values.dtype == np.bool_:
            if bounds is None:
                return np.bincount(row_dates[values], minlength=n_days).astype(np.float64)
            return np.array(
                [np.count_nonzero(values[a:b]) for a, b in itertools.pairwise(bounds)],
                dtype=np.float64,
            )
        if bounds is None:
            weights = np.nan_to_num(values) if skip_nan else values
            return np.bincount(row_dates, weights=weights, minlength=n_days)
        out = np.zeros(n_days)
        for day, (a, b) in enumerate(itertools.pairwise(bounds)):
            if b > a:
                part = np.nan_to_num(values[a:b]) if skip_nan else values[a:b]
                out[day] = np.cumsum(part)[-1] + 0.0
        return out

    return per_day


SLICED_DAYS = 2000  # above this many snapshot dates, one bincount per KPI costs less

kpi_trend = trend  # the name older code uses
