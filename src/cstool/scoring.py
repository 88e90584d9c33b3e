"""Satisfaction, health (with each measure's contribution), band: pure frame → frame."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from cstool.config import Settings

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# The columns that explain a score are kept at single precision (ample for 0–100 shown to
# two decimals, half the memory at a million rows); the scores themselves stay float64.
EXPLAIN_DTYPE = "float32"
HEALTH_MEASURES = ("satisfaction", "recency", "nps", "support")
BANDS = ("red", "yellow", "green")


def score(
    frame: pd.DataFrame,
    settings: Settings,
    as_of: date,
    *,
    last_logged: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Add satisfaction, health, health_coverage, band and the columns that explain them.

    `as_of` is the day the scores are for; `last_logged` (customer_id, last_logged) adds
    the touches logged in the store to the CSV's last_contact.
    """
    import numpy as np
    import pandas as pd

    out: dict[str, Any] = {}
    satisfaction = np.zeros(len(frame))
    scale = settings.scale
    for name, weight in settings.weights.normalised().items():
        if name not in frame.columns:  # a file without the satisfaction inputs
            values = np.full(len(frame), np.nan)
        else:
            values = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        normalised = (values - scale.min) / (scale.max - scale.min) * 100.0
        contribution = weight * normalised
        out[f"satisfaction_from_{name}"] = contribution.astype(EXPLAIN_DTYPE)
        satisfaction = satisfaction + contribution
    out["satisfaction"] = satisfaction

    last_touch = _last_touch(frame, last_logged)
    as_of_ts = np.datetime64(as_of, "ns")
    elapsed = as_of_ts - last_touch.to_numpy(dtype="datetime64[ns]")
    seconds = elapsed.astype("timedelta64[s]").astype(np.float64)
    days = np.where(np.isnat(elapsed), np.nan, seconds / 86400.0)
    out["last_touch"] = last_touch.to_numpy()
    out["days_since_touch"] = days.astype(EXPLAIN_DTYPE)

    health = settings.health
    interval = float(health.expected_interval_days)
    # Fully in touch up to the expected interval, then down to 0 at three intervals.
    recency = np.clip(100.0 * (1.0 - (days - interval) / (2.0 * interval)), 0.0, 100.0)
    nps = frame["nps"].to_numpy(dtype=np.float64, na_value=np.nan)
    tickets = frame["open_tickets"].to_numpy(dtype=np.float64, na_value=np.nan)
    support = 100.0 * np.clip(1.0 - tickets / health.tickets_at_zero, 0.0, 1.0)
    out["recency_score"] = recency.astype(EXPLAIN_DTYPE)
    out["nps_score"] = (nps * 10.0).astype(EXPLAIN_DTYPE)
    out["support_score"] = support.astype(EXPLAIN_DTYPE)

    measures = {
        "satisfaction": satisfaction,
        "recency": recency,
        "nps": nps * 10.0,
        "support": support,
    }
    weights = health.weights.normalised()
    missing = {name: np.isnan(values) for name, values in measures.items()}
    present_weight = np.zeros(len(frame))
    for name in measures:
        present_weight += np.where(missing[name], 0.0, weights[name])
    with np.errstate(invalid="ignore", divide="ignore"):
        scale_up = np.where(present_weight > 0, 1.0 / present_weight, np.nan)
    total = np.zeros(len(frame))
    for name, values in measures.items():
        contribution = weights[name] * values
        contribution *= scale_up
        contribution[missing[name]] = 0.0
        out[f"health_from_{name}"] = contribution.astype(EXPLAIN_DTYPE)
        total += contribution
    out["health"] = total
    out["health_coverage"] = present_weight
    out["band"] = health_band(total, settings)
    added = pd.DataFrame(out, index=frame.index, copy=False)
    kept = frame.drop(columns=[c for c in out if c in frame.columns])
    return pd.concat([kept, added], axis="columns")


def health_band(health: np.ndarray, settings: Settings) -> Any:
    """red / yellow / green by the configured thresholds, as a pandas Categorical."""
    import numpy as np
    import pandas as pd

    bands = settings.bands
    codes = np.full(len(health), 2, dtype=np.int8)
    codes[health < bands.green_from] = 1
    codes[health < bands.red_below] = 0  # red wins, as the first matching band
    return pd.Categorical.from_codes(codes, categories=pd.Index(BANDS))


def _last_touch(frame: pd.DataFrame, last_logged: pd.DataFrame | None) -> pd.Series:
    """The later of the CSV's last_contact and the newest touch logged in the store."""
    import numpy as np
    import pandas as pd

    contact = frame["last_contact"].astype("datetime64[ns]")
    if last_logged is None or last_logged.empty:
        return contact.reset_index(drop=True)
    logged_by_id = pd.Series(
        last_logged["last_logged"].astype("datetime64[ns]").to_numpy(),
        index=last_logged["customer_id"].astype("string").to_numpy(),
    )
    logged = frame["customer_id"].map(logged_by_id).astype("datetime64[ns]")
    a = contact.to_numpy()
    b = logged.to_numpy()
    later = np.where(np.isnat(a), b, np.where(np.isnat(b) | (a >= b), a, b))
    return pd.Series(later, dtype="datetime64[ns]")
