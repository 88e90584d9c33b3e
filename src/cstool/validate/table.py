"""Raw text table → typed canonical frame + every problem: the `Table` result and its checks.

Columns are converted side by side (Arrow's and numpy's kernels release the GIL); each rule
is a mask over a column. Required cells (customer_id, and the three satisfaction inputs when
the file has them) cost a row; a bad optional cell costs only that cell under --skip-invalid.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstool.config import Settings
from cstool.errors import DataError, Problem
from cstool.read import TITLE_LINES, RawTable, match_headers, missing_required
from cstool.schema import ENRICHED, FIELDS, KIND, SCORE_INPUTS
from cstool.validate.arrow import mask
from cstool.validate.cells import (
    Check,
    convert,
    score_inputs_present,
    text_column,
    text_dtype,
    trimmed,
)
from cstool.validate.dates import AmbiguousDates
from cstool.validate.rejects import InvalidRows, cell_problems, problems, rejected_rows

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

# Columns cstool adds; an input column with one of these names is kept as `<name>_input`.
COMPUTED = (*ENRICHED, "recency_score", "nps_score", "support_score")
# An ID or name cell like these marks a row of totals or averages, not a customer.
TOTAL_WORDS = (
    "total",
    "totals",
    "sum",
    "grand total",
    "grand totals",
    "subtotal",
    "sub total",
    "average",
    "averages",
    "avg",
    "mean",
    "合计",
    "總計",
    "总计",
    "合計",
    "平均",
    "小计",
    "小計",
)


@dataclass
class Table:
    """A loaded, validated customer table.

    `frame` has every canonical field (typed, missing ones all-NA; the three satisfaction
    inputs only when the file has them) plus the unknown columns under their own headers;
    `raw` is the file's cells as text with the original headers, row-aligned with `frame`,
    so enriched CSVs keep the input's columns as they were. `rejected` (under skip_invalid,
    possibly empty) holds the rows left out (the file's cells + `reason`, indexed by line),
    `blanked` the optional cells emptied under --skip-invalid, `warnings` what a person
    should know (totals rows, a likely 1–5 scale) and `notes` what the file could add.
    """

    frame: pd.DataFrame
    raw: pd.DataFrame
    source: Path
    headers: dict[str, str]  # canonical field -> header as written in the file
    raw_table: RawTable
    rows: np.ndarray | None = None  # positions kept from the file's rows (None: all)
    skipped: int = 0
    encoding: str = "utf-8"
    delimiter: str = ","
    rejected: pd.DataFrame | None = None
    blanked: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    invalid: InvalidRows | None = None  # under skip_invalid: the rows left out, to explain

    @property
    def number_columns(self) -> list[str]:
        """Headers of the file's columns validated as numbers or dates."""
        typed = ("score", "money", "int", "date")
        return [header for name, header in self.headers.items() if KIND[name] in typed]

    @property
    def lines(self) -> np.ndarray:
        """File line number of each row of `frame` (header is line 1)."""
        lines = self.raw_table.line_numbers
        return lines if self.rows is None else lines[self.rows]


def validate_table(raw: RawTable, settings: Settings, *, skip_invalid: bool = False) -> Table:
    """Check every cell column-wise; raise DataError with every problem unless skipping.

    Writes nothing: under `skip_invalid` the rows left out are on `Table.rejected`.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    path = str(raw.path)
    _check_headers(raw, settings)
    present_inputs = score_inputs_present(raw.headers)
    notes = []
    if not present_inputs:
        notes.append(
            "no satisfaction: add columns " + ", ".join(SCORE_INPUTS) + " to score it "
            "(health uses the other measures)"
        )
    fields = [name for name in FIELDS if name in present_inputs or name not in SCORE_INPUTS]

    n = raw.table.num_rows
    columns = {name: raw.table.column(pos) for name, pos in raw.headers.items()}
    frame_columns: dict[str, Any] = {}
    checks: list[Check] = []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        # the duplicate check (a sort, the slowest single check) goes first
        id_cells = trimmed(columns["customer_id"])
        duplicates = pool.submit(_duplicates, id_cells)
        totals = pool.submit(_totals_rows, raw)
        converted = {
            name: pool.submit(
                convert,
                name,
                columns[name],
                settings,
                raw.delimiter == ";",
                label=raw.header_names[name],
                file=str(raw.path),
            )
            for name in fields
            if name in columns
        }
        claimed = set(raw.headers.values())
        passed_through = {  # the file's other columns, trimmed as they are
            i: pool.submit(lambda i: text_column(trimmed(raw.table.column(i))), i)
            for i in range(len(raw.header))
            if i not in claimed
        }
        contact = _contact_name(raw) if "name" not in converted else None
        if contact is not None:
            frame_columns["name"], contact_note = contact
            notes.append(contact_note)
        results: dict[str, tuple[Any, list[Check]]] = {}
        ordered: list[str] = []  # date orders taken from another column: said as warnings
        ambiguous: dict[str, AmbiguousDates] = {}
        for name in fields:
            if name in converted:
                try:
                    results[name] = converted[name].result()
                except AmbiguousDates as exc:
                    ambiguous[name] = exc
        if ambiguous:
            results.update(_dates_ordered_by_the_file(ambiguous, results, raw, columns, ordered))
        for name in fields:
            if name not in converted:
                if name not in frame_columns:
                    frame_columns[name] = _empty_column(name, n)
                continue
            values, field_checks = results[name]
            frame_columns[name] = values
            checks.extend(field_checks)
        total_rows = totals.result()

    id_empty = checks[0].mask  # the first check is always the empty-ID one
    header_rows = _header_rows(raw, id_cells)
    left_out = _blank_rows(raw, id_empty) | total_rows | header_rows
    ids = frame_columns["customer_id"]
    dup = duplicates.result() & ~left_out
    for check in checks:
        check.mask = check.mask & ~left_out
    required = [c for c in checks if c.field == "customer_id" or c.field in SCORE_INPUTS]
    optional = [c for c in checks if not (c.field == "customer_id" or c.field in SCORE_INPUTS)]
    bad = dup.copy()
    for check in required:
        bad |= check.mask

    header_names = _unique_headers(raw.header)
    out_names, unnamed, unnamed_warnings = _output_headers(raw, header_names)
    for i, column in passed_through.items():
        if i in unnamed:
            continue
        name = header_names[i]
        if name in FIELDS or name in COMPUTED:
            name = f"{name}_input"
        frame_columns[name] = column.result()

    problem_count = int(sum(int(c.mask.sum()) for c in checks) + dup.sum()) + len(raw.ragged)
    if problem_count and not skip_invalid:
        bad_cells = bad.copy()
        for check in optional:
            bad_cells |= check.mask
        bad_rows = int(bad_cells.sum()) + len(raw.ragged)
        raise DataError(
            f"{path}: {problem_count} problem{'s' if problem_count != 1 else ''} in "
            f"{bad_rows} row{'s' if bad_rows != 1 else ''}",
            problems=problems(raw, header_names, checks, dup, ids),
            # a column summarised in one message counts once among the messages
            total_problems=problem_count
            - sum(int(c.mask.sum()) - 1 for c in checks if c.summary and c.mask.any()),
            hint="fix the rows, or use --skip-invalid (with --rejects FILE to keep them)",
        )
    blanked: list[Problem] = []
    if problem_count:  # skipping: optional cells are emptied, the customer stays
        failing = [c for c in optional if c.mask.any()]
        blanked = cell_problems(raw, header_names, failing)
        for check in failing:
            frame_columns[check.field] = _blanked(frame_columns[check.field], check.mask)
    rejected = rejected_rows(raw, header_names, required, dup, ids, bad) if skip_invalid else None
    invalid = (
        InvalidRows(raw, header_names, checks, dup, ids, bad)
        if problem_count and skip_invalid
        else None
    )
    frame = pd.DataFrame(frame_columns, copy=False)

    warnings = [
        *raw.warnings,
        *unnamed_warnings,
        *_rows_warning(raw, total_rows, "totals row", "totals rows", "not customers"),
        *_rows_warning(
            raw,
            header_rows,
            "row that repeats the header",
            "rows that repeat the header",
            "as where exports were joined",
        ),
        *ordered,
    ]
    warnings += _scale_warnings(frame, present_inputs, settings, raw)
    keep = ~(bad | left_out)
    rows = np.flatnonzero(keep)
    all_kept = len(rows) == n
    raw_out = pd.DataFrame(
        {
            out_names[i]: pd.Series(raw.table.column(i), dtype=pd.ArrowDtype(pa.string()))
            for i in range(len(raw.header))
            if i not in unnamed
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
        rejected=rejected,
        blanked=blanked,
        warnings=warnings,
        notes=notes,
        invalid=invalid,
    )


def _check_headers(raw: RawTable, settings: Settings) -> None:
    """customer_id is required; the satisfaction inputs all three or none."""
    header_problems = [p for p in missing_required(raw) if p.column == "customer_id"]
    lower = _header_further_down(raw, settings) if header_problems else None
    if lower is not None:
        line, cells = lower
        shown = ", ".join(c for c in cells if c)[:120]
        header_problems = [
            dataclasses.replace(
                p,
                expected=f"{p.expected}; line {line} looks like the header ({shown}), but "
                f"cstool skips only up to {TITLE_LINES} title lines above it: delete the "
                "lines above it",
            )
            for p in header_problems
        ]
    if header_problems:
        raise DataError(
            f"{raw.path}: missing required column customer_id",
            problems=header_problems,
            hint="rename the column, or map it in cstool.toml, e.g. "
            '[columns] customer_id = "Your Header"',
        )
    present = score_inputs_present(raw.headers)
    if present and len(present) < len(SCORE_INPUTS):
        absent = [name for name in SCORE_INPUTS if name not in present]
        raise DataError(
            f"{raw.path}: satisfaction needs all three of {', '.join(SCORE_INPUTS)}; "
            f"missing {', '.join(absent)}",
            problems=[
                Problem(
                    1,
                    name,
                    None,
                    f"a column for {name} (found: {', '.join(raw.header)})"
                    + _closest_header(raw, name),
                    str(raw.path),
                )
                for name in absent
            ],
            hint="add the missing columns (or map them in [columns] of cstool.toml), "
            "or remove the others to score without satisfaction",
        )


def _header_further_down(raw: RawTable, settings: Settings) -> tuple[int, list[str]] | None:
    """(line, cells) of a row among the first below the header taken that has a customer
    ID column: a real header under more title lines than are skipped."""
    rows: dict[int, list[str]] = dict(raw.ragged_cells)
    lines = raw.line_numbers[:10]
    for r, line in enumerate(lines.tolist()):
        rows.setdefault(
            int(line),
            [str(raw.table.column(i)[r].as_py() or "") for i in range(raw.table.num_columns)],
        )
    for line in sorted(rows)[:10]:
        cells = [c.strip() for c in rows[line]]
        if "customer_id" in match_headers(cells, settings):
            return line, cells
    return None


def _closest_header(raw: RawTable, name: str) -> str:
    """`; closest header: 'Value_Delivry'` when an unclaimed header is near the field's name."""
    import difflib

    from cstool.read import normalise_header

    claimed = set(raw.headers.values())
    unmatched = {normalise_header(h): h for i, h in enumerate(raw.header) if i not in claimed}
    close = difflib.get_close_matches(normalise_header(name), list(unmatched), n=1, cutoff=0.6)
    return f"; closest header: {unmatched[close[0]]!r}" if close else ""


def _blanked(values: Any, where: np.ndarray) -> Any:
    """A typed column with the cells at `where` made missing."""
    import numpy as np
    import pandas as pd

    if isinstance(values, np.ndarray):
        return np.where(where, np.nan, values)
    series = pd.Series(values) if not isinstance(values, pd.Series) else values.copy()
    series[where] = None
    return series


def _totals_rows(raw: RawTable) -> np.ndarray:
    """Rows whose ID or name cell says total or average (`Total`, `合计`, `Avg:` …)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from cstool.textbytes import WHITESPACE_FIRST, edge_bytes_in

    # Only cells starting with a space or a totals word's first letter can be one: a cheap
    # first-byte test picks those, and only they are trimmed, lowered and looked up.
    first = {word[:1] for word in TOTAL_WORDS}
    starts = "".join(sorted(first | {c.upper() for c in first})).encode() + WHITESPACE_FIRST
    found = np.zeros(raw.table.num_rows, dtype=bool)
    for name in ("customer_id", "name"):
        if name not in raw.headers:
            continue
        column = raw.table.column(raw.headers[name])
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            column = column.cast(pa.string())
        maybe = np.flatnonzero(edge_bytes_in(column, first=_first_bytes(starts)))
        if not len(maybe):
            continue
        cells = pc.utf8_lower(pc.utf8_trim_whitespace(pc.take(column, pa.array(maybe))))
        cells = pc.utf8_rtrim(cells, characters=":：")
        found[maybe[mask(pc.is_in(cells, value_set=pa.array(TOTAL_WORDS)))]] = True
    return found


def _header_rows(raw: RawTable, ids: pa.ChunkedArray) -> np.ndarray:
    """Rows that repeat the header (exports joined one after the other, each with its
    header): the ID cell (`ids`: the trimmed ID column) is the ID column's header, and so is
    every other non-empty cell."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    found = np.zeros(raw.table.num_rows, dtype=bool)
    head = raw.header[raw.headers["customer_id"]]
    if not head:
        return found
    maybe = np.flatnonzero(mask(pc.equal(ids, head)))
    if not len(maybe):
        return found
    take = pa.array(maybe)
    same = np.ones(len(maybe), dtype=bool)
    for i, head in enumerate(raw.header):
        cells = pc.utf8_trim_whitespace(pc.take(raw.table.column(i), take).cast(pa.string()))
        same &= mask(pc.or_(pc.equal(cells, head.strip()), pc.equal(cells, "")))
    found[maybe[same]] = True
    return found


def _rows_warning(raw: RawTable, rows: np.ndarray, one: str, several: str, why: str) -> list[str]:
    """`file: left out a row that … (line 4), why`, naming up to 20 lines (sheet rows)."""
    import numpy as np

    idx = np.flatnonzero(rows)
    if not len(idx):
        return []
    lines = ", ".join(str(int(raw.line_numbers[i])) for i in idx[:20])
    more = ", …" if len(idx) > 20 else ""
    what = f"a {one}" if len(idx) == 1 else f"{len(idx)} {several}"
    unit = "row" if raw.sheet is not None else "line"
    where = f"{raw.path} (sheet {raw.sheet})" if raw.sheet is not None else f"{raw.path}"
    plural = "s" if len(idx) > 1 else ""
    return [f"{where}: left out {what} ({unit}{plural} {lines}{more}), {why}"]


def _first_bytes(text: bytes) -> bytes:
    """The first byte of each UTF-8 character in `text` (a lead byte for non-ASCII ones)."""
    return bytes(b for b in text if b < 0x80 or b >= 0xC0)


def _scale_warnings(
    frame: pd.DataFrame, present: list[str], settings: Settings, raw: RawTable
) -> list[str]:
    """A file of whole numbers 1–5 scored on the default 0–10 scale is likely a 1–5 survey;
    one of shares from 0 to 1 (a spreadsheet's percent cells, 0.85 for 85 %) likely 0–100 %."""
    import numpy as np

    scale = settings.scale
    if len(present) < len(SCORE_INPUTS) or (scale.min, scale.max) != (0.0, 10.0):
        return []
    columns = [np.asarray(frame[name], dtype=np.float64) for name in present]
    if any(np.nanmax(c, initial=-np.inf) > 5 for c in columns):  # the common case: done
        return []
    values = np.concatenate(columns)
    values = values[~np.isnan(values)]
    if not len(values):
        return []
    whole = bool(np.all(values == np.floor(values)))
    if not whole and values.min() >= 0 and values.max() <= 1:
        example = f"{float(values[values != np.floor(values)][0]):g}"
        return [
            f"{raw.path}: the satisfaction inputs are all from 0 to 1 (such as {example}), but "
            "the scale is 0–10: if they are percentages (a spreadsheet's percent cells), write "
            f"them as percentages ({float(example) * 100:g}%) or set [scale] max = 1 in "
            "cstool.toml"
        ]
    if whole and values.min() >= 1 and values.max() <= 5:
        return [
            f"{raw.path}: the satisfaction inputs are all whole numbers from 1 to 5, but the "
            "scale is 0–10: if the file uses a 1–5 scale, set [scale] min = 1, max = 5 "
            "in cstool.toml"
        ]
    return []


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
        still = mask(pc.equal(pc.utf8_trim_whitespace(cells), ""))
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
    same = mask(pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1)))
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


