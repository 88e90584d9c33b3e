"""Does the health score predict churn? Churn cases from stored snapshots, AUC, lift, tuning.

Pure functions on frames: nothing here reads the clock, prints or imports the CLI. A *case*
is a customer live in a snapshot dated d; it churned if it is absent from, or churned in,
the first snapshot dated on or after d + horizon. The AUC is our own Mann–Whitney
statistic (ties count half); scikit-learn is imported only by `tune`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from cstool.config import NOT_LIVE_STATUSES
from cstool.errors import UsageError
from cstool.numeric import sorted_codes

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import pandas as pd

    from cstool.config import Settings
    from cstool.store import Store

MEASURES = ("satisfaction", "recency", "nps", "support")
# The snapshot columns churn cases (and tuning) read.
CASE_COLUMNS = ("customer_id", "name", "health", "band", *MEASURES, "status")
BANDS = ("red", "yellow", "green")
NOT_LIVE = NOT_LIVE_STATUSES
MIN_EVENTS = 20  # fewer churn events (or stayers) than this: the figures are unreliable
ROC_POINTS = 300  # points of the ROC curve drawn in a report (the AUC is never read from them)
TOP_SHARE = 0.10  # top-decile lift: the 10 % lowest health
# Direct case resampling costs cases × replicates; above this the bootstrap draws the
# same distribution as a multinomial over (score, label) cells instead.
DIRECT_BUDGET = 4_000_000
MAX_CELLS = 512  # score levels in the multinomial bootstrap (more are binned; see _interval)
CHUNK = 100  # bootstrap replicates summed at once (bounds memory)


@dataclass
class BacktestResult:
    """Everything `cstool backtest` reports about health against churn."""

    horizon_days: int | None
    cases: int
    churned: int
    scored: int  # cases with a health score
    periods: int  # snapshot dates that gave cases
    by_band: pd.DataFrame  # index red/yellow/green: cases, churned, churn_rate
    red_green_ratio: float | None
    auc: float | None
    auc_ci: tuple[float, float] | None
    top_decile_lift: float | None
    measures: dict[str, float | None]
    churned_green: pd.DataFrame  # customer_id, name, as_of, health
    red_stayed: pd.DataFrame
    verdict: str
    reliable: bool
    first: date | None = None
    last: date | None = None
    # The ROC curve of low health as the churn signal, one point per distinct health (see
    # `roc_curve`); None when the cases hold no churner or no stayer.
    roc: pd.DataFrame | None = None


@dataclass
class ChurnCheck:
    """The report's "does health predict churn?": the backtest, or what the store lacks."""

    horizon_days: int
    result: BacktestResult | None = None
    tuned: TuneResult | None = None
    needs: str | None = None  # why there is no result, naming the command that gives one


