"""Date columns by evidence: ISO fast, the user's formats per column, then every common form.

A column's day/month order comes from its own values (a first part above 12 means day
first, a second part above 12 month first); a column whose values fit both orders is
refused with both settings to choose from. Month names (`Nov 22, 2026`, `22-Nov-2026`),
12-hour and ISO times (`T…Z`) and Excel serial numbers are read. Everything is column-wise:
Arrow's RE2 kernels split the cells, numpy puts the parts together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from cstool.errors import DataError, Problem
from cstool.validate.arrow import arrow_text, empty_as_null, mask, missing_cells

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

_FIRST_NS_DAY = date(1678, 1, 1)
_LAST_NS_DAY = date(2261, 12, 31)
_FIRST_YEAR, _LAST_YEAR = 1678, 2261
# Excel serial days of 1990-01-01 and 2100-12-31 (day 0 is 1899-12-30)
_SERIAL_FIRST, _SERIAL_LAST = 32874, 73415

# The day and an optional time of day (kept only to be checked: a date keeps its day).
_DATE_TIME = (
    r"^(?P<day>.*?)(?:(?:T|\s+|,\s*)(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,]\d+)?)?\s*(?:(?P<ampm>[AaPp])\.?[Mm]\.?)?"
    r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)?)?$"
)
_ISO = r"^\d{4}(?:[-/.]\d{1,2}[-/.]\d{1,2}|年\d{1,2}月\d{1,2}日)$"
_NUMERIC = r"^\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})$"
_DAY_MONTH = (
    r"^(?:[A-Za-z]{3,9},?\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?[-\s./]*(?P<mon>[A-Za-z]{3,9})\.?"
    r"[-\s./,]*(?P<y>\d{4})$"
)
_MONTH_DAY = (
    r"^(?:[A-Za-z]{3,9},?\s+)?(?P<mon>[A-Za-z]{3,9})\.?[-\s./]*(?P<d>\d{1,2})(?:st|nd|rd|th)?,?"
    r"[-\s./]*(?P<y>\d{4})$"
)
_SERIAL = r"^\d+(?:\.\d+)?$"
_MONTHS: tuple[str, ...] = ("january", "february", "march", "april", "may", "june", "july")
_MONTHS += ("august", "september", "october", "november", "december")
# every accepted spelling of a month: its name, or a prefix of 3+ letters (sept too)
_MONTH_WORDS = {name[:k]: i + 1 for i, name in enumerate(_MONTHS) for k in range(3, len(name) + 1)}


@dataclass
class DateColumn:
    """One date column read: the days, the missing and bad cells, and what was expected."""

    dates: pd.Series
    missing: np.ndarray
    bad: np.ndarray
    expected: str
    # "day" or "month" when the column's own values decided its day/month order (a part
    # above 12, and no cell against it); None otherwise (ISO, month names, formats given).
    order: str | None = None


class AmbiguousDates(DataError):
    """A column of numeric dates that fit both orders: `formats` names each order's format
    in the column's own spelling ({"day": "%d/%m/%Y", "month": "%m/%d/%Y"})."""

    def __init__(self, message: str, *, formats: dict[str, str], example: str, **kw: Any):
        super().__init__(message, **kw)
        self.formats = formats
        self.example = example