def _output_headers(
    raw: RawTable, header_names: list[str]
) -> tuple[list[str], set[int], list[str]]:
    """The enriched CSV's names for the file's columns, the columns left out, and why.

    A column with neither a header nor a value (a trailing delimiter, the blank columns
    right of a sheet's table) is not part of the table and is left out. One with values
    but no header keeps its empty header in the CSV, as the file has it (JSON, which needs
    a key, calls it `column_N`); a second one cannot also be nameless in a table, so it
    keeps `column_N` there too. The warning says which.
    """
    import pyarrow.compute as pc

    names = list(header_names)
    left_out: set[int] = set()
    kept_blank: list[int] = []
    named: list[int] = []
    for i, h in enumerate(raw.header):
        if h.strip() or i in raw.headers.values():
            continue
        longest = pc.max(pc.utf8_length(pc.utf8_trim_whitespace(raw.table.column(i)))).as_py()
        if not longest:
            left_out.add(i)
        elif not kept_blank:
            kept_blank.append(i)
            names[i] = ""
        else:
            named.append(i)
    warnings = []
    if kept_blank:
        i = kept_blank[0]
        warnings.append(
            f"{raw.path}: column {i + 1} has no header but holds values: it is passed "
            f"through with its empty header (in JSON as {header_names[i]!r})"
        )
    if named:
        listed = ", ".join(f"column {i + 1} as {header_names[i]!r}" for i in named)
        warnings.append(
            f"{raw.path}: more columns without a header hold values; passed through as "
            f"{listed} (name them in the file to keep your own names)"
        )
    return names, left_out, warnings


