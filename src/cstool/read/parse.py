"""CSV bytes (UTF-8) → Arrow text table: delimiter, title lines, header, line numbers.

Parsing goes through pyarrow's multi-threaded CSV reader with every column read as text,
so the validator sees exactly what the user wrote; exact line numbers come from a careful
Python pass only when the file has blank lines, quoted newlines or ragged rows.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cstool.config import Settings
from cstool.errors import DataError, UsageError
from cstool.read.headers import header_choice, match_headers

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

DELIMITERS = (",", ";", "\t", "|")
TITLE_LINES = 3  # lines above the header some exports add ("Customers — exported 2026-11-23")


def delimiter_option(value: str, option: str = "--delimiter") -> str:
    """The delimiter a user named (`tab`, `;`, …): one printable ASCII character or tab."""
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    value = named.get(value, value)
    if len(value) != 1 or value in '"\r\n' or not (value == "\t" or " " <= value <= "~"):
        raise UsageError(
            f"{option} {value!r}: expected one printable ASCII character such as , ; | or tab",
            hint="e.g. --delimiter ';' or --delimiter tab",
        )
    return value


def sniff_delimiter(data: bytes) -> str:
    """The delimiter of the header line: the one that splits it as often as the line after.

    The first few non-blank lines are looked at, so a title line above the header does not
    hide a semicolon- or tab-separated table, and a data cell such as `vip;beta;emea` (a
    multi-select field) does not outvote the commas of a comma-separated header.
    """
    lines = [line for line in _quoted_lines(data[:65536]) if line.strip()][: TITLE_LINES + 4]
    counts = {d: [_count_outside_quotes(line, d.encode()) for line in lines] for d in DELIMITERS}

    def header_count(d: str) -> int:
        """Cells split on the first candidate header line that the next line agrees with."""
        row = counts[d]
        for i in range(min(TITLE_LINES + 1, len(row))):
            if row[i] > 0 and (i + 1 == len(row) or row[i + 1] == row[i]):
                return row[i]
        return 0

    agreed = {d: header_count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (agreed[d], d == ","))
    if agreed[best] > 0:
        return best
    most = {d: max(counts[d], default=0) for d in DELIMITERS}  # ragged from the start
    best = max(DELIMITERS, key=lambda d: (most[d], d == ","))
    return best if most[best] > 0 else ","


def _quoted_lines(data: bytes) -> list[bytes]:
    """Physical lines joined into records: a quoted cell may hold line breaks (`"a\nb"`), and
    counting its halves as lines made a one-row `;` file look comma-separated (fuzz test)."""
    records: list[bytes] = []
    pending = b""
    for line in data.splitlines():
        pending = pending + b"\n" + line if pending else line
        if pending.count(b'"') % 2 == 0:
            records.append(pending)
            pending = b""
    return [*records, pending] if pending else records


def _count_outside_quotes(line: bytes, sep: bytes) -> int:
    parts = line.split(b'"')
    return sum(part.count(sep) for part in parts[::2])


def find_header(
    data: bytes, sep: str, path: Path, settings: Settings
) -> tuple[list[str], int, int, dict[str, int]]:
    """The header row and its field matches: the first non-blank line, or one a few title
    lines below it (see `header_choice`)."""
    rows = _leading_rows(data, sep, path, TITLE_LINES + 1)
    chosen = header_choice([cells for cells, _ in rows], settings)
    header, header_lines = rows[chosen]
    offset = _offset_after_lines(data, header_lines)
    return header, offset, header_lines, match_headers(header, settings)


def _leading_rows(data: bytes, sep: str, path: Path, count: int) -> list[tuple[list[str], int]]:
    """The first `count` non-blank rows (cells cleaned) and the line each one ends on."""
    text_start = data[:1_000_000].decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text_start, newline=""), delimiter=sep)
    rows: list[tuple[list[str], int]] = []
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                rows.append((_clean(record), reader.line_num))
                if len(rows) == count:
                    break
    except csv.Error as exc:
        if not rows:
            raise DataError(
                f"{path}: line {reader.line_num}: cannot read the header ({exc})"
            ) from None
    if not rows:
        raise DataError(f"{path}: the header row is empty")
    return rows


def _clean(header: list[str]) -> list[str]:
    return [unicodedata.normalize("NFC", h).strip().lstrip("\ufeff") for h in header]


def read_header(
    data: bytes, sep: str, path: Path, *, titles: int = 0
) -> tuple[list[str], int, int]:
    """The header cells, the byte offset where the body starts, and the header's last line.

    Blank lines before the header are skipped, and so are `titles` non-blank lines.
    """
    text_start = data[:1_000_000].decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text_start, newline=""), delimiter=sep)
    try:
        header: list[str] = []
        for _ in range(titles + 1):
            header = []
            while not any(cell.strip() for cell in header):
                header = next(reader)
    except StopIteration:
        raise DataError(f"{path}: the header row is empty") from None
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num}: cannot read the header ({exc})") from None
    header_lines = reader.line_num
    offset = _offset_after_lines(data, header_lines)
    return _clean(header), offset, header_lines


def _offset_after_lines(data: bytes, lines: int) -> int:
    pos = 0
    for _ in range(lines):
        nxt = _next_line_break(data, pos)
        if nxt < 0:
            return len(data)
        pos = nxt
    return pos


def _next_line_break(data: bytes, pos: int) -> int:
    """Offset just after the next line break (\\r\\n, \\n or \\r) from `pos`, or -1."""
    n = data.find(b"\n", pos)
    r = data.find(b"\r", pos, n if n >= 0 else len(data))  # only up to the \n
    if r >= 0 and (n < 0 or r < n):
        return r + 2 if data[r + 1 : r + 2] == b"\n" else r + 1
    return n + 1 if n >= 0 else -1


def _parse_body(
    data: bytes, offset: int, sep: str, ncols: int, path: Path, header_lines: int
) -> tuple[pa.Table, list[tuple[int, int]], list[int] | None]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(ncols)]
    ragged: list[tuple[int, int]] = []
    if not re.compile(rb"[^\s" + re.escape(sep.encode()) + rb"]").search(data, offset):
        raise DataError(f"{path}: has a header but no customer rows")
    body = pa.BufferReader(pa.py_buffer(data).slice(offset))
    quoted = data.find(b'"', offset) >= 0

    def on_invalid_row(row: pacsv.InvalidRow) -> Literal["skip", "error"]:
        if row.text.strip(" \t\r\n" + sep):
            ragged.append((-1, int(row.actual_columns)))
        return "skip"

    try:
        table = pacsv.read_csv(
            body,
            read_options=pacsv.ReadOptions(column_names=names, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                quote_char='"',
                double_quote=True,
                newlines_in_values=quoted,
                ignore_empty_lines=True,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,  # `decode` made the whole text valid UTF-8 already
            ),
        )
    except pa.ArrowInvalid as exc:
        raise DataError(
            f"{path}: cannot be read as {_sep_name(sep)}-separated text: {exc}"
        ) from None
    if quoted and data.count(b'"', offset) % 2:
        _check_unclosed_quote(data, sep, path)
    # The threaded parse leaves freed blocks in Arrow's pool; hand them back to the system.
    pa.default_memory_pool().release_unused()
    if ragged:
        # Only a few records are affected; exact line numbers come from a careful pass.
        starts, ragged = _record_starts(data, sep, ncols, header_lines)
        return table, ragged, starts
    return table, ragged, None


def _check_unclosed_quote(data: bytes, sep: str, path: Path) -> None:
    """An odd number of quotes may be a stray `5" screen`, or a quote never closed."""
    last: tuple[int, list[str]] | None = None
    for last in _records(data, sep):  # noqa: B007 - only the last record matters
        pass
    if last is not None and any("\n" in cell or "\r" in cell for cell in last[1]):
        raise DataError(
            f"{path}: line {last[0]}: a quoted field starts on this line and is never closed",
            hint='close the quote (") or remove it; the rest of the file was read as one cell',
        )


def _sep_name(sep: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(sep, repr(sep))


def _physical_lines(data: bytes) -> int:
    """Lines in the file, counting \\r\\n, \\n and lone \\r as one break each."""
    if data.find(b"\r") < 0:
        breaks = _count_byte(data, b"\n")
    else:
        breaks = _count_byte(data, b"\n") + _count_byte(data, b"\r") - data.count(b"\r\n")
    ends_with_break = data.endswith((b"\n", b"\r"))
    return breaks + (0 if ends_with_break else 1)


def _count_byte(data: bytes, byte: bytes, chunk: int = 1 << 24) -> int:
    """How often one byte occurs: numpy over slices (4x bytes.count, and without the GIL,
    so the sources read side by side overlap here too)."""
    import numpy as np

    view = np.frombuffer(data, dtype=np.uint8)
    code = byte[0]
    return sum(
        int(np.count_nonzero(view[start : start + chunk] == code))
        for start in range(0, len(view), chunk)
    )


def _record_starts(
    data: bytes, sep: str, ncols: int, header_lines: int
) -> tuple[list[int], list[tuple[int, int]]]:
    """Start line of each kept record, and (line, cell count) of ragged ones.

    The slow, exact path: only used when the file has blank lines, quoted newlines or
    ragged rows, so that every problem can still name its line.
    """
    starts: list[int] = []
    ragged: list[tuple[int, int]] = []
    for start, record in _records(data, sep):
        if start <= header_lines:
            continue  # title and blank lines, then the header
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # blank line
        if len(record) != ncols:
            if any(cell.strip() for cell in record):
                ragged.append((start, len(record)))
            continue
        starts.append(start)
    return starts, ragged


def _records(data: bytes, sep: str) -> Iterator[tuple[int, list[str]]]:
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    previous_end = 0
    for record in reader:
        yield previous_end + 1, record
        previous_end = reader.line_num


@dataclass
class ParsedCsv:
    """What one pass over a CSV's bytes gives: header, cells, and where each row starts."""

    header: list[str]
    headers: dict[str, int]
    table: pa.Table
    delimiter: str
    header_lines: int
    ragged: list[tuple[int, int]]
    ragged_cells: dict[int, list[str]]  # line -> cells of each ragged row (for rejects)
    lines: np.ndarray | None  # None: count them from `data` when asked
    data: bytes | None = None  # the UTF-8 bytes, kept only when `lines` is None
    warnings: list[str] = field(default_factory=list)  # a footer left out


