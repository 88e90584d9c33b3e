"""Bytes → DataFrame of text cells: encoding, delimiter, line numbers, header matching.

Encoding is decided strictly, never guessed from a few bytes: a BOM if there is one,
else UTF-8 if the whole file decodes, else GB18030 if it does, else an error.
Parsing goes through pyarrow's multi-threaded CSV reader with every column read as
text, so the validator sees exactly what the user wrote.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cstool.config import Settings
from cstool.errors import DataError, Problem, UsageError
from cstool.schema import ALIASES, FIELDS, REQUIRED

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

DELIMITERS = (",", ";", "\t", "|")
TITLE_LINES = 3  # lines above the header some exports add ("Customers — exported 2026-11-23")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass
class RawTable:
    """A parsed CSV: every cell as text, the header as written, and where each row starts."""

    path: Path
    table: pa.Table  # columns c0…cN (text), rows as parsed
    header: list[str]  # the header cells as written
    headers: dict[str, int]  # canonical field -> column position
    encoding: str
    delimiter: str
    ragged: list[tuple[int, int]] = field(default_factory=list)  # (line, cells) of bad rows
    header_lines: int = 1  # lines up to the end of the header (blank lines before it included)

    @cached_property
    def data(self) -> bytes:
        """The file as UTF-8 bytes, read again only when exact line numbers are needed.

        Not kept from the first read, so a large file is not held in memory twice.
        """
        return _as_utf8(read_bytes(self.path), self.encoding)

    @cached_property
    def physical_lines(self) -> int:
        """Line breaks in the file (+1 when the last line has none); counted when needed."""
        return _physical_lines(self.data)

    @property
    def header_names(self) -> dict[str, str]:
        """Canonical field -> header as written in the file."""
        return {name: self.header[pos] for name, pos in self.headers.items()}

    @cached_property
    def line_numbers(self) -> np.ndarray:
        """File line (header = 1) where each row of `frame` starts."""
        import numpy as np

        n = self.table.num_rows
        first = self.header_lines + 1
        if not self.ragged and self.physical_lines == n + self.header_lines:
            return np.arange(first, n + first, dtype=np.int64)
        starts, _ = _record_starts(self.data, self.delimiter, len(self.header), self.header_lines)
        return np.asarray(starts, dtype=np.int64)


def read_raw(
    path: Path,
    settings: Settings,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    content: bytes | None = None,
) -> RawTable:
    """Read a customer CSV into text cells, matching its headers to cstool's fields.

    `content`: the file's bytes when the caller has read them already.
    """
    import pyarrow  # noqa: F401  (loaded first: it also checks UTF-8 fast, see _check_utf8)

    path = Path(path)
    raw = read_bytes(path) if content is None else content
    del content
    forced = encoding or (settings.input.encoding if settings.input.encoding != "auto" else None)
    data, used = decode(raw, path, forced)
    del raw
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
    forced_delimiter = delimiter or (
        settings.input.delimiter if settings.input.delimiter != "auto" else None
    )
    sep = delimiter_option(forced_delimiter) if forced_delimiter else sniff_delimiter(data)
    header, body_offset, header_lines, headers = find_header(data, sep, path, settings)
    table, ragged = _parse_body(data, body_offset, sep, len(header), path, header_lines)
    return RawTable(
        path=path,
        table=table,
        header=header,
        headers=headers,
        encoding=used,
        delimiter=sep,
        ragged=ragged,
        header_lines=header_lines,
    )


def read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise UsageError(f"{path}: file not found")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder, expected a CSV file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None


def decode(raw: bytes, path: Path, forced: str | None = None) -> tuple[bytes, str]:
    """The file as UTF-8 bytes (no BOM) and the encoding it was read with."""
    if forced:
        try:
            codecs.lookup(forced)
        except LookupError:
            raise UsageError(f"--encoding {forced!r}: unknown encoding") from None
        try:
            text = raw.decode(forced)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path}: {_decode_position(raw, exc)} is not valid {forced}",
                hint="check --encoding (or [input] encoding in cstool.toml)",
            ) from None
        return text.lstrip("\ufeff").encode("utf-8"), forced
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"{path}: starts with a {codec} byte-order mark but "
                    f"{_decode_position(raw, exc)} is not valid {codec}"
                ) from None
            if codec == "utf-8-sig":
                return raw[len(bom) :], "utf-8-sig"
            return text.lstrip("\ufeff").encode("utf-8"), codec
    try:
        _check_utf8(raw)
        return raw, "utf-8"
    except UnicodeDecodeError as utf8_error:
        if _mostly_utf8(raw):
            raise DataError(
                f"{path}: {_decode_position(raw, utf8_error)} is not UTF-8, though the rest of "
                "the file is: a row saved by another program, in another encoding?",
                hint="retype or fix that line (or name the file's encoding with --encoding)",
            ) from None
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise DataError(
                f"{path}: {_decode_position(raw, utf8_error)} is neither UTF-8 nor GB18030",
                hint="name the file's encoding with --encoding (e.g. --encoding latin-1 or cp1252)",
            ) from None
        if not _plausible_gb18030(raw):
            raise DataError(
                f"{path}: {_decode_position(raw, utf8_error)} is not UTF-8, and read as GB18030 "
                "the file gives unlikely text: it looks like another encoding (Windows-1252 "
                "or Latin-1 for European text, Shift-JIS for Japanese)",
                hint="name the file's encoding with --encoding (e.g. --encoding cp1252, "
                "--encoding cp932, or --encoding gb18030 if it is Chinese text)",
            ) from None
        return text.encode("utf-8"), "gb18030"


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def _mostly_utf8(raw: bytes) -> bool:
    """Whether most non-ASCII bytes of a file that is not all UTF-8 form UTF-8 characters.

    Such a file is UTF-8 with a few rows from elsewhere (a Windows-1252 line pasted in);
    read as GB18030 every accented letter of it would turn into a Chinese character.
    GBK text makes UTF-8 characters only by chance, for a small share of its bytes.
    """
    import numpy as np

    high = int(np.count_nonzero(np.frombuffer(raw, dtype=np.uint8) >= 0x80))
    covered = sum(map(len, _UTF8_SEQUENCE.findall(raw)))
    return high > 0 and covered * 2 >= high


def _plausible_gb18030(raw: bytes) -> bool:
    """Whether bytes that decode as GB18030 look like Chinese text rather than Latin-1.

    Chinese characters are two bytes, both high, and GB18030's four-byte ones go high,
    digit, high, digit, so runs of them have even lengths, and most two-byte characters of
    real text are GB2312's symbols and common hanzi (lead 0xA1-0xD7, trail 0xA1-0xFE).
    Windows-1252, Latin-1 and Shift-JIS text decoded as GB18030 breaks one or the other:
    lone accented letters between ASCII ones ("Renée"), or pairs of lowercase accented
    letters ("ção") and Japanese lead bytes that land in rare parts of the table.
    """
    import numpy as np

    data = np.frombuffer(raw, dtype=np.uint8)
    high = data >= 0x80
    digit = (data >= 0x30) & (data <= 0x39)
    four = np.flatnonzero(high[:-3] & digit[1:-2] & high[2:-1] & digit[3:])
    high[four + 1] = True  # a four-byte character counts as one run of four
    high[four + 3] = True
    edges = np.flatnonzero(np.diff(np.concatenate(([False], high, [False])).astype(np.int8)))
    starts = edges[0::2]
    lengths = edges[1::2] - starts
    if not len(lengths):
        return True
    if np.count_nonzero(lengths % 2) > len(lengths) // 2:
        return False
    pairs = lengths // 2
    run = np.repeat(np.arange(len(starts)), pairs)
    within = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    leads = starts[run] + 2 * within
    lead, trail = data[leads], data[np.minimum(leads + 1, len(data) - 1)]
    two_byte = trail >= 0x80  # four-byte characters (digit trails) are not judged here
    common = two_byte & (lead >= 0xA1) & (lead <= 0xD7) & (trail >= 0xA1)
    judged = int(np.count_nonzero(two_byte))
    return judged == 0 or int(np.count_nonzero(common)) >= 0.8 * judged


def _check_utf8(raw: bytes, chunk: int = 1 << 23) -> None:
    """Raise UnicodeDecodeError unless all of `raw` is UTF-8, without a full-size copy.

    When Arrow is loaded (a whole table is being read) its validator does it ~10× faster;
    the `log` path, which reads a header only, does not load Arrow for it.
    """
    if "pyarrow" in sys.modules and _arrow_says_utf8(raw):
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    try:
        for start in range(0, len(raw), chunk):
            decoder.decode(view[start : start + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raw.decode("utf-8")  # the error again, with its position in the whole file
        raise


def _arrow_says_utf8(raw: bytes) -> bool:
    import numpy as np
    import pyarrow as pa

    offsets = pa.py_buffer(np.array([0, len(raw)], dtype=np.int64))
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(raw)])
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _as_utf8(raw: bytes, encoding: str) -> bytes:
    """The file's bytes as UTF-8, given the encoding it was read with."""
    if encoding == "utf-8":
        return raw
    if encoding == "utf-8-sig":
        return raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw
    return raw.decode(encoding).lstrip("\ufeff").encode("utf-8")


