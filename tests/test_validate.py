"""Validation: every problem with line, column, value and what was expected."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from cstool.config import Settings
from cstool.errors import DataError
from cstool.pipeline import ReadOptions, load_table
from cstool.validate import customers, parse_dates, parse_numbers
from tests.conftest import DATA, EXAMPLE


def test_every_kind_of_bad_row_is_named() -> None:
    with pytest.raises(DataError) as err:
        load_table(DATA / "bad_rows.csv", Settings())
    problems = err.value.problems
    found = {(p.line, p.column) for p in problems}
    assert found == {
        (3, "Value_Delivery"),
        (4, "Value_Delivery"),
        (5, "Customer_ID"),
        (6, "Customer_ID"),
        (7, "Email"),
        (8, "MRR"),
        (9, "Signup_Date"),
        (10, "NPS"),
        (10, "Open_Tickets"),
        (11, "Issue_Resolution"),
    }
    assert err.value.exit_code == 1
    by_line = {p.line: p for p in problems}
    assert by_line[3].value == "eight" and "number from 0 to 10" in by_line[3].expected
    assert "line 2" in by_line[5].expected  # a duplicate names both lines
    assert all(p.file and p.file.endswith("bad_rows.csv") for p in problems)
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_skip_invalid_keeps_good_rows_and_rejects_file_keeps_bad(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    table = load_table(
        DATA / "bad_rows.csv", Settings(), ReadOptions(skip_invalid=True, rejects=rejects)
    )
    # bad optional cells (email, MRR, a date, NPS, tickets) cost the cell, not the customer
    assert table.frame["customer_id"].tolist() == ["G1", "X3", "X4", "X5", "X6", "G2"]
    assert table.skipped == 5
    assert table.lines.tolist() == [2, 7, 8, 9, 10, 12]
    assert [(p.line, p.column, p.value) for p in table.blanked] == [
        (7, "Email", "not-an-email"),
        (8, "MRR", "-5"),
        (9, "Signup_Date", "2026-13-45"),
        (10, "NPS", "11"),
        (10, "Open_Tickets", "1.5"),
    ]
    kept = table.frame.set_index("customer_id")
    assert pd.isna(kept.loc["X3", "email"]) and np.isnan(kept.loc["X4", "mrr"])
    assert pd.isna(kept.loc["X5", "signup_date"]) and pd.isna(kept.loc["X6", "nps"])
    assert kept.loc["X6", "value_delivery"] == 8.0
    rejected = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert list(rejected.columns)[-1] == "reason"
    assert rejected["Customer_ID"].tolist() == ["X1", "X2", "G1", "", "X7"]
    assert table.rejected is not None and table.rejected.index.tolist() == [3, 4, 5, 6, 11]
    original = pd.read_csv(DATA / "bad_rows.csv", dtype=str, keep_default_na=False)
    # Rows are kept unchanged: the same cells as in the file.
    assert rejected.iloc[0, :-1].tolist() == original.iloc[1].tolist()
    assert "Value_Delivery" in rejected["reason"].iloc[0]


def test_ragged_rows_are_rejected_with_their_lines(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_table(DATA / "ragged_rows.csv", Settings())
    assert [p.line for p in err.value.problems] == [3, 4]
    rejects = tmp_path / "r.csv"
    table = load_table(
        DATA / "ragged_rows.csv", Settings(), ReadOptions(skip_invalid=True, rejects=rejects)
    )
    assert table.frame["customer_id"].tolist() == ["A1", "A4"]
    assert table.lines.tolist() == [2, 5]
    assert "cells" in rejects.read_text()


def test_line_numbers_survive_blank_lines_and_quoted_newlines() -> None:
    with pytest.raises(DataError) as err:
        load_table(DATA / "blank_lines_quoted_newline.csv", Settings())
    (problem,) = err.value.problems
    assert (problem.line, problem.value) == (5, "oops")


def test_problem_list_is_capped_but_counted(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    rows = "\n".join(f"C{i},x,1,1" for i in range(3000))
    path.write_text("Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy\n" + rows + "\n")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert err.value.total_problems == 3000
    assert len(err.value.problems) <= 1000
    assert "3000 problems" in err.value.message


def test_rejects_never_overwrite_the_input() -> None:
    from cstool.errors import UsageError

    with pytest.raises(UsageError, match="input"):
        load_table(
            DATA / "bad_rows.csv",
            Settings(),
            ReadOptions(skip_invalid=True, rejects=DATA / "bad_rows.csv"),
        )


def test_scale_setting_changes_the_range(tmp_path: Path) -> None:
    from cstool.config import settings_from_dict

    path = tmp_path / "five.csv"
    path.write_text(
        "Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy\nA,5,4,3\nB,6,1,1\n"
    )
    settings = settings_from_dict({"scale": {"min": 1, "max": 5}})
    with pytest.raises(DataError) as err:
        load_table(path, settings)
    assert [(p.line, p.value) for p in err.value.problems] == [(3, "6")]
    assert "from 1 to 5" in err.value.problems[0].expected


def test_customers_gives_pydantic_records() -> None:
    table = load_table(EXAMPLE, Settings())
    records = customers(table.frame.head(5))
    assert records[0].customer_id == table.frame["customer_id"].iloc[0]
    assert all(0 <= r.value_delivery <= 10 for r in records)


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=1, max_size=20))
def test_plain_numbers_round_trip(values: list[float]) -> None:
    text = pd.Series([repr(v) for v in values], dtype="string[pyarrow]")
    parsed, missing, bad = parse_numbers(text)
    assert not bad.any() and not missing.any()
    assert parsed.tolist() == pytest.approx(values)


def test_money_forms() -> None:
    text = pd.Series(
        ["$1,200.50", "¥800", "1 200", "€1.200,50", "12,5", "abc", "", "n/a"], dtype="string"
    )
    parsed, missing, bad = parse_numbers(text, money=True)
    assert parsed[:5].tolist() == [1200.5, 800.0, 1200.0, 1200.5, 12.5]
    assert bad.tolist() == [False] * 5 + [True, False, False]
    assert missing.tolist() == [False] * 6 + [True, True]


def test_padded_numbers_and_empty_cells_across_chunks() -> None:
    import pyarrow as pa

    text = pa.chunked_array([["1", "", " 2 "], ["", "\u00a03", "4.5"], ["5", "6"]])
    parsed, missing, bad = parse_numbers(text)
    nan = float("nan")
    np.testing.assert_array_equal(parsed, [1.0, nan, 2.0, nan, 3.0, 4.5, 5.0, 6.0])
    assert missing.tolist() == [False, True, False, True, False, False, False, False]
    assert not bad.any()
    plain = pa.chunked_array([["7", ""], ["8"]])  # empty cells only: the fast path
    parsed, missing, bad = parse_numbers(plain)
    assert parsed[[0, 2]].tolist() == [7.0, 8.0]
    assert missing.tolist() == [False, True, False] and not bad.any()


def test_padded_and_missing_dates() -> None:
    import pyarrow as pa

    text = pa.chunked_array([["2026-11-22 ", " 2026-01-02", "", " n/a ", "2026/13/01", "x"]])
    dates, missing, bad = parse_dates(text)
    assert [str(d.date()) if not pd.isna(d) else None for d in dates] == [
        "2026-11-22",
        "2026-01-02",
        None,
        None,
        None,
        None,
    ]
    assert missing.tolist() == [False, False, True, True, False, False]
    assert bad.tolist() == [False, False, False, False, True, True]


def test_dates_beyond_nanoseconds_are_bad_dates_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text(
        "Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy,Signup_Date\n"
        "A1,5,5,5,2026-01-01\nA2,5,5,5,1500-01-01\nA3,5,5,5,9999/12/31\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    # one message for the column, with its lines counted
    (problem,) = err.value.problems
    assert (problem.line, problem.column, problem.value) == (3, "Signup_Date", "1500-01-01")
    assert problem.expected.endswith("(2 lines: 3, 4)")
    assert err.value.total_problems == 1  # one message
    assert "2 problems" in err.value.message  # two cells


def test_duplicate_ids_in_order_and_out_of_order() -> None:
    import pyarrow as pa

    from cstool.validate import _duplicates

    assert not _duplicates(pa.chunked_array([["A1", "A2"], ["A3"]])).any()  # rising: no sort
    assert _duplicates(pa.chunked_array([["A1", "A2"], ["A2", "A3"]])).tolist() == [
        False,
        False,
        True,
        False,
    ]
    assert _duplicates(pa.chunked_array([["b", "a"], ["c", "a", "b"]])).tolist() == [
        False,
        False,
        False,
        True,
        True,
    ]


def test_impossible_dates_are_errors_and_timestamps_keep_their_day() -> None:
    import pyarrow as pa

    cells = ["2024-02-30", "2024-02-29", "2026-1-1", "2024-03-05 14:22", "2024-03-05T14:22Z", "TBD"]
    dates, missing, bad = parse_dates(pa.chunked_array([cells]))
    assert [None if pd.isna(d) else str(d.date()) for d in dates] == [
        None,
        "2024-02-29",
        "2026-01-01",
        "2024-03-05",
        "2024-03-05",
        None,
    ]
    assert bad.tolist() == [True, False, False, False, False, False]
    assert missing.tolist() == [False] * 5 + [True]


def test_enriched_csv_keeps_the_inputs_own_score_columns(tmp_path: Path) -> None:
    from cstool.pipeline import csv_frame, scored_frame

    path = tmp_path / "own.csv"
    path.write_text(
        "Customer_ID,Segment,health,Band,satisfaction,Value_Delivery,Issue_Resolution,"
        "Growth_Strategy\nC1,Enterprise,Good,A,9,8,7,6\n",
        encoding="utf-8",
    )
    table = load_table(path, Settings())
    frame = scored_frame(table, Settings(), date(2026, 11, 23))
    out = csv_frame(table, frame)
    assert out["health"].tolist() == ["Good"] and out["satisfaction"].tolist() == ["9"]
    assert out["cstool_satisfaction"].tolist() == [73.0]
    assert out["cstool_band"].tolist() == ["yellow"] and "cstool_segment" in out.columns


def test_money_grouped_by_dots_in_decimal_comma_files(tmp_path: Path) -> None:
    path = tmp_path / "de.csv"
    path.write_text(
        "Customer_ID;MRR;Value_Delivery;Issue_Resolution;Growth_Strategy\n"
        "C1;1.200,50;7,5;8;6\nC2;80;5;5;5\nC3;2.000;5;5;5\n",
        encoding="utf-8",
    )
    assert load_table(path, Settings()).frame["mrr"].tolist() == [1200.5, 80.0, 2000.0]
    text = pd.Series(["1.200", "80", "4.5"], dtype="string[pyarrow]")
    assert parse_numbers(text, money=True)[0].tolist() == [1.2, 80.0, 4.5]  # a comma file
    assert parse_numbers(text, money=True, dot_groups=True)[0].tolist() == [1200.0, 80.0, 4.5]
