"""The column-wise helpers of the sources' merge give what the plain pandas calls give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cstool.sources import merge

N = 7


@pytest.mark.parametrize(
    "values",
    [
        pd.Series([3, 1], index=[4, 0], dtype="Int64"),
        pd.Series([2.5, np.nan, 9.0], index=[0, 3, 6]),
        pd.Series(pd.to_datetime(["2026-01-02", "2025-12-31"]), index=[1, 5]),
        pd.Series(["pro", None, "team"], index=[2, 3, 6], dtype="string[pyarrow]"),
        pd.Series([10, 20], index=[6, 2], dtype=np.int64),  # ints: NaN where none, as floats
        pd.Series([], index=pd.Index([], dtype=np.int64), dtype=np.float64),
    ],
)
def test_on_rows_is_reindex(values: pd.Series) -> None:
    got = merge._on_rows(values, N)
    pd.testing.assert_series_equal(got, values.reindex(pd.RangeIndex(N)), check_exact=True)


def test_on_rows_falls_back_for_labels_that_are_not_distinct_positions() -> None:
    beyond = pd.Series([1.0, 2.0], index=[0, 9])  # a position past the table
    pd.testing.assert_series_equal(merge._on_rows(beyond, N), beyond.reindex(pd.RangeIndex(N)))
    named = pd.Series([1.0], index=["C001"])
    pd.testing.assert_series_equal(merge._on_rows(named, N), named.reindex(pd.RangeIndex(N)))
    with pytest.raises(ValueError, match="duplicate labels"):  # as pandas refuses them
        merge._on_rows(pd.Series([1.0, 2.0], index=[3, 3]), N)


def test_line_numbers_are_the_nullable_int32_of_the_floats() -> None:
    lines = np.array([2.0, np.nan, 1_000_001.0, np.nan])
    got = merge._line_numbers(lines)
    pd.testing.assert_extension_array_equal(got, pd.array(lines, dtype="Int32"))
    assert list(got) == [2, pd.NA, 1_000_001, pd.NA]
