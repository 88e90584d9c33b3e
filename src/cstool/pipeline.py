"""Composes load → validate → score → segment (→ store data) for the CLI and the library."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cstool.config import DEFAULT_CUSTOMERS, Settings, Workspace
from cstool.errors import Problem, UsageError

if TYPE_CHECKING:
    import pandas as pd


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
    lines: pd.Series  # file line number of each row (header is line 1), aligned with frame
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0
    encoding: str = "utf-8"
    delimiter: str = ","

    @property
    def present(self) -> list[str]:
        """Canonical fields that the file has a column for."""
        return list(self.headers)


def customers_file(file: Path | None, workspace: Workspace, cwd: Path | None = None) -> Path:
    """The customer table to read: FILE, else `customers` of the workspace, else ./customer_data.csv."""
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
        "to write a cstool.toml with `customers = \"…\"`",
    )


def load_table(path: Path, settings: Settings, options: ReadOptions | None = None) -> Table:
    """Read and validate a customer table; raises DataError listing every problem."""
    from cstool.load import read_raw
    from cstool.validate import validate_table

    options = options or ReadOptions()
    raw = read_raw(path, settings, encoding=options.encoding, delimiter=options.delimiter)
    return validate_table(raw, settings, skip_invalid=options.skip_invalid, rejects=options.rejects)


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
    try:
        from cstool.segments import segment
    except ImportError:  # pragma: no cover - segments land with their own issue
        return frame
    return segment(frame, settings.segments, as_of)
