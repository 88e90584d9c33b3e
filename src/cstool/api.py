"""The library: `open()` gives the customer book, the same core the CLI uses.

`load`, `score`, `segment` and `followups` are conveniences over the same functions for a
frame in a notebook. They take their settings explicitly (`Settings()`, the built-in
defaults, when none are given: they never read a cstool.toml on their own) and an explicit
`as_of` (today when None, read here, once).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cstool.book import Book, open_book
from cstool.config import Settings

if TYPE_CHECKING:
    import pandas as pd


def open(  # the entry point of the library, like io.open
    file: str | Path | None = None,
    *,
    config: str | Path | None = None,
    db: str | Path | None = None,
    as_of: date | str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    skip_invalid: bool = False,
) -> Book:
    """Open a customer book: `file` (default: the workspace's `customers`), the nearest
    cstool.toml or `config`, the store (`db`, default: the workspace's), as of `as_of`.

    `book.customers()` equals `cstool score --format json`, `book.followups()` equals
    `cstool followups --format json` (logged touches and snoozes included).
    """
    from cstool.pipeline import ReadOptions

    options = ReadOptions(encoding=encoding, delimiter=delimiter, skip_invalid=skip_invalid)
    return open_book(file, config=config, db=db, as_of=as_of, options=options)


def load(
    path: str | Path,
    settings: Settings | None = None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    skip_invalid: bool = False,
) -> pd.DataFrame:
    """Read and validate a customer table into the canonical frame (DataError on bad rows)."""
    from cstool.pipeline import ReadOptions, load_table

    options = ReadOptions(encoding=encoding, delimiter=delimiter, skip_invalid=skip_invalid)
    return load_table(Path(path), settings or Settings(), options).frame


def score(
    frame: pd.DataFrame, settings: Settings | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """Add satisfaction, health, health_coverage, band and their contributions."""
    from cstool.scoring import score as _score

    return _score(frame, settings or Settings(), as_of or date.today())


def segment(
    frame: pd.DataFrame, settings: Settings | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """Add segment, cadence_days and play from the settings' rules (built-in ones by default)."""
    from cstool.segments import segment as _segment

    settings = settings or Settings()
    day = as_of or date.today()
    if "health" not in frame.columns:
        frame = score(frame, settings, day)
    return _segment(frame, settings.segments, day)


def followups(
    frame: pd.DataFrame,
    settings: Settings | None = None,
    as_of: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """The follow-ups due by `until` (default: as_of), sorted by priority (no store).

    With a store (logged touches, snoozes), use `cstool.open(...).followups()`.
    """
    from cstool.book import followup_fields
    from cstool.followup import due_followups

    settings = settings or Settings()
    day = as_of or date.today()
    if "segment" not in frame.columns:
        frame = segment(frame, settings, day)
    return followup_fields(due_followups(frame, settings, day, until or day, None, None))
