"""Raw text cells → typed canonical frame + every problem, column-wise.

Each rule is one vectorised mask over a whole column; Python only runs for the few
failing rows, to build their messages. Types, bounds, the email pattern and which fields
are required come from the pydantic `Customer` model in schema.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstool.config import Settings
from cstool.errors import DataError, Problem
from cstool.read import RawTable, missing_required, ragged_records
from cstool.schema import (
    DATE_FIELDS,
    EMAIL_PATTERN,
    ENRICHED,
    FIELDS,
    KIND,
    REQUIRED,
    Customer,
    bounds,
)
from cstool.textbytes import WHITESPACE_FIRST, WHITESPACE_LAST, edge_bytes_in

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from cstool.pipeline import Table

# Cells that mean "no value" in exports; decided per column kind, not by the reader.
MISSING_TOKENS = (
    "",
    "na",
    "n/a",
    "null",
    "none",
    "nan",
    "-",
    "—",
    "#n/a",
    "nil",
    "tbd",
    "unknown",
    "?",
)
_CURRENCY = r"(?i)(us\$|usd|eur|gbp|cny|rmb|jpy|cad|aud|chf|[$€£¥￥₩₹元円])"
_SPACES = r"[\s\u00a0\u2009\u202f']"
PROBLEM_DETAIL_LIMIT = 1000
# Problem objects built; the count is always exact

# Columns cstool adds; an input column with one of these names is kept as `<name>_input`.
COMPUTED = (*ENRICHED, "recency_score", "nps_score", "support_score")


@dataclass
class _Check:
    """Rows failing one rule of one column."""

    field: str
    mask: np.ndarray
    expected: str


def validate_table(
    raw: RawTable,
    settings: Settings,
    *,
    skip_invalid: bool = False,
    rejects: Path | None = None,
) -> Table:
    """Check every cell column-wise; raise DataError with every problem unless skipping."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from cstool.pipeline import Table

    path = str(raw.path)
    header_problems = missing_required(raw)
    if header_problems:
        raise DataError(
            f"{path}: missing required column{'s' if len(header_problems) > 1 else ''} "
            + ", ".join(p.column or "" for p in header_problems),
            problems=header_problems,
            hint="rename the column, or map it in cstool.toml, e.g. [columns] "
            f'{header_problems[0].column} = "Your Header"',
        )

    n = raw.table.num_rows
    columns = {name: raw.table.column(pos) for name, pos in raw.headers.items()}
    frame_columns: dict[str, Any] = {}
    checks: list[_Check] = []
    # Arrow's and numpy's column kernels release the GIL: columns are checked side by side.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        # the duplicate check (a sort, the slowest single check) goes first
        duplicates = pool.submit(lambda: _duplicates(_trimmed(columns["customer_id"])))
        converted = {
            name: pool.submit(_convert, name, columns[name], settings, raw.delimiter == ";")
            for name in FIELDS
            if name in columns
        }
        claimed = set(raw.headers.values())
        passed_through = {  # the file's other columns, trimmed as they are
            i: pool.submit(lambda i: _text(_trimmed(raw.table.column(i))), i)
            for i in range(len(raw.header))
            if i not in claimed
        }
        for name in FIELDS:
            if name not in converted:
                frame_columns[name] = _empty_column(name, n)
                continue
            values, field_checks = converted[name].result()
            frame_columns[name] = values
            checks.extend(field_checks)

    id_empty = checks[0].mask  # the first check is always the empty-ID one
    blank = _blank_rows(raw, id_empty)
    ids = frame_columns["customer_id"]
    dup = duplicates.result() & ~blank
    bad = dup.copy()
    for check in checks:
        check.mask = check.mask & ~blank
        bad |= check.mask

    header_names = _unique_headers(raw.header)
    for i, column in passed_through.items():
        name = header_names[i]
        if name in FIELDS or name in COMPUTED:
            name = f"{name}_input"
        frame_columns[name] = column.result()
    frame = pd.DataFrame(frame_columns, copy=False)

    problem_count = int(sum(int(c.mask.sum()) for c in checks) + dup.sum()) + len(raw.ragged)
    if problem_count and not skip_invalid:
        bad_rows = int(bad.sum()) + len(raw.ragged)
        problems = _problems(raw, header_names, checks, dup, ids)
        raise DataError(
            f"{path}: {problem_count} problem{'s' if problem_count != 1 else ''} in "
            f"{bad_rows} row{'s' if bad_rows != 1 else ''}",
            problems=problems,
            total_problems=problem_count,
            hint="fix the rows, or use --skip-invalid (with --rejects FILE to keep them)",
        )
    if problem_count and rejects is not None:
        _write_rejects(raw, header_names, checks, dup, ids, bad, rejects)

    keep = ~(bad | blank)
    rows = np.flatnonzero(keep)
    all_kept = len(rows) == n
    raw_out = pd.DataFrame(
        {
            header_names[i]: pd.Series(raw.table.column(i), dtype=pd.ArrowDtype(pa.string()))
            for i in range(len(raw.header))
        },
        copy=False,
    )
    if not all_kept:
        frame = frame.iloc[rows].reset_index(drop=True)
        raw_out = raw_out.iloc[rows].reset_index(drop=True)
    pa.default_memory_pool().release_unused()  # the checks' temporary arrays
    return Table(
        frame=frame,
        raw=raw_out,
        source=raw.path,
        headers=raw.header_names,
        raw_table=raw,
        rows=None if all_kept else rows,
        skipped=int(bad.sum()) + len(raw.ragged),
        encoding=raw.encoding,
        delimiter=raw.delimiter,
    )