def parse_csv(data: bytes, path: Path, settings: Settings, delimiter: str | None) -> ParsedCsv:
    """Parse UTF-8 bytes: delimiter (given or sniffed), header, body and line numbers.

    Everything that needs the bytes is done here, once, so a pipe is never read again.
    """
    import numpy as np

    if not re.search(rb"[^\s,;|]", data):
        raise DataError(f"{path}: the file is empty (no header, no rows)")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DataError(
            f"{path}: line {line} contains a NUL byte: this looks like a binary file or UTF-16 "
            "without a byte-order mark",
            hint="if it is a text export, name its encoding with --encoding (e.g. utf-16)",
        )
    sep = delimiter_option(delimiter) if delimiter else sniff_delimiter(data)
    header, body_offset, header_lines, headers = find_header(data, sep, path, settings)
    warnings: list[str] = []
    footer = _footer(data, sep, body_offset) if len(header) > 1 else None
    if footer is not None:
        cut, steps, texts = footer
        data = data[:cut]
        before = _physical_lines(data)  # the lines up to the table's last row
        numbers = [before + step for step in steps]
        shown = ", ".join(repr(t if len(t) <= 60 else t[:57] + "...") for t in texts[:2])
        more = ", …" if len(texts) > 2 else ""
        where = f"line {numbers[0]}" if len(texts) == 1 else f"lines {numbers[0]}–{numbers[-1]}"
        warnings.append(
            f"{path}: left out {len(texts)} line{'s' if len(texts) != 1 else ''} of one cell "
            f"after a blank line at the end ({where}: {shown}{more}), a footer, not customers"
        )
    table, ragged, starts = _parse_body(data, body_offset, sep, len(header), path, header_lines)
    n = table.num_rows
    ragged_cells: dict[int, list[str]] = {}
    kept: bytes | None = None
    lines: np.ndarray | None = None
    if starts is not None:  # ragged rows: the careful pass has been made already
        lines = np.asarray(starts, dtype=np.int64)
        wanted = {line for line, _ in ragged}
        ragged_cells = {s: rec for s, rec in _records(data, sep) if s in wanted}
    elif _physical_lines(data) == n + header_lines:
        lines = np.arange(header_lines + 1, n + header_lines + 1, dtype=np.int64)
    else:
        # Blank lines or quoted newlines: exact lines need a slow pass, made only if a
        # problem or a lookup asks; the bytes are kept for it (the path is never re-read).
        kept = data
    return ParsedCsv(
        header, headers, table, sep, header_lines, ragged, ragged_cells, lines, kept, warnings
    )


