"""What changed between two tables (retention, churn, band migrations) and KPI trends.

A customer counts as present in a table when it is in it and its status is not "churned";
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
    _level_arrays,
    _level_from_sums,
    as_float,
    churned_mask,
    numbers,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
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
    import pandas as pd

    codes, uniques = pd.factorize(snapshots["as_of"], sort=True)
    dates = [pd.Timestamp(value).date() for value in uniques]
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
    parts = _level_arrays(snapshots, settings.kpis.satisfied_threshold)

    def per_day(values: np.ndarray) -> np.ndarray:
        return np.bincount(row_dates, weights=values, minlength=n_days)

    sums = pd.DataFrame(
        {k: per_day(v) for k, v in parts.items() if k not in ("satisfaction", "health")}
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        means = pd.DataFrame(
            {  # NaN-skipping means, like groupby().mean(); NaN for a day with none
                k: per_day(np.nan_to_num(parts[k])) / per_day((~np.isnan(parts[k])).astype(float))
                for k in ("satisfaction", "health")
            }
        )
    level = _level_from_sums(sums, means)
    # Each customer's presence and mrr on each date, as dates × customers arrays.
    if ids is None:
        ids, _ = pd.factorize(snapshots["customer_id"].astype("string"))
    n_ids = int(ids.max()) + 1 if len(ids) else 0
    present = np.zeros((n_days, n_ids), dtype=bool)
    present[row_dates, ids] = ~churned_mask(snapshots)
    mrr = np.zeros(present.shape)
    mrr[row_dates, ids] = numbers(snapshots, "mrr").fillna(0.0).to_numpy()
    change = pd.DataFrame(np.nan, index=level.index, columns=list(CHANGE_KPIS))
    if n_days > 1:
        before, after = present[:-1], present[1:]
        steps = _change_kpis(before & after, before & ~after, after & ~before, mrr[:-1], mrr[1:])
        for name in CHANGE_KPIS:
            change.loc[change.index[1:], name] = steps[name]
    trend = pd.concat([level, change], axis="columns")[columns].astype("float64")
    trend.index = pd.Index(dates, name="as_of")
    return trend


kpi_trend = trend  # the name older code uses