# ----------------------------------------------------------------------------- cases
def churn_cases(
    snapshots: pd.DataFrame,
    horizon_days: int,
    *,
    ids: tuple[np.ndarray, np.ndarray] | None = None,
    listings: bool = True,
) -> pd.DataFrame:
    """Every live customer of every snapshot that has a later one at least `horizon_days` on.

    Columns: as_of, outcome_as_of, customer_id, name, health, band, each measure present
    (satisfaction, recency, nps as nps × 10, support; 0–100) and churned (bool). Sorted by
    as_of, customer_id; `attrs["horizon_days"]` keeps the horizon. `ids`: the rows'
    customer_id codes and uniques as `pd.factorize` gives them, when already known.
    `listings=False`: without customer_id and name, which only the listings of the cases
    health got wrong read (2.1M strings taken for 24 × 100k snapshots).
    """
    import numpy as np
    import pandas as pd

    if horizon_days <= 0:
        raise UsageError(f"--horizon {horizon_days}: expected a number of days above 0")
    days = pd.to_datetime(snapshots["as_of"]).to_numpy(dtype="datetime64[ns]")
    # The distinct days (NaT left out) and each row's position among them: one pass over
    # rows sorted by as_of (as stored snapshots come), not a sort and a binary search.
    day_codes, dates = sorted_codes(days)
    targets = dates + np.timedelta64(horizon_days, "D")
    later = np.searchsorted(dates, targets, side="left")
    has_outcome = later < len(dates)
    outcome_of = np.full(len(dates), np.datetime64("NaT"), dtype="datetime64[ns]")
    outcome_of[has_outcome] = dates[later[has_outcome]]

    # One integer key per (date, customer), ordered as (as_of, customer_id): the outcome
    # lookup is a binary search, not a string merge, and the cases come out sorted.
    id_rank, n_ids = _id_ranks(snapshots["customer_id"], ids)
    live, churned_now = _status_masks(snapshots)
    known_day = day_codes >= 0
    # A NaT row sorts after every day (as a binary search among them would place it).
    date_codes = day_codes if known_day.all() else np.where(known_day, day_codes, len(dates))
    if len(dates):
        row_has_outcome = has_outcome[np.minimum(date_codes, len(dates) - 1)]
    else:
        row_has_outcome = np.zeros(len(days), dtype=bool)
    candidate = live & known_day & row_has_outcome
    keys = date_codes.astype(np.int64) * n_ids + id_rank
    if len(keys) > 1 and not bool(np.all(keys[1:] >= keys[:-1])):
        order = np.argsort(keys, kind="stable")  # load_snapshots already sorts: rarely needed
        keys = keys[order]
        case_rows = order[candidate[order]]
    else:  # in key order already: no permutation (nor copies of 2.4M keys) needed
        order = None
        case_rows = np.flatnonzero(candidate)
    wanted = later[date_codes[case_rows]].astype(np.int64) * n_ids + id_rank[case_rows]
    at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    present = keys[at] == wanted if len(keys) else np.zeros(len(wanted), dtype=bool)
    churned = ~present | churned_now[at if order is None else order[at]]

    # Column by column (numbers as arrays, then the case rows): no frame of every kept
    # column is taken first.
    out: dict[str, Any] = {
        "as_of": days[case_rows],
        "outcome_as_of": outcome_of[date_codes[case_rows]],
    }
    if listings:
        out["customer_id"] = _strings(snapshots, "customer_id", case_rows)
        out["name"] = _strings(snapshots, "name", case_rows)
    out["health"] = _floats(snapshots, "health")[case_rows]
    out["band"] = _strings(snapshots, "band", case_rows)
    for name in MEASURES:
        if name in snapshots.columns:
            values = _floats(snapshots, name)[case_rows]
            out[name] = values * 10.0 if name == "nps" else values
    out["churned"] = churned
    # Every column is a new array (taken at the case rows): no copy into one 2-D block of
    # 2.1M × 7 numbers (0.28 s of page faults on 24 × 100k snapshots).
    cases = pd.DataFrame(out, copy=False)
    cases.attrs["horizon_days"] = horizon_days
    return cases


def _id_ranks(
    ids: pd.Series, coded: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, int]:
    """Each row's customer_id as its rank among the distinct ids (sorted as text); `coded`:
    its `pd.factorize` codes and uniques, when already known."""
    import numpy as np
    import pandas as pd

    if coded is None:
        found, distinct = pd.factorize(ids.astype("string"), use_na_sentinel=True)
        coded = (np.asarray(found), np.asarray(distinct, dtype=object))
    codes, uniques = coded
    rank_of = np.empty(len(uniques) + 1, dtype=np.int64)
    rank_of[np.argsort(np.asarray(uniques, dtype=object), kind="stable")] = np.arange(len(uniques))
    rank_of[-1] = len(uniques)  # a missing id (code -1) sorts last
    return rank_of[np.asarray(codes, dtype=np.int64)], len(uniques) + 1


def _status_masks(snapshots: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(live, churned) per row; an absent status column or <NA> counts as active."""
    import numpy as np

    n = len(snapshots)
    if "status" not in snapshots.columns:
        return np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
    status = snapshots["status"].astype("string").str.strip().str.lower()
    churned = (status == "churned").to_numpy(dtype=bool, na_value=False)
    gone = status.isin(NOT_LIVE).to_numpy(dtype=bool, na_value=False)
    return ~gone, churned


def _strings(frame: pd.DataFrame, name: str, rows: np.ndarray) -> pd.Series:
    """A text column at `rows` (all <NA> when the snapshots lack it), index reset."""
    import pandas as pd

    if name not in frame.columns:
        return pd.Series(pd.NA, index=pd.RangeIndex(len(rows)), dtype="string")
    return frame[name].iloc[rows].astype("string").reset_index(drop=True)


def _floats(frame: pd.DataFrame, name: str) -> np.ndarray:
    import numpy as np

    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    column = frame[name]
    if column.dtype == np.float64:  # NaN is its missing value already: no copy, no mask
        return np.asarray(column.to_numpy())
    return np.asarray(column.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan))


# ------------------------------------------------------------------------------- AUC
def mann_whitney_auc(churned: np.ndarray, risk: np.ndarray) -> float | None:
    """P(a churner's risk > a stayer's), ties counting half; None without both kinds.

    Cases whose risk is missing (NaN) are left out. Two sorts and two binary searches:
    for each churner, the stayers strictly below it and those tied with it.
    """
    import numpy as np

    y, s = _clean(churned, risk)
    churners, stayers = np.sort(s[y]), np.sort(s[~y])
    if len(churners) == 0 or len(stayers) == 0:
        return None
    below = np.searchsorted(stayers, churners, side="left")
    tied = np.searchsorted(stayers, churners, side="right") - below
    wins = below.sum(dtype=np.float64) + 0.5 * tied.sum(dtype=np.float64)
    return float(wins / (float(len(churners)) * float(len(stayers))))


def _clean(churned: np.ndarray, risk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    y = np.asarray(churned, dtype=bool)
    s = np.asarray(risk, dtype=np.float64)
    keep = ~np.isnan(s)
    return y[keep], s[keep]


def _auc_from_cells(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUC per row of (replicates × score levels, ascending) churner and stayer counts."""
    import numpy as np

    below = np.cumsum(neg, axis=1) - neg  # stayers with a strictly lower risk
    wins = (pos * (below + 0.5 * neg)).sum(axis=1)
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, wins / np.where(pairs > 0, pairs, 1.0), np.nan)


