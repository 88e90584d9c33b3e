"""Exports people really have, written as their tools write them, read to the values meant.

Header layouts follow the tools' own exports (HubSpot, Pipedrive, Salesforce, Zoho CRM,
Stripe, Excel's "CSV UTF-8" and "Unicode text", Google Sheets, LibreOffice).
"""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import pytest

from cstool.config import Settings, settings_from_dict
from cstool.errors import DataError
from cstool.pipeline import ReadOptions, load_table
from cstool.read import read_raw
from tests.data.make_workbooks import ods, xlsx

SCORES = "Value_Delivery,Issue_Resolution,Growth_Strategy"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8", bom: bytes = b"") -> Path:
    path = tmp_path / name
    path.write_bytes(bom + text.encode(encoding))
    return path


def dates(values: object) -> list[str | None]:
    import pandas as pd

    return [None if pd.isna(v) else str(pd.Timestamp(v).date()) for v in values]  # type: ignore[attr-defined]


def test_hubspot_contacts_export(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hubspot-crm-exports-all-contacts-2026-11-23.csv",
        "Record ID,First Name,Last Name,Email,Phone Number,Lifecycle Stage,Create Date,"
        "Last Activity Date,Company Name\n"
        "1001,Mia,Chen,mia@harbor.example,+1 555 0100,customer,2025-03-04 10:22,"
        "2026-11-02 14:05,Harbor Legal\n"
        "1002,Ola,Berg,ola@fjord.example,,customer,2025-06-11 09:00,,Fjord Coffee\n",
    )
    frame = load_table(path, Settings()).frame
    assert frame["customer_id"].tolist() == ["1001", "1002"]
    assert frame["name"].tolist() == ["Harbor Legal", "Fjord Coffee"]
    assert frame["email"].tolist() == ["mia@harbor.example", "ola@fjord.example"]
    assert dates(frame["signup_date"]) == ["2025-03-04", "2025-06-11"]
    assert dates(frame["last_contact"]) == ["2026-11-02", None]
    assert frame["First Name"].tolist() == ["Mia", "Ola"]  # passed through


def test_pipedrive_people_export_whose_rows_say_customer(tmp_path: Path) -> None:
    """A `Customer` label cell in the first row once made that row the header."""
    path = write(
        tmp_path,
        "people-export.csv",
        "Person - ID,Person - Name,Person - Organization,Person - Email,Person - Label,"
        "Person - Add time,Person - Last activity date\n"
        "7,Mia Chen,Harbor Legal,mia@harbor.example,Customer,2025-03-04 10:22:11,2026-11-02\n"
        "8,Ola Berg,Fjord Coffee,ola@fjord.example,Hot lead,2025-06-11 09:00:00,\n",
    )
    table = load_table(path, Settings())
    assert table.raw_table.header_lines == 1
    frame = table.frame
    assert frame["customer_id"].tolist() == ["7", "8"]
    assert frame["name"].tolist() == ["Mia Chen", "Ola Berg"]
    assert frame["email"].tolist() == ["mia@harbor.example", "ola@fjord.example"]
    assert dates(frame["signup_date"]) == ["2025-03-04", "2025-06-11"]
    assert dates(frame["last_contact"]) == ["2026-11-02", None]


def test_a_real_title_line_is_still_skipped(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "titled.csv",
        f"Customers exported 2026-11-23\nCustomer_ID,Name,{SCORES}\nC1,Acme,8,7,6\n",
    )
    table = load_table(path, Settings())
    assert (table.raw_table.header_lines, table.frame["name"].tolist()) == (2, ["Acme"])


def test_salesforce_contacts_report_us_dates(tmp_path: Path) -> None:
    text = (
        '"Contact ID","First Name","Last Name","Account Name","Email","Created Date",'
        '"Last Activity"\n'
        '"0035g00000AbCdE","Mia","Chen","Harbor Legal","mia@harbor.example","3/4/2025",'
        '"11/2/2026"\n'
        '"0035g00000AbCdF","Ola","Berg","Fjord Coffee","ola@fjord.example","6/11/2025",""\n'
    )
    path = write(tmp_path, "report1700000000000.csv", text)
    # every date fits both orders: refused, naming both settings, never guessed
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert "could be day first or month first" in err.value.message
    assert err.value.hint == 'add to cstool.toml: [input] date_format = "%d/%m/%Y" or "%m/%d/%Y"'
    us = settings_from_dict({"input": {"date_format": "%m/%d/%Y"}})
    frame = load_table(path, us).frame
    assert frame["customer_id"].tolist() == ["0035g00000AbCdE", "0035g00000AbCdF"]
    assert frame["name"].tolist() == ["Harbor Legal", "Fjord Coffee"]
    assert dates(frame["signup_date"]) == ["2025-03-04", "2025-06-11"]
    assert dates(frame["last_contact"]) == ["2026-11-02", None]