def _decode_position(raw: bytes, exc: UnicodeDecodeError) -> str:
    line = raw.count(b"\n", 0, exc.start) + 1
    return f"byte {exc.start} (line {line}, byte 0x{raw[exc.start]:02x})"


def delimiter_option(value: str) -> str:
    value = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(
        value, value
    )
    if len(value) != 1 or value in '"\r\n':
        raise UsageError(f"--delimiter {value!r}: expected one character such as , ; tab or |")
    return value


def sniff_delimiter(data: bytes) -> str:
    """The delimiter of the header line: the one that splits it as often as the line after.

    The first few non-blank lines are looked at, so a title line above the header does not
    hide a semicolon- or tab-separated table, and a data cell such as `vip;beta;emea` (a
    multi-select field) does not outvote the commas of a comma-separated header.
    """
    lines = [line for line in data[:65536].splitlines() if line.strip()][: TITLE_LINES + 4]
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


def _count_outside_quotes(line: bytes, sep: bytes) -> int:
    parts = line.split(b'"')
    return sum(part.count(sep) for part in parts[::2])


def find_header(
    data: bytes, sep: str, path: Path, settings: Settings
) -> tuple[list[str], int, int, dict[str, int]]:
    """The header row and its field matches: the first non-blank line, or one a few title
    lines below it when only that one has the required columns."""
    header, offset, header_lines = read_header(data, sep, path)
    headers = match_headers(header, settings)
    for titles in range(1, TITLE_LINES + 1):
        if all(name in headers for name in REQUIRED):
            break
        try:
            below = read_header(data, sep, path, titles=titles)
        except DataError:
            break
        below_headers = match_headers(below[0], settings)
        if all(name in below_headers for name in REQUIRED):
            return (*below, below_headers)
    return header, offset, header_lines, headers


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
    cleaned = [unicodedata.normalize("NFC", h).strip().lstrip("\ufeff") for h in header]
    return cleaned, offset, header_lines


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
) -> tuple[pa.Table, list[tuple[int, int]]]:
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
        _, ragged = _record_starts(data, sep, ncols, header_lines)
    return table, ragged


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
        breaks = data.count(b"\n")
    else:
        breaks = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    ends_with_break = data.endswith((b"\n", b"\r"))
    return breaks + (0 if ends_with_break else 1)


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