@dataclass(frozen=True)
class _Levels:
    """The distinct risks of some cases (ascending) and how many churners and stayers each
    has: all the AUC and the ROC curve read. Built from two sorts, no argsort."""

    risk: np.ndarray  # distinct risks, ascending (a tie of 0.0 and -0.0 is one level)
    churners: np.ndarray  # int64 per level
    stayers: np.ndarray  # int64 per level

    @classmethod
    def of(cls, churned: np.ndarray, risk: np.ndarray) -> _Levels:
        """The levels of `risk` (NaN left out), churners among them by `churned`."""
        import numpy as np

        y, s = _clean(churned, risk)
        if len(s) == 0:
            none = np.zeros(0, dtype=np.int64)
            return cls(np.zeros(0), none, none)
        ranked = np.sort(s)
        starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        levels = ranked[starts]
        zero = np.flatnonzero(levels == 0)
        if len(zero):
            # 0.0 and -0.0 tie; the level shows the sign of the last such case in the input
            # (as a stable sort of the cases would), not whichever the sort put first.
            levels[zero[0]] = s[np.flatnonzero(s == 0)[-1]]
        at_or_above = len(s) - starts  # cases with a risk at or above each level
        positives = np.sort(s[y])
        churners_above = len(positives) - np.searchsorted(positives, levels, side="left")
        churners = np.diff(np.r_[churners_above, 0]).astype(np.int64) * -1
        cases = np.diff(np.r_[at_or_above, 0]) * -1
        return cls(levels, churners, (cases - churners).astype(np.int64))

    def auc(self) -> float | None:
        """`mann_whitney_auc` of these cases (the same integers, so the same float)."""
        import numpy as np

        n_pos, n_neg = int(self.churners.sum()), int(self.stayers.sum())
        if n_pos == 0 or n_neg == 0:
            return None
        below = np.cumsum(self.stayers) - self.stayers  # stayers strictly below each level
        wins = float(np.dot(self.churners, below)) + 0.5 * float(
            np.dot(self.churners, self.stayers)
        )
        return float(wins / (float(n_pos) * float(n_neg)))

    def roc(self) -> pd.DataFrame | None:
        """`roc_curve` of these cases."""
        import numpy as np
        import pandas as pd

        positives, negatives = int(self.churners.sum()), int(self.stayers.sum())
        if positives == 0 or negatives == 0:
            return None
        true_pos = np.cumsum(self.churners[::-1], dtype=np.int64)  # highest risk first
        false_pos = np.cumsum(self.stayers[::-1], dtype=np.int64)
        return pd.DataFrame(
            {
                "fpr": np.concatenate([[0.0], false_pos / negatives]),
                "tpr": np.concatenate([[0.0], true_pos / positives]),
                "risk": np.concatenate([[np.inf], self.risk[::-1]]),
            }
        )


def roc_curve(churned: np.ndarray, risk: np.ndarray) -> pd.DataFrame | None:
    """The ROC curve of `risk` as a churn signal: columns fpr, tpr and risk (the cut).

    One point per distinct risk, highest first, after (0, 0) at an infinite cut: the share
    of stayers (fpr) and of churners (tpr) whose risk is at least the cut. Tied risks form
    one step, so the area under the points (trapezoids) is the AUC with ties counting half.
    Counts per distinct risk from two sorts; NaN risks are left out; None without both kinds.
    """
    return _Levels.of(churned, risk).roc()


