"""Composes load → validate → score → segment (→ store data) for the CLI and the library."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cstool.config import Settings
from cstool.errors import DataError, UsageError
from cstool.ids import customer_index as customer_index  # where it lives since ids.py needs it
from cstool.schema import ENRICHED
from cstool.validate.table import Table

__all__ = ["ReadOptions", "Table", "load_table"]

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cstool.read import RawTable


@dataclass(frozen=True)
class ReadOptions:
    """Input options shared by every command (csvkit-style: defined once)."""

    encoding: str | None = None
    delimiter: str | None = None
    skip_invalid: bool = False
    rejects: Path | None = None
    sheet: str | int | None = None  # a workbook's sheet (name or 0-based position)


def load_table(
    path: Path,
    settings: Settings,
    options: ReadOptions | None = None,
    *,
    meanwhile: Callable[[], object] | None = None,
) -> Table:
    """Read and validate a customer table; raises DataError listing every problem.

    `meanwhile` runs on this thread while the file is read and parsed on another (the
    book's rule check, which imports pandas: Arrow parses without the GIL, so the two
    overlap); its error comes first, before any problem of the file.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from cstool.read import in_sheet, read_bytes, read_raw
    from cstool.validate import validate_table

    options = options or ReadOptions()
    imported = threading.Event()

    def read() -> RawTable:
        content = read_bytes(path)  # the disk's part, while the caller imports the readers
        imported.wait()  # parsed once numpy and Arrow are loaded: no module imported twice
        return read_raw(
            path,
            settings,
            encoding=options.encoding,
            delimiter=options.delimiter,
            content=content,
            sheet=options.sheet,
        )

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read")
    reading = pool.submit(read)
    try:
        _import_readers()
    finally:
        imported.set()
    try:
        if meanwhile is not None:
            meanwhile()
        import pandas  # noqa: F401  (validating needs it: imported while Arrow parses)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # the error now, not after the read
        raise
    try:
        raw = reading.result()
    finally:
        pool.shutdown(wait=True)
    if options.rejects is not None and _same_path(options.rejects, path):
        raise UsageError(
            f"{options.rejects}: refusing to write over the input file; choose another name"
        )
    try:
        table = validate_table(raw, settings, skip_invalid=options.skip_invalid)
    except DataError as exc:  # a workbook's problems name the sheet and its row
        if raw.sheet is None:
            raise
        raise in_sheet(exc, raw.sheet) from None
    if options.rejects is not None and table.rejected is not None:
        from cstool.write import write_csv_file

        write_csv_file(
            options.rejects,
            table.rejected,
            header=[*raw.header, "reason"],
            delimiter=raw.delimiter,
            protect=raw.path,
        )
    return table


def _same_path(a: Path, b: Path) -> bool:
    """Whether two paths name one file (or would: the same absolute path)."""
    import os

    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        return False
    return os.path.abspath(a) == os.path.abspath(b)


def _import_readers() -> None:
    """Import numpy and Arrow on this thread before the reading thread starts.

    The reading thread and this one (importing pandas) then never import the same module
    at the same time.
    """
    import numpy  # noqa: F401
    import pyarrow.compute
    import pyarrow.csv  # noqa: F401


