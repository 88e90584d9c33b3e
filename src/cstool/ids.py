"""Is this customer in the file? Answered without loading the table (for `log` and `snooze`).

Recording one touch must stay about as quick as `cstool --help`, even for a million
customers, so this never imports pandas or pyarrow on the common path: it reads the header
to find the ID column, then searches the file's bytes for the ID (a memchr-speed scan over
a memory map) and checks that a hit is really that row's ID cell. Only when the ID is not
found does it parse the ID column, to say "did you mean …".
"""

from __future__ import annotations

import codecs
import csv
import io
import mmap
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cstool.config import Settings
from cstool.errors import DataError, UsageError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

_HEAD_BYTES = 1 << 20
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF16_32_BOMS = (
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF32_BE,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
)


@dataclass(frozen=True)
class FoundCustomer:
    """A customer found in the file: its ID as written there, its name and its line."""

    customer_id: str
    name: str | None
    line: int | None


@dataclass(frozen=True)
class Header:
    """A file's header row: its cells as written and the columns cstool recognised."""

    cells: list[str]
    positions: dict[str, int]  # canonical field -> column position
    delimiter: str
    encodings: tuple[str, ...]  # how the body's bytes may be encoded (fast path)


def read_headers(
    path: Path, settings: Settings, *, encoding: str | None = None, delimiter: str | None = None
) -> Header:
    """The header of a customer file, decoded strictly like the loader does (for `init`)."""
    from cstool.read import (
        decode,
        delimiter_option,
        find_header,
        read_bytes,
        read_raw,
        sniff_delimiter,
        workbook_kind,
    )

    content = read_bytes(path)
    if workbook_kind(content, Path(path)) is not None:
        raw = read_raw(path, settings, content=content)
        return Header(raw.header, raw.headers, raw.delimiter, (raw.encoding,))
    data, used = decode(content, path, encoding)
    if not data.strip(b" \t\r\n,;|"):
        raise DataError(f"{path}: the file is empty (no header, no rows)")
    sep = delimiter_option(delimiter) if delimiter else sniff_delimiter(data)
    cells, _, _, positions = find_header(data, sep, path, settings)
    return Header(cells, positions, sep, (used,))