def roc_points(roc: pd.DataFrame, limit: int = ROC_POINTS) -> pd.DataFrame:
    """At most `limit` points of a ROC curve, for drawing: evenly spaced along the curve.

    The curve climbs right and up, so fpr + tpr grows along it from 0 to 2; the points
    kept are the first at or past each of `limit` even steps of it, with both ends. The
    figure loses at most 2 / limit of detail; the AUC is never computed from these points.
    """
    import numpy as np

    if len(roc) <= limit:
        return roc.reset_index(drop=True)
    along = (roc["fpr"] + roc["tpr"]).to_numpy(dtype=np.float64)
    steps = np.linspace(0.0, along[-1], max(limit - 1, 2))
    picked = np.unique(
        np.concatenate([[0, len(roc) - 1], np.searchsorted(along, steps, side="left")])
    )
    picked = picked[picked < len(roc)]
    return roc.iloc[picked].reset_index(drop=True)


def auc_interval(
    churned: np.ndarray,
    risk: np.ndarray,
    *,
    seed: int = 0,
    replicates: int = 1000,
    exact: float | None = None,
) -> tuple[float, float] | None:
    """A seeded bootstrap 95 % percentile interval of the AUC, resampling cases.

    Small samples resample case indices directly. Large ones draw each replicate's counts
    per (score, label) cell from the multinomial that case resampling gives (the same
    distribution), with the scores binned into MAX_CELLS equal-width levels for the
    replicates; the interval is shifted by the binned AUC's offset from `exact` (the AUC).
    """
    import numpy as np

    y, s = _clean(churned, risk)
    n = len(y)
    if replicates <= 0 or n == 0 or y.all() or not y.any():
        return None
    rng = np.random.default_rng(seed)
    shift = 0.0
    draws: list[np.ndarray] = []
    if n * replicates <= DIRECT_BUDGET:
        levels, inverse = np.unique(s, return_inverse=True)
        k = len(levels)
        cell = inverse + k * y  # churners' cells after stayers'
        for start in range(0, replicates, CHUNK):
            b = min(CHUNK, replicates - start)
            picked = cell[rng.integers(0, n, size=(b, n))]
            offsets = (np.arange(b) * 2 * k)[:, None]
            counts = np.bincount((picked + offsets).ravel(), minlength=b * 2 * k)
            counts = counts.reshape(b, 2 * k).astype(np.float64)
            draws.append(_auc_from_cells(counts[:, k:], counts[:, :k]))
    else:
        lo, hi = float(s.min()), float(s.max())
        k = MAX_CELLS
        if hi > lo:
            inverse = np.minimum(((s - lo) / (hi - lo) * k).astype(np.int64), k - 1)
        else:
            inverse = np.zeros(n, dtype=np.int64)
        pos = np.bincount(inverse, weights=y.astype(np.float64), minlength=k)
        neg = np.bincount(inverse, minlength=k).astype(np.float64) - pos
        if exact is None:
            exact = mann_whitney_auc(y, s)
        binned = float(_auc_from_cells(pos[None, :], neg[None, :])[0])
        shift = (exact or binned) - binned
        counts_all = np.concatenate([neg, pos])
        present = counts_all > 0
        probs = counts_all[present] / n
        for start in range(0, replicates, CHUNK):
            b = min(CHUNK, replicates - start)
            drawn = np.zeros((b, 2 * k))
            drawn[:, present] = rng.multinomial(n, probs, size=b)
            draws.append(_auc_from_cells(drawn[:, k:], drawn[:, :k]))
    values = np.concatenate(draws)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return None
    low, high = np.percentile(values, [2.5, 97.5]) + shift
    return float(np.clip(low, 0.0, 1.0)), float(np.clip(high, 0.0, 1.0))