def ragged_records(raw: RawTable) -> dict[int, list[str]]:
    """The cells of each ragged row, by line: for the rejects file only."""
    wanted = {line for line, _ in raw.ragged}
    return {start: rec for start, rec in _records(raw.data, raw.delimiter) if start in wanted}


def _records(data: bytes, sep: str) -> Iterator[tuple[int, list[str]]]:
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    previous_end = 0
    for record in reader:
        yield previous_end + 1, record
        previous_end = reader.line_num


def normalise_header(text: str) -> str:
    """Case- and separator-insensitive form of a header: `Customer_ID` → `customerid`."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def match_headers(header: list[str], settings: Settings) -> dict[str, int]:
    """Canonical field -> column position, through exact names, the user's and built-in aliases."""
    unknown = sorted(set(settings.columns) - set(FIELDS))
    if unknown:
        from cstool.errors import ConfigError

        raise ConfigError(
            f"[columns]: unknown field {unknown[0]!r}; expected one of: {', '.join(FIELDS)}"
        )
    normalised = [normalise_header(h) for h in header]
    taken: set[int] = set()
    found: dict[str, int] = {}
    # Pass 1: the user's own aliases and the fields' own names win over built-in aliases.
    for passes in ("own", "builtin"):
        for name in FIELDS:
            if name in found:
                continue
            if passes == "own":
                candidates = [*settings.columns.get(name, []), name]
            else:
                candidates = list(ALIASES.get(name, ()))
            for candidate in candidates:
                key = normalise_header(candidate)
                pos = next(
                    (i for i, h in enumerate(normalised) if h == key and i not in taken), None
                )
                if pos is not None:
                    found[name] = pos
                    taken.add(pos)
                    break
    return found


def missing_required(raw: RawTable) -> list[Problem]:
    """A problem for each required field the header lacks, with the closest header."""
    problems = []
    unmatched = [h for i, h in enumerate(raw.header) if i not in raw.headers.values()]
    for name in REQUIRED:
        if name in raw.headers:
            continue
        wanted = [normalise_header(name), *(normalise_header(a) for a in ALIASES.get(name, ()))]
        norm = {normalise_header(h): h for h in unmatched}
        close = difflib.get_close_matches(wanted[0], list(norm), n=1, cutoff=0.6)
        suggestion = f"; closest header: {norm[close[0]]!r}" if close else ""
        problems.append(
            Problem(
                line=1,
                column=name,
                value=None,
                expected=f"a column for {name} (found: {', '.join(raw.header)}){suggestion}",
                file=str(raw.path),
            )
        )
    return problems
