"""Satisfaction, health (with each measure's contribution), band: pure frame → frame."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from cstool.config import Settings
from cstool.numeric import column_floats, first_column
from cstool.schema import BANDS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# The columns that explain a score are kept at single precision (ample for 0–100 shown to
# two decimals, half the memory at a million rows); the scores themselves stay float64.
EXPLAIN_DTYPE = "float32"
HEALTH_MEASURES = ("satisfaction", "recency", "nps", "support")


def score(
    frame: pd.DataFrame,
    settings: Settings,
    as_of: date,
    *,
    last_logged: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Add satisfaction, health, health_coverage, band and the columns that explain them.

    `as_of` is the day the scores are for; `last_logged` (customer_id, last_logged) adds
    the touches logged in the store to the CSV's last_contact. A measure that is missing
    (or weighted 0) is left out of health; a customer without any has health NaN,
    health_coverage 0 and no band. `attrs["future_touches"]` of the result counts the
    customers whose last touch lies after `as_of` (read as touched on the day itself).
    """
    added, future = score_columns(frame, settings, as_of, last_logged=last_logged)
    return with_scores(frame, added, future)


def score_columns(
    frame: pd.DataFrame,
    settings: Settings,
    as_of: date,
    *,
    last_logged: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, int]:
    """The columns `score` adds (a frame on `frame`'s index) and how many customers were
    touched after `as_of`. Reads the inputs, last_contact and signup_date only: never the
    lifecycle's columns, so the lifecycle can be worked out beside it."""
    import numpy as np
    import pandas as pd

    out: dict[str, Any] = {}
    satisfaction = np.zeros(len(frame))
    scale = settings.scale
    for name, weight in settings.weights.normalised().items():
        if weight == 0:
            # an input weighted 0 cannot change satisfaction, so its absence must not either
            contribution = np.zeros(len(frame))
        else:
            values = column_floats(frame, name)  # absent column: NaN, so satisfaction NaN
            normalised = (values - scale.min) / (scale.max - scale.min) * 100.0
            contribution = weight * normalised
        out[f"satisfaction_from_{name}"] = contribution.astype(EXPLAIN_DTYPE)
        satisfaction = satisfaction + contribution
    out["satisfaction"] = satisfaction

    last_touch = _last_touch(frame, last_logged)
    days = _days_before(as_of, last_touch.to_numpy(dtype="datetime64[ns]"))
    future = days < 0
    # a touch dated after as_of is a typo or a time zone, not negative silence
    days[future] = 0.0
    out["last_touch"] = last_touch.to_numpy()
    out["days_since_touch"] = days.astype(EXPLAIN_DTYPE)

    health = settings.health
    interval = float(health.expected_interval_days)
    # Never touched: the clock runs from signup, so silence since signup is not full marks.
    signup = _dates(frame, "signup_date").to_numpy(dtype="datetime64[ns]")
    quiet_days = np.where(np.isnan(days), np.maximum(_days_before(as_of, signup), 0.0), days)
    # Fully in touch up to the expected interval, then down to 0 at three intervals.
    recency = np.clip(100.0 * (1.0 - (quiet_days - interval) / (2.0 * interval)), 0.0, 100.0)
    nps = column_floats(frame, "nps")
    tickets = column_floats(frame, "open_tickets")
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
    # a measure weighted 0 adds nothing, so it does not make health "present" either
    present = {name: ~np.isnan(values) & (weights[name] > 0) for name, values in measures.items()}
    present_weight = np.zeros(len(frame))
    for name in measures:
        present_weight += np.where(present[name], weights[name], 0.0)
    has_health = present_weight > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        scale_up = np.where(has_health, 1.0 / present_weight, np.nan)
    total = np.zeros(len(frame))
    for name, values in measures.items():
        contribution = weights[name] * values
        contribution *= scale_up
        contribution[~present[name]] = 0.0
        out[f"health_from_{name}"] = contribution.astype(EXPLAIN_DTYPE)
        total += contribution
    total[~has_health] = np.nan
    # Float sums of normalised weights are off in the last bit (10/12 + 2/12 is
    # 1.0000000000000002): the share and the score stay within their ranges.
    out["health"] = np.clip(total, 0.0, 100.0)
    out["health_coverage"] = np.where(np.abs(present_weight - 1.0) < 1e-12, 1.0, present_weight)
    out["band"] = health_band(total, settings)
    added = pd.DataFrame(out, index=frame.index, copy=False)
    return added, int(np.count_nonzero(future))


def with_scores(frame: pd.DataFrame, added: pd.DataFrame, future: int) -> pd.DataFrame:
    """`frame` with the columns of `score_columns` (replacing any of the same name) last."""
    import pandas as pd

    kept = frame.drop(columns=[c for c in added.columns if c in frame.columns])
    scored = pd.concat([kept, added], axis="columns")
    scored.attrs["future_touches"] = future
    return scored


def health_band(health: np.ndarray, settings: Settings) -> Any:
    """red / yellow / green by the configured thresholds; missing (NaN) health has no band.

    A pandas Categorical with categories red, yellow, green (schema.BANDS); no band is <NA>.
    """
    import numpy as np
    import pandas as pd

    bands = settings.bands
    codes = np.full(len(health), 2, dtype=np.int8)
    codes[health < bands.green_from] = 1
    codes[health < bands.red_below] = 0  # red wins, as the first matching band
    codes[np.isnan(health)] = -1  # NaN compares false, which would read as green
    return pd.Categorical.from_codes(codes, categories=pd.Index(BANDS))


def _dates(frame: pd.DataFrame, name: str) -> pd.Series:
    """Column `name` as datetime64[ns] (all NaT when the frame lacks it), positionally indexed."""
    import pandas as pd

    if name not in frame.columns:
        return pd.Series(pd.NaT, index=pd.RangeIndex(len(frame)), dtype="datetime64[ns]")
    return first_column(frame, name).astype("datetime64[ns]").reset_index(drop=True)


def _days_before(as_of: date, when: np.ndarray) -> np.ndarray:
    """Days from each datetime64 in `when` to `as_of` (negative after it), NaN for NaT."""
    import numpy as np

    elapsed = np.datetime64(as_of, "ns") - when
    seconds = elapsed.astype("timedelta64[s]").astype(np.float64)
    return np.where(np.isnat(elapsed), np.nan, seconds / 86400.0)


def _last_touch(frame: pd.DataFrame, last_logged: pd.DataFrame | None) -> pd.Series:
    """The later of the CSV's last_contact and the newest touch logged in the store."""
    import numpy as np
    import pandas as pd

    contact = _dates(frame, "last_contact")
    if last_logged is None or last_logged.empty:
        return contact
    logged_by_id = pd.Series(
        last_logged["last_logged"].astype("datetime64[ns]").to_numpy(),
        index=last_logged["customer_id"].astype("string").to_numpy(),
    )
    logged = frame["customer_id"].map(logged_by_id).astype("datetime64[ns]")
    a = contact.to_numpy()
    b = logged.to_numpy()
    later = np.where(np.isnat(a), b, np.where(np.isnat(b) | (a >= b), a, b))
    return pd.Series(later, dtype="datetime64[ns]")