# -------------------------------------------------------------------------- backtest
def backtest(
    cases: pd.DataFrame,
    *,
    seed: int = 0,
    bootstrap: int = 1000,
    horizon_days: int | None = None,
    listings: bool = True,
    curve: bool = True,
) -> BacktestResult:
    """Health against churn over `cases` (from `churn_cases`): AUC, interval, bands, lift.

    `listings=False`: `churned_green` and `red_stayed` are left empty (the report shows
    neither; cases from `churn_cases(..., listings=False)` cannot name them). `curve=False`:
    no ROC curve (`roc` None; only the HTML page draws it: a point per distinct health)."""
    import numpy as np
    import pandas as pd

    horizon = horizon_days if horizon_days is not None else cases.attrs.get("horizon_days")
    y = cases["churned"].to_numpy(dtype=bool)
    health = cases["health"].to_numpy(dtype=np.float64, na_value=np.nan)
    scored = ~np.isnan(health)
    # With the curve, the AUC and the ROC curve from one set of counts; without it, two
    # sorts (churners, stayers) cost less than the counts per distinct health (2M levels
    # for 24 x 100k snapshots). The same integers either way, so the same float.
    levels = _Levels.of(y, -health) if curve else None
    auc = levels.auc() if levels is not None else mann_whitney_auc(y, -health)
    interval = None
    if auc is not None:
        interval = auc_interval(y, -health, seed=seed, replicates=bootstrap, exact=auc)

    band = cases["band"].astype("string")
    in_band = {b: (band == b).to_numpy(dtype=bool, na_value=False) for b in BANDS}
    counts = [int(in_band[b].sum()) for b in BANDS]
    events_in = [int((in_band[b] & y).sum()) for b in BANDS]
    by_band = pd.DataFrame(
        {
            "cases": np.array(counts, dtype=np.int64),
            "churned": np.array(events_in, dtype=np.int64),
            "churn_rate": [
                e / c if c else math.nan for e, c in zip(events_in, counts, strict=True)
            ],
        },
        index=pd.Index(BANDS, name="band"),
    )
    red_rate, green_rate = by_band["churn_rate"].iloc[0], by_band["churn_rate"].iloc[2]
    ratio = float(red_rate / green_rate) if green_rate > 0 and not math.isnan(red_rate) else None

    lift = _top_decile_lift(y, health, scored)
    measures = {
        name: mann_whitney_auc(y, -cases[name].to_numpy(dtype=np.float64, na_value=np.nan))
        for name in MEASURES
        if name in cases.columns
    }
    if listings:
        churned_green = _misses(cases, in_band["green"] & y, health, highest_first=True)
        red_stayed = _misses(cases, in_band["red"] & ~y, health, highest_first=False)
    else:
        churned_green = red_stayed = _no_misses()
    events = int(y.sum())
    stayed = int(len(y) - events)
    days = cases["as_of"]
    result = BacktestResult(
        horizon_days=int(horizon) if horizon is not None else None,
        cases=len(cases),
        churned=events,
        scored=int(scored.sum()),
        periods=int(days.nunique()),
        by_band=by_band,
        red_green_ratio=ratio,
        auc=auc,
        auc_ci=interval,
        top_decile_lift=lift,
        measures=measures,
        churned_green=churned_green.reset_index(drop=True),
        red_stayed=red_stayed.reset_index(drop=True),
        verdict="",
        reliable=events >= MIN_EVENTS and stayed >= MIN_EVENTS and auc is not None,
        first=days.min().date() if len(days) else None,
        last=days.max().date() if len(days) else None,
        roc=levels.roc() if levels is not None else None,
    )
    result.verdict = verdict(result)
    return result


def _misses(
    cases: pd.DataFrame, mask: np.ndarray, health: np.ndarray, *, highest_first: bool
) -> pd.DataFrame:
    """The cases health got wrong, most surprising first; ties keep the cases' order."""
    import numpy as np

    rows = np.flatnonzero(mask)
    key = -health[rows] if highest_first else health[rows]
    rows = rows[np.argsort(key, kind="stable")]
    return cases[["customer_id", "name", "as_of", "health"]].iloc[rows].reset_index(drop=True)


def _no_misses() -> pd.DataFrame:
    """`_misses`' columns, no rows."""
    import pandas as pd

    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="string"),
            "name": pd.Series(dtype="string"),
            "as_of": pd.Series(dtype="datetime64[ns]"),
            "health": pd.Series(dtype="float64"),
        }
    )


def _top_decile_lift(y: np.ndarray, health: np.ndarray, scored: np.ndarray) -> float | None:
    """Churn rate among the 10 % lowest health ÷ the rate of all scored cases.

    Ties at the cut are taken in the cases' order (as_of, customer_id), so it is
    reproducible; a partition, not a sort.
    """
    import numpy as np

    h, churned = health[scored], y[scored]
    n = len(h)
    if n == 0 or not churned.any():
        return None
    top = max(1, math.ceil(n * TOP_SHARE))
    cut = np.partition(h, top - 1)[top - 1]
    below = h < cut
    at_cut = np.flatnonzero(h == cut)[: top - int(below.sum())]
    events = int(churned[below].sum()) + int(churned[at_cut].sum())
    return float((events / top) / churned.mean())


