"""A customer file (CSV or workbook) → RawTable: every cell as text, read from one read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cstool.config import Settings
from cstool.errors import DataError
from cstool.read.encoding import decode
from cstool.read.files import read_bytes
from cstool.read.headers import check_column_mapping, duplicate_header_warnings
from cstool.read.parse import parse_csv, record_lines
from cstool.read.workbook import parse_workbook, workbook_kind

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


@dataclass
class RawTable:
    """A parsed table: every cell as text, the header as written, and where each row starts.

    For a workbook, `sheet` names the sheet read and line numbers are its row numbers;
    `encoding` is then "utf-8" and `delimiter` "," (what rejects files are written with).
    """

    path: Path
    table: pa.Table  # columns c0…cN (text), rows as parsed
    header: list[str]  # the header cells as written
    headers: dict[str, int]  # canonical field -> column position
    encoding: str
    delimiter: str
    ragged: list[tuple[int, int]] = field(default_factory=list)  # (line, cells) of bad rows
    header_lines: int = 1  # lines up to the end of the header (blank lines before it included)
    lines: np.ndarray | None = None  # file line (or sheet row) where each row starts
    ragged_cells: dict[int, list[str]] = field(default_factory=dict)  # line -> cells
    sheet: str | None = None  # the workbook sheet read; None for a CSV
    format: str = "csv"  # "csv", "xlsx", "xls" or "ods"
    warnings: list[str] = field(default_factory=list)  # for people: duplicate headers, …
    text: bytes | None = field(default=None, repr=False)  # UTF-8 bytes, for exact lines only

    @property
    def header_names(self) -> dict[str, str]:
        """Canonical field -> header as written in the file."""
        return {name: self.header[pos] for name, pos in self.headers.items()}

    @property
    def line_numbers(self) -> np.ndarray:
        """File line (header = 1) or sheet row where each row of `table` starts."""
        import numpy as np

        if self.lines is None and self.text is not None:
            width = len(self.header)
            self.lines = record_lines(self.text, self.delimiter, width, self.header_lines)
            self.text = None
        if self.lines is not None:
            return self.lines
        first = self.header_lines + 1
        return np.arange(first, self.table.num_rows + first, dtype=np.int64)


def read_raw(
    path: Path,
    settings: Settings,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    content: bytes | None = None,
    sheet: str | int | None = None,
) -> RawTable:
    """Read a customer CSV or workbook into text cells, matching its headers to cstool's fields.

    `content`: the file's bytes when the caller has read them already (the path is then
    never opened again, so a pipe works). A workbook is recognised by its bytes, whatever
    its name; `sheet` picks one by name or 0-based position (default: `[input] sheet`, else
    the first sheet with a customer ID column, said in a warning when it is not the only one).
    """
    import pyarrow  # noqa: F401  (loaded first: it also checks UTF-8 fast)

    path = Path(path)
    raw = read_bytes(path) if content is None else content
    del content
    kind = workbook_kind(raw, path)
    if kind is not None:
        chosen = sheet if sheet is not None else settings.input.sheet
        parsed = parse_workbook(raw, path, settings, kind, chosen)
        del raw
        where = f"{path} (sheet {parsed.sheet})"
        check_column_mapping(parsed.header, settings, where)
        table, marked = _without_text_marks(parsed.table, parsed.headers, parsed.header)
        return RawTable(
            path=path,
            table=table,
            header=parsed.header,
            headers=parsed.headers,
            encoding="utf-8",
            delimiter=",",
            header_lines=parsed.header_lines,
            lines=parsed.lines,
            sheet=parsed.sheet,
            format=kind,
            warnings=[
                *parsed.warnings,
                *duplicate_header_warnings(parsed.header, parsed.headers),
                *marked,
            ],
        )
    forced = encoding or (settings.input.encoding if settings.input.encoding != "auto" else None)
    data, used = decode(raw, path, forced)
    del raw
    forced_delimiter = delimiter or (
        settings.input.delimiter if settings.input.delimiter != "auto" else None
    )
    csv = parse_csv(data, path, settings, forced_delimiter)
    del data
    check_column_mapping(csv.header, settings, str(path))
    table, marked = _without_text_marks(csv.table, csv.headers, csv.header)
    return RawTable(
        path=path,
        table=table,
        header=csv.header,
        headers=csv.headers,
        encoding=used,
        delimiter=csv.delimiter,
        ragged=csv.ragged,
        header_lines=csv.header_lines,
        lines=csv.lines,
        ragged_cells=csv.ragged_cells,
        text=csv.data,
        warnings=[*csv.warnings, *duplicate_header_warnings(csv.header, csv.headers), *marked],
    )


def _without_text_marks(
    table: pa.Table, headers: dict[str, int], header: list[str]
) -> tuple[pa.Table, list[str]]:
    """IDs written `'7318005694658` (Shopify's customer export; the apostrophe a spreadsheet
    reads as "this is text, not a number") are read without it, when every ID has one: a
    column where only some do is left as it is (the apostrophe may be part of those IDs)."""
    import pyarrow.compute as pc

    pos = headers.get("customer_id")
    if pos is None or table.num_rows == 0:
        return table, []
    cells = table.column(pos)
    head = [str(v).strip() for v in cells.slice(0, 64).to_pylist() if v is not None]
    if not any(head) or not next(v for v in head if v).startswith("'"):
        return table, []  # the usual case, decided from the first ID
    trimmed = pc.utf8_trim_whitespace(cells)
    marked = pc.starts_with(trimmed, "'")
    if pc.any(pc.and_(pc.not_equal(trimmed, ""), pc.invert(marked))).as_py():
        return table, []
    stripped = pc.if_else(marked, pc.utf8_slice_codeunits(trimmed, 1), cells)
    if pc.any(pc.and_(marked, pc.equal(stripped, ""))).as_py():
        return table, []  # a cell that is only an apostrophe: not a mark on an ID
    table = table.set_column(pos, table.column_names[pos], stripped)
    return table, [
        f"every ID in column {header[pos]!r} starts with an apostrophe "
        "(a spreadsheet's mark for text, as in Shopify's export): read without it"
    ]


def in_sheet(error: DataError, sheet: str) -> DataError:
    """The same error with each problem placed in a workbook's sheet ("sheet X, row 7")."""
    import dataclasses

    located = DataError(
        error.message,
        problems=[dataclasses.replace(p, sheet=p.sheet or sheet) for p in error.problems],
        hint=error.hint,
        total_problems=error.total_problems,
    )
    return located


def ragged_records(raw: RawTable) -> dict[int, list[str]]:
    """The cells of each ragged row, by line: for the rejects file only."""
    return raw.ragged_cells
