"""Line numbers of records: the fast path (one record per line) and the cases that leave it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cstool.config import Settings
from cstool.errors import DataError
from cstool.pipeline import load_table

HEADER = "Customer_ID,Name,Value_Delivery,Issue_Resolution,Growth_Strategy\n"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "customers.csv"
    path.write_bytes((HEADER + body).encode())
    return path


@pytest.mark.parametrize(
    ("body", "lines"),
    [
        ("A,Ann,8,8,8\nB,Bo,7,7,7\nC,Cy,6,6,6\n", [2, 3, 4]),  # plain: one record per line
        ("A,Ann,8,8,8\nB,Bo,7,7,7\nC,Cy,6,6,6", [2, 3, 4]),  # no final line break
        ("A,Ann,8,8,8\n\nB,Bo,7,7,7\n", [2, 4]),  # a blank line
        ("A,Ann,8,8,8\n   \nB,Bo,7,7,7\n", [2, 4]),  # a line of spaces
        ("A,Ann,8,8,8\n , ,\nB,Bo,7,7,7\n", [2, 4]),  # a line of separators and spaces
        ('A,"Ann\nSmith",8,8,8\nB,Bo,7,7,7\n', [2, 4]),  # a quoted line break
        ("A,Ann,8,8,8\r\nB,Bo,7,7,7\r\n", [2, 3]),  # CRLF
    ],
)
def test_each_record_keeps_its_file_line(tmp_path: Path, body: str, lines: list[int]) -> None:
    table = load_table(_write(tmp_path, body), Settings())
    assert table.lines.tolist() == lines


def test_a_problem_after_a_line_of_spaces_names_its_own_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "A,Ann,8,8,8\n   \nB,Bo,7,seven,7\n")
    with pytest.raises(DataError) as caught:
        load_table(path, Settings())
    [problem] = caught.value.problems
    assert (problem.line, problem.column, problem.value) == (4, "Issue_Resolution", "seven")