def verdict(result: BacktestResult) -> str:
    """The finding in words; small samples are called unreliable, never presented as facts."""
    stayed = result.cases - result.churned
    if result.cases == 0:
        return "no cases: the store needs two snapshots at least the horizon apart"
    if result.churned == 0:
        return f"no churn events among {result.cases} cases: nothing to check health against"
    if stayed == 0:
        return f"every one of {result.cases} cases churned: nothing to check health against"
    if result.auc is None:
        return "no case has a health score: nothing to check"
    # Two decimals, three when the interval would round to a single number.
    places = 2
    if result.auc_ci is not None and round(result.auc_ci[0], 2) == round(result.auc_ci[1], 2):
        places = 3
    figures = f"AUC {result.auc:.{places}f}"
    if result.auc_ci is not None:
        figures += f" ({result.auc_ci[0]:.{places}f}–{result.auc_ci[1]:.{places}f})"
    if result.churned < MIN_EVENTS:
        return f"only {result.churned} churn events: the figures are unreliable ({figures})"
    if stayed < MIN_EVENTS:
        return f"only {stayed} cases stayed: the figures are unreliable ({figures})"
    low, high = result.auc_ci if result.auc_ci is not None else (result.auc, result.auc)
    if low > 0.5:
        parts = [f"health predicts churn: {figures}"]
        if result.red_green_ratio is not None:
            parts.append(f"red customers churned {result.red_green_ratio:.1f}× as often as green")
        if result.top_decile_lift is not None:
            parts.append(
                f"the lowest-health tenth churned {result.top_decile_lift:.1f}× the average"
            )
        return "; ".join(parts)
    if high < 0.5:
        return (
            f"health does not predict churn: {figures} is below 0.5 — "
            "customers with higher health churned more"
        )
    return f"health does not predict churn: the interval covers 0.5 ({figures})"


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def to_json(result: BacktestResult) -> dict[str, Any]:
    """The result as plain JSON-ready data (numbers as numbers, missing as None)."""
    return {
        "horizon_days": result.horizon_days,
        "cases": result.cases,
        "churned": result.churned,
        "auc": result.auc,
        "auc_ci": list(result.auc_ci) if result.auc_ci is not None else None,
        "top_decile_lift": result.top_decile_lift,
        "by_band": {
            band: {
                "cases": int(row["cases"]),
                "churned": int(row["churned"]),
                "churn_rate": _number(row["churn_rate"]),
            }
            for band, row in result.by_band.iterrows()
        },
        "measures": {name: {"auc": auc} for name, auc in result.measures.items()},
        "verdict": result.verdict,
    }


# ------------------------------------------------------------------------------ tune
@dataclass
class TuneResult:
    """Weights fitted on the earlier periods, judged on the later ones only."""

    train_dates: tuple[date, date] | None
    test_dates: tuple[date, date] | None
    train_cases: int
    test_cases: int
    test_churned: int
    measures: tuple[str, ...]  # measures the snapshots hold
    coefficients: dict[str, float]  # logistic coefficient per measure point (raw 0–100 scale)
    fitted_weights: dict[str, float] | None
    old_auc: float | None  # held-out periods only
    new_auc: float | None  # held-out periods only
    weights: dict[str, float] | None  # proposed (None: nothing proposed)
    red_below: float | None
    green_from: float | None
    message: str
    toml: str


