"""The library API, as a notebook user calls it."""

from __future__ import annotations

from datetime import date

import pytest

import cstool
from cstool.errors import DataError
from tests.conftest import DATA, EXAMPLE


def test_notebook_flow() -> None:
    frame = cstool.load(EXAMPLE)
    again = cstool.load(str(EXAMPLE))  # `cstool.load` stays the function after internal imports
    assert len(frame) == len(again) == 200
    scored = cstool.score(frame, as_of=date(2026, 11, 23))
    assert scored["satisfaction"].between(0, 100).all()
    segmented = cstool.segment(scored, as_of=date(2026, 11, 23))
    assert segmented["segment"].notna().all()
    due = cstool.followups(segmented, as_of=date(2026, 11, 23))
    assert {"customer_id", "due", "reason", "priority"} <= set(due.columns)
    assert due["priority"].is_monotonic_decreasing


def test_bad_file_raises_data_error_with_problems() -> None:
    with pytest.raises(DataError) as err:
        cstool.load(DATA / "bad_rows.csv")
    assert len(err.value.problems) == 10
    # bad optional cells are blanked, the customer kept: only 5 rows with bad required cells go
    assert len(cstool.load(DATA / "bad_rows.csv", skip_invalid=True)) == 6


def test_customer_records() -> None:
    from cstool.validate import customers

    records = customers(cstool.load(DATA / "seed_headers.csv"))
    assert [r.customer_id for r in records] == ["A1", "A2", "A3", "A4", "A5"]
