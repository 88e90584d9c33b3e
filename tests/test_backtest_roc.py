"""The ROC curve of the backtest: equal to scikit-learn's, ties as one step, thinned for drawing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from cstool.backtest import (
    backtest,
    churn_cases,
    mann_whitney_auc,
    roc_curve,
    roc_points,
)
from tests.test_backtest import random_history


def area(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Trapezoids under the points: a tied step is a diagonal, i.e. ties count half."""
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def generated(seed: int, n: int, levels: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Churn labels and risks; `levels` whole values (many ties), None for continuous."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < rng.uniform(0.05, 0.6)
    noise = rng.normal(size=n)
    s = noise + rng.uniform(0, 1.5) * y
    if levels is not None:
        s = np.round((s - s.min()) / (np.ptp(s) or 1.0) * (levels - 1))
    return y, s


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("levels", [2, 7, 101, None])
def test_roc_points_equal_scikit_learn(seed: int, levels: int | None) -> None:
    y, s = generated(seed, 500 + 250 * seed, levels)
    roc = roc_curve(y, s)
    assert roc is not None
    fpr, tpr, thresholds = sk_roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(roc["fpr"], fpr, rtol=0, atol=1e-12)
    np.testing.assert_allclose(roc["tpr"], tpr, rtol=0, atol=1e-12)
    assert roc["risk"].iloc[0] == np.inf
    np.testing.assert_array_equal(roc["risk"].to_numpy()[1:], thresholds[1:])
    # One point per distinct risk (a tie is one step), after the origin.
    assert len(roc) == len(np.unique(s)) + 1
    assert area(roc["fpr"].to_numpy(), roc["tpr"].to_numpy()) == pytest.approx(
        roc_auc_score(y, s), abs=1e-12
    )


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=60).filter(
        lambda pairs: len({y for y, _ in pairs}) == 2
    )
)
def test_area_under_the_points_is_the_auc_with_ties_counting_half(
    pairs: list[tuple[bool, int]],
) -> None:
    y = np.array([p[0] for p in pairs])
    s = np.array([p[1] for p in pairs], dtype=float)
    roc = roc_curve(y, s)
    assert roc is not None
    fpr, tpr = roc["fpr"].to_numpy(), roc["tpr"].to_numpy()
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert area(fpr, tpr) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert area(fpr, tpr) == pytest.approx(mann_whitney_auc(y, s), abs=1e-12)


def test_missing_risks_are_left_out_and_one_kind_gives_no_curve() -> None:
    y = np.array([True, False, True, False, True])
    s = np.array([3.0, np.nan, 2.0, 1.0, np.nan])
    roc = roc_curve(y, s)
    assert roc is not None
    assert roc["fpr"].tolist() == [0.0, 0.0, 0.0, 1.0]
    assert roc["tpr"].tolist() == [0.0, 0.5, 1.0, 1.0]
    assert roc_curve(np.array([True, True]), np.array([1.0, 2.0])) is None
    assert roc_curve(np.array([False, False]), np.array([1.0, 2.0])) is None


def test_the_backtest_result_carries_the_roc_of_low_health() -> None:
    cases = churn_cases(random_history(3, signal=1.5), 60)
    result = backtest(cases, bootstrap=0)
    assert result.roc is not None
    scored = cases[cases["health"].notna()]
    fpr, tpr, _ = sk_roc_curve(scored["churned"], -scored["health"], drop_intermediate=False)
    np.testing.assert_allclose(result.roc["fpr"], fpr, atol=1e-12)
    np.testing.assert_allclose(result.roc["tpr"], tpr, atol=1e-12)
    assert area(result.roc["fpr"].to_numpy(), result.roc["tpr"].to_numpy()) == pytest.approx(
        result.auc, abs=1e-12
    )


def test_thinning_keeps_the_ends_a_few_hundred_points_and_the_shape() -> None:
    y, s = generated(9, 200_000, None)
    roc = roc_curve(y, s)
    assert roc is not None and len(roc) > 100_000
    thin = roc_points(roc, 300)
    assert 150 <= len(thin) <= 300
    assert (thin["fpr"].iloc[0], thin["tpr"].iloc[0]) == (0.0, 0.0)
    assert (thin["fpr"].iloc[-1], thin["tpr"].iloc[-1]) == (1.0, 1.0)
    # Every point kept is a point of the curve, in the curve's order.
    merged = roc.reset_index().merge(thin, on=["fpr", "tpr", "risk"])
    assert len(merged) == len(thin) and merged["index"].is_monotonic_increasing
    # Drawn, it stays close: its area is within 2 / 300 of the exact AUC.
    exact = mann_whitney_auc(y, s)
    assert exact is not None
    drawn = area(thin["fpr"].to_numpy(), thin["tpr"].to_numpy())
    assert abs(drawn - exact) < 2 / 300
    # A short curve is drawn whole.
    few = roc.iloc[:50]
    assert roc_points(few, 300).equals(few.reset_index(drop=True))


def _reference_roc(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve as it was computed before the level counts: one stable argsort."""
    keep = ~np.isnan(s)
    y, s = y[keep], s[keep]
    positives = int(y.sum())
    negatives = len(y) - positives
    order = np.argsort(-s, kind="stable")
    ranked, hits = s[order], y[order]
    ends = np.append(np.flatnonzero(ranked[1:] != ranked[:-1]), len(ranked) - 1)
    true_pos = np.cumsum(hits, dtype=np.int64)[ends]
    false_pos = ends + 1 - true_pos
    return (
        np.concatenate([[0.0], false_pos / negatives]),
        np.concatenate([[0.0], true_pos / positives]),
        np.concatenate([[np.inf], ranked[ends]]),
    )


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("levels", [1, 2, 7, 101, None])
def test_roc_and_auc_are_bit_identical_to_the_sorting_versions(
    seed: int, levels: int | None
) -> None:
    """The report's ROC and AUC come from per-level counts: the very same floats (bits, and
    the sign of a zero risk) as one stable argsort and as `mann_whitney_auc`."""
    rng = np.random.default_rng(seed)
    y, s = generated(seed, 400 + 300 * seed, levels)
    s = s - np.median(s)  # some risks are exactly 0 ...
    zero = rng.random(len(s)) < 0.1
    s[zero] = np.where(rng.random(int(zero.sum())) < 0.5, 0.0, -0.0)  # ... of both signs
    s[rng.random(len(s)) < 0.05] = np.nan  # and some are missing
    if len(np.unique(y)) < 2:
        y[:2] = [True, False]
    roc = roc_curve(y, s)
    assert roc is not None
    fpr, tpr, risk = _reference_roc(y, s)
    assert roc["fpr"].to_numpy().tobytes() == fpr.tobytes()
    assert roc["tpr"].to_numpy().tobytes() == tpr.tobytes()
    assert roc["risk"].to_numpy().tobytes() == risk.tobytes()
    health = -s
    cases = pd.DataFrame(
        {
            "as_of": pd.Timestamp("2026-01-01"),
            "customer_id": [f"C{i:05d}" for i in range(len(s))],
            "name": "",
            "health": health,
            "band": "green",
            "churned": y,
        }
    )
    result = backtest(cases, horizon_days=90, bootstrap=50)
    assert result.auc == mann_whitney_auc(y, -health)
    assert result.roc is not None
    assert result.roc["fpr"].to_numpy().tobytes() == fpr.tobytes()


def test_roc_of_no_scored_case_is_none() -> None:
    assert roc_curve(np.array([True, False]), np.array([np.nan, np.nan])) is None
