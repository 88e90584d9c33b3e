"""Control characters in users' text never reach a CSV that cstool writes (issue 11, item 9)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cstool.cli import app

HOSTILE = "Bob\x1b[31mRed\x07\x08\x9bX\x90P\x7f"  # ESC CSI, BEL, BS, C1 CSI, DCS, DEL
SHOWN = "Bob\ufffd[31mRed\ufffd\ufffd\ufffdX\ufffdP\ufffd"


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    rows = [
        ["Customer_ID", "Name", "Notes", "Value_Delivery", "Issue_Resolution", "Growth_Strategy"],
        ["A", HOSTILE, "line one\nline two\tafter a tab", "8", "8", "8"],
        ["B", "Plain", "", "4", "4", "4"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("command", ["score", "segment"])
def test_csv_on_stdout_has_no_control_characters(tmp_path: Path, command: str) -> None:
    path = _file(tmp_path)
    args = [command, str(path), "-f", "csv", "--as-of", "2026-11-23"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert not any(ch in result.stdout for ch in "\x1b\x07\x08\x9b\x90\x7f")
    rows = _rows(result.stdout)
    names = [row.get("Name") or row.get("name") for row in rows]
    assert SHOWN in names and "Plain" in names


def test_enriched_csv_file_keeps_line_breaks_and_tabs_in_cells(tmp_path: Path) -> None:
    path = _file(tmp_path)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["score", str(path), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = _rows(out.read_text(encoding="utf-8"))
    assert [r["Name"] for r in rows] == [SHOWN, "Plain"]
    assert rows[0]["Notes"] == "line one\nline two\tafter a tab"


def test_only_control_characters_change() -> None:
    import pyarrow as pa

    from cstool.render import without_controls

    names = ["张伟", "£5 © ½ café", "tab\there", "line\nbreak", "C1\u0085next", "del\x7f", None]
    plays = pa.array(["Call\u001b[31m now", "Fine"] * 3 + ["Fine"]).dictionary_encode()
    table = pa.table(
        {"name": pa.array(names), "play": plays, "mrr": pa.array(["1", "2"] * 3 + ["3"])}
    )
    cleaned = without_controls(table, skip=["mrr"])
    assert cleaned.column("name").to_pylist() == [
        "张伟",
        "£5 © ½ café",
        "tab\there",
        "line\nbreak",
        "C1\ufffdnext",
        "del\ufffd",
        None,
    ]
    assert cleaned.column("play").to_pylist() == ["Call\ufffd[31m now", "Fine"] * 3 + ["Fine"]
    clean = pa.table({"name": pa.array(["张伟", "plain"])})
    assert without_controls(clean) is clean  # nothing to change: the same table
