"""Cells → typed values, column-wise: numbers, money, scores, whole numbers, emails, text.

Each rule is one vectorised mask over a whole column; Python only runs for the few failing
rows, to build their messages. Types, bounds, the email pattern and which fields are
required come from the pydantic `Customer` model in schema.py. Every numeric column goes
through one bounded parse: finite, within its type, with one style of message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cstool.config import Settings
from cstool.schema import EMAIL_PATTERN, KIND, SCORE_INPUTS, bounds
from cstool.textbytes import WHITESPACE_FIRST, WHITESPACE_LAST, edge_bytes_in
from cstool.validate.arrow import arrow_text, empty_as_null, mask, missing_cells

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import pandas as pd
    import pyarrow as pa

# Cells that mean "no value" in exports; decided per column kind, not by the reader.
_CURRENCY = r"(?i)(us\$|usd|eur|gbp|cny|rmb|jpy|cad|aud|chf|[$€£¥￥₩₹元円])"
_SPACES = r"[\s\u00a0\u2009\u202f']"
# Counts and money above these are typing or export accidents (and keep int64 far away).
COUNT_MAX = 10**9
MONEY_MAX = 10**12
# One address, or `Jane <jane@x.example>`; several separated by ; or ,
_ADDRESS = f"(?:{EMAIL_PATTERN}|[^<>;,@]*<\\s*{EMAIL_PATTERN}\\s*>)"
EMAIL_CELL = f"^({_ADDRESS}(?:\\s*[;,]\\s*{_ADDRESS})*\\s*[;,]?)?$"
_PERCENT = r"^\s*\d+(?:[.,]\d+)?\s*%\s*$"


@dataclass
class Check:
    """Rows failing one rule of one column.

    `summary`: reported as one message for the column with its lines counted (dates,
    values above the scale), not one per line.
    """

    field: str
    mask: np.ndarray
    expected: str
    summary: bool = False


def text_dtype() -> pd.ArrowDtype:
    """The dtype of text columns: Arrow strings, shared with the reader without a copy."""
    import pandas as pd
    import pyarrow as pa

    return pd.ArrowDtype(pa.string())


def trimmed(column: pa.ChunkedArray) -> pa.ChunkedArray:
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


def text_column(cells: pa.ChunkedArray) -> pd.Series:
    """Text cells as a pandas string column (Arrow-backed, no copy), empty cells missing."""
    import pandas as pd
    import pyarrow.compute as pc

    filled = pc.not_equal(cells, "")
    if not pc.all(filled).as_py():
        cells = _masked(cells, filled)
    return pd.Series(cells, dtype=text_dtype())


def _masked(cells: pa.ChunkedArray, keep: pa.ChunkedArray) -> pa.ChunkedArray:
    """`cells` with the cells where `keep` is false missing, sharing the text buffers.

    Only a validity bitmap is made per chunk (a copy of a million cells' text would
    cost as much memory as the column itself).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    keep = pc.fill_null(keep, False)
    chunks = []
    position = 0
    for chunk in cells.chunks:
        mask = keep.slice(position, len(chunk)).combine_chunks()
        position += len(chunk)
        if chunk.null_count:
            mask = pc.and_(mask, pc.is_valid(chunk))
        if chunk.offset or mask.offset:  # from_buffers needs both to start at bit 0
            chunks.append(pc.if_else(mask, chunk, pa.scalar(None, chunk.type)))
            continue
        offsets, data = chunk.buffers()[1:]
        chunks.append(
            pa.Array.from_buffers(
                chunk.type, len(chunk), [mask.buffers()[1], offsets, data], null_count=-1
            )
        )
    return pa.chunked_array(chunks, type=cells.type)


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

    text = arrow_text(text)
    grouped_by_dots = bool(
        money and dot_groups and pc.any(pc.match_substring_regex(text, _DOT_GROUPED)).as_py()
    )
    plain = None if grouped_by_dots else _cast_numbers(empty_as_null(text))
    if plain is not None:  # the common case: every cell a plain number or empty
        missing = np.isnan(plain)  # empty cells, and "nan", mean no value
        bad = np.isinf(plain)
        if bad.any():
            plain = np.where(bad, np.nan, plain)
        return plain, missing, bad
    text = trimmed(text)
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


# A group of thousands never starts with 0: 0.500 is a half, not five hundred.
_DOT_GROUPED = r"^\s*[+-]?[1-9]\d{0,2}(\.\d{3})+\s*$"


