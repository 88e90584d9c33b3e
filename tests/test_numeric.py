"""Numbers from frames: one reading of a column as floats, and percentile ranks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cstool.numeric import (
    _few_values,
    _few_values_rank,
    _sorted_rank,
    column_floats,
    first_column,
    pct_rank,
    sorted_codes,
)


def test_every_missing_kind_reads_as_nan() -> None:
    f = pd.DataFrame(
        {
            "int": pd.array([3, None], dtype="Int64"),
            "float": [1.5, np.nan],
            "text": pd.array([" 7 ", "many"], dtype="string"),
            "flag": [True, False],
        }
    )
    assert column_floats(f, "int")[0] == 3.0 and math.isnan(column_floats(f, "int")[1])
    assert column_floats(f, "float")[0] == 1.5 and math.isnan(column_floats(f, "float")[1])
    text = column_floats(f, "text")
    assert text[0] == 7.0 and math.isnan(text[1])  # padded numbers count, words are missing
    assert column_floats(f, "flag").tolist() == [1.0, 0.0]
    assert column_floats(f, "int").dtype == np.float64


def test_an_absent_column_is_all_missing() -> None:
    f = pd.DataFrame({"mrr": [1.0, 2.0, 3.0]})
    absent = column_floats(f, "health")
    assert absent.shape == (3,) and np.isnan(absent).all()


def test_a_duplicated_header_reads_its_first_column() -> None:
    f = pd.DataFrame([[1.0, 9.0], [2.0, 8.0]], columns=["mrr", "mrr"])
    assert first_column(f, "mrr").tolist() == [1.0, 2.0]
    assert column_floats(f, "mrr").tolist() == [1.0, 2.0]


def test_pct_rank_by_hand() -> None:
    ranks = pct_rank(np.array([20.0, 10.0, np.nan, 30.0, 20.0]))
    # of the four known values, 10 has none below (+½ of itself) → 1/8; the two 20s share
    # places 2 and 3 → (1 + 3)/8; 30 has three below → 7/8
    assert ranks[[0, 1, 3, 4]].tolist() == [0.5, 0.125, 0.875, 0.5]
    assert math.isnan(ranks[2])
    assert np.isnan(pct_rank(np.array([np.nan, np.nan]))).all()
    assert pct_rank(np.array([], dtype=float)).shape == (0,)


def test_pct_rank_of_repeated_values_by_hand() -> None:
    # 1,001 customers: 1,000 on three prices, one missing: ranked through the distinct values
    mrr = np.array([49.0] * 500 + [19.0] * 300 + [99.0] * 200 + [np.nan])
    assert _few_values(mrr[~np.isnan(mrr)])
    ranks = pct_rank(mrr)
    # the 300 at 19 share places 1–300 → (0 + 300)/2000, the 500 at 49 sit above them
    # → (300 + 800)/2000, the 200 at 99 above 800 → (800 + 1000)/2000
    assert ranks[0] == 0.55 and ranks[500] == 0.15 and ranks[800] == 0.9
    assert math.isnan(ranks[-1])


@pytest.mark.parametrize("seed", range(20))
def test_both_ways_of_ranking_give_the_same_numbers(seed: int) -> None:
    rng = np.random.default_rng(seed)
    choices = np.array([0.0, -0.0, 1.5, np.inf, -np.inf, 3.0, 2.0, 1e300, -5.0, 1e-300])
    values = rng.choice(choices, int(rng.integers(1, 3000)))
    rounded = np.round(rng.normal(0, 3, int(rng.integers(1, 3000))), 1)
    for present in (values, rounded):
        assert np.array_equal(_few_values_rank(present), _sorted_rank(present))


def test_distinct_values_are_ranked_by_one_sort() -> None:
    assert not _few_values(np.random.default_rng(1).normal(0, 1, 5_000))
    assert not _few_values(np.array([1.0, 1.0, 2.0]))  # too few to tell: one sort is cheap


@pytest.mark.parametrize(
    "stamps",
    [
        ["2026-01-01", "2026-01-01", "2026-02-01", "2026-03-01", "2026-03-01"],  # sorted: runs
        ["2026-02-01", "2026-01-01", "2026-02-01"],  # unsorted
        ["2026-01-01", "2026-02-01", "NaT"],  # sorted, NaT last
        ["NaT", "2026-01-01", "2026-01-01"],  # NaT first
        ["2026-01-01"],
        [],
    ],
)
def test_sorted_codes_are_pd_factorize_sorted(stamps: list[str]) -> None:
    values = np.array(stamps, dtype="datetime64[ns]")
    codes, uniques = sorted_codes(values)
    expected_codes, expected = pd.factorize(values, sort=True)
    assert codes.dtype == np.int64 and codes.tolist() == expected_codes.tolist()
    assert uniques.dtype == values.dtype
    assert np.array_equal(uniques, np.asarray(expected, dtype=values.dtype))


def test_sorted_codes_of_sorted_days_number_the_runs() -> None:
    days = np.repeat(np.array(["2026-01-01", "2026-02-01"], dtype="datetime64[ns]"), [3, 2])
    codes, uniques = sorted_codes(days)
    assert codes.tolist() == [0, 0, 0, 1, 1]
    assert [str(u)[:10] for u in uniques] == ["2026-01-01", "2026-02-01"]
