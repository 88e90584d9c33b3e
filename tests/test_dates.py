"""Command-line dates."""

from __future__ import annotations

from datetime import date

import pytest

from cstool.dates import parse_date
from cstool.errors import UsageError

TODAY = date(2026, 11, 23)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("2026/12/01", date(2026, 12, 1)),
        ("today", TODAY),
        ("tomorrow", date(2026, 11, 24)),
        ("yesterday", date(2026, 11, 22)),
        ("+3d", date(2026, 11, 26)),
        ("-1d", date(2026, 11, 22)),
        ("+2w", date(2026, 12, 7)),
        ("fri", date(2026, 11, 27)),
        ("mon", date(2026, 11, 30)),  # the next one, not today
        ("eow", date(2026, 11, 29)),
        ("eom", date(2026, 11, 30)),
        ("Friday", date(2026, 11, 27)),
    ],
)
def test_forms(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize("text", ["soon", "2026-02-30", "+3x", ""])
def test_bad_dates_list_the_accepted_forms(text: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_date(text, TODAY, option="--until")
    assert "--until" in err.value.message and "+3d" in err.value.message