def read_dates(
    text: Any, formats: Sequence[str] = (), *, label: str = "the column", file: str | None = None
) -> DateColumn:
    """A date column, column-wise; DataError when its day/month order cannot be told.

    `formats` (the `[input] date_format` list) are tried first, per column: the first
    that reads every cell wins, else the one that reads the most. `label` and `file` name
    the column in the ambiguity error.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    text = arrow_text(text)
    n = len(text)
    fast = _iso_dates(text)
    if fast is not None:  # every cell a strict ISO date or empty: the common case
        return DateColumn(
            pd.Series(fast, dtype="datetime64[ns]"),
            np.isnat(fast),
            np.zeros(n, dtype=bool),
            _expected(formats, None),
        )
    cells = pc.utf8_trim_whitespace(text).combine_chunks()
    missing = missing_cells(pa.chunked_array([cells]))
    result = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    todo = ~missing
    if formats and todo.any():
        result[todo] = _by_formats(cells.filter(pa.array(todo)), formats)
        todo &= np.isnat(result)
    evidence: str | None = None
    order: str | None = None
    if todo.any():
        idx = np.flatnonzero(todo)
        left = cells.take(pa.array(idx))
        whole_column_numeric = bool(
            pc.all(pc.match_substring_regex(cells.filter(pa.array(~missing)), _SERIAL)).as_py()
        )
        if whole_column_numeric and not formats:
            result[idx] = _serial_dates(left)
        else:
            days, evidence, order = _common_forms(
                left, user_formats=bool(formats), label=label, file=file
            )
            result[idx] = days
    bad = np.isnat(result) & ~missing
    if formats and bad.any():
        evidence = _time_of_day_hint(cells.filter(pa.array(bad)), formats) or evidence
    return DateColumn(
        pd.Series(result, dtype="datetime64[ns]"),
        missing,
        bad,
        _expected(formats, evidence),
        order,
    )


def _time_of_day_hint(cells: pa.Array, formats: Sequence[str]) -> str | None:
    """When the user's format reads these cells' day but not the time after it
    (`05/11/2026 1:00 PM` against "%d/%m/%Y"), the format to add; else None."""
    import numpy as np
    import pyarrow.compute as pc

    timed = cells.filter(pc.match_substring(cells, ":"))
    if not len(timed):
        return None
    parts = pc.extract_regex(timed, _DATE_TIME)
    days = pc.fill_null(pc.struct_field(parts, "day"), "")
    read = ~np.isnat(_by_formats(days, formats))
    if not read.any():
        return None
    first = int(np.flatnonzero(read)[0])
    day_text = str(days[first].as_py())
    fmt = next(f for f in formats if not np.isnat(_by_formats(days.slice(first, 1), [f])[0]))
    part = parts[first].as_py()
    clock = "%I:%M" if part["ampm"] else "%H:%M"
    clock += ":%S" if part["second"] else ""
    clock += " %p" if part["ampm"] else ""
    rest = str(timed[first].as_py())[len(day_text) :]
    sep = "T" if rest.startswith("T") else ", " if rest.startswith(",") else " "
    return (
        f"{day_text!r} is read by {fmt!r}, but not the time of day after it: "
        f'add "{fmt}{sep}{clock}" to [input] date_format'
    )


def parse_dates(
    text: Any, extra_format: str | Sequence[str] | None = None
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Dates column-wise (see `read_dates`): the dates (NaT where missing or bad), missing, bad.

    A column whose day/month order cannot be told raises DataError.
    """
    formats = [extra_format] if isinstance(extra_format, str) else list(extra_format or [])
    column = read_dates(text, formats)
    return column.dates, column.missing, column.bad


def _expected(formats: Sequence[str], evidence: str | None) -> str:
    """What a date cell should look like; a proposal only when the values support it."""
    forms = "a date like 2026-11-22, 2026/11/22 or 22-Nov-2026"
    if formats:
        forms += " or " + " / ".join(formats) + " ([input] date_format)"
    if evidence:
        forms += f"; {evidence}"
    return forms


def _by_formats(cells: pa.Array, formats: Sequence[str]) -> np.ndarray:
    """The first format that reads every cell, else the one that reads the most."""
    import numpy as np
    import pandas as pd

    source = pd.Series(cells.to_pandas(), dtype=object)
    best: np.ndarray | None = None
    best_hits = -1
    for fmt in formats:
        attempt = pd.to_datetime(source, format=fmt, errors="coerce")
        attempt = attempt.where(attempt.between("1678-01-01", "2261-12-31 23:59:59"))
        days = attempt.dt.normalize().to_numpy(dtype="datetime64[ns]")
        hits = int((~np.isnat(days)).sum())
        if hits > best_hits:
            best, best_hits = days, hits
        if hits == len(source):
            break
    assert best is not None
    return best


def _serial_dates(cells: pa.Array) -> np.ndarray:
    """Excel serial day numbers (a column of numbers only), within 1990–2100."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    serial = np.floor(pc.cast(cells, pa.float64()).to_numpy(zero_copy_only=False))
    inside = (serial >= _SERIAL_FIRST) & (serial <= _SERIAL_LAST)
    epoch = np.datetime64("1899-12-30", "D")
    days = epoch + np.where(inside, serial, 0).astype("timedelta64[D]")
    return np.where(inside, days.astype("datetime64[ns]"), np.datetime64("NaT"))


def _numbers(values: pa.Array) -> np.ndarray:
    """Digit groups from a regex match as floats, NaN where the group did not match."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    cleaned = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    return np.asarray(
        pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )


def _common_forms(
    cells: pa.Array, *, user_formats: bool, label: str, file: str | None
) -> tuple[np.ndarray, str, str | None]:
    """ISO, CJK, numeric (order by evidence), month names, with optional times of day.

    Returns the days (NaT where a cell is no date), a sentence on the column's order, and
    that order ("day", "month") when the values decided it without contradiction.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(cells)
    year = np.full(n, np.nan)
    month = np.full(n, np.nan)
    day = np.full(n, np.nan)
    hour = np.full(n, np.nan)
    minute = np.full(n, np.nan)
    second = np.full(n, np.nan)
    ampm = np.zeros(n, dtype=bool)
    split = np.ones(n, dtype=bool)
    day_text = cells
    # Capturing regexes are slow in RE2: they only run on the cells that need them (a
    # time of day, a month name); plain forms are matched, then split on their separator.
    timed = np.flatnonzero(mask(pc.match_substring(cells, ":")))
    if len(timed):
        parts = pc.extract_regex(cells.take(pa.array(timed)), _DATE_TIME)  # null: no match
        split[timed] = mask(pc.is_valid(parts))
        day_text = pc.replace_with_mask(
            cells, pa.array(_positions(n, timed)), pc.fill_null(pc.struct_field(parts, "day"), "")
        )
        hour[timed] = _numbers(pc.fill_null(pc.struct_field(parts, "hour"), ""))
        minute[timed] = _numbers(pc.fill_null(pc.struct_field(parts, "minute"), ""))
        second[timed] = _numbers(pc.fill_null(pc.struct_field(parts, "second"), ""))
        ampm[timed] = mask(pc.not_equal(pc.fill_null(pc.struct_field(parts, "ampm"), ""), ""))

    is_iso = mask(pc.match_substring_regex(day_text, _ISO))
    if is_iso.any():
        idx = np.flatnonzero(is_iso)
        year[idx], month[idx], day[idx] = _three_parts(day_text.take(pa.array(idx)))

    unread = np.isnan(year) & split
    worded = np.flatnonzero(
        unread & mask(pc.match_substring_regex(day_text, "[A-Za-z]{3}")) if unread.any() else unread
    )
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        worded = worded[np.isnan(year[worded])]
        if not len(worded):
            break
        named = pc.extract_regex(day_text.take(pa.array(worded)), pattern)
        hit = mask(pc.is_valid(named))
        if not hit.any():
            continue
        words = pc.utf8_lower(pc.fill_null(pc.struct_field(named, "mon"), ""))
        lookup = pc.index_in(words, value_set=_month_words()).to_numpy(zero_copy_only=False)
        numbers = np.array([*_MONTH_WORDS.values(), np.nan], dtype=np.float64)
        m = numbers[np.where(np.isnan(lookup.astype(np.float64)), -1, lookup).astype(np.int64)]
        y = _numbers(pc.fill_null(pc.struct_field(named, "y"), ""))
        d = _numbers(pc.fill_null(pc.struct_field(named, "d"), ""))
        rows = worded[hit]
        year[rows], month[rows], day[rows] = y[hit], m[hit], d[hit]

    evidence = ""
    order: str | None = None
    unread = np.isnan(year) & split
    is_numeric = (
        unread & mask(pc.match_substring_regex(day_text, _NUMERIC)) if unread.any() else unread
    )
    if is_numeric.any():
        numeric_rows = np.flatnonzero(is_numeric)
        a = np.full(n, np.nan)
        b = np.full(n, np.nan)
        y = np.full(n, np.nan)
        a[numeric_rows], b[numeric_rows], y[numeric_rows] = _three_parts(
            day_text.take(pa.array(numeric_rows))
        )
        first = int(numeric_rows[0])
        example = str(cells[first].as_py())
        first_day = str(day_text[first].as_py())
        sep = next(c for c in first_day if not c.isdigit())
        year_code = "%y" if len(first_day.rsplit(sep, 1)[-1]) == 2 else "%Y"
        y = np.where(y < 100, np.where(y < 69, 2000 + y, 1900 + y), y)  # strptime's %y rule
        day_first_fmt = f"%d{sep}%m{sep}{year_code}"
        month_first_fmt = f"%m{sep}%d{sep}{year_code}"
        day_first_cells = int((is_numeric & (a > 12)).sum())
        month_first_cells = int((is_numeric & (b > 12)).sum())
        if not day_first_cells and not month_first_cells:
            if user_formats:  # the user's formats did not read these: bad, no guess
                evidence = "these values fit both day-first and month-first formats"
            else:
                where = f"{file}: column {label!r}" if file else label
                raise AmbiguousDates(
                    f"{where}: dates like {example!r} could be day first or month first",
                    problems=[
                        Problem(
                            None,
                            label,
                            example,
                            f'a known order: set [input] date_format = "{day_first_fmt}" '
                            f'(day first) or "{month_first_fmt}" (month first)',
                            file,
                        )
                    ],
                    hint=f'add to cstool.toml: [input] date_format = "{day_first_fmt}" '
                    f'or "{month_first_fmt}"',
                    formats={"day": day_first_fmt, "month": month_first_fmt},
                    example=example,
                )
        else:
            day_first = day_first_cells >= month_first_cells
            chosen, other = (
                (day_first_fmt, month_first_fmt) if day_first else (month_first_fmt, day_first_fmt)
            )
            contradicted = day_first_cells and month_first_cells
            if user_formats and not contradicted:
                order = "day" if day_first else "month"
                evidence = f'these values are {order} first: add "{chosen}" to [input] date_format'
            elif contradicted:
                evidence = (
                    f"this column mixes day-first and month-first dates ({chosen} read, "
                    f"{other} not)"
                )
            else:
                evidence = f"this column is read {'day' if day_first else 'month'} first ({chosen})"
                order = "day" if day_first else "month"
            if not user_formats:
                d, m = (a, b) if day_first else (b, a)
                year = np.where(is_numeric, y, year)
                month = np.where(is_numeric, m, month)
                day = np.where(is_numeric, d, day)

    # a time of day must be a real one: 2026-11-23T25:00 is not a date
    with np.errstate(invalid="ignore"):
        bad_time = (
            np.where(ampm, (hour < 1) | (hour > 12), hour > 23)
            | (minute > 59)
            | (second > 59)
            | (ampm & np.isnan(hour))
        )
    ok = split & ~bad_time & (year >= _FIRST_YEAR) & (year <= _LAST_YEAR)
    return _assemble(year, month, day, ok), evidence, order


def _positions(n: int, rows: np.ndarray) -> np.ndarray:
    """A boolean mask of length n, true at `rows`."""
    import numpy as np

    out = np.zeros(n, dtype=bool)
    out[rows] = True
    return out


def _three_parts(cells: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`2026-11-22`, `22/11/2026`, `2026年11月22日` → their three numbers, in order."""
    import pyarrow.compute as pc

    text = cells
    for mark, by in (("-", "/"), (".", "/"), ("年", "/"), ("月", "/"), ("日", "")):
        if pc.any(pc.match_substring(text, mark)).as_py():  # finding is cheaper than replacing
            text = pc.replace_substring(text, mark, by)
    parts = pc.split_pattern(text, "/")
    first, second, third = (_numbers(pc.list_element(parts, k)) for k in range(3))
    return first, second, third


