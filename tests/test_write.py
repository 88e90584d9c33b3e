"""Atomic writes and formula neutralising."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cstool.errors import UsageError
from cstool.write import atomic, neutralise_formulas, write_text


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_text(path, "old\n")
    with pytest.raises(RuntimeError), atomic(path) as handle:
        handle.write(b"half")
        raise RuntimeError("crash mid-write")
    assert path.read_text() == "old\n"  # the old file, whole
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temp file left
    write_text(path, "new\n")
    assert path.read_text() == "new\n"


def test_never_writes_over_the_input(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("data\n")
    with pytest.raises(UsageError, match="input"):
        write_text(tmp_path / "." / "in.csv", "x", protect=source)
    assert source.read_text() == "data\n"


def test_formula_cells_are_neutralised() -> None:
    frame = pd.DataFrame(
        {
            "text": pd.array(
                ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "＝1", "\tx", "plain", "-42", "+3.5", None],
                dtype="string",
            ),
            "n": [1.0, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
        }
    )
    out = neutralise_formulas(frame)
    assert out["text"].tolist()[:7] == [
        "'=1+1",
        "'+cmd",
        "'-2+3",
        "'@SUM(A1)",
        "'＝1",
        "'\tx",
        "plain",
    ]
    assert out["text"].tolist()[7:9] == ["-42", "+3.5"]  # numbers stay numbers
    assert pd.isna(out["text"].iloc[9])
    assert out["n"].tolist() == frame["n"].tolist()
