"""Workbooks (.xlsx, .ods, a workbook saved as .csv): the same table as the CSV it came from."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cstool.config import Settings
from cstool.errors import DataError, UsageError
from cstool.pipeline import ReadOptions, csv_frame, load_table, scored_frame
from cstool.read import read_raw, workbook_kind
from tests.conftest import AS_OF, DATA, EXAMPLE


def scored_csv(path: Path, **options: object) -> bytes:
    from cstool.render import csv_bytes

    table = load_table(path, Settings(), ReadOptions(**options))  # type: ignore[arg-type]
    return csv_bytes(csv_frame(table, scored_frame(table, Settings(), AS_OF)))


@pytest.mark.parametrize("name", ["customers.xlsx", "customers.ods"])
def test_workbook_scores_exactly_like_the_csv_of_the_same_table(name: str) -> None:
    assert scored_csv(DATA / name) == scored_csv(EXAMPLE)


@pytest.mark.parametrize("name", ["customers.xlsx", "customers.ods"])
def test_workbook_cells_are_the_text_the_sheet_shows(name: str) -> None:
    raw = read_raw(DATA / name, Settings())
    assert raw.sheet == "Customers"
    assert raw.format == ("ods" if name.endswith(".ods") else "xlsx")
    first = {raw.header[i]: raw.table.column(f"c{i}")[0].as_py() for i in range(len(raw.header))}
    # a float, a whole number stored as a number, a date cell, an int, an empty cell
    assert first["MRR"] == "67.15"
    assert first["NPS"] == "4"
    assert first["Signup_Date"] == "2022-04-02"
    assert first["Notes"] == ""
    second_mrr = raw.table.column(f"c{raw.header.index('MRR')}")[1].as_py()
    assert second_mrr == "79"  # not "79.0"
    assert raw.line_numbers[:3].tolist() == [2, 3, 4]  # sheet rows


def test_other_sheet_by_name_or_position_and_unknown_sheet() -> None:
    other = read_raw(DATA / "customers.xlsx", Settings(), sheet="other")  # any case
    assert (other.sheet, other.header, other.headers) == ("Other", ["Note"], {"notes": 0})
    assert read_raw(DATA / "customers.xlsx", Settings(), sheet=0).sheet == "Customers"
    with pytest.raises(UsageError) as missing:
        read_raw(DATA / "customers.xlsx", Settings(), sheet="Clients")
    assert "no sheet named 'Clients'" in missing.value.message
    assert missing.value.hint == "sheets: Customers, Other"


def test_title_rows_and_problem_names_sheet_and_row() -> None:
    with pytest.raises(DataError) as err:
        load_table(DATA / "title_rows_bad_score.xlsx", Settings())
    (problem,) = err.value.problems
    assert problem.sheet == "Customers"
    assert problem.line == 7
    assert problem.value == "eight"
    assert "sheet Customers, row 7, column 'Value_Delivery', value 'eight'" in problem.describe()


def test_title_rows_skipped_and_rows_kept_with_skip_invalid() -> None:
    table = load_table(
        DATA / "title_rows_bad_score.xlsx", Settings(), ReadOptions(skip_invalid=True)
    )
    assert table.raw_table.header_lines == 3  # title row 1, blank row 2, header row 3
    ids = ["C1001", "C1002", "C1003", "C1005", "C1006", "C1007"]
    assert table.frame["customer_id"].tolist() == ids  # C1004, on sheet row 7, left out
    assert table.lines.tolist() == [4, 5, 6, 8, 9, 10]


def test_workbook_saved_with_a_csv_name_is_recognised_by_its_bytes() -> None:
    content = (DATA / "workbook_named_csv.csv").read_bytes()
    assert workbook_kind(content, Path("x.csv")) == "xlsx"
    table = load_table(DATA / "workbook_named_csv.csv", Settings())
    assert table.frame["customer_id"].tolist() == ["C1001", "C1002", "C1003", "C1004", "C1005"]
    assert table.frame["signup_date"].iloc[0] == dt.datetime(2022, 4, 2)


def test_broken_workbook_is_a_clear_data_error() -> None:
    with pytest.raises(DataError) as err:
        load_table(DATA / "broken.xlsx", Settings())
    reason = "(.xlsx: Cannot detect file format)"
    assert err.value.message == f"{DATA / 'broken.xlsx'}: cannot be read as a workbook {reason}"
    assert "export the sheet as CSV" in (err.value.hint or "")


def test_encrypted_workbook_is_named_as_such(tmp_path: Path) -> None:
    # An encrypted .xlsx is an OLE compound file holding an EncryptionInfo stream.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le")
    path = tmp_path / "secret.xlsx"
    path.write_bytes(ole + b"\x00" * 1024)
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert err.value.message == f"{path}: the workbook is encrypted (password-protected)"
    assert "without the password" in (err.value.hint or "") or "remove the password" in (
        err.value.hint or ""
    )


def test_workbook_booleans_datetimes_and_blank_rows(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Accounts"
    sheet.append(["Customer_ID", "Value_Delivery", "Issue_Resolution", "Growth_Strategy"])
    sheet.append(["A1", 8, 7.5, 6, True, dt.datetime(2026, 1, 5, 10, 30)])
    sheet.append([])
    sheet.append(["A2", 5, 5, 5, False, dt.datetime(2026, 1, 6)])
    path = tmp_path / "accounts.xlsx"
    book.save(path)
    raw = read_raw(path, Settings())
    assert raw.table.num_rows == 2
    assert raw.line_numbers.tolist() == [2, 4]
    cells = raw.table.to_pydict()
    assert cells["c2"] == ["7.5", "5"]
    assert cells["c4"] == ["true", "false"]
    assert cells["c5"] == ["2026-01-05 10:30:00", "2026-01-06"]
    assert raw.header == [
        "Customer_ID",
        "Value_Delivery",
        "Issue_Resolution",
        "Growth_Strategy",
        "",
        "",
    ]


def test_ods_saved_with_a_csv_name_is_recognised_by_its_mimetype(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes((DATA / "customers.ods").read_bytes())
    raw = read_raw(path, Settings())
    assert (raw.format, raw.sheet, raw.table.num_rows) == ("ods", "Customers", 200)


def test_a_totals_row_in_a_workbook_is_named_by_its_sheet_and_row(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Accounts"
    sheet.append(["Customer_ID", "Value_Delivery", "Issue_Resolution", "Growth_Strategy", "MRR"])
    sheet.append(["A1", 8, 7, 6, 100])
    sheet.append(["A2", 5, 5, 5, 200])
    sheet.append(["Total", None, None, None, 300])
    path = tmp_path / "accounts.xlsx"
    book.save(path)
    table = load_table(path, Settings())
    assert table.frame["customer_id"].tolist() == ["A1", "A2"]
    assert table.warnings == [
        f"{path} (sheet Accounts): left out a totals row (row 4), not customers"
    ]