def _month_words() -> pa.Array:
    import pyarrow as pa

    return pa.array(list(_MONTH_WORDS))


def _assemble(year: np.ndarray, month: np.ndarray, day: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Days from their parts, column-wise; impossible days (2024-02-30) are NaT."""
    import numpy as np

    ok = ok & ~np.isnan(year) & ~np.isnan(month) & ~np.isnan(day)
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    y = np.where(ok, year, 2000).astype(np.int64)
    m = np.where(ok, month, 1).astype(np.int64)
    d = np.where(ok, day, 1).astype(np.int64)
    first_of_month = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    days = first_of_month.astype("datetime64[D]") + (d - 1).astype("timedelta64[D]")
    # a day past the month's end rolls into the next month: that is no date
    ok &= days.astype("datetime64[M]") == first_of_month
    return np.where(ok, days.astype("datetime64[ns]"), np.datetime64("NaT"))


def _iso_dates(text: pa.ChunkedArray) -> np.ndarray | None:
    """Arrow's strict ISO cast (2–3× strptime) when every cell is 2026-11-22 or empty."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    # Arrow takes a second to refuse a million non-ISO cells: a look at the first ones first
    head = text.slice(0, 1000)
    if not pc.all(pc.match_substring_regex(head, r"^(?:\d{4}-\d{2}-\d{2})?$")).as_py():
        return None
    try:
        days = pc.cast(empty_as_null(text), pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    bounds = pc.min_max(days).as_py()
    if bounds["min"] is not None and not (
        bounds["min"] >= _FIRST_NS_DAY and bounds["max"] <= _LAST_NS_DAY
    ):
        return None  # beyond what nanosecond timestamps hold: the careful path decides
    return np.asarray(days.to_numpy(zero_copy_only=False), dtype="datetime64[ns]")