_FOOTER_BYTES = 8192  # a report's footer is a few short lines
_FOOTER_LINES = 12


def _footer(data: bytes, sep: str, body_offset: int) -> tuple[int, list[int], list[str]] | None:
    """A footer under the table (a report's "Confidential Information - Do Not Distribute",
    "Generated By: …", "Exported on …"): the last lines of the file, each one cell, set apart
    from the last row by a blank line. (Where to cut, each footer line's distance in lines
    from the table's last row, their texts), or None. A one-cell line right under a row is
    no footer: it is reported as a row with too few cells, since it may be a row cut short."""
    start = max(body_offset, len(data) - _FOOTER_BYTES)
    if start > body_offset:  # begin at a line's start
        first_break = data.find(b"\n", start)
        if first_break < 0:
            return None
        start = first_break + 1
    lines = data[start:].splitlines(keepends=True)
    i = len(lines) - 1
    found: list[tuple[int, str]] = []
    while i >= 0:
        if lines[i].strip():
            text = _one_cell(lines[i], sep)
            if text is None:
                break  # the table's last row
            found.append((i, text))
            if len(found) > _FOOTER_LINES:
                return None
        i -= 1
    if i < 0 or not found or lines[i + 1].strip():
        return None  # no row above, or no blank line between it and the footer
    cut = start + sum(len(line) for line in lines[: i + 1])
    found.reverse()
    return cut, [j - i for j, _ in found], [text for _, text in found]


def _one_cell(line: bytes, sep: str) -> str | None:
    """The text of a line holding one cell (quoted or not), else None."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.count('"') % 2:
        return None  # a quote opened or closed on another line
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error:
        return None
    if len(records) != 1:
        return None
    cells = [c for c in records[0] if c.strip()]
    return cells[0].strip() if len(cells) == 1 and len(records[0]) == 1 else None


def record_lines(data: bytes, sep: str, ncols: int, header_lines: int) -> np.ndarray:
    """File line where each kept record starts (the slow, exact pass)."""
    import numpy as np

    starts, _ = _record_starts(data, sep, ncols, header_lines)
    return np.asarray(starts, dtype=np.int64)
