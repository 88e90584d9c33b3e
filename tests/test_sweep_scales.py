"""Scales by evidence, from a new user's sweep: shares 0–1 on a 0–10 scale are not silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from cstool.config import Settings, settings_from_dict
from cstool.pipeline import load_table

HEAD = "Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy"


def _file(tmp_path: Path, text: str, name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shares_zero_to_one_on_a_zero_to_ten_scale_warn(tmp_path: Path) -> None:
    path = _file(tmp_path, f"{HEAD}\nA,0.85,0.7,0.6\nB,1,0.4,0.35\n")
    table = load_table(path, Settings())
    (warning,) = table.warnings
    assert "from 0 to 1" in warning and "0.85" in warning
    assert "85%" in warning and "[scale] max = 1" in warning
    one = settings_from_dict({"scale": {"min": 0, "max": 1}})
    assert load_table(path, one).warnings == []


@pytest.mark.parametrize(
    "rows",
    [
        "A,0.5,8,7\nB,1,0.5,0.5\n",  # a real 0-10 file with a few low scores
        "A,1,0,1\nB,0,0,1\n",  # whole 0/1: flags, not shares
        "A,85%,70%,60%\n",  # written as percentages: read as such
    ],
)
def test_no_share_warning_for_other_files(tmp_path: Path, rows: str) -> None:
    assert load_table(_file(tmp_path, f"{HEAD}\n{rows}"), Settings()).warnings == []


def test_percent_cells_of_an_ods_sheet_are_read_as_the_percent_shown(tmp_path: Path) -> None:
    pytest.importorskip("odf")
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    sheet = Table(name="Customers")
    for values in (HEAD.split(","), ["C1", 0.85, 0.7, 0.6], ["C2", 0.9, 0.5, 0.45]):
        row = TableRow()
        for value in values:
            if isinstance(value, str):
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=value))
            else:  # a LibreOffice percent cell: the share, shown as 85 %
                cell = TableCell(valuetype="percentage", value=value)
                cell.addElement(P(text=f"{value:.0%}"))
            row.addElement(cell)
        sheet.addElement(row)
    doc.spreadsheet.addElement(sheet)
    doc.save(str(tmp_path / "scores.ods"))
    # odfpy's file, as LibreOffice writes one: 85 % of the 0-10 scale, no "shares" warning
    table = load_table(tmp_path / "scores.ods", Settings())
    assert table.frame["value_delivery"].tolist() == [8.5, 9.0]
    assert table.frame["growth_strategy"].tolist() == [6.0, 4.5]
    assert table.warnings == []
