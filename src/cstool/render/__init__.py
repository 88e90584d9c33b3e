"""Everything that prints: rich tables for people, csv/json for machines, errors to stderr.

Machine formats write data alone to stdout; messages go to stderr. Colour only on a
terminal, never with NO_COLOR (rich honours it).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
from collections import deque
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any

from cstool.errors import CstoolError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from rich.console import Console

MAX_PROBLEMS_SHOWN = 50
CSV_BATCH_ROWS = 25_000  # rows formatted per task when a big CSV is written


def stderr() -> Console:
    """A rich console on stderr (colour only when it is a terminal)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout() -> Console:
    """A rich console on stdout for tables."""
    from rich.console import Console

    return Console(highlight=False)


def message(text: str) -> None:
    """A status line for people, on stderr."""
    stderr().print(text, markup=False)


def print_error(exc: CstoolError) -> None:
    """An error, its problems (capped, with a count) and a hint, on stderr."""
    console = stderr()
    console.print(f"[bold red]error:[/] {_escape(exc.message)}")
    for problem in exc.problems[:MAX_PROBLEMS_SHOWN]:
        console.print(f"  {_escape(problem.describe())}")
    hidden = exc.total_problems - min(len(exc.problems), MAX_PROBLEMS_SHOWN)
    if hidden > 0:
        console.print(f"  … and {hidden} more problem{'s' if hidden != 1 else ''}")
    if exc.hint:
        console.print(f"[dim]hint:[/] {_escape(exc.hint)}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def json_text(frame: pd.DataFrame) -> str:
    """A JSON array of objects: numbers as numbers, dates as ISO strings, missing as null.

    Built column-wise with Arrow: floats keep full precision in their shortest exact form
    (67.15, not 67.150000000000006), and no row becomes a Python dict on the way.
    """
    import json

    import pyarrow as pa
    import pyarrow.compute as pc

    if len(frame) == 0:
        return "[]"
    table = arrow_table(frame)
    parts = []
    for i, name in enumerate(table.column_names):
        key = ("{" if i == 0 else ",") + json.dumps(str(name), ensure_ascii=False) + ":"
        parts.append(pa.scalar(key))
        parts.append(_json_values(table.column(i)))
    parts.append(pa.scalar("}"))
    rows = pc.binary_join_element_wise(*parts, "")
    return "[" + ",\n".join(rows.to_pylist()) + "]"


_JSON_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def _json_values(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """One column's cells as JSON text (null for missing), column-wise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_floating(kind):
        finite = pc.is_finite(column)
        text = pc.if_else(finite, pc.cast(column, pa.string()), pa.scalar(None, pa.string()))
        # 30 → 30.0: a float column reads back as floats in every language
        whole = pc.match_substring_regex(text, "^-?[0-9]+$")
        text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
    elif pa.types.is_integer(kind):
        text = pc.cast(column, pa.string())
    elif pa.types.is_boolean(kind):
        text = pc.if_else(column, "true", "false")
    elif pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        text = pc.binary_join_element_wise('"', pc.strftime(column, format="%Y-%m-%d"), '"', "")
    else:
        text = pc.cast(column, pa.string())
        for old, new in _JSON_ESCAPES:
            text = pc.replace_substring(text, old, new)
        # C0, DEL and C1 as \u escapes: the same value, and no terminal reads them as control.
        if pc.any(pc.match_substring_regex(text, "[\\x00-\\x1f\\x7f-\\x9f]")).as_py():
            for code in (*range(0x20), *range(0x7F, 0xA0)):
                text = pc.replace_substring(text, chr(code), f"\\u{code:04x}")
        text = pc.binary_join_element_wise('"', text, '"', "")
    return pc.fill_null(text, "null")


def write_stdout(text: str) -> None:
    """Data for machines on stdout, untouched by rich."""
    write_bytes_stdout((text if text.endswith("\n") else text + "\n").encode("utf-8"))


def write_bytes_stdout(data: bytes) -> None:
    """Bytes (a CSV) on stdout as they are; a full disk or a closed file is a clear error."""
    from cstool.errors import UsageError

    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise  # `| head`: the reader has what it wanted (the CLI exits 0)
    except OSError as exc:
        # Whatever stayed in the buffer cannot be written either: drop it, or the exit's
        # flush fails once more.
        with contextlib.suppress(OSError, ValueError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (lives until the process ends)
        raise UsageError(
            f"cannot write to standard output: {exc.strerror or exc}",
            hint="redirect the output to a place with room, or use --output FILE",
        ) from None


def csv_bytes(frame: pd.DataFrame, *, excel: bool = False) -> bytes:
    """UTF-8 CSV (BOM under `excel`), formula cells neutralised, as bytes."""
    import io

    sink = io.BytesIO()
    write_csv(frame, sink, excel=excel)
    return sink.getvalue()


def write_csv(
    frame: pd.DataFrame, sink: IO[bytes], *, excel: bool = False, numbers: Collection[str] = ()
) -> None:
    """Stream a frame as UTF-8 CSV into `sink`: formula cells neutralised, pyarrow for speed.

    `numbers`: text columns already validated as numbers or dates (nothing to neutralise).
    """
    import csv
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    from cstool.write import neutralise_formulas

    table = without_controls(arrow_table(neutralise_formulas(frame, numbers=numbers)), skip=numbers)
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(
        [_CONTROL_CHARACTER.sub("\ufffd", name) for name in table.column_names]
    )
    if excel:
        sink.write(b"\xef\xbb\xbf")
    sink.write(header.getvalue().encode("utf-8"))
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    workers = min(os.cpu_count() or 1, 4)
    if table.num_rows < 2 * CSV_BATCH_ROWS or workers < 2:
        pacsv.write_csv(table, sink, write_options=options)
        return

    def formatted(start: int) -> memoryview:
        part = pa.BufferOutputStream()  # Arrow's own buffer: no GIL taken while formatting
        pacsv.write_csv(table.slice(start, CSV_BATCH_ROWS), part, write_options=options)
        return memoryview(part.getvalue())

    # Formatting numbers is the slow part and Arrow does it without the GIL: batches are
    # formatted on every core and written in order, only a few batches in memory at once.
    flusher = _EarlyWriteback(sink)
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending: deque[Future[memoryview]] = deque()
            for start in range(0, table.num_rows, CSV_BATCH_ROWS):
                pending.append(pool.submit(formatted, start))
                if len(pending) > workers:
                    flusher.write(pending.popleft().result())
            while pending:
                flusher.write(pending.popleft().result())
    finally:
        flusher.finish()


class _EarlyWriteback:
    """Writes to a file and has what is written so far made durable as the file grows.

    Every 32 MiB a background thread runs fdatasync (it waits for the disk without the
    GIL, while the formatting threads go on), so the final fsync of an atomic write waits
    for the tail only: on 1M rows (268 MB) it took 0.3 s after the formatting, 0.02 s with
    this (asking the kernel to start writeback with posix_fadvise left most of it to the
    end on this machine). Other sinks (BytesIO, pipes) are written to as they are.
    """

    STEP = 32 << 20

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink = sink
        self.fd: int | None = None
        self.written = self.synced = 0
        self.pending: Future[None] | None = None
        self.pool: ThreadPoolExecutor | None = None
        try:
            fd = sink.fileno()
            if stat.S_ISREG(os.fstat(fd).st_mode):
                self.fd = fd
        except (AttributeError, OSError, ValueError):
            pass  # not a file (BytesIO, a pipe)

    def write(self, data: memoryview) -> None:
        self.sink.write(data)
        self.written += data.nbytes
        if self.fd is None or self.written - self.synced < self.STEP:
            return
        if self.pending is not None:
            if not self.pending.done():
                return  # the disk is still busy with the last part: go on writing
            self.pending.result()  # a write error shows here, not only at the end
        self.sink.flush()
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="datasync")
        self.pending = self.pool.submit(_datasync, self.fd, getattr(self.sink, "shown", None))
        self.synced = self.written

    def finish(self) -> None:
        """Wait for the background sync; its error (a full or failing disk) is raised."""
        try:
            if self.pending is not None:
                self.pending.result()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)


def _datasync(fd: int, shown: object) -> None:
    """fdatasync (fsync where there is none); a failure is a UsageError naming the output."""
    from cstool.write import write_failed

    sync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync
    try:
        sync(fd)
    except OSError as exc:
        raise write_failed(shown, exc) from exc


# C0 controls other than tab and line breaks (a CSV quotes those), DEL, and C1 controls
# (U+0080-U+009F, two bytes in UTF-8: C2 80 … C2 9F). ESC, BEL, backspace or a one-character
# CSI in a name would drive the terminal that `score -f csv` prints to.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_PATTERN = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\x{80}-\\x{9f}]"  # RE2


def without_controls(table: pa.Table, *, skip: Collection[str] = ()) -> pa.Table:
    """Text cells with control characters replaced by U+FFFD (tabs and line breaks stay).

    Each text buffer is tested with numpy reductions (a million names: a few ms); only a
    column that has a control is rewritten (a dictionary column: its distinct values).
    `skip`: text columns validated as numbers or dates, which cannot hold one.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = table.columns
    changed = False
    for i, (name, column) in enumerate(zip(table.column_names, columns, strict=True)):
        kind = column.type
        values_of = pa.types.is_dictionary(kind)
        text_type = kind.value_type if values_of else kind
        if name in skip or not (
            pa.types.is_string(text_type) or pa.types.is_large_string(text_type)
        ):
            continue
        chunks = [c.dictionary if values_of else c for c in column.chunks]
        if not any(_has_control(c.buffers()[2]) for c in chunks):
            continue
        changed = True
        if values_of:
            fixed = [
                pa.DictionaryArray.from_arrays(
                    c.indices, pc.replace_substring_regex(c.dictionary, _CONTROL_PATTERN, "\ufffd")
                )
                for c in column.chunks
            ]
            columns[i] = pa.chunked_array(fixed, type=kind)
        else:
            columns[i] = pc.replace_substring_regex(column, _CONTROL_PATTERN, "\ufffd")
    return pa.Table.from_arrays(columns, names=table.column_names) if changed else table


def _has_control(buffer: pa.Buffer | None) -> bool:
    """Whether UTF-8 text bytes hold a control character (see `without_controls`)."""
    import numpy as np

    if buffer is None or buffer.size == 0:
        return False
    data = np.frombuffer(buffer, dtype=np.uint8)
    low, high = int(data.min()), int(data.max())
    if low >= 0x20 and high < 0x7F:  # printable ASCII only: the common case
        return False
    if low < 0x20:
        c0 = (data < 0x20) & (data != 0x09) & (data != 0x0A) & (data != 0x0D)
        if c0.any():
            return True
    if high < 0x7F:
        return False
    if (data == 0x7F).any():
        return True
    leads = np.flatnonzero(data[:-1] == 0xC2)  # C1: C2 followed by 80-9F
    return bool(len(leads)) and bool(((data[leads + 1] >= 0x80) & (data[leads + 1] < 0xA0)).any())


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table, column by column without copies where possible.

    Dates become date32 (so a CSV shows 2026-11-22, not a timestamp).
    """
    import pandas as pd
    import pyarrow as pa

    arrays = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            stamps = pa.array(column.to_numpy(dtype="datetime64[ns]"), type=pa.timestamp("ns"))
            arrays.append(stamps.cast(pa.date32()))
        elif column.dtype == object:
            arrays.append(pa.array(column.astype("string").array, from_pandas=True))
        else:
            arrays.append(pa.array(column.array, from_pandas=True))
    return pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Small frames (one customer, a summary) as plain dicts for tables."""
    import json

    result: list[dict[str, Any]] = json.loads(json_text(frame))
    return result