def tune(
    cases: pd.DataFrame,
    settings: Settings | None = None,
    *,
    train_share: float = 2 / 3,
    min_gain: float = 0.005,
) -> TuneResult:
    """Fit a logistic regression of churn on the measures over the earlier snapshot dates
    and propose health weights and a red threshold, only if they beat the stored health's
    AUC on the later dates (the only AUCs reported)."""
    import numpy as np

    from cstool.config import Settings

    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        raise UsageError(
            "--tune needs scikit-learn, which is not installed",
            hint='pip install "cstool[tune]"',
        ) from None
    settings = settings or Settings()
    present = tuple(m for m in MEASURES if m in cases.columns and cases[m].notna().any())
    dates = np.unique(cases["as_of"].to_numpy(dtype="datetime64[ns]"))
    empty = TuneResult(None, None, 0, 0, 0, present, {}, None, None, None, None, None, None, "", "")
    if len(dates) < 2:
        empty.message = f"cannot tune: cases on {len(dates)} date(s), need at least 2 to split"
        return empty
    if not present:
        empty.message = "cannot tune: the snapshots hold no health measures"
        return empty
    n_train = min(max(1, math.floor(len(dates) * train_share)), len(dates) - 1)
    cut = dates[n_train]
    when = cases["as_of"].to_numpy(dtype="datetime64[ns]")
    train, test = cases[when < cut], cases[when >= cut]
    y_train = train["churned"].to_numpy(dtype=bool)
    y_test = test["churned"].to_numpy(dtype=bool)
    result = TuneResult(
        train_dates=(_day(dates[0]), _day(dates[n_train - 1])),
        test_dates=(_day(cut), _day(dates[-1])),
        train_cases=len(train),
        test_cases=len(test),
        test_churned=int(y_test.sum()),
        measures=present,
        coefficients={},
        fitted_weights=None,
        old_auc=None,
        new_auc=None,
        weights=None,
        red_below=None,
        green_from=None,
        message="",
        toml="",
    )
    train_events = int(y_train.sum())
    if min(train_events, len(y_train) - train_events) < MIN_EVENTS:
        result.message = (
            f"cannot tune: {train_events} churn events among {len(y_train)} training cases, "
            f"need at least {MIN_EVENTS} churned and {MIN_EVENTS} stayed"
        )
        return result

    x_train = _measure_matrix(train, present)
    means = np.nanmean(x_train, axis=0)
    filled = np.where(np.isnan(x_train), means, x_train)
    scaler = StandardScaler().fit(filled)
    model = LogisticRegression(max_iter=1000).fit(scaler.transform(filled), y_train)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    coef = model.coef_[0] / scale  # per measure point: negative = higher measure, less churn
    result.coefficients = {m: float(c) for m, c in zip(present, coef, strict=True)}
    raw = np.where(coef < 0, -coef, 0.0)
    if raw.sum() <= 0:
        result.message = "no measure lowers churn as it rises: nothing to propose"
        return result
    # Judge exactly the weights that would be pasted: rounded to three decimals.
    rounded = np.round(raw / raw.sum(), 3)
    if rounded.sum() <= 0:
        rounded = raw / raw.sum()
    weights = dict.fromkeys(MEASURES, 0.0)
    weights.update({m: float(w) for m, w in zip(present, rounded, strict=True)})
    result.fitted_weights = weights

    new_test = _health(test, weights)
    old_test = test["health"].to_numpy(dtype=np.float64, na_value=np.nan)
    both = ~np.isnan(new_test) & ~np.isnan(old_test)
    test_events = int(y_test[both].sum())
    result.old_auc = mann_whitney_auc(y_test[both], -old_test[both])
    result.new_auc = mann_whitney_auc(y_test[both], -new_test[both])
    gain = f"held-out AUC {_fmt(result.old_auc)} → {_fmt(result.new_auc)}"
    if min(test_events, int(both.sum()) - test_events) < MIN_EVENTS:
        result.message = (
            f"cannot judge the fit: only {test_events} churn events in the held-out periods "
            f"({gain}); keep the current weights"
        )
        return result
    old, new = result.old_auc, result.new_auc
    if new is None or old is None or new < old + min_gain:
        result.message = f"the fitted weights do not improve the {gain}: keep the current ones"
        return result

    bands = settings.bands
    new_train = _health(train, weights)
    red_below, green_from = _thresholds(new_train, y_train, bands.green_from)
    result.weights = weights
    result.red_below = red_below
    result.green_from = green_from
    result.message = f"the fitted weights improve the {gain}"
    lines = ["[health.weights]"]
    for name in MEASURES:
        note = "" if name in present else "  # not in the snapshots: judged without it"
        lines.append(f"{name} = {weights[name]:g}{note}")
    lines += ["", "[bands]", f"red_below = {red_below:g}", f"green_from = {green_from:g}"]
    result.toml = "\n".join(lines) + "\n"
    return result


