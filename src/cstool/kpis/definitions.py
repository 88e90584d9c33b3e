"""KPI definitions and the level KPIs of one table (a scored frame or a stored snapshot).

Pure functions on DataFrames: a frame here is a scored table (or a stored snapshot) with
at least `customer_id`, `mrr`, `satisfaction`, `health`, `band` and `nps`. Shares and rates
are percentages (0–100); money is in the table's own currency; `None` means "not defined"
(no customers, no NPS answers, nothing to compare with).

Lifecycle: only *live* customers (status not "churned", "paused" or "prospect"; a missing
status or a frame without the column counts as active) enter the level KPIs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cstool.config import ABSENT_STATUSES, NOT_LIVE_STATUSES

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cstool.config import Settings

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
    "customers": KpiDef(
        "Customers", "count", "up", "live customers (not churned, paused or prospects)"
    ),
    "mrr": KpiDef("MRR", "money", "up", "sum of mrr of live customers (missing counts as 0)"),
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
        "Customer retention",
        "percent",
        "up",
        "% of the earlier snapshot's customers still here (not churned)",
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


def as_float(value: object) -> float | None:
    """A plain float, or None for NaN/NA/None."""
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as float64 with NaN for missing (all NaN when the column is absent)."""
    import numpy as np
    import pandas as pd

    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[column], errors="coerce").astype("float64")


LIVE_EXCLUDED = NOT_LIVE_STATUSES


def status_of(frame: pd.DataFrame) -> pd.Series:
    """The lifecycle status as "string" dtype (<NA> when unknown or the column is absent)."""
    import pandas as pd

    if "status" not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    # Normalise the few distinct values, not every row.
    codes, uniques = pd.factorize(frame["status"].astype("string"))
    clean = pd.Series(uniques, dtype="string").str.strip().str.lower().array
    values = clean.take(codes, allow_fill=True)
    return pd.Series(values, index=frame.index, dtype="string")


def status_masks(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(`live_mask`, `churned_mask`) from one coding of the status: the few distinct
    values are normalised and judged, then looked up per row (no 2.4M-row text column).
    "Churned" here is every row that is not a customer of its table: churned, or a prospect
    (ABSENT_STATUSES), so a prospect that becomes a customer is a new one, with new MRR."""
    import numpy as np
    import pandas as pd

    n = len(frame)
    if "status" not in frame.columns:
        return np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
    codes, uniques = pd.factorize(frame["status"].astype("string"))
    clean = pd.Series(uniques, dtype="string").str.strip().str.lower()
    # One more slot for code -1 (<NA>): active, not churned.
    live = np.r_[~clean.isin(LIVE_EXCLUDED).to_numpy(dtype=bool), True]
    churned = np.r_[clean.isin(ABSENT_STATUSES).to_numpy(dtype=bool, na_value=False), False]
    return live[codes], churned[codes]


def live_mask(frame: pd.DataFrame) -> np.ndarray:
    """True for live customers: not churned, paused or prospect (<NA> counts as active)."""
    return status_masks(frame)[0]


def churned_mask(frame: pd.DataFrame) -> np.ndarray:
    """True for rows that are not customers of their table: churned (or prospects)."""
    return status_masks(frame)[1]


def _level_parts(frame: pd.DataFrame, satisfied_threshold: float) -> pd.DataFrame:
    """Per-customer 0/1 flags and amounts whose per-group sums give the level KPIs.

    Customers that are not live contribute zeros to the sums and NaN to the means.
    """
    import pandas as pd

    return pd.DataFrame(_level_arrays(frame, satisfied_threshold), index=frame.index)


def _level_arrays(frame: pd.DataFrame, satisfied_threshold: float) -> dict[str, np.ndarray]:
    """`_level_parts` as one array per column (no frame: a 2.4M-row trend sums them with
    bincount, and stacking 13 columns into a frame would cost more than the sums)."""
    import numpy as np

    return {
        name: values.astype(float) if values.dtype == np.bool_ else values
        for name, values in _level_masks(frame, satisfied_threshold).items()
    }


def _level_masks(
    frame: pd.DataFrame, satisfied_threshold: float, live: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """`_level_arrays` with the 0/1 flags as bool arrays (counted, not summed as floats);
    `live`: `live_mask(frame)`, when the caller has it."""
    import numpy as np

    if live is None:
        live = live_mask(frame)

    def floats(column: str) -> np.ndarray:  # `numbers`, as a float64 array
        return np.asarray(numbers(frame, column).to_numpy(dtype=np.float64))

    # As arrays, not Series: the trend calls this once per snapshot day.
    mrr = floats("mrr")
    mrr_values = np.where(live & ~np.isnan(mrr), mrr, 0.0)  # missing counts 0; not live: 0
    if "band" in frame.columns:
        # Compared as it is (<NA> is no band), then masked: no copy of 2.4M strings.
        band = frame["band"].astype("string")
        red, yellow, green = (
            (band == name).to_numpy(dtype=bool, na_value=False) & live
            for name in ("red", "yellow", "green")
        )
    else:
        red = yellow = green = np.zeros(len(frame), dtype=bool)
    satisfaction = np.where(live, floats("satisfaction"), np.nan)
    nps = np.where(live, floats("nps"), np.nan)
    return {
        "customers": live,
        "mrr": mrr_values,
        "mrr_at_risk_red": np.where(red, mrr_values, 0.0),
        "mrr_at_risk_yellow": np.where(yellow, mrr_values, 0.0),
        "satisfied": satisfaction >= satisfied_threshold,  # NaN: not satisfied
        "satisfaction": satisfaction,
        "health": np.where(live, floats("health"), np.nan),
        "green": green,
        "yellow": yellow,
        "red": red,
        "promoters": nps >= 9,
        "detractors": nps <= 6,
        "nps_responses": ~np.isnan(nps),
    }


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
    """The level KPIs of one scored table (or one snapshot), over its live customers."""
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
    return {name: as_float(row[name]) for name in LEVEL_KPIS}
