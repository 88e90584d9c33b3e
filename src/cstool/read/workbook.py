"""Workbooks (.xlsx, .xlsm, .xls, .ods) → the same text cells as a CSV, via python-calamine.

Cells become the text the file shows: dates as ISO `2026-11-22` (with the time when it is
not midnight), whole numbers without `.0`, booleans as true/false. Line numbers are the
sheet's own row numbers, so a problem can say "sheet Customers, row 7".
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstool.config import Settings
from cstool.errors import DataError, UsageError
from cstool.read.headers import header_choice, match_headers

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: .xls, or an encrypted .xlsx
_TITLE_ROWS = 3


def workbook_kind(content: bytes, path: Path) -> str | None:
    """ "xlsx", "ods" or "xls" when the bytes are a workbook (whatever the file is named)."""
    if content.startswith(b"PK\x03\x04"):
        head = content[:4096]
        if b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet" in head:
            return "ods"
        try:
            names = zipfile.ZipFile(BytesIO(content)).namelist()
        except zipfile.BadZipFile:
            return "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else None
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if "content.xml" in names and path.suffix.lower() == ".ods":
            return "ods"
        return None
    if content.startswith(_OLE):
        return "xls"
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return path.suffix.lower().lstrip(".").replace("xlsm", "xlsx")
    return None


@dataclass
class ParsedSheet:
    """One sheet as text cells: header, cells, sheet row number of each kept row."""

    sheet: str
    header: list[str]
    headers: dict[str, int]
    table: pa.Table
    header_lines: int  # the header's row number
    lines: np.ndarray
    warnings: list[str] = field(default_factory=list)  # which sheet was read, and why


def parse_workbook(
    content: bytes, path: Path, settings: Settings, kind: str, sheet: str | int | None = None
) -> ParsedSheet:
    """Read one sheet (the first by default) into text cells, header found as in CSVs."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import python_calamine as calamine

    if kind == "xls" and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00I\x00n\x00f\x00o" in (
        content
    ):
        raise DataError(
            f"{path}: the workbook is encrypted (password-protected)",
            hint="open it in your spreadsheet, remove the password (or save a copy without "
            "one, or as CSV) and read that",
        )
    try:
        book = calamine.CalamineWorkbook.from_filelike(BytesIO(content))
    except calamine.PasswordError:
        raise DataError(
            f"{path}: the workbook is encrypted (password-protected)",
            hint="save a copy without the password (or as CSV) and read that",
        ) from None
    except Exception as exc:  # calamine's errors (zip, XML, format) have no common base
        raise DataError(
            f"{path}: cannot be read as a workbook (.{kind}: {_reason(exc)})",
            hint="open and save it again in your spreadsheet, or export the sheet as CSV",
        ) from None
    names = list(book.sheet_names)
    if not names:
        raise DataError(f"{path}: the workbook has no sheets")
    warnings: list[str] = []
    if sheet is None and len(names) > 1:
        name, rows, warnings = _pick_sheet(book, names, path, settings)
    else:
        name = names[0] if sheet is None else _sheet_name(names, sheet, path)
        rows = _sheet_rows(book, name, path)
    if not rows:
        raise DataError(f"{path}: sheet {name} is empty (no header, no rows)")
    width = max(map(len, rows))
    padded = (r if len(r) == width else r + [""] * (width - len(r)) for r in rows)
    percent = (
        _percent_cells(content, name)
        if kind == "xlsx"
        else _ods_percent_cells(content, name)
        if kind == "ods"
        else {}
    )
    columns = [
        pa.array(_as_text(list(col), percent.get(i)), type=pa.string())
        for i, col in enumerate(zip(*padded, strict=True))
    ]
    del rows
    filled_by_column = [_mask(pc.not_equal(pc.utf8_trim_whitespace(c), "")) for c in columns]
    filled = np.logical_or.reduce(filled_by_column) if columns else np.zeros(0, dtype=bool)
    nonblank = np.flatnonzero(filled)
    if not len(nonblank):
        raise DataError(f"{path}: sheet {name} is empty (no header, no rows)")
    candidates = [[str(c[int(i)].as_py()).strip() for c in columns] for i in nonblank[:4]]
    header_row = int(nonblank[header_choice(candidates, settings)])
    body_rows = nonblank[nonblank > header_row]
    if not len(body_rows):
        raise DataError(f"{path}: sheet {name} has a header but no customer rows")
    # Columns with nothing in them at all (right of the table) are not part of it.
    used = [
        i for i, mask in enumerate(filled_by_column) if mask[header_row] or mask[body_rows].any()
    ]
    ncols = used[-1] + 1 if used else 0
    header = [str(columns[i][header_row].as_py()).strip() for i in range(ncols)]
    take = pa.array(body_rows)
    table = pa.table({f"c{i}": columns[i].take(take) for i in range(ncols)})
    return ParsedSheet(
        sheet=name,
        header=header,
        headers=match_headers(header, settings),
        table=table,
        header_lines=header_row + 1,
        lines=(body_rows + 1).astype(np.int64),
        warnings=warnings,
    )