def _parse_messy_numbers(
    candidate: pa.ChunkedArray, *, money: bool, dot_groups: bool = False
) -> np.ndarray:
    import numpy as np
    import pandas as pd

    cleaned = pd.Series(candidate.to_pandas(), dtype="string").str.replace(_SPACES, "", regex=True)
    if money:
        cleaned = cleaned.str.replace(_CURRENCY, "", regex=True)
    # A comma before exactly 1–2 final digits is a decimal comma (7,5 · 1.200,50), and so is
    # one after a lone 0 (0,500: a group of thousands never starts with 0); otherwise commas
    # group thousands (1,200.50).
    decimal_comma = cleaned.str.fullmatch(
        r"[+-]?([1-9]\d{0,2}(\.\d{3})+|\d+),\d{1,2}|[+-]?0,\d+"
    ).fillna(False)
    european = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    grouped = cleaned.str.fullmatch(r"[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?").fillna(False)
    plain = cleaned.where(~grouped, cleaned.str.replace(",", "", regex=False))
    if money and (dot_groups or decimal_comma.any()):  # 1.200 beside 1.200,50 is 1200
        dotted = cleaned.str.fullmatch(r"[+-]?[1-9]\d{0,2}(\.\d{3})+").fillna(False)
        decimal_comma = decimal_comma | dotted
    chosen = plain.where(~decimal_comma.astype(bool), european)
    numbers = pd.to_numeric(chosen.astype(object), errors="coerce")
    return np.asarray(numbers, dtype=np.float64)


def convert(
    name: str,
    column: pa.ChunkedArray,
    settings: Settings,
    dot_groups: bool = False,
    *,
    label: str | None = None,
    file: str | None = None,
    date_formats: Sequence[str] | None = None,
) -> tuple[Any, list[Check]]:
    """One column: typed values and the rows that break each rule.

    `dot_groups`: the file comes from a decimal-comma locale (semicolon-separated), where
    money like 2.000 means two thousand. `label` (the column as the file names it) and
    `file` name a column-wide error (dates whose order cannot be told). `date_formats`:
    the formats a date column is read with, instead of `[input] date_format`'s. A date
    column's series carries `attrs["date_order"]` ("day"/"month") when its values decided it.
    """
    import pandas as pd
    import pyarrow.compute as pc

    from cstool.validate.dates import read_dates

    kind = KIND[name]
    if kind == "date":
        formats = settings.input.date_formats() if date_formats is None else date_formats
        read = read_dates(column, formats, label=label or name, file=file)
        if read.order is not None:  # (no attrs otherwise: pandas copies them on every step)
            read.dates.attrs["date_order"] = read.order
        return read.dates, [Check(name, read.bad, read.expected, summary=True)]
    if kind in ("score", "money", "int"):
        return bounded_numbers(name, column, settings, dot_groups)
    cells = trimmed(column)
    if kind == "id":
        empty = mask(pc.equal(cells, ""))
        ids = pd.Series(cells, dtype=text_dtype())
        return ids, [Check(name, empty, "a non-empty customer ID")]
    values = text_column(cells)
    if kind == "text":
        return values, []
    ok = pc.match_substring_regex(cells, EMAIL_CELL)
    return values, [
        Check(name, ~mask(ok), "an email address like name@example.com or Jane <jane@x.example>")
    ]