def scored_frame(
    table: Table,
    settings: Settings,
    as_of: date,
    touches: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Lifecycle, score and segment a table; `touches` (customer_id, last_logged) comes from
    the store."""
    from concurrent.futures import ThreadPoolExecutor

    from cstool.lifecycle import apply_lifecycle
    from cstool.scoring import score_columns, with_scores

    # The lifecycle and the scores read different columns: each on its own core (NumPy
    # lets go of the GIL), then joined as `score(apply_lifecycle(…))` would give them.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lifecycle") as pool:
        lifecycle = pool.submit(apply_lifecycle, table.frame, settings, as_of)
        try:
            added, future = score_columns(table.frame, settings, as_of, last_logged=touches)
        except BaseException:
            lifecycle.result()  # its error first, as when it ran before the scores
            raise
        live = lifecycle.result()
    frame = with_scores(live, added, future)
    result = segment_frame(frame, settings, as_of)
    # What the steps noticed (stage values not understood, touches after the as-of day),
    # for the book's notes: later steps do not carry `attrs` along.
    result.attrs.update(live.attrs)
    result.attrs.update(frame.attrs)
    return result


def segment_frame(frame: pd.DataFrame, settings: Settings, as_of: date) -> pd.DataFrame:
    """Add segment, cadence_days and play (built-in rules when none are configured)."""
    from cstool.segments import segment

    return segment(frame, settings.segments, as_of)


def in_order(frame: pd.DataFrame, order: np.ndarray | None) -> pd.DataFrame:
    """The rows at `order`; the frame itself when that is every row as it is (no copy of a
    million rows to put them where they already are)."""
    import numpy as np

    if order is None:
        return frame
    if len(order) == len(frame) and bool(np.array_equal(order, np.arange(len(frame)))):
        return frame
    return frame.iloc[order]


def sort_order(
    frame: pd.DataFrame,
    sort: str | None = None,
    *,
    descending: bool = False,
    top: int | None = None,
) -> np.ndarray:
    """Row positions sorted by a column (ties by customer_id, stable), cut to `top`."""
    import numpy as np

    if sort is None:
        order = np.arange(len(frame))
    else:
        column = _column_for(frame, sort)
        by = [column] if column == "customer_id" else [column, "customer_id"]  # IDs are unique
        keys = frame[by].reset_index(drop=True)
        ranked = keys.sort_values(
            by,
            ascending=[not descending, True][: len(by)],
            kind="stable",
            na_position="last",
        )
        order = ranked.index.to_numpy()
    return order if top is None else order[: max(top, 0)]


def _column_for(frame: pd.DataFrame, name: str) -> str:
    import difflib

    if name in frame.columns:
        return name
    from cstool.read import normalise_header

    wanted = normalise_header(name)
    for column in frame.columns:
        if normalise_header(str(column)) == wanted:
            return str(column)
    close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=3)
    raise UsageError(
        f"--sort {name!r}: no such column",
        hint=f"did you mean {', '.join(close)}?" if close else "try health, satisfaction or mrr",
    )


def csv_frame(table: Table, frame: pd.DataFrame, order: np.ndarray | None = None) -> pd.DataFrame:
    """The input's own columns as written, then cstool's columns under canonical names.

    An appended name that the input already uses (in any case) is written as `cstool_<name>`.
    The lifecycle's churn and cancel dates are left out when no customer has one (a file
    without them gains no empty columns; JSON always carries them).
    """
    import pandas as pd

    raw = in_order(table.raw, order)
    scored = in_order(frame, order)
    added = [
        c
        for c in ENRICHED
        if c in scored.columns
        and not (c in ("churn_date", "cancel_date") and not scored[c].notna().any())
    ]
    extra = scored[added].reset_index(drop=True)
    if "days_since_touch" in extra.columns:  # whole days: written as integers
        extra["days_since_touch"] = extra["days_since_touch"].round().astype("Int32")
    # A name the input already uses (in any case: a `Health` column of its own) is written
    # as cstool_<name>, so neither the input's column nor cstool's is lost.
    taken = {str(c).casefold() for c in raw.columns}
    extra.columns = [c if c.casefold() not in taken else f"cstool_{c}" for c in added]
    return pd.concat([raw.reset_index(drop=True), extra], axis="columns")


def json_frame(table: Table, frame: pd.DataFrame, order: np.ndarray | None = None) -> pd.DataFrame:
    """Canonical names: every customer field, unknown columns, then cstool's columns."""
    from cstool.schema import FIELDS

    scored = in_order(frame, order)
    passthrough = [c for c in table.frame.columns if c not in FIELDS]
    fields = [c for c in FIELDS if c in scored.columns]  # satisfaction inputs may be absent
    columns = [*fields, *passthrough, *(c for c in ENRICHED if c in scored.columns)]
    return scored[columns].reset_index(drop=True)