def _sheet_rows(book: Any, name: str, path: Path) -> list[list[Any]]:
    """Every row of one sheet as calamine's Python values."""
    try:
        rows: list[list[Any]] = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:  # as in parse_workbook: a broken sheet part
        raise DataError(
            f"{path}: sheet {name}: cannot be read ({_reason(exc)})",
            hint="open and save it again in your spreadsheet, or export the sheet as CSV",
        ) from None
    return rows


def _pick_sheet(
    book: Any, names: list[str], path: Path, settings: Settings
) -> tuple[str, list[list[Any]], list[str]]:
    """The sheet to read when none is named: the first that has a customer ID column.

    Every sheet's first rows are looked at (a summary or pivot tab often comes first). A
    sheet other than the first, or a choice between several candidates, is said in a
    warning that names the sheets and --sheet; with no candidate the first sheet is read
    (and its missing ID column is the error).
    """
    import python_calamine as calamine

    from cstool.schema import REQUIRED

    shown = calamine.SheetVisibleEnum.Visible
    hidden = {m.name for m in book.sheets_metadata if m.visible != shown}
    rows_of: dict[str, list[list[Any]]] = {}
    candidates: list[str] = []
    for name in names:
        rows = rows_of[name] = _sheet_rows(book, name, path)
        head = [[str(c).strip() for c in row] for row in rows[: _TITLE_ROWS + 5]]
        head = [row for row in head if any(row)][: _TITLE_ROWS + 1]
        if any(all(f in match_headers(row, settings) for f in REQUIRED) for row in head):
            candidates.append(name)
        if len([n for n in candidates if n not in hidden]) > 1:
            break  # enough to choose and to warn: later sheets need not be read
        if name not in candidates:
            del rows_of[name]  # not read again: free it
    visible = [n for n in candidates if n not in hidden]
    candidates = visible or candidates
    listed = ", ".join(repr(n) for n in names)
    choose = "choose another with --sheet NAME (or [input] sheet in cstool.toml)"
    if not candidates:
        return names[0], rows_of.get(names[0]) or _sheet_rows(book, names[0], path), []
    chosen = candidates[0]
    rows = rows_of.get(chosen) or _sheet_rows(book, chosen, path)
    if len(candidates) > 1:
        others = ", ".join(repr(n) for n in candidates[1:])
        return (
            chosen,
            rows,
            [
                f"{path}: the workbook has sheets {listed}; read {chosen!r}, the first with a "
                f"customer ID column ({others} has one too): {choose}"
            ],
        )
    if chosen != names[0]:
        return (
            chosen,
            rows,
            [
                f"{path}: the workbook has sheets {listed}; read {chosen!r}, the only one with a "
                f"customer ID column: {choose}"
            ],
        )
    return chosen, rows, []


def _sheet_name(names: list[str], sheet: str | int | None, path: Path) -> str:
    if sheet is None:
        return names[0]
    if isinstance(sheet, int):
        if 0 <= sheet < len(names):
            return names[sheet]
        raise UsageError(
            f"{path}: sheet {sheet}: the workbook has {len(names)} sheet(s), numbered from 0",
            hint=f"sheets: {', '.join(names)}",
        )
    if sheet in names:
        return sheet
    if sheet.strip().isdigit():  # `--sheet 1` on the command line: a position
        return _sheet_name(names, int(sheet), path)
    folded = {n.casefold(): n for n in names}
    if sheet.casefold() in folded:
        return folded[sheet.casefold()]
    raise UsageError(f"{path}: no sheet named {sheet!r}", hint=f"sheets: {', '.join(names)}")