def _dates_ordered_by_the_file(
    ambiguous: dict[str, AmbiguousDates],
    results: dict[str, tuple[Any, list[Check]]],
    raw: RawTable,
    columns: dict[str, Any],
    said: list[str],
) -> dict[str, tuple[Any, list[Check]]]:
    """Date columns whose values fit both day/month orders, read in the order another date
    column of the same file shows (an export writes every date one way): `Last Contact`'s
    `11/04/2026` is month first when `Signup`'s `5/13/2026` can only be. Said in a note;
    without such a column, or with columns that disagree, the first ambiguity is raised.
    What was decided is appended to `said`."""
    orders = {
        name: values.attrs.get("date_order")
        for name, (values, _) in results.items()
        if KIND[name] == "date" and values.attrs.get("date_order")
    }
    if len(set(orders.values())) != 1:
        raise next(iter(ambiguous.values()))
    witness, order = next(iter(orders.items()))
    other = "month" if order == "day" else "day"
    out = {}
    for name, exc in ambiguous.items():
        fmt = exc.formats[order]
        out[name] = convert(
            name,
            columns[name],
            Settings(),
            label=raw.header_names[name],
            file=str(raw.path),
            date_formats=[fmt],
        )
        said.append(
            f"{raw.path}: column {raw.header_names[name]!r}: dates like {exc.example!r} fit "
            f"both orders; read {order} first ({fmt}), as column "
            f"{raw.header_names[witness]!r} is, whose dates can only be {order} first "
            f'(if that is wrong: [input] date_format = "{exc.formats[other]}")'
        )
    return out


