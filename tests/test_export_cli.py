"""The command line over awkward exports: invalid rows asked about, sorting by the ID, long
cells in terminal tables, summaries with nothing measured."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cstool.cli import app

runner = CliRunner()
SCORES = "Value_Delivery,Issue_Resolution,Growth_Strategy"


def run(*args: str, width: int = 80) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": str(width), "NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def bad_row(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(
        f"Customer_ID,Name,{SCORES},Email\n"
        "C1,Acme,8,7,6,a@acme.example\n"
        "C2,Beta,eleven,7,6,nope\n"
        "C3,Gamma,5,5,5,\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("command", ["explain", "history"])
def test_a_customer_whose_row_is_invalid_gets_its_problems(bad_row: Path, command: str) -> None:
    code, out, err = run(
        command, "c2", str(bad_row), "--as-of", "2026-11-23", "--db", str(bad_row.parent / "x.db")
    )
    assert code == 1, err
    assert out == ""
    assert err.splitlines() == [
        f"error: {bad_row}: customer 'c2' is in the file, but its row is invalid (2 problems), "
        "so it has no scores",
        f"  {bad_row} line 3, column 'Value_Delivery', value 'eleven', expected a number from "
        "0 to 10",
        f"  {bad_row} line 3, column 'Email', value 'nope', expected an email address like "
        "name@example.com or Jane <jane@x.example>",
        "hint: fix the row in the file (cstool validate lists every problem)",
    ]


def test_an_unknown_customer_is_still_unknown(bad_row: Path) -> None:
    code, _, err = run("explain", "C9", str(bad_row), "--as-of", "2026-11-23")
    assert code == 2
    assert err.splitlines()[0] == "error: unknown customer ID 'C9'"


def test_a_duplicate_id_row_names_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(f"Customer_ID,{SCORES}\nC1,8,7,6\nC2,5,5,5\nC2,6,6,6\n", encoding="utf-8")
    # the first C2 is valid and explained; only a customer with no valid row is refused
    code, out, err = run("explain", "C2", str(path), "--as-of", "2026-11-23")
    assert code == 0, err
    assert out.startswith("C2")


def test_explain_in_a_workbook_names_the_sheet_and_row(tmp_path: Path) -> None:
    from tests.data.make_workbooks import xlsx

    path = tmp_path / "book.xlsx"
    xlsx(
        path,
        {"Customers": [["Customer_ID", *SCORES.split(",")], ["C1", 8, 7, 6], ["C2", 5, 5, 42]]},
    )
    code, _, err = run("explain", "C2", str(path), "--as-of", "2026-11-23")
    assert code == 1
    assert err.splitlines()[1].startswith(
        f"  {path} sheet Customers, row 3, column 'Growth_Strategy', value '42', expected"
    )


@pytest.mark.parametrize("sort", ["customer_id", "Customer_ID", "ID"])
def test_sort_by_the_id_under_any_of_its_names(tmp_path: Path, sort: str) -> None:
    path = tmp_path / "ids.csv"
    header = "ID" if sort == "ID" else "Customer_ID"
    path.write_text(f"{header},{SCORES}\nC2,8,7,6\nC10,5,5,5\nC1,9,9,9\n", encoding="utf-8")
    code, out, err = run("score", str(path), "--as-of", "2026-11-23", "--sort", sort, "-f", "json")
    assert code == 0, err
    assert [c["customer_id"] for c in json.loads(out)] == ["C1", "C10", "C2"]
    code, out, err = run(
        "score", str(path), "--as-of", "2026-11-23", "--sort", sort, "--desc", "-f", "csv"
    )
    assert code == 0, err
    assert [r[0] for r in csv.reader(io.StringIO(out))][1:] == ["C2", "C10", "C1"]


def test_sort_by_a_headers_own_name(tmp_path: Path) -> None:
    path = tmp_path / "hubspot.csv"
    path.write_text(
        "Record ID,Company name,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
        "3,Cove,8,7,6\n1,Alder,5,5,5\n2,Birch,9,9,9\n",
        encoding="utf-8",
    )
    code, out, err = run(
        "score", str(path), "--as-of", "2026-11-23", "--sort", "Company name", "-f", "json"
    )
    assert code == 0, err
    assert [c["name"] for c in json.loads(out)] == ["Alder", "Birch", "Cove"]


@pytest.fixture
def long_cells(tmp_path: Path) -> Path:
    path = tmp_path / "long.csv"
    path.write_text(
        f"Customer_ID,Name,{SCORES}\nC1{'X' * 300},Acme {'Y' * 200},5,5,5\nC2,Beta,8,7,6\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("width", [80, 100])
def test_long_cells_are_cut_and_the_scores_always_show(long_cells: Path, width: int) -> None:
    code, out, err = run("score", str(long_cells), "--as-of", "2026-11-23", width=width)
    assert code == 0, err
    lines = out.splitlines()
    assert all(len(line) <= width for line in lines)
    header = next(line for line in lines if "Health" in line)
    for column in ("ID", "Name", "Satisf.", "Health", "Band", "Segment"):
        assert column in header.split()
    long_row = next(line for line in lines if "XXX" in line)
    assert "…" in long_row
    assert "50.0 50.0 yellow Nurture" in " ".join(long_row.split())  # whole, not "Sa…"


@pytest.mark.parametrize("command", ["followups", "segment"])
def test_long_cells_in_the_other_tables(long_cells: Path, command: str) -> None:
    args = [command, str(long_cells), "--as-of", "2026-11-23"]
    code, out, err = run(*args)
    assert code == 0, err
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines)
    long_row = next(line for line in lines if "XXX" in line)
    assert "…" in long_row
    if command == "followups":
        assert "no touch on record" in long_row
    else:
        assert long_row.split()[-3:] == ["yellow", "50.0", "—"]


def test_summary_when_no_satisfaction_is_measured(tmp_path: Path) -> None:
    path = tmp_path / "stripe.csv"
    path.write_text(
        "id,Email,Name,Created (UTC)\ncus_A1,a@x.example,Alder,2026-11-20 10:00\n", encoding="utf-8"
    )
    out_csv = tmp_path / "out.csv"
    code, _, err = run("score", str(path), "--as-of", "2026-11-23", "--output", str(out_csv))
    assert code == 0, err
    assert "nan" not in err
    assert f"wrote 1 customers to {out_csv} (no satisfaction measured, mean health " in err
    code, out, err = run("score", str(path), "--as-of", "2026-11-23")
    assert code == 0, err
    assert "1 customers · no satisfaction measured, mean health" in out
