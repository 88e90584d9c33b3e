"""The column-wise helpers of the sources' merge give what the plain pandas calls give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cstool.sources import aggregate, merge

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
        pd.Series([True, False], index=[0, 5], name="flag"),  # bools: objects, None where none
        pd.Series(["a", None], index=[3, 1], dtype=object, name="text"),
        pd.Series([1.5, 2.5], index=np.array([6, 0], dtype=np.int32)),
    ],
)
def test_on_rows_is_reindex(values: pd.Series) -> None:
    got = merge._on_rows(values, N)
    pd.testing.assert_series_equal(got, values.reindex(pd.RangeIndex(N)), check_exact=True)


@pytest.mark.parametrize(
    "lines",
    [
        pd.Series([12, 3], index=[4, 0], dtype=np.int64),
        pd.Series([2.0, np.nan], index=[6, 1]),
        pd.Series([5, 8], index=[0, 9]),  # beyond the table: by reindex
    ],
)
def test_line_rows_are_the_aligned_lines_as_floats(lines: pd.Series) -> None:
    want = lines.reindex(pd.RangeIndex(N)).to_numpy(dtype=np.float64)
    np.testing.assert_array_equal(merge._line_rows(lines, N), want)


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


def _stamps(cells: list[str]) -> aggregate.Stamps:
    from cstool.config import Settings

    bad: list[aggregate.BadCells] = []
    read = aggregate._stamps(pa.chunked_array([cells[:2], cells[2:]]), "created", Settings(), bad)
    assert not bad
    return read


def test_stamps_as_written_and_with_blanks_around_them_read_alike() -> None:
    plain = _stamps(["2026-11-01 10:00:00", "", "2026-11-02 23:59:59", "2026-11-03 00:00:01"])
    blanks = _stamps(["2026-11-01 10:00:00 ", "  ", "\t2026-11-02 23:59:59", "2026-11-03 00:00:01"])
    for read in (plain, blanks):
        assert read.instant.astype(str).tolist() == [
            "2026-11-01T10:00:00.000000000",
            "NaT",
            "2026-11-02T23:59:59.000000000",
            "2026-11-03T00:00:01.000000000",
        ]
        assert read.day.astype("datetime64[D]").astype(str).tolist() == [
            "2026-11-01",
            "NaT",
            "2026-11-02",
            "2026-11-03",
        ]
        assert read.timed and not read.zoned.any()


def test_zoned_stamps_keep_the_day_as_written() -> None:
    read = _stamps(["2026-11-01T23:30:00+02:00", "2026-11-02T01:00:00Z", " 2026-11-03T00:00Z "])
    assert read.instant.astype(str).tolist() == [
        "2026-11-01T21:30:00.000000000",
        "2026-11-02T01:00:00.000000000",
        "2026-11-03T00:00:00.000000000",
    ]
    assert read.day.astype("datetime64[D]").astype(str).tolist() == [
        "2026-11-01",
        "2026-11-02",
        "2026-11-03",
    ]
    assert read.zoned.all()


def test_dates_without_times_are_not_timed() -> None:
    read = _stamps(["2026-11-01", "2026-11-02 ", "", "2026-11-04"])
    assert not read.timed
    assert read.day.astype("datetime64[D]").astype(str).tolist() == [
        "2026-11-01",
        "2026-11-02",
        "NaT",
        "2026-11-04",
    ]


@pytest.mark.parametrize("rising", [True, False])  # a file's lines, or lines in any order
def test_last_by_is_the_last_row_of_a_stable_sort_with_missing_dates_first(rising: bool) -> None:
    rng = np.random.default_rng(5)
    n = 400
    when = pd.Series(pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.integers(0, 5, n), "D"))
    when[rng.random(n) < 0.2] = pd.NaT
    line = np.arange(2, n + 2) if rising else rng.integers(2, 50, n)
    rows = pd.DataFrame({"pos": rng.integers(0, 60, n), "line": line})
    rows["when"] = when
    ordered = rows.sort_values(["pos", "when", "line"], kind="stable", na_position="first")
    expected = ordered.drop_duplicates("pos", keep="last")
    got = rows.iloc[aggregate._last_by(rows["pos"], rows["when"], rows["line"])]
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("op", ["min", "max"])
def test_run_extremes_are_pandas_grouped_minima_and_maxima(op: str) -> None:
    rng = np.random.default_rng(9)
    n = 500
    days = pd.Series(pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.integers(0, 90, n), "D"))
    days[rng.random(n) < 0.3] = pd.NaT
    days = days.astype("datetime64[ns]").rename("when")  # as _dates gives them
    pos = rng.integers(0, 80, n)
    used = rng.random(n) < 0.6
    order = np.lexsort((np.arange(n), pos))
    ordered = pos[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    index = pd.Index(ordered[starts], name="pos")
    frame = pd.DataFrame({"pos": pos, "when": days})
    expected = getattr(frame.groupby("pos", sort=True)["when"], op)()
    got = aggregate._run_extreme(days.to_numpy(), order, starts, index, op)
    pd.testing.assert_series_equal(got, expected, check_names=False)
    # only the rows in use (the subscriptions still alive), customers without one as NaT
    kept = frame.where(pd.Series(used), pd.NA).assign(pos=pos)
    expected = getattr(kept.groupby("pos", sort=True)["when"], op)()
    got = aggregate._run_extreme(days.to_numpy(), order, starts, index, op, used[order])
    pd.testing.assert_series_equal(got, expected, check_names=False)


def test_midnight_is_numpys_cast_to_the_day_and_back() -> None:
    stamps = np.array(
        ["1969-12-31T23:59:59.999", "1900-02-28T12:00", "NaT", "2026-11-23T00:00", "2026-11-23"],
        dtype="datetime64[ns]",
    )
    expected = stamps.astype("datetime64[D]").astype("datetime64[ns]")
    np.testing.assert_array_equal(aggregate._midnight(stamps), expected)
    assert aggregate._midnight(stamps).astype(str).tolist()[:3] == [
        "1969-12-31T00:00:00.000000000",
        "1900-02-28T00:00:00.000000000",
        "NaT",
    ]


def test_first_line_per_position_from_whole_and_float_lines() -> None:
    where = np.array([3, 0, 3, 5, 0])
    lines = np.array([9, 4, 2, 7, 8])
    expected = [4.0, np.inf, np.inf, 2.0, np.inf, 7.0]
    assert aggregate._first_by(where, lines, 6).tolist() == expected
    assert aggregate._first_by(where, lines.astype(np.float64), 6).tolist() == expected


def _keys(emails: list[str | None]) -> merge._Keys:
    ids = pa.array([f"C{i}" for i in range(len(emails))])
    return merge._Keys(ids, merge.normal_emails(pa.chunked_array([emails], pa.string())), None)


CELLS = [
    "ann@example.com",
    " Bob@Example.com ",
    "ANN@EXAMPLE.COM",
    None,
    "",
    "nobody@example.com",
    "Ann <ann@example.com>; bob@example.com",
    "cy@example.com",
    "bob@example.com",
    "not an address",
]


@pytest.mark.parametrize("count", [8, 30])  # fewer cells than 2x the keys, and more
def test_email_positions_are_the_normal_emails_looked_up(count: int) -> None:
    keys = _keys(["ann@example.com", "bob@example.com", None, "cy@example.com", "bob@example.com"])
    cells = pa.chunked_array([(CELLS * 3)[:count]], pa.string())
    got = merge._email_positions(cells, keys)
    assert got.tolist() == ([0, 1, 0, -1, -1, -1, 0, 3, 1, -1] * 3)[:count]
    expected = merge._positions(merge.normal_emails(cells), keys.emails)
    assert got.tolist() == expected.tolist()


def test_email_positions_when_the_keys_are_not_their_normal_form() -> None:
    keys = merge._Keys(
        pa.array(["C1", "C2"]), pa.array(["Ann@Example.com", "bob@example.com"]), None
    )
    assert not keys.emails_are_normal
    cells = pa.chunked_array([["Ann@Example.com", "BOB@example.com", "ann@example.com"] * 2])
    # as written, the first cell equals a key; normalised, it is `ann@…`, which none is
    assert merge._email_positions(cells, keys).tolist() == [-1, 1, -1] * 2


@pytest.mark.parametrize("zoned", [False, True])
def test_last_ticket_date_is_the_latest_day_per_customer(zoned: bool) -> None:
    from cstool.config import Settings, SourceSettings

    zone = "Z" if zoned else ""
    created = [
        f"2026-11-01T23:59:59{zone}",
        f"2026-11-02T00:00:00{zone}",
        "",
        f"1969-12-31T23:00:00{zone}",
        f"1969-12-30T01:00:00{zone}",
        f"2026-10-05T12:00:00{zone}",
    ]
    pos = np.array([0, 0, 2, 1, 1, 0])
    cols = {"created": pa.chunked_array([created], pa.string())}
    spec = SourceSettings(file="tickets.csv")
    out, bad = aggregate.tickets(cols, {}, pos, np.arange(2, 8), Settings(), spec)
    assert not bad
    days = out.values["last_ticket_date"]
    assert days.index.tolist() == [0, 1, 2]
    assert days.tolist()[:2] == [pd.Timestamp("2026-11-02"), pd.Timestamp("1969-12-31")]
    assert pd.isna(days[2])
    # what the day of each ticket, then its maximum per customer, gives
    stamps = aggregate._stamps(cols["created"], "created", Settings(), [])
    expected = pd.Series(stamps.day).groupby(pos).max()
    pd.testing.assert_series_equal(days, expected, check_names=False, check_index_type=False)


@pytest.mark.parametrize(
    ("cells", "outside"),
    [
        (["cus_1", "cus_2", None], True),  # all after the greatest ID
        (["A1", "B9"], True),  # all before the least
        (["A1", "cus_1"], False),  # on both sides: the lookup decides
        (["C2", "cus_1"], False),
        (["C10"], False),  # between the least and the greatest, matching none
        ([None, None], False),
        ([], False),
    ],
)
def test_ids_outside_the_keys_range_match_none(cells: list[str | None], outside: bool) -> None:
    keys = pa.array(["C1", "C2", "C3", None])
    column = pa.chunked_array([pa.array(cells, pa.string())])
    assert merge._outside(column, keys) is outside
    if outside:  # what the lookup it spares would have found
        assert (merge._positions(column, keys) < 0).all()
    assert merge._outside(column, pa.array([None], pa.string())) is False
