"""Arrow helpers every validation step uses: masks, text arrays, what counts as missing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

MISSING_TOKENS = (
    "",
    "na",
    "n/a",
    "null",
    "none",
    "nan",
    "-",
    "—",
    "#n/a",
    "nil",
    "tbd",
    "unknown",
    "?",
)


def mask(values: Any) -> np.ndarray:
    """An Arrow boolean (null = False) as a writable numpy mask."""
    import numpy as np
    import pyarrow.compute as pc

    return np.array(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def arrow_text(values: Any) -> pa.ChunkedArray:
    """A pandas text Series or an Arrow array as an Arrow chunked string array."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values
    if isinstance(values, pa.Array):
        return pa.chunked_array([values])
    return pa.chunked_array([pa.array(values, type=pa.string(), from_pandas=True)])


def missing_cells(text: pa.ChunkedArray) -> np.ndarray:
    """Cells that mean "no value": empty, n/a, null, -, … (decided here, not by the reader)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return mask(pc.is_in(pc.utf8_lower(text), value_set=pa.array(MISSING_TOKENS)))


def empty_as_null(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Empty cells as missing, without copying the text: each chunk gets a validity bitmap."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = []
    for chunk in text.chunks:
        empty = pc.equal(chunk, "")
        if not pc.any(empty).as_py():
            chunks.append(chunk)
        elif chunk.offset or chunk.null_count or chunk.type != pa.string():
            chunks.append(pc.if_else(empty, pa.scalar(None, chunk.type), chunk))
        else:
            valid = pc.invert(empty)
            _, offsets, data = chunk.buffers()
            chunks.append(
                pa.Array.from_buffers(chunk.type, len(chunk), [valid.buffers()[1], offsets, data])
            )
    return pa.chunked_array(chunks, type=text.type)
