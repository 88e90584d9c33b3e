"""Does the health score predict churn? Churn cases from stored snapshots, AUC, lift, tuning.

Pure functions on frames: nothing here reads the clock, prints or imports the CLI. A *case*
is a customer live in a snapshot dated d; it churned if it is absent from, or churned in,
the first snapshot dated on or after d + horizon. The AUC is our own Mann–Whitney
statistic (ties count half); scikit-learn is imported only by `tune`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from cstool.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cstool.config import Settings
    from cstool.store import Store

MEASURES = ("satisfaction", "recency", "nps", "support")
BANDS = ("red", "yellow", "green")
NOT_LIVE = ("churned", "paused")
MIN_EVENTS = 20  # fewer churn events (or stayers) than this: the figures are unreliable
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
    extra: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- cases
def churn_cases(snapshots: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """Every live customer of every snapshot that has a later one at least `horizon_days` on.

    Columns: as_of, outcome_as_of, customer_id, name, health, band, each measure present
    (satisfaction, recency, nps as nps × 10, support; 0–100) and churned (bool). Sorted by
    as_of, customer_id; `attrs["horizon_days"]` keeps the horizon.
    """
    import numpy as np
    import pandas as pd

    if horizon_days <= 0:
        raise UsageError(f"--horizon {horizon_days}: expected a number of days above 0")
    days = pd.to_datetime(snapshots["as_of"]).to_numpy(dtype="datetime64[ns]")
    dates = np.unique(days[~np.isnat(days)])
    targets = dates + np.timedelta64(horizon_days, "D")
    later = np.searchsorted(dates, targets, side="left")
    has_outcome = later < len(dates)
    outcome_of = np.full(len(dates), np.datetime64("NaT"), dtype="datetime64[ns]")
    outcome_of[has_outcome] = dates[later[has_outcome]]

    # One integer key per (date, customer): a hash join without string merges.
    ids, id_codes = _factorize(snapshots["customer_id"])
    date_codes = np.searchsorted(dates, days)
    n_ids = max(len(ids), 1)
    status = _status(snapshots)
    live = ~np.isin(status, NOT_LIVE)
    case_rows = np.flatnonzero(live & has_outcome[np.minimum(date_codes, len(dates) - 1)])
    case_rows = case_rows[~np.isnat(days[case_rows])]
    outcome_codes = later[date_codes[case_rows]]
    keys = date_codes.astype(np.int64) * n_ids + id_codes
    found = pd.Index(keys).get_indexer(outcome_codes.astype(np.int64) * n_ids + id_codes[case_rows])
    churned = found < 0
    churned[~churned] = status[found[~churned]] == "churned"

    rows = snapshots.iloc[case_rows]
    out: dict[str, Any] = {
        "as_of": days[case_rows],
        "outcome_as_of": outcome_of[date_codes[case_rows]],
        "customer_id": rows["customer_id"].astype("string").to_numpy(),
    }
    if "name" in snapshots.columns:
        out["name"] = rows["name"].astype("string").to_numpy()
    else:
        out["name"] = pd.array([pd.NA] * len(rows), dtype="string")
    out["health"] = _floats(rows, "health")
    out["band"] = (
        rows["band"].astype("string").to_numpy()
        if "band" in rows.columns
        else pd.array([pd.NA] * len(rows), dtype="string")
    )
    for name in MEASURES:
        if name in rows.columns:
            values = _floats(rows, name)
            out[name] = values * 10.0 if name == "nps" else values
    out["churned"] = churned
    cases = pd.DataFrame(out)
    cases["name"] = cases["name"].astype("string")
    cases["band"] = cases["band"].astype("string")
    cases["customer_id"] = cases["customer_id"].astype("string")
    cases = cases.sort_values(["as_of", "customer_id"], kind="stable", ignore_index=True)
    cases.attrs["horizon_days"] = horizon_days
    return cases


def _factorize(ids: pd.Series) -> tuple[Any, np.ndarray]:
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(ids.astype("string"), use_na_sentinel=True)
    return uniques, np.asarray(codes, dtype=np.int64)


def _status(snapshots: pd.DataFrame) -> np.ndarray:
    """Lifecycle status per row as plain strings; absent or <NA> counts as active."""
    import numpy as np

    if "status" not in snapshots.columns:
        return np.full(len(snapshots), "active", dtype=object)
    status = snapshots["status"].astype("string").str.strip().str.lower().fillna("active")
    return np.asarray(status.to_numpy(dtype=object))


def _floats(frame: pd.DataFrame, name: str) -> np.ndarray:
    import numpy as np

    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return np.asarray(frame[name].astype("float64").to_numpy(dtype=np.float64, na_value=np.nan))


# ------------------------------------------------------------------------------- AUC
def mann_whitney_auc(churned: np.ndarray, risk: np.ndarray) -> float | None:
    """P(a churner's risk > a stayer's), ties counting half; None without both kinds.

    Cases whose risk is missing (NaN) are left out.
    """
    import numpy as np

    y, s = _clean(churned, risk)
    _, inverse = np.unique(s, return_inverse=True)
    pos = np.bincount(inverse, weights=y.astype(np.float64))
    neg = np.bincount(inverse).astype(np.float64) - pos
    auc = _auc_from_cells(pos[None, :], neg[None, :])[0]
    return None if math.isnan(auc) else float(auc)


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


def auc_interval(
    churned: np.ndarray, risk: np.ndarray, *, seed: int = 0, replicates: int = 1000
) -> tuple[float, float] | None:
    """A seeded bootstrap 95 % percentile interval of the AUC, resampling cases.

    Small samples resample case indices directly. Large ones draw each replicate's counts
    per (score, label) cell from the multinomial that case resampling gives (the same
    distribution); above MAX_CELLS score levels the scores are binned for the replicates,
    and the interval is shifted by the binned AUC's offset from the exact one.
    """
    import numpy as np

    y, s = _clean(churned, risk)
    n = len(y)
    if replicates <= 0 or n == 0 or y.all() or not y.any():
        return None
    rng = np.random.default_rng(seed)
    levels, inverse = np.unique(s, return_inverse=True)
    k = len(levels)
    shift = 0.0
    draws: list[np.ndarray] = []
    if n * replicates <= DIRECT_BUDGET:
        cell = inverse + k * y  # churners' cells after stayers'
        for start in range(0, replicates, CHUNK):
            b = min(CHUNK, replicates - start)
            picked = cell[rng.integers(0, n, size=(b, n))]
            offsets = (np.arange(b) * 2 * k)[:, None]
            counts = np.bincount((picked + offsets).ravel(), minlength=b * 2 * k)
            counts = counts.reshape(b, 2 * k).astype(np.float64)
            draws.append(_auc_from_cells(counts[:, k:], counts[:, :k]))
    else:
        if k > MAX_CELLS:
            lo, hi = levels[0], levels[-1]
            inverse = np.minimum(((s - lo) / (hi - lo) * MAX_CELLS).astype(np.int64), MAX_CELLS - 1)
            k = MAX_CELLS
        pos = np.bincount(inverse, weights=y.astype(np.float64), minlength=k)
        neg = np.bincount(inverse, minlength=k).astype(np.float64) - pos
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
) -> BacktestResult:
    """Health against churn over `cases` (from `churn_cases`): AUC, interval, bands, lift."""
    import numpy as np
    import pandas as pd

    horizon = horizon_days if horizon_days is not None else cases.attrs.get("horizon_days")
    y = cases["churned"].to_numpy(dtype=bool)
    health = cases["health"].to_numpy(dtype=np.float64, na_value=np.nan)
    scored = ~np.isnan(health)
    auc = mann_whitney_auc(y, -health)
    interval = None
    if auc is not None:
        interval = auc_interval(y, -health, seed=seed, replicates=bootstrap)

    band = cases["band"].astype("string")
    grouped = (
        pd.DataFrame({"band": band, "churned": y})
        .dropna(subset=["band"])
        .groupby("band", observed=True)["churned"]
        .agg(["size", "sum"])
    )
    by_band = grouped.reindex(list(BANDS), fill_value=0).rename(
        columns={"size": "cases", "sum": "churned"}
    )
    by_band = by_band.astype({"cases": "int64", "churned": "int64"})
    with np.errstate(invalid="ignore", divide="ignore"):
        by_band["churn_rate"] = by_band["churned"] / by_band["cases"].where(by_band["cases"] > 0)
    rates = by_band["churn_rate"].to_numpy(dtype=np.float64, na_value=np.nan)
    red_rate, green_rate = float(rates[0]), float(rates[2])  # BANDS order: red, yellow, green
    ratio = red_rate / green_rate if green_rate > 0 and not math.isnan(red_rate) else None

    lift = _top_decile_lift(cases, y, health, scored)
    measures = {
        name: mann_whitney_auc(y, -cases[name].to_numpy(dtype=np.float64, na_value=np.nan))
        for name in MEASURES
        if name in cases.columns
    }
    misses = cases[["customer_id", "name", "as_of", "health"]]
    green = (band == "green").fillna(False).to_numpy(dtype=bool)
    red = (band == "red").fillna(False).to_numpy(dtype=bool)
    churned_green = misses[green & y].sort_values(
        ["health", "as_of", "customer_id"], ascending=[False, True, True], kind="stable"
    )
    red_stayed = misses[red & ~y].sort_values(
        ["health", "as_of", "customer_id"], ascending=[True, True, True], kind="stable"
    )
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
    )
    result.verdict = verdict(result)
    return result


def _top_decile_lift(
    cases: pd.DataFrame, y: np.ndarray, health: np.ndarray, scored: np.ndarray
) -> float | None:
    """Churn rate among the 10 % lowest health ÷ the rate of all scored cases."""
    import numpy as np

    n = int(scored.sum())
    if n == 0:
        return None
    overall = float(y[scored].mean())
    if overall == 0:
        return None
    # Lowest health first; ties broken by date and customer so the cut is reproducible.
    frame = cases.loc[scored, ["as_of", "customer_id"]].assign(health=health[scored])
    order = frame.sort_values(["health", "as_of", "customer_id"], kind="stable").index
    top = max(1, math.ceil(n * TOP_SHARE))
    return float(np.asarray(y)[order[:top]].mean() / overall)


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
    figures = f"AUC {result.auc:.2f}"
    if result.auc_ci is not None:
        figures += f" ({result.auc_ci[0]:.2f}–{result.auc_ci[1]:.2f})"
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


def stored_snapshots(store: Store, as_of: date) -> pd.DataFrame:
    """The store's snapshots dated on or before `as_of` (a past as-of sees the store as it was)."""
    dates = [day for day in store.snapshot_dates() if day <= as_of]
    return store.load_snapshots(dates)
