"""Which sheet of a workbook is read: --sheet, [input] sheet, and the evidence when neither."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cstool.cli import app
from cstool.config import InputSettings, Settings
from cstool.errors import UsageError
from cstool.read import read_raw
from tests.data.make_workbooks import ods, xlsx

runner = CliRunner()

SUMMARY = [["Portfolio summary"], ["Total MRR", 300]]
CUSTOMERS = [
    ["Customer ID", "Name", "MRR", "Value_Delivery", "Issue_Resolution", "Growth_Strategy"],
    ["C1", "Acme", 100, 8, 7, 6],
    ["C2", "Beta", 200, 5, 5, 5],
]
CHURNED = [["Customer ID", "Name"], ["C9", "Gone Ltd"]]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(params=["xlsx", "ods"])
def book(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A workbook whose first tab is a summary, then the customers, then churned ones."""
    path = tmp_path / f"book.{request.param}"
    write = xlsx if request.param == "xlsx" else ods
    write(path, {"Summary": SUMMARY, "Customers": CUSTOMERS, "Churned": CHURNED})
    return path


def test_the_sheet_with_an_id_column_is_read_and_the_choice_is_said(book: Path) -> None:
    raw = read_raw(book, Settings())
    assert raw.sheet == "Customers"
    assert raw.table.column(0).to_pylist() == ["C1", "C2"]
    (warning,) = [w for w in raw.warnings if "sheets" in w]
    assert warning == (
        f"{book}: the workbook has sheets 'Summary', 'Customers', 'Churned'; read "
        "'Customers', the first with a customer ID column ('Churned' has one too): choose "
        "another with --sheet NAME (or [input] sheet in cstool.toml)"
    )


def test_only_one_candidate_that_is_not_the_first_sheet(tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    xlsx(path, {"Summary": SUMMARY, "Customers": CUSTOMERS})
    raw = read_raw(path, Settings())
    assert raw.sheet == "Customers"
    assert raw.warnings == [
        f"{path}: the workbook has sheets 'Summary', 'Customers'; read 'Customers', the only "
        "one with a customer ID column: choose another with --sheet NAME (or [input] sheet in "
        "cstool.toml)"
    ]


def test_a_single_fitting_first_sheet_needs_no_word(tmp_path: Path) -> None:
    path = tmp_path / "plain.xlsx"
    xlsx(path, {"Customers": CUSTOMERS, "Notes": [["Note"], ["call Acme in May"]]})
    raw = read_raw(path, Settings())
    assert (raw.sheet, raw.warnings) == ("Customers", [])


def test_sheet_option_by_name_position_and_config(book: Path) -> None:
    assert read_raw(book, Settings(), sheet="churned").table.column(0).to_pylist() == ["C9"]
    assert read_raw(book, Settings(), sheet="2").sheet == "Churned"  # --sheet 2: a position
    assert read_raw(book, Settings(), sheet=2).warnings == []  # chosen: nothing to say
    configured = Settings(input=InputSettings(sheet="Churned"))
    assert read_raw(book, configured).sheet == "Churned"
    # the command line wins over the config
    assert read_raw(book, configured, sheet="Customers").sheet == "Customers"
    with pytest.raises(UsageError) as err:
        read_raw(book, Settings(), sheet="7")
    assert err.value.message == f"{book}: sheet 7: the workbook has 3 sheet(s), numbered from 0"
    assert err.value.hint == "sheets: Summary, Customers, Churned"


def test_config_sheet_must_be_a_name_or_a_position() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="expected a sheet's name"):
        InputSettings(sheet=" ")
    with pytest.raises(ValidationError, match="expected a position from 0"):
        InputSettings(sheet=-1)


def test_cli_sheet_option_and_validate_names_the_sheet(book: Path) -> None:
    code, out, err = run("validate", str(book), "--as-of", "2026-11-23")
    assert code == 0, err
    kind = book.suffix.lstrip(".")
    assert err.startswith(
        f"ok: {book}: 2 customers, 6 columns ({kind} workbook, sheet 'Customers'); config:"
    )
    assert "utf-8" not in err and "comma-separated" not in err
    assert "read 'Customers', the first with a customer ID column" in err
    code, out, err = run(
        "score", str(book), "--sheet", "Churned", "--as-of", "2026-11-23", "--format", "json"
    )
    assert code == 0, err
    assert [(c["customer_id"], c["name"]) for c in json.loads(out)] == [("C9", "Gone Ltd")]
    assert "sheets" not in err  # named: nothing to explain


def test_sources_do_not_inherit_the_customer_tables_sheet(tmp_path: Path) -> None:
    """[input] sheet is the customer table's; a source workbook reads its own first sheet."""
    book = tmp_path / "book.xlsx"
    xlsx(book, {"Summary": SUMMARY, "Customers": CUSTOMERS})
    billing = tmp_path / "billing.xlsx"
    xlsx(
        billing,
        {
            "Subscriptions": [
                ["Customer ID", "Status", "MRR"],
                ["C1", "active", 150],
                ["C2", "past_due", 250],
            ]
        },
    )
    (tmp_path / "cstool.toml").write_text(
        'customers = "book.xlsx"\n[input]\nsheet = "Customers"\n'
        '[[sources]]\nfile = "billing.xlsx"\nkind = "subscriptions"\n',
        encoding="utf-8",
    )
    code, out, err = run(
        "score", "--config", str(tmp_path / "cstool.toml"), "--as-of", "2026-11-23", "-f", "json"
    )
    assert code == 0, err
    rows = json.loads(out)
    assert [r["customer_id"] for r in rows] == ["C1", "C2"]
    assert rows[0]["status"] == "active"  # read from the source's first (only) sheet