def _mask(values: Any) -> np.ndarray:
    import numpy as np

    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=bool)


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def _as_text(values: list[Any], percent_rows: np.ndarray | None = None) -> np.ndarray:
    """One column of calamine values → text, one Arrow cast per value type (not per cell).

    The numbers at `percent_rows` (cells with a percent number format) become the percent
    the sheet shows: 0.85 → `85%`, as a CSV saved from the sheet has it.
    """
    import datetime as dt

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(values)
    out = np.empty(n, dtype=object)
    arr = np.empty(n, dtype=object)
    arr[:] = values
    kinds = np.fromiter(map(type, values), dtype=object, count=n)
    present = set(kinds.tolist())
    for kind in present:
        idx: Any = np.flatnonzero(kinds == kind) if len(present) > 1 else slice(None)
        part = arr[idx]
        if kind is str:
            out[idx] = part
        elif kind is bool:
            out[idx] = np.where(part.astype(bool), "true", "false")
        elif kind is float or kind is int:
            numbers = pa.array(part, type=pa.float64() if kind is float else pa.int64())
            out[idx] = pc.cast(numbers, pa.string()).to_numpy(zero_copy_only=False)
        elif kind is dt.date:
            out[idx] = pc.cast(pa.array(part, pa.date32()), pa.string()).to_numpy(
                zero_copy_only=False
            )
        elif kind is dt.datetime:
            stamps = pa.array(part, pa.timestamp("us")).cast(pa.timestamp("s"), safe=False)
            midnight = pc.equal(pc.cast(stamps, pa.date32()).cast(pa.timestamp("s")), stamps)
            text = pc.if_else(
                midnight,
                pc.strftime(stamps, format="%Y-%m-%d"),
                pc.strftime(stamps, format="%Y-%m-%d %H:%M:%S"),
            )
            out[idx] = text.to_numpy(zero_copy_only=False)
        else:  # times, durations: rare, shown as Python writes them
            out[idx] = [str(v) for v in part]
    if percent_rows is not None:
        rows = percent_rows[percent_rows < n]
        numeric = np.isin(kinds[rows], np.array([int, float], dtype=object))
        rows = rows[numeric]
        if len(rows):
            shares = np.array(arr[rows].tolist(), dtype=np.float64)
            # 0.07 * 100 is 7.000000000000001: round away the binary noise, not the digits
            percents = pa.array(np.round(shares * 100, 9))
            text = pc.binary_join_element_wise(pc.cast(percents, pa.string()), "%", "")
            out[rows] = text.to_numpy(zero_copy_only=False)
    return out


# Excel's built-in percent formats (0%, 0.00%); a custom format is one when it shows a %
_PERCENT_FORMATS = {9, 10}
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _percent_cells(content: bytes, sheet: str) -> dict[int, np.ndarray]:
    """An .xlsx sheet's cells with a percent number format: column index → row indexes (0-based).

    calamine gives a percent cell's stored share (0.85 for 85 %) and no formats, so the
    styles and the sheet's cell tags are read here: styles.xml names the percent styles,
    one regex over the sheet's XML finds the cells that use them. A workbook without a
    percent style costs one small XML parse.
    """
    import re
    import xml.etree.ElementTree as ET

    try:
        with zipfile.ZipFile(BytesIO(content)) as zf:
            names = set(zf.namelist())
            if "xl/styles.xml" not in names:
                return {}
            styles = ET.fromstring(zf.read("xl/styles.xml"))
            custom = {
                int(f.get("numFmtId", "-1")): f.get("formatCode", "")
                for f in styles.iter(f"{_MAIN_NS}numFmt")
            }
            cell_xfs = styles.find(f"{_MAIN_NS}cellXfs")
            xfs = [] if cell_xfs is None else cell_xfs.findall(f"{_MAIN_NS}xf")
            styled = [
                str(i)
                for i, xf in enumerate(xfs)
                if _is_percent(int(xf.get("numFmtId", "0")), custom)
            ]
            if not styled:
                return {}
            part = _sheet_part(zf, names, sheet)
            if part is None:
                return {}
            xml = zf.read(part)
    except (zipfile.BadZipFile, ET.ParseError, KeyError, ValueError):
        return {}  # calamine read the sheet: without its styles, the cells stay as stored
    style = b"|".join(s.encode() for s in styled)
    found = re.findall(rb'<c\s(?=[^>]*?\bs="(?:' + style + rb')")[^>]*?\br="([A-Z]{1,3}\d+)"', xml)
    if not found:
        return {}
    import pyarrow as pa
    import pyarrow.compute as pc

    refs = pc.extract_regex(
        pa.array(found, pa.binary()).cast(pa.string()), r"^(?P<col>[A-Z]+)(?P<row>\d+)$"
    )
    rows = pc.cast(pc.struct_field(refs, "row"), pa.int64()).to_numpy() - 1
    letters = pc.struct_field(refs, "col")
    distinct = pc.unique(letters)
    where = pc.index_in(letters, value_set=distinct).to_numpy()
    out: dict[int, np.ndarray] = {}
    for k, name in enumerate(distinct.to_pylist()):  # one per column, not per cell
        column = 0
        for ch in name:
            column = column * 26 + ord(ch) - 64
        out[column - 1] = rows[where == k]
    return out


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_ODS_REPEAT_CAP = 100_000  # an .ods pads a sheet with a million repeated empty rows


