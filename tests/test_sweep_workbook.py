"""Workbooks from a new user's sweep: a cell reads as the text the sheet shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from cstool.config import Settings
from cstool.pipeline import ReadOptions, csv_frame, load_table, scored_frame
from cstool.read import read_raw
from tests.conftest import AS_OF

openpyxl = pytest.importorskip("openpyxl")


def _scored_csv(path: Path) -> bytes:
    from cstool.render import csv_bytes

    table = load_table(path, Settings(), ReadOptions())
    return csv_bytes(csv_frame(table, scored_frame(table, Settings(), AS_OF)))


def _percent_workbook(path: Path, c3_growth: float | None = None) -> None:
    """Scores typed as 85 % in Excel: stored 0.85 with a percent number format."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Scores"
    sheet.append(["Survey export"])  # a title row: the header is on row 3
    sheet.append([])
    sheet.append(["Customer ID", "Value Delivery", "Issue Resolution", "Growth Strategy", "Share"])
    sheet.append(["C1", 0.85, 0.7, 0.6, 0.125])
    sheet.append(["C2", 1, 0.07, 0.57, 0.5])
    sheet.append(["C3", "90%", 0.5, c3_growth, 0.25])
    for row in sheet.iter_rows(min_row=4, min_col=2, max_col=4):
        for cell in row:
            cell.number_format = "0%"
    for (cell,) in sheet.iter_rows(min_row=4, min_col=5, max_col=5):
        cell.number_format = '0.0" pct"%'  # a custom format with a percent sign
    book.create_sheet("Other")["A1"] = 0.5  # a plain number elsewhere stays as it is
    book.save(path)


def test_percent_cells_read_as_the_percent_the_sheet_shows(tmp_path: Path) -> None:
    _percent_workbook(tmp_path / "scores.xlsx")
    raw = read_raw(tmp_path / "scores.xlsx", Settings())
    cells = [[raw.table.column(i)[r].as_py() for i in range(5)] for r in range(3)]
    assert cells == [
        ["C1", "85%", "70%", "60%", "12.5%"],
        ["C2", "100%", "7%", "57%", "50%"],
        ["C3", "90%", "50%", "", "25%"],
    ]


def test_percent_workbook_scores_like_the_csv_excel_saves_from_it(tmp_path: Path) -> None:
    _percent_workbook(tmp_path / "scores.xlsx", c3_growth=0.4)
    (tmp_path / "scores.csv").write_text(
        "Survey export\n\nCustomer ID,Value Delivery,Issue Resolution,Growth Strategy,Share\n"
        "C1,85%,70%,60%,12.5%\nC2,100%,7%,57%,50%\nC3,90%,50%,40%,25%\n",
        encoding="utf-8",
    )
    scored = _scored_csv(tmp_path / "scores.xlsx")
    assert b",75.5," in scored  # C1: 8.5 x 0.5 + 7 x 0.3 + 6 x 0.2 on 0-10, as 0-100
    assert scored == _scored_csv(tmp_path / "scores.csv")


def test_plain_numbers_are_not_percent(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Customer ID", "Value Delivery", "Issue Resolution", "Growth Strategy", "MRR"])
    sheet.append(["C1", 8, 7.5, 6, 0.5])
    sheet["E2"].number_format = "#,##0.00"
    book.save(tmp_path / "plain.xlsx")
    raw = read_raw(tmp_path / "plain.xlsx", Settings())
    assert [raw.table.column(i)[0].as_py() for i in range(5)] == ["C1", "8", "7.5", "6", "0.5"]


def test_a_blanked_workbook_cell_is_named_by_sheet_and_row(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Customers"
    sheet.append(["Customer ID", "Value Delivery", "Issue Resolution", "Growth Strategy", "MRR"])
    sheet.append(["C1", 8, 7, 6, "abc"])
    book.save(tmp_path / "book.xlsx")
    table = load_table(tmp_path / "book.xlsx", Settings(), ReadOptions(skip_invalid=True))
    (blanked,) = table.blanked
    assert (blanked.sheet, blanked.line, blanked.value) == ("Customers", 2, "abc")
    assert "sheet Customers, row 2" in blanked.describe()


def _ods(path: Path, rows: list[list[object]], sheet: str = "Scores") -> None:
    """A real .ods (the OpenDocument zip LibreOffice writes, reduced to its three parts): a
    float is a percentage cell, an int a plain number, a str text, None an empty cell;
    (value, n) repeats a cell n times as LibreOffice does."""
    import zipfile
    from xml.sax.saxutils import escape

    def cell(value: object) -> str:
        repeat = ""
        if isinstance(value, tuple):
            value, n = value
            repeat = f' table:number-columns-repeated="{n}"'
        if value is None:
            return f"<table:table-cell{repeat}/>"
        if isinstance(value, float):
            shown = f"{value * 100:g}%"
            return (
                f'<table:table-cell{repeat} office:value-type="percentage" '
                f'office:value="{value}"><text:p>{shown}</text:p></table:table-cell>'
            )
        if isinstance(value, int):
            return (
                f'<table:table-cell{repeat} office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>"
            )
        return (
            f'<table:table-cell{repeat} office:value-type="string">'
            f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
        )

    body = "".join(f"<table:table-row>{''.join(map(cell, r))}</table:table-row>" for r in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Notes"><table:table-row>'
        '<table:table-cell office:value-type="percentage" office:value="0.5"><text:p>50%</text:p>'
        "</table:table-cell></table:table-row></table:table>"
        f'<table:table table:name="{sheet}">{body}'
        '<table:table-row table:number-rows-repeated="1048000"><table:table-cell/>'
        "</table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)


def test_ods_percentage_cells_read_as_the_percent_the_sheet_shows(tmp_path: Path) -> None:
    path = tmp_path / "scores.ods"
    _ods(
        path,
        [
            ["Survey export"],
            [],
            ["Customer ID", "Value Delivery", "Issue Resolution", "Growth Strategy", "MRR"],
            ["C1", 0.85, 0.7, 0.6, 120],
            ["C2", (0.5, 3), 80],
            ["C3", "90%", 0.5, 0.4, None],
        ],
    )
    raw = read_raw(path, Settings(), sheet="Scores")
    cells = [[raw.table.column(i)[r].as_py() for i in range(5)] for r in range(3)]
    assert cells == [
        ["C1", "85%", "70%", "60%", "120"],
        ["C2", "50%", "50%", "50%", "80"],
        ["C3", "90%", "50%", "40%", ""],
    ]
    table = load_table(path, Settings(), ReadOptions(sheet="Scores"))
    assert table.frame["value_delivery"].tolist() == [8.5, 5.0, 9.0]  # 85 % of 0-10
    assert not any("shares from 0 to 1" in w for w in table.warnings)