# Normalised headers of a person's first and last name, in a contact export without a name
# column (Shopify, HubSpot contacts, Mailchimp). One of them alone is half a name: not used.
_FIRST_NAMES = ("firstname", "givenname", "vorname", "prénom", "prenom", "nombre", "nome")
_LAST_NAMES = (
    "lastname",
    "surname",
    "familyname",
    "nachname",
    "nom",
    "apellido",
    "apellidos",
    "cognome",
    "sobrenome",
)


def _contact_name(raw: RawTable) -> tuple[pd.Series, str] | None:
    """`First Name` + `Last Name` as the customer's name, when the file has both and no name
    column (and a note saying so), else None."""
    import pyarrow.compute as pc

    from cstool.read import normalise_header

    spelled = {normalise_header(h): i for i, h in reversed(list(enumerate(raw.header)))}
    claimed = set(raw.headers.values())
    first = next((spelled[h] for h in _FIRST_NAMES if spelled.get(h) not in (None, *claimed)), None)
    last = next((spelled[h] for h in _LAST_NAMES if spelled.get(h) not in (None, *claimed)), None)
    if first is None or last is None:
        return None
    parts = [trimmed(raw.table.column(first)), trimmed(raw.table.column(last))]
    joined = pc.utf8_trim_whitespace(pc.binary_join_element_wise(*parts, " "))
    note = f"name: {raw.header[first]!r} + {raw.header[last]!r} (the file has no name column)"
    return text_column(joined), note


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
