"""Numbers from frames, column-wise: a column as floats (NaN for missing), percentile ranks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import NDArray


def first_column(frame: pd.DataFrame, name: str) -> pd.Series:
    """The column `name`; of a duplicated header, the first one counts."""
    import pandas as pd

    col = frame[name]
    if isinstance(col, pd.DataFrame):
        col = col.iloc[:, 0]
    return col


def _as_floats(col: pd.Series) -> NDArray[Any]:
    """A column as a float64 array, NaN where missing; text is read as numbers where it is one."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype="float64", na_value=np.nan)
    if pd.api.types.is_numeric_dtype(col.dtype):
        return np.asarray(col.to_numpy(dtype="float64", na_value=np.nan), dtype="float64")
    numbers = pd.to_numeric(col.astype("string").str.strip(), errors="coerce")
    return np.asarray(pd.Series(numbers).to_numpy(dtype="float64", na_value=np.nan))


def column_floats(frame: pd.DataFrame, name: str) -> NDArray[Any]:
    """Column `name` of `frame` as float64 (see _as_floats); all NaN when the frame lacks it."""
    import numpy as np

    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return _as_floats(first_column(frame, name))


def pct_rank(values: NDArray[Any]) -> NDArray[Any]:
    """Percentile rank 0–1: share of (non-missing) values below, ties counting half.

    The middle customer is 0.5, so `pct_rank(mrr) >= 0.5` is the upper half; NaN stays NaN.
    """
    import numpy as np

    out = np.full(values.shape, np.nan)
    valid = ~np.isnan(values)
    present = values[valid]
    m = present.size
    if m:
        out[valid] = _few_values_rank(present) if _few_values(present) else _sorted_rank(present)
    return out


def _few_values(present: NDArray[Any]) -> bool:
    """Whether a sample of the values repeats enough for ranking the distinct values to pay
    (MRR: a few plan prices; a score with decimals: mostly distinct)."""
    import pandas as pd

    sample = present[:20_000]
    return len(sample) >= 1_000 and len(pd.unique(sample)) <= len(sample) // 8


def _sorted_rank(present: NDArray[Any]) -> NDArray[Any]:
    """`pct_rank` of values without NaN: one sort of them all."""
    import numpy as np

    m = present.size
    order = np.argsort(present)
    ordered = present[order]
    # runs of equal values: each member sits halfway between the run's start and end
    first_of_run = np.empty(m, dtype=bool)
    first_of_run[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first_of_run[1:])
    starts = np.flatnonzero(first_of_run)
    ends = np.append(starts[1:], m)
    run = np.cumsum(first_of_run) - 1
    ranks = np.empty(m)
    ranks[order] = (starts[run] + ends[run]) / (2.0 * m)
    return ranks


def _few_values_rank(present: NDArray[Any]) -> NDArray[Any]:
    """`pct_rank` of values without NaN, through their distinct values: one hash pass and a
    sort of the distinct values (the same numbers as `_sorted_rank`, a few times faster
    when values repeat)."""
    import numpy as np
    import pandas as pd

    m = present.size
    codes, uniques = pd.factorize(present + 0.0)  # + 0.0: -0.0 and 0.0 are one value
    counts = np.bincount(codes, minlength=len(uniques))
    order = np.argsort(np.asarray(uniques))
    ends = np.empty(len(uniques), dtype=np.int64)
    ends[order] = np.cumsum(counts[order])  # a value's run ends after every smaller one
    return ((ends - counts + ends) / (2.0 * m))[codes]


def sorted_codes(values: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    """`pd.factorize(values, sort=True)` of a datetime64[ns] array: (int64 codes, -1 for NaT;
    the distinct values, ascending), as an array.

    Stored snapshots come sorted by as_of: then each value's code is its run's number, from
    one pass over the rows (no hash table of 2.4M stamps, nor a sort of them).
    """
    import numpy as np
    import pandas as pd

    if values.dtype == np.dtype("datetime64[ns]") and len(values):
        stamps = values.view(np.int64)
        # NaT is the smallest int64: in sorted stamps it would come first.
        if not np.isnat(values[0]) and bool(np.all(stamps[1:] >= stamps[:-1])):
            starts = np.flatnonzero(np.r_[True, stamps[1:] != stamps[:-1]])
            lengths = np.diff(np.r_[starts, len(values)])
            return np.repeat(np.arange(len(starts), dtype=np.int64), lengths), values[starts]
    codes, uniques = pd.factorize(values, sort=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=values.dtype)
