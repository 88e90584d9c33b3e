"""Atomic file writes and spreadsheet-formula neutralising for exported text."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from cstool.errors import UsageError
from cstool.textbytes import edge_bytes_in

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


def neutralise_formulas(frame: pd.DataFrame, *, numbers: Collection[str] = ()) -> pd.DataFrame:
    """Prefix text cells a spreadsheet would run as a formula with `'`, column-wise.

    A cheap first-byte test finds the few candidate cells; only those are looked at closely,
    so a million clean cells cost a few milliseconds per column. `numbers` names text
    columns already validated as numbers or dates, which cannot hold a formula.
    """
    import pandas as pd

    out = frame
    for name in frame.columns:
        if name in numbers:
            continue
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            fixed_categories = _neutralised(pd.Series(column.cat.categories.astype(str)))
            if fixed_categories is not None:
                if out is frame:
                    out = frame.copy(deep=False)
                out[name] = column.cat.rename_categories(fixed_categories.tolist())
            continue
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        fixed = _neutralised(column)
        if fixed is not None:
            if out is frame:
                out = frame.copy(deep=False)
            out[name] = fixed
    return out


_RISKY_FIRST_BYTES = b"=+-@\t\r\n\xef"  # 0xEF starts ＝＋－＠ in UTF-8
_FORMULA_START = "^[=+\\-@\t\r\n＝＋－＠]"
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _neutralised(column: pd.Series) -> pd.Series | None:
    """The column with formula cells prefixed, or None when it has none."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow = pa.array(column.array, from_pandas=True)
    text = arrow if isinstance(arrow, pa.ChunkedArray) else pa.chunked_array([arrow])
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        text = text.cast(pa.string())
    candidates = np.flatnonzero(edge_bytes_in(text, first=_RISKY_FIRST_BYTES))
    if not len(candidates):
        return None
    cells = pc.take(text, pa.array(candidates))
    risky = pc.and_(
        pc.match_substring_regex(cells, _FORMULA_START),
        pc.invert(pc.match_substring_regex(cells, _NUMBER)),
    )
    hits = candidates[np.asarray(pc.fill_null(risky, False).to_numpy(zero_copy_only=False))]
    if not len(hits):
        return None
    values = column.astype("string").copy()
    values.iloc[hits] = "'" + values.iloc[hits]
    return values
