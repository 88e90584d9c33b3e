"""Byte-level tests on Arrow text columns, read straight from their buffers (no copies).

A million cells cost a few milliseconds; the few cells a test picks out are then looked at
closely with ordinary string functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def edge_bytes_in(text: pa.ChunkedArray, first: bytes = b"", last: bytes = b"") -> np.ndarray:
    """For each cell: is its first byte one of `first`, or its last byte one of `last`?

    Empty and missing cells are never picked.
    """
    import numpy as np
    import pyarrow as pa

    first_table = np.zeros(256, dtype=bool)
    first_table[list(first)] = True
    last_table = np.zeros(256, dtype=bool)
    last_table[list(last)] = True
    parts = []
    for chunk in text.chunks:
        n = len(chunk)
        if n == 0:
            continue
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            raise TypeError(f"expected text, got {chunk.type}")
        validity, offsets_buf, data_buf = chunk.buffers()
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        raw_offsets = np.frombuffer(offsets_buf, dtype=width)
        offsets: np.ndarray = raw_offsets[chunk.offset : chunk.offset + n + 1].astype(np.int64)
        starts, ends = offsets[:-1], offsets[1:]
        nonempty = ends > starts
        if data_buf is None or data_buf.size == 0:
            parts.append(np.zeros(n, dtype=bool))
            continue
        data = np.frombuffer(data_buf, dtype=np.uint8)
        top = len(data) - 1
        hit = (
            first_table[data[np.minimum(starts, top)]] | last_table[data[np.clip(ends - 1, 0, top)]]
        )
        picked = nonempty & hit
        if validity is not None and chunk.null_count:
            picked &= np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        parts.append(picked)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


# First/last bytes of anything utf8_trim_whitespace would strip: ASCII whitespace, and the
# lead (first) or continuation (last) bytes of multi-byte spaces such as U+00A0 and U+3000.
WHITESPACE_FIRST = b" \t\n\v\f\r\xc2\xe1\xe2\xe3"
WHITESPACE_LAST = b" \t\n\v\f\r" + bytes(range(0x80, 0xC0))
