"""The library API: the CLI's core as plain functions on DataFrames, for notebooks."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cstool.config import SegmentRule, Settings, load_workspace

if TYPE_CHECKING:
    import pandas as pd


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else load_workspace().settings


def load(
    path: str | Path,
    settings: Settings | None = None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    skip_invalid: bool = False,
) -> pd.DataFrame:
    """Read and validate a customer CSV into the canonical frame (raises DataError on bad rows).

    Settings default to the nearest cstool.toml (or the built-in defaults).
    """
    from cstool.pipeline import ReadOptions, load_table

    options = ReadOptions(encoding=encoding, delimiter=delimiter, skip_invalid=skip_invalid)
    return load_table(Path(path), _settings(settings), options).frame


def score(
    frame: pd.DataFrame, settings: Settings | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """Add satisfaction, health, health_coverage, band and their contributions (as of today)."""
    from cstool.scoring import score as _score

    return _score(frame, _settings(settings), as_of or date.today())


def segment(
    frame: pd.DataFrame,
    rules: list[SegmentRule] | None = None,
    as_of: date | None = None,
) -> pd.DataFrame:
    """Add segment, cadence_days and play from ordered rules (built-in ones by default)."""
    from cstool.segments import segment as _segment

    if "health" not in frame.columns:
        frame = score(frame, as_of=as_of)
    return _segment(frame, rules, as_of or date.today())


def followups(
    frame: pd.DataFrame,
    settings: Settings | None = None,
    as_of: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """The follow-ups due by `until` (default: as_of), sorted by priority."""
    from cstool.followup import due_followups

    day = as_of or date.today()
    if "segment" not in frame.columns:
        frame = segment(frame, _settings(settings).segments, day)
    return due_followups(frame, _settings(settings), day, until or day, None, None)