def _day(value: Any) -> date:
    import pandas as pd

    return pd.Timestamp(value).date()


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _measure_matrix(cases: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    import numpy as np

    return np.column_stack([cases[n].to_numpy(dtype=np.float64, na_value=np.nan) for n in names])


def _health(cases: pd.DataFrame, weights: dict[str, float]) -> np.ndarray:
    """Health with these weights, a missing measure left out and the rest renormalised
    (as scoring does)."""
    import numpy as np

    total = np.zeros(len(cases))
    present = np.zeros(len(cases))
    for name, weight in weights.items():
        if name not in cases.columns or weight == 0:
            continue
        values = cases[name].to_numpy(dtype=np.float64, na_value=np.nan)
        have = ~np.isnan(values)
        total += np.where(have, weight * values, 0.0)
        present += np.where(have, weight, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present > 0, total / np.where(present > 0, present, 1.0), np.nan)


def _thresholds(
    health: np.ndarray, churned: np.ndarray, current_green: float
) -> tuple[float, float]:
    """red_below: the whole health that best separates churners (Youden's J) on the training
    part; green_from: the lowest whole health at or above it where the cases from there up
    churn at most half the overall rate (else the current green_from, or red_below)."""
    import numpy as np

    keep = ~np.isnan(health)
    h, y = health[keep], churned[keep]
    churner = np.sort(h[y])
    stayer = np.sort(h[~y])
    grid = np.arange(1.0, 100.0)
    tpr = np.searchsorted(churner, grid, side="left") / max(len(churner), 1)
    fpr = np.searchsorted(stayer, grid, side="left") / max(len(stayer), 1)
    red_below = float(grid[int(np.argmax(tpr - fpr))])
    overall = y.mean()
    # Cases at or above each threshold: counts from the sorted arrays.
    above_churn = len(churner) - np.searchsorted(churner, grid, side="left")
    above_all = above_churn + len(stayer) - np.searchsorted(stayer, grid, side="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = above_churn / above_all
    ok = (grid >= red_below) & (above_all >= 0.05 * len(h)) & (rate <= overall / 2)
    green_from = float(grid[np.argmax(ok)]) if ok.any() else max(current_green, red_below)
    return red_below, green_from


def tune_json(result: TuneResult) -> dict[str, Any]:
    """The tuning result as plain JSON-ready data."""
    return {
        "train_dates": [d.isoformat() for d in result.train_dates] if result.train_dates else None,
        "test_dates": [d.isoformat() for d in result.test_dates] if result.test_dates else None,
        "train_cases": result.train_cases,
        "test_cases": result.test_cases,
        "test_churned": result.test_churned,
        "old_auc": result.old_auc,
        "new_auc": result.new_auc,
        "weights": result.weights,
        "red_below": result.red_below,
        "green_from": result.green_from,
        "message": result.message,
        "toml": result.toml or None,
    }


def stored_snapshots(
    store: Store, as_of: date, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """The store's snapshots dated on or before `as_of` (a past as-of sees the store as it was);
    only `columns` (and as_of) when given, e.g. CASE_COLUMNS."""
    dates = [day for day in store.snapshot_dates() if day <= as_of]
    return store.load_snapshots(dates, columns)


def churn_check(
    snapshots: pd.DataFrame | None,
    horizon_days: int,
    as_of: date,
    settings: Settings | None = None,
    *,
    tune_weights: bool = False,
    ids: tuple[np.ndarray, np.ndarray] | None = None,
    curve: bool = True,
) -> ChurnCheck:
    """The backtest for a report: the result (and tuning, if asked), or what it needs.

    `snapshots`: the stored ones dated on or before `as_of` (None: there is no store). A
    store that cannot answer gives `needs`, a sentence naming the command to run, not an error.
    `ids`: the snapshots' customer_id codes and uniques (`pd.factorize`), when already known.
    The result lists no cases health got wrong (`churned_green`, `red_stayed` are empty: a
    report shows the figures, `backtest` the listings); `curve=False`: nor the ROC curve
    (for a report without its HTML page).
    """
    import pandas as pd

    check = ChurnCheck(horizon_days)
    if snapshots is None or snapshots.empty:
        check.needs = (
            f"No snapshots stored up to {as_of}. Store one a month with `cstool snapshot FILE` "
            "(several dated exports at once: `cstool snapshot exports/customers_*.csv`); "
            f"the check needs two at least {horizon_days} days apart."
        )
        return check
    cases = churn_cases(snapshots, horizon_days, ids=ids, listings=False)
    if cases.empty:
        days = pd.to_datetime(snapshots["as_of"])
        first, last = days.min().date(), days.max().date()
        span = f"{first}" if first == last else f"{first} … {last}"
        count = int(days.nunique())
        check.needs = (
            f"{count} snapshot date{'s' if count != 1 else ''} stored ({span}), none with a "
            f"later snapshot at least {horizon_days} days on. Keep storing one a month with "
            "`cstool snapshot FILE`, or check a shorter horizon (`--horizon 30`)."
        )
        return check
    check.result = backtest(cases, horizon_days=horizon_days, listings=False, curve=curve)
    if tune_weights:
        check.tuned = tune(cases, settings)
    return check


def churn_json(check: ChurnCheck) -> dict[str, Any]:
    """The report's `backtest` object: the keys of `backtest --format json` (and `tune` when
    tuned); a store that cannot answer gives no cases, nulls and what it needs as the verdict."""
    if check.result is not None:
        data = to_json(check.result)
    else:
        data = {
            "horizon_days": check.horizon_days,
            "cases": 0,
            "churned": 0,
            "auc": None,
            "auc_ci": None,
            "top_decile_lift": None,
            "by_band": {band: {"cases": 0, "churned": 0, "churn_rate": None} for band in BANDS},
            "measures": {},
            "verdict": check.needs,
        }
    if check.tuned is not None:
        data["tune"] = tune_json(check.tuned)
    return data