def test_zoho_contacts_export(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Contacts_2026_11_23.csv",
        "Record Id,Contact Owner,First Name,Last Name,Email,Account Name,Created Time,"
        "Modified Time,Last Activity Time\n"
        "zcrm_4876000000123,Ann,Mia,Chen,mia@harbor.example,Harbor Legal,2025-03-04 10:22:11,"
        "2026-11-02 14:05:00,2026-11-02 14:05:00\n",
    )
    frame = load_table(path, Settings()).frame
    assert frame["customer_id"].tolist() == ["zcrm_4876000000123"]
    assert frame["name"].tolist() == ["Harbor Legal"]
    assert dates(frame["last_contact"]) == ["2026-11-02"]
    assert dates(frame["signup_date"]) == ["2025-03-04"]


def test_excel_csv_utf8_with_bom_and_crlf(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "customers.csv",
        f'Customer_ID,Name,MRR,{SCORES}\r\nC1,Renée’s Café,"1,200.50",8,7,6\r\n'
        "C2,東京商事,99,5,5,5\r\n",
        bom=codecs.BOM_UTF8,
    )
    table = load_table(path, Settings())
    assert table.encoding == "utf-8-sig"
    assert table.raw_table.header[0] == "Customer_ID"  # no BOM left on the first header
    assert table.frame["name"].tolist() == ["Renée’s Café", "東京商事"]
    assert table.frame["mrr"].tolist() == [1200.5, 99.0]


def test_excel_unicode_text_utf16_tab_separated(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "customers.txt",
        "Customer_ID\tName\tMRR\tValue_Delivery\tIssue_Resolution\tGrowth_Strategy\r\n"
        'C1\tRenée\t1200,5\t8\t7\t6\r\nC2\t"two\r\nlines"\t99\t5\t5\t5\r\n',
        encoding="utf-16-le",
        bom=codecs.BOM_UTF16_LE,
    )
    table = load_table(path, Settings())
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.frame["name"].tolist() == ["Renée", "two\r\nlines"]
    assert table.frame["mrr"].tolist() == [1200.5, 99.0]
    assert table.lines.tolist() == [2, 3]


def test_european_semicolons_decimal_commas_and_dotted_dates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "kunden.csv",
        "Kundennummer;Name;MRR;Value_Delivery;Issue_Resolution;Growth_Strategy;Last_Contact\n"
        "K1;Müller GmbH;1.234,56;8,5;7;6;31.12.2026\n"
        "K2;Schmidt AG;99,00;5;5;5;01.02.2026\n",
    )
    table = load_table(path, Settings())
    frame = table.frame
    assert table.delimiter == ";"
    assert frame["customer_id"].tolist() == ["K1", "K2"]
    assert frame["mrr"].tolist() == [1234.56, 99.0]
    assert frame["value_delivery"].tolist() == [8.5, 5.0]
    # 31.12. decides the column: day first, so 01.02.2026 is 1 February
    assert dates(frame["last_contact"]) == ["2026-12-31", "2026-02-01"]


def test_us_two_digit_years(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "renewals.csv",
        f"Customer_ID,{SCORES},Renewal_Date\nC1,8,7,6,12/31/26\nC2,5,5,5,01/15/27\n",
    )
    assert dates(load_table(path, Settings()).frame["renewal_date"]) == [
        "2026-12-31",
        "2027-01-15",
    ]


def test_google_sheets_download_with_dollars_and_us_dates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Customers - Sheet1.csv",
        "Customer ID,Company,MRR,Value Delivery,Issue Resolution,Growth Strategy,Signup Date\n"
        'C1,Acme,"$1,200.00",8,7,6,3/4/2025\nC2,Beta,$99.00,5,5,5,11/22/2025\n',
    )
    frame = load_table(path, Settings()).frame
    assert frame["mrr"].tolist() == [1200.0, 99.0]
    assert dates(frame["signup_date"]) == ["2025-03-04", "2025-11-22"]  # 11/22: month first


def test_stripe_customers_export(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "unified_customers.csv",
        "id,Description,Email,Name,Created (UTC),Delinquent,Currency,Balance\n"
        "cus_A1,Harbor,mia@harbor.example,Harbor Legal,2025-03-04 10:22,false,usd,0\n"
        "cus_A2,,ola@fjord.example,Fjord Coffee,2025-06-11 09:00,true,usd,-500\n",
    )
    frame = load_table(path, Settings()).frame
    assert frame["customer_id"].tolist() == ["cus_A1", "cus_A2"]
    assert frame["name"].tolist() == ["Harbor Legal", "Fjord Coffee"]
    assert dates(frame["signup_date"]) == ["2025-03-04", "2025-06-11"]