def text_dtype() -> pd.ArrowDtype:
    """The dtype of text columns: Arrow strings, shared with the reader without a copy."""
    import pandas as pd
    import pyarrow as pa

    return pd.ArrowDtype(pa.string())


def _trimmed(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Cells without surrounding spaces (a copy only when some cell has them)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    maybe = np.flatnonzero(edge_bytes_in(column, WHITESPACE_FIRST, WHITESPACE_LAST))
    if not len(maybe):
        return column
    cells = pc.take(column, pa.array(maybe))
    if not pc.any(pc.not_equal(pc.utf8_trim_whitespace(cells), cells)).as_py():
        return column
    return pc.utf8_trim_whitespace(column)


def _text(trimmed: pa.ChunkedArray) -> pd.Series:
    """Text cells as a pandas string column (Arrow-backed, no copy), empty cells missing."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    empty = pc.equal(trimmed, "")
    if pc.any(empty).as_py():
        trimmed = pc.if_else(empty, pa.scalar(None, pa.string()), trimmed)
    return pd.Series(trimmed, dtype=text_dtype())


def _mask(values: Any) -> np.ndarray:
    """An Arrow boolean (null = False) as a writable numpy mask."""
    import numpy as np
    import pyarrow.compute as pc

    return np.array(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _blank_rows(raw: RawTable, id_empty: np.ndarray) -> np.ndarray:
    """Rows where every cell is empty (spreadsheet exports end with `,,,,` lines)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    blank = id_empty.copy()
    if not blank.any():
        return blank
    candidates = pa.array(np.flatnonzero(blank))
    for i in range(raw.table.num_columns):
        cells = pc.take(raw.table.column(i), candidates)
        still = _mask(pc.equal(pc.utf8_trim_whitespace(cells), ""))
        blank[candidates.to_numpy()[~still]] = False
    return blank


def _duplicates(ids: pa.ChunkedArray) -> np.ndarray:
    """Rows whose ID appeared on an earlier row (sort-based: no per-row Python)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    dup = np.zeros(len(ids), dtype=bool)
    if len(ids) < 2:
        return dup
    rising = pc.greater(ids.slice(1), ids.slice(0, len(ids) - 1))
    if pc.all(rising).as_py():  # exports are often in ID order: then every ID is new
        return dup
    values = ids.combine_chunks()
    order = pc.sort_indices(values).to_numpy()  # stable: equal IDs keep file order
    ordered = pc.take(values, pa.array(order))
    same = _mask(pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1)))
    if same.any():
        dup[order[1:][same]] = True
    return dup


def _unique_headers(header: list[str]) -> list[str]:
    """Headers as written, made unique (`Notes`, `Notes_2`) and never empty."""
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(header):
        name = h or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _empty_column(name: str, n: int) -> pd.Series:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    kind = KIND[name]
    if kind in ("score", "money"):
        return pd.Series(np.full(n, np.nan))
    if kind == "date":
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
    if kind == "int":
        return pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="Int64")
    return pd.Series(pa.nulls(n, pa.string()), dtype=text_dtype())


def _convert(
    name: str, column: pa.ChunkedArray, settings: Settings, dot_groups: bool = False
) -> tuple[Any, list[_Check]]:
    """One column: typed values and the rows that break each rule.

    `dot_groups`: the file comes from a decimal-comma locale (semicolon-separated), where
    money like 2.000 means two thousand.
    """
    import pandas as pd
    import pyarrow.compute as pc

    kind = KIND[name]
    if kind == "date":  # numbers and dates parse the cells as they are (fast), trimmed if not
        dates, _missing, bad = parse_dates(column, settings.input.date_format)
        fmt = f", {settings.input.date_format}" if settings.input.date_format else ""
        other = "" if fmt else ' (for 22/11/2026 set [input] date_format = "%d/%m/%Y")'
        return dates, [_Check(name, bad, f"a date like 2026-11-22 or 2026/11/22{fmt}{other}")]
    if kind in ("score", "money", "int"):
        return _convert_number(name, column, settings, dot_groups)
    trimmed = _trimmed(column)
    if kind == "id":
        empty = _mask(pc.equal(trimmed, ""))
        ids = pd.Series(trimmed, dtype=text_dtype())
        return ids, [_Check(name, empty, "a non-empty customer ID")]
    values = _text(trimmed)
    if kind == "text":
        return values, []
    ok = pc.match_substring_regex(trimmed, f"^({EMAIL_PATTERN})?$")
    return values, [_Check(name, ~_mask(ok), "an email address like name@example.com")]


def _convert_number(
    name: str, column: pa.ChunkedArray, settings: Settings, dot_groups: bool = False
) -> tuple[Any, list[_Check]]:
    """A score, money or whole-number column: values, bad cells, out of range, missing."""
    import numpy as np
    import pandas as pd

    kind = KIND[name]
    numbers, missing, bad = parse_numbers(column, money=kind == "money", dot_groups=dot_groups)
    expected = _number_expectation(name, settings)
    checks = [_Check(name, bad, expected)]
    lo, hi = _bounds(name, settings)
    out_of_range = np.zeros(len(numbers), dtype=bool)
    # NaN compares False: missing and bad cells are never out of range
    if lo is not None:
        out_of_range |= numbers < lo
    if hi is not None:
        out_of_range |= numbers > hi
    if kind == "int":
        out_of_range |= np.isfinite(numbers) & (numbers != np.floor(numbers))
    checks.append(_Check(name, out_of_range, expected))
    if name in REQUIRED:
        checks.append(_Check(name, missing, expected + " (required)"))
    if kind == "int":
        valid = ~(missing | bad | out_of_range)
        ints = pd.arrays.IntegerArray(np.where(valid, numbers, 0).astype(np.int64), ~valid)
        return pd.Series(ints), checks
    if out_of_range.any():
        numbers = np.where(out_of_range, np.nan, numbers)
    return numbers, checks


def _arrow_text(values: Any) -> pa.ChunkedArray:
    """A pandas text Series or an Arrow array as an Arrow chunked string array."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values
    if isinstance(values, pa.Array):
        return pa.chunked_array([values])
    return pa.chunked_array([pa.array(values, type=pa.string(), from_pandas=True)])


def _bounds(name: str, settings: Settings) -> tuple[float | None, float | None]:
    if KIND[name] == "score":
        return settings.scale.min, settings.scale.max
    return bounds(name)


def _number_expectation(name: str, settings: Settings) -> str:
    lo, hi = _bounds(name, settings)
    what = "a whole number" if KIND[name] == "int" else "a number"
    if lo is not None and hi is not None:
        return f"{what} from {_fmt(lo)} to {_fmt(hi)}"
    if lo is not None:
        return f"{what} ≥ {_fmt(lo)}" + (" (e.g. 1200, $1,200.50)" if KIND[name] == "money" else "")
    return what


def _fmt(x: float) -> str:
    return f"{x:g}"


def missing_cells(text: pa.ChunkedArray) -> np.ndarray:
    """Cells that mean "no value": empty, n/a, null, -, … (decided here, not by the reader)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return _mask(pc.is_in(pc.utf8_lower(text), value_set=pa.array(MISSING_TOKENS)))


def parse_numbers(
    text: Any, *, money: bool = False, dot_groups: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numbers column-wise: plain ones on a fast path; `$1,200.50`, `¥800`, `1 200`, `7,5` after.

    Money written the decimal-comma way groups thousands with dots: `1.200` is 1200 when
    `dot_groups` (a semicolon-separated file) or when another cell of the column has a
    decimal comma (`1.200,50`). The cells may have surrounding spaces (they are trimmed off
    the fast path). Returns float values (NaN where missing or bad), the missing and the bad.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text = _arrow_text(text)
    grouped_by_dots = bool(
        money and dot_groups and pc.any(pc.match_substring_regex(text, _DOT_GROUPED)).as_py()
    )
    plain = None if grouped_by_dots else _cast_numbers(_empty_as_null(text))
    if plain is not None:  # the common case: every cell a plain number or empty
        missing = np.isnan(plain)  # empty cells, and "nan", mean no value
        bad = np.isinf(plain)
        if bad.any():
            plain = np.where(bad, np.nan, plain)
        return plain, missing, bad
    text = _trimmed(text)
    missing = missing_cells(text)
    candidate = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)
    values = None if grouped_by_dots else _cast_numbers(candidate)
    if values is None:
        values = _parse_messy_numbers(candidate, money=money, dot_groups=grouped_by_dots)
    bad = ~missing & ~np.isfinite(values)
    return np.where(bad, np.nan, values), missing, bad


def _cast_numbers(text: pa.ChunkedArray) -> np.ndarray | None:
    """Arrow's cast to float when every cell is a plain number or missing, else None."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        cast = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return np.asarray(cast, dtype=np.float64)


def _empty_as_null(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Empty cells as missing, without copying the text: each chunk gets a validity bitmap."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = []
    for chunk in text.chunks:
        empty = pc.equal(chunk, "")
        if not pc.any(empty).as_py():
            chunks.append(chunk)
        elif chunk.offset or chunk.null_count or chunk.type != pa.string():
            chunks.append(pc.if_else(empty, pa.scalar(None, chunk.type), chunk))
        else:
            valid = pc.invert(empty)
            _, offsets, data = chunk.buffers()
            chunks.append(
                pa.Array.from_buffers(chunk.type, len(chunk), [valid.buffers()[1], offsets, data])
            )
    return pa.chunked_array(chunks, type=text.type)


_DOT_GROUPED = r"^\s*[+-]?\d{1,3}(\.\d{3})+\s*$"


def _parse_messy_numbers(
    candidate: pa.ChunkedArray, *, money: bool, dot_groups: bool = False
) -> np.ndarray:
    import numpy as np
    import pandas as pd

    cleaned = pd.Series(candidate.to_pandas(), dtype="string").str.replace(_SPACES, "", regex=True)
    if money:
        cleaned = cleaned.str.replace(_CURRENCY, "", regex=True)
    # A comma before exactly 1–2 final digits is a decimal comma (7,5 · 1.200,50);
    # otherwise commas group thousands (1,200.50).
    decimal_comma = cleaned.str.fullmatch(r"[+-]?(\d{1,3}(\.\d{3})+|\d+),\d{1,2}").fillna(False)
    european = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    grouped = cleaned.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?").fillna(False)
    plain = cleaned.where(~grouped, cleaned.str.replace(",", "", regex=False))
    if money and (dot_groups or decimal_comma.any()):  # 1.200 beside 1.200,50 is 1200
        dotted = cleaned.str.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+").fillna(False)
        decimal_comma = decimal_comma | dotted
    chosen = plain.where(~decimal_comma.astype(bool), european)
    numbers = pd.to_numeric(chosen.astype(object), errors="coerce")
    return np.asarray(numbers, dtype=np.float64)


def parse_dates(
    text: Any, extra_format: str | None = None
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Dates column-wise: ISO fast, then the user's format, 2026/11/22, ISO with a time.

    The cells may have surrounding spaces. Returns the dates (NaT where missing or bad),
    the missing cells and the bad ones.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    text = _arrow_text(text)
    fast = _iso_dates(text)
    if fast is not None:  # every cell a strict ISO date or empty
        missing = np.isnat(fast)
        return pd.Series(fast, dtype="datetime64[ns]"), missing, np.zeros(len(fast), dtype=bool)
    # The careful path: every cell trimmed, then each format in turn on the cells left.
    # (pandas, not Arrow's strptime: that one turns 2024-02-30 into March 1st.)
    cells = pd.Series(pc.utf8_trim_whitespace(text).to_pandas(), dtype="string")
    missing = missing_cells(pa.chunked_array([pa.array(cells.array)]))
    fixed = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    formats = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "iso date and time"]
    if extra_format:
        formats.insert(0, extra_format)
    for fmt in formats:
        todo = fixed.isna().to_numpy() & ~missing
        if not todo.any():
            break
        source = cells[todo]
        if fmt == "iso date and time":  # 2026-11-22T14:22:11Z, 2026-11-22 14:22: the day counts
            source = source.str.extract(r"^(\d{4}-\d{1,2}-\d{1,2})[T ]\d{1,2}:\d{2}", expand=False)
            fmt = "%Y-%m-%d"
        attempt = pd.to_datetime(source.astype(object), format=fmt, errors="coerce")
        # years such as 1500 or 9999 do not fit in nanoseconds: bad dates, not a crash
        attempt = attempt.where(attempt.between(_FIRST_NS_TIMESTAMP, _LAST_NS_TIMESTAMP))
        fixed[todo] = attempt.dt.normalize().astype("datetime64[ns]")
    result = fixed.to_numpy(dtype="datetime64[ns]")
    failed = np.isnat(result) & ~missing
    return pd.Series(result, dtype="datetime64[ns]"), missing, failed


def _iso_dates(text: pa.ChunkedArray) -> np.ndarray | None:
    """Arrow's strict ISO cast (2–3× strptime) when every cell is 2026-11-22 or empty."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        days = pc.cast(_empty_as_null(text), pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    bounds = pc.min_max(days).as_py()
    if bounds["min"] is not None and not (
        bounds["min"] >= _FIRST_NS_DAY and bounds["max"] <= _LAST_NS_DAY
    ):
        return None  # beyond what nanosecond timestamps hold: the careful path decides
    return np.asarray(days.to_numpy(zero_copy_only=False), dtype="datetime64[ns]")


_FIRST_NS_DAY = date(1678, 1, 1)
_LAST_NS_DAY = date(2261, 12, 31)
_FIRST_NS_TIMESTAMP = "1678-01-01"
_LAST_NS_TIMESTAMP = "2261-12-31 23:59:59"


def _problems(
    raw: RawTable,
    header_names: list[str],
    checks: Iterable[_Check],
    dup: np.ndarray,
    ids: pd.Series,
) -> list[Problem]:
    """Problem records for the failing rows only (capped), sorted by line then column."""
    import numpy as np

    path = str(raw.path)
    lines = raw.line_numbers
    problems: list[tuple[int, int, Problem]] = [
        (
            line,
            -1,
            Problem(
                line, None, None, f"{len(raw.header)} cells like the header, found {cells}", path
            ),
        )
        for line, cells in raw.ragged
    ]
    for check in checks:
        idx = np.flatnonzero(check.mask)[:PROBLEM_DETAIL_LIMIT]
        if not len(idx):
            continue
        pos = raw.headers[check.field]
        values = raw.table.column(pos).take(idx).to_pylist()
        for i, value in zip(idx.tolist(), values, strict=True):
            line = int(lines[i])
            problems.append(
                (line, pos, Problem(line, header_names[pos], str(value), check.expected, path))
            )
    dup_idx = np.flatnonzero(dup)[:PROBLEM_DETAIL_LIMIT]
    if len(dup_idx):
        pos = raw.headers["customer_id"]
        first_of = _first_occurrence(ids)
        for i in dup_idx.tolist():
            line = int(lines[i])
            first_line = int(lines[first_of[i]])
            problems.append(
                (
                    line,
                    pos,
                    Problem(
                        line,
                        header_names[pos],
                        str(ids.iloc[i]),
                        f"a unique customer ID (the same ID is on line {first_line})",
                        path,
                    ),
                )
            )
    problems.sort(key=lambda item: (item[0], item[1]))
    return [p for _, _, p in problems]


def _first_occurrence(ids: pd.Series) -> np.ndarray:
    """For each row, the position of the first row with the same ID."""
    import numpy as np
    import pandas as pd

    codes, _ = pd.factorize(ids)
    first = np.full(codes.max() + 1 if len(codes) else 0, -1, dtype=np.int64)
    order = np.arange(len(codes))[::-1]
    first[codes[order]] = order
    return first[codes]


def _write_rejects(
    raw: RawTable,
    header_names: list[str],
    checks: list[_Check],
    dup: np.ndarray,
    ids: pd.Series,
    bad: np.ndarray,
    path: Path,
) -> None:
    """The bad rows as they were in the file, plus a `reason` column, written atomically."""
    import csv
    import io

    import numpy as np

    from cstool.write import write_text

    reasons: dict[int, list[str]] = {}
    for check in checks:
        col = header_names[raw.headers[check.field]]
        for i in np.flatnonzero(check.mask).tolist():
            reasons.setdefault(i, []).append(f"{col}: expected {check.expected}")
    first_of = _first_occurrence(ids)
    lines = raw.line_numbers
    for i in np.flatnonzero(dup).tolist():
        reasons.setdefault(i, []).append(
            f"duplicate customer ID (first on line {int(lines[first_of[i]])})"
        )
    rows: list[tuple[int, list[str], str]] = []
    bad_idx = np.flatnonzero(bad)
    cells = raw.table.take(bad_idx).to_pydict()
    columns = list(cells.values())
    for k, i in enumerate(bad_idx.tolist()):
        values = [str(column[k]) for column in columns]
        rows.append((int(lines[i]), values, "; ".join(reasons.get(i, []))))
    width = len(raw.header)
    for line, record in ragged_records(raw).items():
        padded = (record + [""] * width)[:width]
        rows.append((line, padded, f"line has {len(record)} cells, expected {width}"))
    rows.sort(key=lambda r: r[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=raw.delimiter, lineterminator="\n")
    writer.writerow([*raw.header, "reason"])
    for _, values, reason in rows:
        writer.writerow([*values, reason])
    write_text(path, buffer.getvalue(), protect=raw.path)


def customers(frame: pd.DataFrame) -> list[Customer]:
    """Validated `Customer` records for library users (small tables: one pydantic call per row)."""
    import pandas as pd

    fields = [f for f in FIELDS if f in frame.columns]
    out = frame[fields].astype(object).where(frame[fields].notna(), None)
    for name in DATE_FIELDS:
        out[name] = [v.date() if isinstance(v, pd.Timestamp) else v for v in out[name]]
    return [Customer.model_validate(dict(zip(fields, row, strict=True))) for row in out.to_numpy()]
