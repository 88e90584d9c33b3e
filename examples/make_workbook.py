"""Write examples/customers.xlsx: a small workbook as a spreadsheet user keeps it.

Traditional Chinese headers, a title line above them, real date cells, a 1–5 survey in the
three satisfaction columns and a totals row at the bottom: the README's workbook example.
`python examples/make_workbook.py` rewrites it byte for byte (needs openpyxl, in the test
extra: `pip install ".[test]"`).
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

STAMP = (2026, 11, 23, 0, 0, 0)  # every zip entry's time, so the same bytes on every run

HEADERS = [
    "客戶編號",
    "客戶名稱",
    "電子郵件",
    "方案",
    "月收入",
    "註冊日期",
    "最後聯繫",
    "續約日期",
    "淨推薦值",
    "價值交付",
    "問題解決",
    "增長策略",
]
ROWS = [
    [
        "TW001",
        "台北咖啡館",
        "boss@taipei-cafe.example",
        "Pro",
        1200,
        date(2024, 3, 2),
        date(2026, 11, 18),
        date(2026, 12, 10),
        9,
        5,
        4,
        5,
    ],
    [
        "TW002",
        "高雄設計",
        "hi@ks-design.example",
        "Starter",
        300,
        date(2025, 7, 15),
        date(2026, 9, 1),
        date(2027, 1, 15),
        6,
        3,
        2,
        3,
    ],
    [
        "TW003",
        "新竹軟體",
        "ops@hsinchu-soft.example",
        "Team",
        2500,
        date(2023, 1, 9),
        date(2026, 11, 2),
        date(2026, 12, 1),
        10,
        4,
        5,
        4,
    ],
    [
        "TW004",
        "台中花店",
        "flowers@taichung.example",
        "Starter",
        300,
        date(2026, 11, 1),
        None,
        date(2027, 11, 1),
        None,
        4,
        4,
        3,
    ],
    [
        "TW005",
        "淡水民宿",
        "stay@tamsui.example",
        "Pro",
        1200,
        date(2024, 10, 20),
        date(2026, 6, 30),
        date(2026, 12, 5),
        3,
        2,
        1,
        2,
    ],
]


def main() -> None:
    """Write the workbook beside this script."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "客戶"
    sheet.append(["客戶名單 — 2026-11-23 匯出"])  # a title line above the header
    sheet.append(HEADERS)
    for row in ROWS:
        sheet.append(row)
    sheet.append(["總計", None, None, None, sum(r[4] for r in ROWS)])  # a totals row
    for cells in sheet.iter_rows(min_row=3, min_col=6, max_col=8):
        for cell in cells:
            cell.number_format = "yyyy-mm-dd"
    stamp = datetime(*STAMP)
    book.properties.created = stamp
    book.properties.modified = stamp
    buffer = io.BytesIO()
    book.save(buffer)
    # openpyxl stamps each zip entry with the clock; copy the entries with a fixed time
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":  # openpyxl sets `modified` to now on save
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-11-23T00:00:00Z", data
                )
            dst.writestr(zipfile.ZipInfo(item.filename, STAMP), data, zipfile.ZIP_DEFLATED)
    Path(__file__).with_name("customers.xlsx").write_bytes(out.getvalue())


if __name__ == "__main__":
    main()