def test_workbook_excel_serial_dates_and_typed_dates(tmp_path: Path) -> None:
    """A date column typed as numbers (a CSV pasted into Excel) next to real date cells."""
    path = tmp_path / "book.xlsx"
    rows = [
        ["Customer_ID", "Value_Delivery", "Issue_Resolution", "Growth_Strategy", "Last_Contact"],
        ["C1", 8, 7, 6, 46343],  # Excel's serial day for 2026-11-17
        ["C2", 5, 5, 5, 46000],
    ]
    xlsx(path, {"Customers": rows, "Dates": [["Customer_ID", "Renewal_Date"]]})
    frame = load_table(path, Settings()).frame
    assert dates(frame["last_contact"]) == ["2026-11-17", "2025-12-09"]


def merged_header_ods(path: Path) -> None:
    """A LibreOffice sheet with a two-row header: "Customer" and "Scores" merged over their
    columns, the field names below them."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    def text(value: str, span: int = 1) -> TableCell:
        cell = TableCell(valuetype="string", numbercolumnsspanned=span)
        cell.addElement(P(text=value))
        return cell

    def number(value: float) -> TableCell:
        cell = TableCell(valuetype="float", value=value)
        cell.addElement(P(text=str(value)))
        return cell

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Accounts")
    groups = TableRow()
    groups.addElement(text("Customer", span=2))
    groups.addElement(CoveredTableCell())
    groups.addElement(text("Scores", span=3))
    groups.addElement(CoveredTableCell())
    groups.addElement(CoveredTableCell())
    table.addElement(groups)
    names = TableRow()
    for name in ["Customer_ID", "Name", *SCORES.split(",")]:
        names.addElement(text(name))
    table.addElement(names)
    for cid, name, *scores in [("A1", "Acme", 8, 7.5, 6), ("A2", "Beta", 5, 5, 5)]:
        row = TableRow()
        row.addElement(text(str(cid)))
        row.addElement(text(str(name)))
        for score in scores:
            row.addElement(number(float(score)))  # type: ignore[arg-type]
        table.addElement(row)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))


def test_ods_with_merged_header_rows(tmp_path: Path) -> None:
    path = tmp_path / "accounts.ods"
    merged_header_ods(path)
    table = load_table(path, Settings())
    assert table.raw_table.header_lines == 2  # the group row above is skipped as a title
    assert table.frame["customer_id"].tolist() == ["A1", "A2"]
    assert table.frame["name"].tolist() == ["Acme", "Beta"]
    assert table.frame["issue_resolution"].tolist() == [7.5, 5.0]
    assert table.lines.tolist() == [3, 4]


def test_empty_header_cells(tmp_path: Path) -> None:
    from cstool.pipeline import csv_frame, scored_frame
    from cstool.render import csv_bytes
    from tests.conftest import AS_OF

    path = write(
        tmp_path,
        "blank_headers.csv",
        f"Customer_ID,{SCORES},,Notes,,\nC1,8,7,6,x,hi,z,\nC2,5,5,5,y,,,\n",
    )
    table = load_table(path, Settings())
    assert table.warnings == [
        f"{path}: column 5 has no header but holds values: it is passed through with its "
        "empty header (in JSON as 'column_5')",
        f"{path}: more columns without a header hold values; passed through as column 7 as "
        "'column_7' (name them in the file to keep your own names)",
    ]
    out = csv_bytes(csv_frame(table, scored_frame(table, Settings(), AS_OF))).decode()
    header = out.splitlines()[0].split(",")
    # the empty header stays empty; the column with neither header nor value is left out
    assert header[:7] == [*("Customer_ID", *SCORES.split(",")), "", "Notes", "column_7"]
    assert header[7] == "satisfaction"
    assert table.frame["column_5"].tolist() == ["x", "y"]


def test_read_raw_keeps_a_single_sheet_workbook_quiet(tmp_path: Path) -> None:
    path = tmp_path / "one.xlsx"
    xlsx(path, {"Sheet1": [["Customer_ID", "Signup_Date"], ["C1", dt.date(2026, 1, 5)]]})
    raw = read_raw(path, Settings())
    assert (raw.sheet, raw.warnings) == ("Sheet1", [])
    assert raw.table.to_pydict() == {"c0": ["C1"], "c1": ["2026-01-05"]}


def test_skip_invalid_still_reads_a_workbook_sheet(tmp_path: Path) -> None:
    path = tmp_path / "two.ods"
    ods(
        path,
        {
            "Summary": [["Total", 2]],
            "Customers": [["Customer_ID", *SCORES.split(",")], ["C1", 8, 7, 6], ["C2", "x", 5, 5]],
        },
    )
    table = load_table(path, Settings(), ReadOptions(skip_invalid=True))
    assert table.frame["customer_id"].tolist() == ["C1"]
    assert table.raw_table.sheet == "Customers"
