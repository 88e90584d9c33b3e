"""Atomic file writes and spreadsheet-formula neutralising for exported text."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from cstool.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

# Text that a spreadsheet would run as a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


@contextlib.contextmanager
def atomic(path: Path, mode: str = "wb", *, protect: Path | None = None) -> Iterator[IO[bytes]]:
    """Write `path` through a temp file in the same folder, fsync, then rename over it.

    A crash leaves either the old file or the new one. `protect` is the input file,
    which is never overwritten.
    """
    path = Path(path)
    if protect is not None and _same_file(path, protect):
        raise UsageError(f"{path}: refusing to write over the input file; choose another name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"{path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes(path: Path, data: bytes, *, protect: Path | None = None) -> None:
    """Write bytes atomically."""
    with atomic(path, "wb", protect=protect) as handle:
        handle.write(data)


def write_text(path: Path, text: str, *, protect: Path | None = None) -> None:
    """Write UTF-8 text atomically."""
    write_bytes(path, text.encode("utf-8"), protect=protect)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells a spreadsheet would run as a formula with `'`, column-wise."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
            continue
        text = col.astype("string")
        risky = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
        # A plain negative/positive number is data, not a formula.
        numeric = text.str.fullmatch(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?").fillna(False).astype(bool)
        risky &= ~numeric
        if risky.any():
            out[name] = text.mask(risky, "'" + text)
    return out
