"""Writes the workbook fixtures in this folder from examples/customer_data.csv.

Run once (`python tests/data/make_workbooks.py`); the files are committed. Cells are typed
as a spreadsheet stores them: numbers as numbers, dates as dates, empty cells empty, so the
reader's text conversion is what the tests check.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent.parent / "examples" / "customer_data.csv"


def typed(cell: str) -> Any:
    if cell == "":
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cell):
        return dt.date.fromisoformat(cell)
    if re.fullmatch(r"-?\d+", cell):
        return int(cell)
    if re.fullmatch(r"-?\d+\.\d+", cell):
        return float(cell)
    return cell


def example_rows() -> list[list[Any]]:
    with EXAMPLE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return [rows[0], *([typed(c) for c in row] for row in rows[1:])]


def xlsx(path: Path, sheets: Mapping[str, Sequence[Any]]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for column in sheet.iter_cols():
            for cell in column:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
    book.save(path)


def ods(path: Path, sheets: Mapping[str, Sequence[Any]]) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            tr = TableRow()
            for value in row:
                if value is None:
                    cell = TableCell()
                elif isinstance(value, dt.date):
                    cell = TableCell(valuetype="date", datevalue=value.isoformat())
                    cell.addElement(P(text=value.isoformat()))
                elif isinstance(value, int | float):
                    cell = TableCell(valuetype="float", value=value)
                    cell.addElement(P(text=str(value)))
                else:
                    cell = TableCell(valuetype="string")
                    cell.addElement(P(text=str(value)))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))


def main() -> None:
    rows = example_rows()
    other = [["Note"], ["this sheet is not the customer table"]]
    xlsx(HERE / "customers.xlsx", {"Customers": rows, "Other": other})
    ods(HERE / "customers.ods", {"Customers": rows, "Other": other})
    # A title row and a blank row above the header, a bad score on sheet row 7.
    titled = [["Customer export, 2026-11-23"], [], *rows[:8]]
    titled[6] = list(titled[6])
    titled[6][rows[0].index("Value_Delivery")] = "eight"
    xlsx(HERE / "title_rows_bad_score.xlsx", {"Customers": titled})
    # A workbook saved under a .csv name (Excel users do this).
    xlsx(HERE / "workbook_named_csv.csv", {"Sheet1": rows[:6]})
    # Not a workbook although it is a zip with an xlsx name: broken.
    (HERE / "broken.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 64)


if __name__ == "__main__":
    main()