def _ods_percent_cells(content: bytes, sheet: str) -> dict[int, np.ndarray]:
    """An .ods sheet's percentage cells (`office:value-type="percentage"`, stored as the
    share 0.85 for 85 %): column index → row indexes (0-based), as `_percent_cells` gives
    them for .xlsx. A document without any costs one search of its bytes."""
    import xml.etree.ElementTree as ET

    import numpy as np

    try:
        with zipfile.ZipFile(BytesIO(content)) as zf:
            xml = zf.read("content.xml")
    except (zipfile.BadZipFile, KeyError):
        return {}
    if b'value-type="percentage"' not in xml:
        return {}
    cells = (f"{_ODS_TABLE}table-cell", f"{_ODS_TABLE}covered-table-cell")
    found: dict[int, list[int]] = {}
    inside, row, col = False, 0, 0
    marked: list[int] = []  # this row's percentage columns
    try:
        for event, el in ET.iterparse(BytesIO(xml), events=("start", "end")):
            if event == "start":
                if el.tag == f"{_ODS_TABLE}table":
                    inside, row = el.get(f"{_ODS_TABLE}name") == sheet, 0
                elif inside and el.tag == f"{_ODS_TABLE}table-row":
                    col, marked = 0, []
                continue
            if el.tag == f"{_ODS_TABLE}table" and inside:
                break
            if not inside:
                continue
            if el.tag in cells:
                repeat = min(int(el.get(f"{_ODS_TABLE}number-columns-repeated", "1")), 16_384)
                if el.get(f"{_ODS_OFFICE}value-type") == "percentage":
                    marked.extend(range(col, col + repeat))
                col += repeat
                el.clear()
            elif el.tag == f"{_ODS_TABLE}table-row":
                repeat = int(el.get(f"{_ODS_TABLE}number-rows-repeated", "1"))
                for c in marked:
                    found.setdefault(c, []).extend(range(row, row + min(repeat, _ODS_REPEAT_CAP)))
                row += repeat
                el.clear()
    except (ET.ParseError, ValueError):
        return {}  # calamine read the sheet: without its cell types, the cells stay as stored
    return {c: np.asarray(rows, dtype=np.int64) for c, rows in found.items()}


def _is_percent(fmt_id: int, custom: dict[int, str]) -> bool:
    import re

    if fmt_id in _PERCENT_FORMATS:
        return True
    code = custom.get(fmt_id)
    if not code:
        return False
    shown = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)  # quoted text, escapes, [colors]
    return "%" in shown


def _sheet_part(zf: zipfile.ZipFile, names: set[str], sheet: str) -> str | None:
    """The zip member holding the sheet named `sheet` (workbook.xml → its relationship)."""
    import posixpath
    import xml.etree.ElementTree as ET

    book = ET.fromstring(zf.read("xl/workbook.xml"))
    rel_id = next(
        (s.get(f"{_REL_NS}id") for s in book.iter(f"{_MAIN_NS}sheet") if s.get("name") == sheet),
        None,
    )
    if rel_id is None or "xl/_rels/workbook.xml.rels" not in names:
        return None
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target") for r in rels if r.get("Id") == rel_id), None)
    if not target:
        return None
    part = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
    return part if part in names else None