def find_customer(
    path: Path,
    settings: Settings,
    customer_id: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> FoundCustomer:
    """The customer with this ID, or a UsageError with "did you mean …" (exit 2)."""
    path = Path(path)
    wanted = customer_id.strip()
    if not wanted:
        raise UsageError("the customer ID is empty")
    forced = encoding or (settings.input.encoding if settings.input.encoding != "auto" else None)
    forced_sep = delimiter or (
        settings.input.delimiter if settings.input.delimiter != "auto" else None
    )
    found = _fast_find(path, settings, wanted, forced, forced_sep)
    if found is not None:
        return found
    return _slow_find(path, settings, wanted, forced, forced_sep)


def _fast_find(
    path: Path, settings: Settings, wanted: str, forced: str | None, forced_sep: str | None
) -> FoundCustomer | None:
    """Byte search for the ID; None when it is not found this way (the slow path decides)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None  # a pipe is read once, by the loader; a device is refused there
        with path.open("rb") as handle:
            size = path.stat().st_size
            if size == 0:
                return None
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                header = _read_header(data[:_HEAD_BYTES], settings, forced, forced_sep)
                if header is None or "customer_id" not in header.positions:
                    return None
                return _search(data, header, wanted)
    except (OSError, ValueError):
        return None  # unreadable, a folder, …: the loader's path gives the right message


def _read_header(
    head: bytes, settings: Settings, forced: str | None, forced_sep: str | None
) -> Header | None:
    from cstool.read import delimiter_option, find_header, sniff_delimiter

    if head.startswith(_UTF16_32_BOMS) or head.startswith((b"PK\x03\x04", _OLE)):
        return None  # UTF-16/32 and workbooks (zip, OLE) go through the loader
    if forced:
        try:
            if codecs.lookup(forced).name not in ("utf-8", "gb18030", "gbk", "ascii"):
                return None
        except LookupError:
            return None
    body = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    cut = max(body.rfind(b"\n"), body.rfind(b"\r"))
    if cut > 0 and len(head) == _HEAD_BYTES:
        body = body[:cut]
    try:
        text = body.decode("utf-8")
        encodings: tuple[str, ...] = ("utf-8",)
    except UnicodeDecodeError:
        try:
            text = body.decode("gb18030")
            encodings = ("gb18030",)
        except UnicodeDecodeError:
            return None
    if forced:
        encodings = (codecs.lookup(forced).name,)
    elif encodings == ("utf-8",):
        # UTF-8 so far; the rest of the file decides, so look for both spellings.
        encodings = ("utf-8", "gb18030")
    data = text.encode("utf-8")
    sep = delimiter_option(forced_sep) if forced_sep else sniff_delimiter(data)
    try:
        cells, _, _, positions = find_header(data, sep, Path("?"), settings)
    except DataError:
        return None
    return Header(cells, positions, sep, encodings)


def _search(data: mmap.mmap, header: Header, wanted: str) -> FoundCustomer | None:
    id_pos = header.positions["customer_id"]
    name_pos = header.positions.get("name")
    edges = {header.delimiter.encode()[0], ord('"'), ord("\n"), ord("\r"), ord(" "), ord("\t")}
    size = len(data)
    tried: set[bytes] = set()
    for codec in header.encodings:
        try:
            needle = wanted.encode(codec)
        except UnicodeEncodeError:
            continue
        if needle in tried:
            continue
        tried.add(needle)
        start = 0
        while True:
            hit = data.find(needle, start)
            if hit < 0:
                break
            start = hit + 1
            end = hit + len(needle)
            # Only whole cells: a delimiter, quote, space or line break on both sides.
            if (hit > 0 and data[hit - 1] not in edges) or (end < size and data[end] not in edges):
                continue
            line_start = max(data.rfind(b"\n", 0, hit), data.rfind(b"\r", 0, hit)) + 1
            if line_start == 0:
                continue  # the header line
            ends = [e for e in (data.find(b"\n", end), data.find(b"\r", end)) if e >= 0]
            line_end = min(ends) if ends else size
            text = data[line_start:line_end].decode(codec, errors="replace")
            try:
                cells = next(csv.reader(io.StringIO(text), delimiter=header.delimiter))
            except (StopIteration, csv.Error):
                continue
            if len(cells) > id_pos and cells[id_pos].strip() == wanted:
                name = cells[name_pos].strip() if name_pos is not None else ""
                if name_pos is not None and name_pos >= len(cells):
                    name = ""
                return FoundCustomer(wanted, name or None, None)
    return None


def _slow_find(
    path: Path, settings: Settings, wanted: str, forced: str | None, forced_sep: str | None
) -> FoundCustomer:
    """Parse the file (no validation) and look the ID up, folding case; else "did you mean"."""
    import pandas as pd

    from cstool.read import read_raw

    raw = read_raw(path, settings, encoding=forced, delimiter=forced_sep)
    if "customer_id" not in raw.headers:
        raise DataError(
            f"{path}: no customer ID column (looked for Customer_ID, ID, 客户ID, …)",
            hint='name the ID column in cstool.toml: [columns] customer_id = "Your header"',
        )
    ids = _column(raw.table, raw.headers["customer_id"]).str.strip()
    index = customer_index(pd.DataFrame({"customer_id": ids}), wanted)
    name = None
    if "name" in raw.headers:
        value = _column(raw.table, raw.headers["name"]).iloc[index]
        name = None if pd.isna(value) else (str(value).strip() or None)
    return FoundCustomer(str(ids.iloc[index]), name, int(raw.line_numbers[index]))


def _column(table: pa.Table, position: int) -> pd.Series:
    import pandas as pd

    values = table.column(f"c{position}").to_numpy(zero_copy_only=False)
    return pd.Series(values, dtype="string")


def customer_index(frame: pd.DataFrame, customer_id: str) -> int:
    """Row position of a customer; an unknown ID is a usage error with "did you mean"."""
    import difflib

    import numpy as np

    ids = frame["customer_id"]
    hits = np.flatnonzero((ids == customer_id).to_numpy(dtype=bool))
    if len(hits):
        return int(hits[0])
    folded = ids.str.casefold()
    exact_fold = np.flatnonzero((folded == customer_id.casefold()).to_numpy(dtype=bool))
    if len(exact_fold):
        return int(exact_fold[0])
    # Only IDs of a similar length are compared, so a million customers stay quick.
    lengths = ids.str.len().to_numpy(dtype=np.int64, na_value=0)
    near = ids[np.abs(lengths - len(customer_id)) <= 2]
    pool = near.iloc[:50_000].tolist()
    close = difflib.get_close_matches(customer_id, pool, n=20, cutoff=0.5)
    close = sorted(close, key=lambda c: (_edit_distance(customer_id, c), c))[:3]
    hint = f"did you mean {', '.join(close)}?" if close else None
    raise UsageError(f"unknown customer ID {customer_id!r}", hint=hint)


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, to rank a few "did you mean" candidates."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
