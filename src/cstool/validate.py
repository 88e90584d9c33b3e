"""Raw text cells → typed canonical frame + every problem, column-wise.

Each rule is one vectorised mask over a whole column; Python only runs for the few
failing rows, to build their messages. Types, bounds, the email pattern and which fields
are required come from the pydantic `Customer` model in schema.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstool.config import Settings
from cstool.errors import DataError, Problem
from cstool.load import RawTable, missing_required, ragged_records
from cstool.schema import DATE_FIELDS, EMAIL_PATTERN, FIELDS, KIND, REQUIRED, Customer, bounds

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cstool.pipeline import Table

# Cells that mean "no value" in exports; decided per column kind, not by the reader.
MISSING_TOKENS = ("", "na", "n/a", "null", "none", "nan", "-", "—", "#n/a", "nil")
_CURRENCY = r"(?i)(us\$|usd|eur|gbp|cny|rmb|jpy|cad|aud|chf|[$€£¥￥₩₹元円])"
_SPACES = r"[\s\u00a0\u2009\u202f']"
PROBLEM_DETAIL_LIMIT = 1000  # Problem objects built; the count is always exact

# Columns cstool adds; an input column with one of these names is kept as `<name>_input`.
COMPUTED = (
    "satisfaction",
    "health",
    "health_coverage",
    "band",
    "segment",
    "cadence_days",
    "play",
    "last_touch",
    "days_since_touch",
    "recency_score",
    "nps_score",
    "support_score",
)


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

    from cstool.pipeline import Table

    path = str(raw.path)
    header_problems = missing_required(raw)
    if header_problems:
        raise DataError(
            f"{path}: missing required column{'s' if len(header_problems) > 1 else ''} "
            + ", ".join(p.column or "" for p in header_problems),
            problems=header_problems,
            hint="rename the column, or map it in cstool.toml, e.g. [columns] "
            'value_delivery = "Your Header"',
        )

    cells = raw.frame
    n = len(cells)
    blank = _blank_rows(cells)
    frame = pd.DataFrame(index=pd.RangeIndex(n))
    checks: list[_Check] = []
    for name in FIELDS:
        pos = raw.headers.get(name)
        if pos is None:
            frame[name] = _empty_column(name, n)
            continue
        values, field_checks = _convert(name, cells[f"c{pos}"], settings)
        frame[name] = values
        checks.extend(field_checks)

    ids = frame["customer_id"]
    dup = np.asarray(ids.duplicated(keep="first").to_numpy(dtype=bool) & ~blank, dtype=bool)
    for check in checks:
        check.mask = check.mask & ~blank
    bad = np.zeros(n, dtype=bool)
    for check in checks:
        bad |= check.mask
    bad |= dup

    header_names = _unique_headers(raw.header)
    passthrough = [i for i in range(len(raw.header)) if i not in raw.headers.values()]
    for i in passthrough:
        column = cells[f"c{i}"]
        name = header_names[i]
        if name in FIELDS or name in COMPUTED:
            name = f"{name}_input"
        frame[name] = column.mask(column.str.strip() == "")

    problem_count = int(sum(int(c.mask.sum()) for c in checks) + dup.sum()) + len(raw.ragged)
    keep = ~(bad | blank)
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

    rows = np.flatnonzero(keep)
    all_kept = len(rows) == n
    raw_out = cells.set_axis(header_names, axis="columns")
    if not all_kept:
        frame = frame.iloc[rows].reset_index(drop=True)
        raw_out = raw_out.iloc[rows].reset_index(drop=True)
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


def _blank_rows(cells: pd.DataFrame) -> np.ndarray:
    """Rows where every cell is empty (spreadsheet exports end with `,,,,` lines)."""
    import numpy as np

    if cells.shape[1] == 0:
        return np.zeros(len(cells), dtype=bool)
    masks = [(cells[c].str.strip() == "").to_numpy(dtype=bool) for c in cells.columns]
    return np.logical_and.reduce(masks)


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

    kind = KIND[name]
    if kind in ("score", "money"):
        return pd.Series(np.full(n, np.nan))
    if kind == "date":
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
    if kind == "int":
        return pd.Series(pd.array([pd.NA] * n, dtype="Int64"))
    return pd.Series(pd.array([pd.NA] * n, dtype="string"))


def _convert(name: str, text: pd.Series, settings: Settings) -> tuple[Any, list[_Check]]:
    """One column: typed values and the rows that break each rule."""
    import numpy as np
    import pandas as pd

    kind = KIND[name]
    trimmed = text.str.strip()
    missing = trimmed.str.lower().isin(MISSING_TOKENS).to_numpy(dtype=bool)
    if kind in ("id", "text", "email"):
        if kind == "id":
            empty = (trimmed == "").to_numpy(dtype=bool)
            return trimmed.astype("string"), [_Check(name, empty, "a non-empty customer ID")]
        values = trimmed.mask(trimmed == "").astype("string")
        if kind == "text":
            return values, []
        ok = values.str.fullmatch(EMAIL_PATTERN).fillna(True).to_numpy(dtype=bool)
        return values, [_Check(name, ~ok, "an email address like name@example.com")]
    if kind == "date":
        dates, bad = parse_dates(trimmed, missing, settings.input.date_format)
        fmt = f", {settings.input.date_format}" if settings.input.date_format else ""
        return dates, [_Check(name, bad, f"a date like 2026-11-22 or 2026/11/22{fmt}")]
    numbers, bad = parse_numbers(trimmed, missing, money=kind == "money")
    checks = [_Check(name, bad, _number_expectation(name, settings))]
    finite = np.isfinite(numbers)
    lo, hi = _bounds(name, settings)
    out_of_range = np.zeros(len(numbers), dtype=bool)
    if lo is not None:
        out_of_range |= finite & (numbers < lo)
    if hi is not None:
        out_of_range |= finite & (numbers > hi)
    if kind == "int":
        out_of_range |= finite & (numbers != np.floor(numbers))
    checks.append(_Check(name, out_of_range, _number_expectation(name, settings)))
    if name in REQUIRED:
        checks.append(_Check(name, missing, _number_expectation(name, settings) + " (required)"))
    if kind == "int":
        ints = pd.array(np.where(finite & ~out_of_range, numbers, np.nan), dtype="Float64")
        return ints.astype("Int64"), checks
    return np.where(out_of_range, np.nan, numbers), checks


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


def parse_numbers(
    trimmed: pd.Series, missing: np.ndarray, *, money: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers column-wise: plain ones on a fast path; `$1,200.50`, `¥800`, `1 200`, `7,5` after.

    Returns float values (NaN where missing or bad) and the mask of bad cells.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    candidate = trimmed.mask(missing)
    arrow = pa.array(candidate, type=pa.string(), from_pandas=True)
    try:
        values = pc.cast(arrow, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = _parse_messy_numbers(candidate, money=money)
    values = np.asarray(values, dtype=np.float64)
    bad = ~missing & ~np.isfinite(values)
    return np.where(bad, np.nan, values), bad


def _parse_messy_numbers(candidate: pd.Series, *, money: bool) -> np.ndarray:
    import numpy as np
    import pandas as pd

    cleaned = candidate.str.replace(_SPACES, "", regex=True)
    if money:
        cleaned = cleaned.str.replace(_CURRENCY, "", regex=True)
    # A comma before exactly 1–2 final digits is a decimal comma (7,5 · 1.200,50);
    # otherwise commas group thousands (1,200.50).
    decimal_comma = cleaned.str.fullmatch(r"[+-]?(\d{1,3}(\.\d{3})+|\d+),\d{1,2}").fillna(False)
    european = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    grouped = cleaned.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?").fillna(False)
    plain = cleaned.where(~grouped, cleaned.str.replace(",", "", regex=False))
    chosen = plain.where(~decimal_comma.astype(bool), european)
    numbers = pd.to_numeric(chosen.astype(object), errors="coerce")
    return np.asarray(numbers, dtype=np.float64)


def parse_dates(
    trimmed: pd.Series, missing: np.ndarray, extra_format: str | None = None
) -> tuple[pd.Series, np.ndarray]:
    """Dates column-wise: ISO fast, then 2026/11/22, ISO with a time, the user's format."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    candidate = trimmed.mask(missing)
    arrow = pa.array(candidate, type=pa.string(), from_pandas=True)
    parsed = pc.strptime(arrow, format="%Y-%m-%d", unit="s", error_is_null=True)
    result = pd.Series(parsed.to_numpy(zero_copy_only=False)).astype("datetime64[ns]")
    failed = result.isna().to_numpy() & ~missing
    if failed.any():
        idx = np.flatnonzero(failed)
        subset = candidate.iloc[idx]
        fixed = pd.Series(pd.NaT, index=subset.index, dtype="datetime64[ns]")
        formats = ["%Y/%m/%d", "%Y.%m.%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]
        if extra_format:
            formats.insert(0, extra_format)
        for fmt in formats:
            todo = fixed.isna()
            if not todo.any():
                break
            source = subset[todo]
            if fmt.startswith("%Y-%m-%d") and fmt != "%Y-%m-%d":
                source = source.str.slice(0, 19)
            attempt = pd.to_datetime(source.astype(object), format=fmt, errors="coerce")
            fixed[todo] = attempt.dt.normalize().astype("datetime64[ns]")
        result.iloc[idx] = fixed.to_numpy()  # type: ignore[call-overload]
        failed = result.isna().to_numpy() & ~missing
    return result, failed


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
        values = raw.frame[f"c{pos}"].iloc[idx].tolist()
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
    cells = raw.frame.iloc[bad_idx]
    for i, values in zip(bad_idx.tolist(), cells.to_numpy(dtype=object).tolist(), strict=True):
        rows.append((int(lines[i]), [str(v) for v in values], "; ".join(reasons.get(i, []))))
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


def as_date(value: Any) -> date | None:
    """A frame cell (Timestamp/NaT) as a date or None."""
    import pandas as pd

    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()
