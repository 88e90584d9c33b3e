"""Composes load → validate → score → segment (→ store data) for the CLI and the library."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cstool.config import DEFAULT_CUSTOMERS, Settings, Workspace
from cstool.errors import ConfigError, UsageError
from cstool.schema import ENRICHED

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cstool.reader import RawTable


@dataclass(frozen=True)
class ReadOptions:
    """Input options shared by every command (csvkit-style: defined once)."""

    encoding: str | None = None
    delimiter: str | None = None
    skip_invalid: bool = False
    rejects: Path | None = None


@dataclass
class Table:
    """A loaded, validated customer table.

    `frame` has every canonical field (typed, missing ones all-NA) plus the unknown
    columns under their own headers; `raw` is the file's cells as text with the original
    headers, row-aligned with `frame`, so enriched CSVs keep the input's columns as they were.
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

    @property
    def present(self) -> list[str]:
        """Canonical fields that the file has a column for."""
        return list(self.headers)

    @property
    def number_columns(self) -> list[str]:
        """Headers of the file's columns validated as numbers or dates."""
        from cstool.schema import KIND

        typed = ("score", "money", "int", "date")
        return [header for name, header in self.headers.items() if KIND[name] in typed]

    @property
    def lines(self) -> np.ndarray:
        """File line number of each row of `frame` (header is line 1)."""
        lines = self.raw_table.line_numbers
        return lines if self.rows is None else lines[self.rows]


def customers_file(file: Path | None, workspace: Workspace, cwd: Path | None = None) -> Path:
    """The customer table: FILE, else `customers` of the workspace, else ./customer_data.csv."""
    if file is not None:
        return file
    settings = workspace.settings
    if settings.customers and workspace.root is not None:
        return workspace.root / settings.customers
    candidate = (cwd or Path.cwd()) / DEFAULT_CUSTOMERS
    if candidate.is_file():
        return candidate
    raise UsageError(
        "no customer file given and no ./customer_data.csv here",
        hint="name the file (`cstool score customers.csv`) or run `cstool init` in its folder "
        'to write a cstool.toml with `customers = "…"`',
    )


def load_table(path: Path, settings: Settings, options: ReadOptions | None = None) -> Table:
    """Read and validate a customer table; raises DataError listing every problem."""
    from concurrent.futures import ThreadPoolExecutor

    from cstool.reader import read_bytes, read_raw
    from cstool.validate import validate_table

    options = options or ReadOptions()
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(read_bytes, Path(path))  # the disk read overlaps importing Arrow
        _import_pandas_meanwhile()
        content = reading.result()
    raw = read_raw(
        path, settings, encoding=options.encoding, delimiter=options.delimiter, content=content
    )
    del content
    return validate_table(raw, settings, skip_invalid=options.skip_invalid, rejects=options.rejects)


def _import_pandas_meanwhile() -> None:
    """Start importing pandas on a thread while Arrow parses the file.

    The parse runs without the GIL, so the 0.3 s import overlaps it; a later `import
    pandas` waits for this one. Arrow and numpy are imported first, here, so the two
    threads never import the same module.
    """
    import sys
    import threading

    if "pandas" in sys.modules:
        return
    import numpy  # noqa: F401
    import pyarrow.compute
    import pyarrow.csv  # noqa: F401

    def load() -> None:
        import pandas  # noqa: F401

    threading.Thread(target=load, name="import-pandas", daemon=True).start()


def scored_frame(
    table: Table,
    settings: Settings,
    as_of: date,
    touches: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Score and segment a table; `touches` (customer_id, last_logged) comes from the store."""
    from cstool.scoring import score

    frame = score(table.frame, settings, as_of, last_logged=touches)
    return segment_frame(frame, settings, as_of)


def segment_frame(frame: pd.DataFrame, settings: Settings, as_of: date) -> pd.DataFrame:
    """Add segment, cadence_days and play (built-in rules when none are configured)."""
    from cstool.segments import segment

    return segment(frame, settings.segments, as_of)


@dataclass
class Run:
    """One command's view of the data: settings, the table, the scored frame, the day."""

    workspace: Workspace
    table: Table
    frame: pd.DataFrame
    as_of: date
    db: Path
    logged: pd.DataFrame | None  # newest logged touch per customer, from the store
    snoozes: pd.DataFrame | None  # the snooze in force per customer, from the store
    earlier: pd.DataFrame | None = None  # the snapshot health-drop follow-ups compare with


def run(
    file: Path | None,
    as_of: date,
    *,
    config: Path | None = None,
    db: Path | None = None,
    options: ReadOptions | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Run:
    """Everything a reading command needs: workspace → table → store touches → scores → segments."""
    from cstool.config import load_workspace
    from cstool.store import db_path, open_store

    step = on_step or (lambda _: None)
    workspace = load_workspace(config)
    path = customers_file(file, workspace)
    step(f"reading {path.name}")
    table = load_table(path, workspace.settings, options)
    store_path = db_path(workspace, db)
    logged = snoozes = earlier = None
    store = open_store(store_path, create=False)
    if store is not None:
        with store:
            logged = store.last_logged(as_of)
            snoozes = store.snoozes()
            earlier = store.snapshot_before(as_of, workspace.settings.followups.health_drop_days)
    step("scoring")
    try:
        frame = scored_frame(table, workspace.settings, as_of, logged)
    except ConfigError as exc:  # a bad segment rule: name the config file it came from
        from cstool.segments import locate_error

        raise locate_error(exc, workspace.config_path) from None
    return Run(workspace, table, frame, as_of, store_path, logged, snoozes, earlier)


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
        keys = frame[[column, "customer_id"]].reset_index(drop=True)
        ranked = keys.sort_values(
            [column, "customer_id"],
            ascending=[not descending, True],
            kind="stable",
            na_position="last",
        )
        order = ranked.index.to_numpy()
    return order if top is None else order[: max(top, 0)]


def _column_for(frame: pd.DataFrame, name: str) -> str:
    import difflib

    if name in frame.columns:
        return name
    from cstool.reader import normalise_header

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
    """
    import pandas as pd

    raw = table.raw if order is None else table.raw.iloc[order]
    scored = frame if order is None else frame.iloc[order]
    added = [c for c in ENRICHED if c in scored.columns]
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

    scored = frame if order is None else frame.iloc[order]
    passthrough = [c for c in table.frame.columns if c not in FIELDS]
    columns = [*FIELDS, *passthrough, *(c for c in ENRICHED if c in scored.columns)]
    return scored[columns].reset_index(drop=True)


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, to rank a few "did you mean" candidates."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
