"""Numbers from a new user's sweep: a leading 0 never starts a group of thousands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from cstool.config import Settings
from cstool.pipeline import load_table
from cstool.validate.cells import parse_numbers


def _money(cells: list[str], *, dot_groups: bool) -> list[float]:
    values, _, _ = parse_numbers(pa.chunked_array([cells]), money=True, dot_groups=dot_groups)
    return [None if np.isnan(v) else float(v) for v in values]  # type: ignore[misc]


@pytest.mark.parametrize("dot_groups", [False, True])
def test_zero_point_five_hundred_is_a_half_not_five_hundred(dot_groups: bool) -> None:
    # 12.000 groups thousands in a semicolon file or beside a decimal comma (1.200,50), but
    # 0.500 and 0,500 cannot: no one writes five hundred with a leading 0 group
    cells = ["0.500", "12.000", "0,500", "0,25", "1.200,50", "0.5"]
    assert _money(cells, dot_groups=dot_groups) == [0.5, 12000.0, 0.5, 0.25, 1200.5, 0.5]


def test_grouped_money_is_unchanged() -> None:
    cells = ["1,200", "1,234.56", "12,345,678", "$1,200.50", "1.200", "-"]
    assert _money(cells, dot_groups=True) == [1200.0, 1234.56, 12345678.0, 1200.5, 1200.0, None]
    assert _money(cells[:5], dot_groups=False) == [1200.0, 1234.56, 12345678.0, 1200.5, 1.2]


def test_a_semicolon_export_reads_zero_point_five_hundred_as_a_half(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text(
        "Customer ID;Value;Resolution;Growth;MRR\nA;8;7;6;0.500\nB;8;7;6;12.000\nC;0,500;7;6;1\n",
        encoding="utf-8",
    )
    frame = load_table(path, Settings()).frame
    assert frame["mrr"].tolist() == [0.5, 12000.0, 1.0]
    assert frame["value_delivery"].tolist() == [8.0, 8.0, 0.5]


# --- dates: a user's format without the time of day the cells have ----------------------


def test_a_date_format_without_the_cells_time_of_day_says_which_format_to_add(
    tmp_path: Path,
) -> None:
    from cstool.config import settings_from_dict
    from cstool.errors import DataError

    path = tmp_path / "c.csv"
    path.write_text(
        "customer_id,value_delivery,issue_resolution,growth_strategy,last_contact\n"
        "G1,8,7,6,05/11/2026 1:00 PM\nG2,8,7,6,06/10/2026 9:30 AM\n",
        encoding="utf-8",
    )
    day_first = settings_from_dict({"input": {"date_format": "%d/%m/%Y"}})
    with pytest.raises(DataError) as err:
        load_table(path, day_first)
    (problem,) = err.value.problems
    assert "fit both day-first and month-first" not in problem.expected  # the user chose
    assert 'add "%d/%m/%Y %I:%M %p" to [input] date_format' in problem.expected
    following = settings_from_dict({"input": {"date_format": ["%d/%m/%Y", "%d/%m/%Y %I:%M %p"]}})
    days = load_table(path, following).frame["last_contact"].dt.strftime("%Y-%m-%d").tolist()
    assert days == ["2026-11-05", "2026-10-06"]


def test_a_column_that_writes_decimals_both_ways_is_refused(tmp_path: Path) -> None:
    """1,50 (decimal comma) beside 1,200.00 (decimal point): either reading of the commas
    makes some cells wrong by a factor of a hundred, so those cells are refused, in one
    message that says why; the column's other cells keep their values."""
    from cstool.errors import DataError
    from cstool.validate import validate_table

    header = "Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy,MRR\n"
    path = tmp_path / "mixed.csv"
    path.write_text(header + 'A,8,7,6,"1,50"\nB,8,7,6,"1,200.00"\nC,8,7,6,300\n', encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_table(path, Settings())
    text = "\n".join(p.describe() for p in caught.value.problems)
    assert "decimal commas (1,50) and decimal points after comma groups (1,200.00)" in text
    from cstool.read import read_raw

    skipped = validate_table(read_raw(path, Settings()), Settings(), skip_invalid=True)
    mrr = skipped.frame.set_index("customer_id")["mrr"]
    assert np.isnan(mrr["A"]) and np.isnan(mrr["B"]) and mrr["C"] == 300


@pytest.mark.parametrize(
    "cells",
    [['"1,50"', '"1.200,50"', "7"], ['"1,200.00"', '"2,500"', "7.5"]],
)
def test_a_column_that_writes_decimals_one_way_reads(tmp_path: Path, cells: list[str]) -> None:
    header = "Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy,MRR\n"
    rows = "".join(f"{c},8,7,6,{v}\n" for c, v in zip("ABC", cells, strict=True))
    path = tmp_path / "one_way.csv"
    path.write_text(header + rows, encoding="utf-8")
    table = load_table(path, Settings())
    assert not np.isnan(table.frame["mrr"].to_numpy(dtype=float)).any()