def bounded_numbers(
    name: str, column: pa.ChunkedArray, settings: Settings, dot_groups: bool = False
) -> tuple[Any, list[Check]]:
    """A score, money or whole-number column: finite values within the field's bounds.

    Returns the values (float, or Int64 for whole numbers; missing where bad) and the
    checks: not a number, out of range (below, not whole, or above the type's limit),
    above the satisfaction scale (one message per column), missing where required.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = KIND[name]
    percent = None
    if kind == "score":  # 85% is 85 % of the scale
        # the plain substring test is cheap; the pattern only runs when a % is there at all
        has_sign = pc.any(pc.match_substring(column, "%")).as_py()
        is_percent = pc.match_substring_regex(column, _PERCENT) if has_sign else None
        if is_percent is not None and pc.any(is_percent).as_py():
            percent = mask(is_percent)
            stripped = pc.replace_substring_regex(column, r"\s*%\s*$", "")
            column = pc.if_else(is_percent, pc.replace_substring(stripped, ",", "."), column)
            column = column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
    numbers, missing, bad = parse_numbers(column, money=kind == "money", dot_groups=dot_groups)
    lo, hi = number_bounds(name, settings)
    if percent is not None:
        scaled = numbers / 100.0 * (hi - lo) + lo  # type: ignore[operator]
        numbers = np.where(percent, scaled, numbers)
    expected = number_expectation(name, settings)
    checks = [Check(name, bad, expected)]
    mixed = _mixed_decimal_marks(column)
    if mixed is not None:  # 1,50 beside 1,200.00: one of them is read wrong, whichever wins
        numbers = np.where(mixed, np.nan, numbers)
        checks.append(
            Check(
                name,
                mixed,
                f"{expected}, written one way: this column has decimal commas (1,50) and "
                "decimal points after comma groups (1,200.00) side by side, so its commas "
                "cannot be read; write every cell the same way",
                summary=True,
            )
        )
    # NaN compares False: missing and bad cells are never out of range
    out_of_range = np.zeros(len(numbers), dtype=bool)
    above_scale = np.zeros(len(numbers), dtype=bool)
    if lo is not None:
        out_of_range |= numbers < lo
    if hi is not None:
        if kind == "score":
            above_scale = numbers > hi
        else:
            out_of_range |= numbers > hi
    if kind == "int":
        out_of_range |= np.isfinite(numbers) & (numbers != np.floor(numbers))
    checks.append(Check(name, out_of_range, expected))
    if kind == "score":
        top = float(np.nanmax(numbers[above_scale])) if above_scale.any() else 0.0
        checks.append(
            Check(
                name,
                above_scale,
                f"{expected} (values up to {_fmt(top)} here: if that is the file's scale, "
                f"set [scale] max = {_fmt(_round_scale(top))} in cstool.toml)",
                summary=True,
            )
        )
    if kind == "score":  # required when the file has the column (the group is optional)
        checks.append(Check(name, missing, expected + " (required)"))
    rejected = out_of_range | above_scale
    if kind == "int":
        valid = ~(missing | bad | rejected)
        ints = pd.arrays.IntegerArray(np.where(valid, numbers, 0).astype(np.int64), ~valid)
        return pd.Series(ints), checks
    if rejected.any():
        numbers = np.where(rejected, np.nan, numbers)
    return numbers, checks


_SPACES_RE2 = r"[\s\x{00a0}\x{2009}\x{202f}']"  # _SPACES for Arrow's RE2
_DECIMAL_COMMA = r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d{1,2}$"
_COMMA_GROUPS_DOT = r"^[+-]?\d{1,3}(,\d{3})+\.\d+$"


def _mixed_decimal_marks(column: pa.ChunkedArray) -> np.ndarray | None:
    """The cells of a column that writes decimals both ways (`1,50` and `1,200.00`), or None.

    Either way of reading the commas makes some cells wrong by a factor of a hundred or a
    thousand, so both kinds of cell are refused. One substring test when there is no comma.
    """
    import numpy as np
    import pyarrow.compute as pc

    if not pc.any(pc.match_substring(column, ",")).as_py():
        return None
    cleaned = pc.replace_substring_regex(
        pc.replace_substring_regex(column, _SPACES_RE2, ""), _CURRENCY, ""
    )
    comma = pc.match_substring_regex(cleaned, _DECIMAL_COMMA)
    point = pc.match_substring_regex(cleaned, _COMMA_GROUPS_DOT)
    if not (pc.any(comma).as_py() and pc.any(point).as_py()):
        return None
    return np.asarray(mask(pc.or_(comma, point)), dtype=bool)


def _round_scale(top: float) -> float:
    """A scale maximum that holds `top`: 5, 7, 10, 100 or the value itself."""
    for candidate in (5, 7, 10, 100):
        if top <= candidate:
            return candidate
    return top


def number_bounds(name: str, settings: Settings) -> tuple[float | None, float | None]:
    """The (min, max) a numeric field may take: the scale, the model's bounds, the type's."""
    kind = KIND[name]
    if kind == "score":
        return settings.scale.min, settings.scale.max
    lo, hi = bounds(name)
    if hi is None:
        hi = float(MONEY_MAX if kind == "money" else COUNT_MAX)
    return lo, hi


def number_expectation(name: str, settings: Settings) -> str:
    """`a number from 0 to 10`, `a whole number from 0 to 1,000,000,000`, …"""
    lo, hi = number_bounds(name, settings)
    what = "a whole number" if KIND[name] == "int" else "a number"
    example = " (e.g. 1200, $1,200.50)" if KIND[name] == "money" else ""
    if lo is not None and hi is not None:
        return f"{what} from {_fmt(lo)} to {_fmt(hi)}{example}"
    if lo is not None:
        return f"{what} ≥ {_fmt(lo)}{example}"
    return what


def _fmt(x: float) -> str:
    if float(x).is_integer() and abs(x) >= 10_000:
        return f"{int(x):,}"
    return f"{x:g}"


def first_email(series: pd.Series) -> pd.Series:
    """The first address of each email cell (`Jane <jane@x.example>; b@y` → jane@x.example)."""
    import pandas as pd

    text = pd.Series(series, dtype="string")
    return text.str.extract(f"({EMAIL_PATTERN})", expand=False).astype("string")


def score_inputs_present(columns: Any) -> list[str]:
    """The satisfaction inputs among `columns`, in their order."""
    return [name for name in SCORE_INPUTS if name in columns]
