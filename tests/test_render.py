"""Machine formats: CSV written in parallel batches equals one pass; JSON keeps exact floats."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pytest

from cstool import render
from cstool.write import atomic


def test_big_csv_in_parallel_batches_equals_one_pass() -> None:
    n = 2 * render.CSV_BATCH_ROWS + 123
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "id": [f"C{i}" for i in range(n)],
            "health": rng.random(n) * 100,
            "band": pd.Categorical.from_codes(rng.integers(0, 3, n), ["red", "yellow", "green"]),
        }
    )
    written = render.csv_bytes(frame)
    one_pass = io.BytesIO()
    pacsv.write_csv(
        render.arrow_table(frame),
        one_pass,
        write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"),
    )
    assert written == b"id,health,band\n" + one_pass.getvalue()
    back = pd.read_csv(io.BytesIO(written))
    assert len(back) == n and np.array_equal(back["health"].to_numpy(), frame["health"].to_numpy())


@pytest.mark.slow
def test_big_csv_to_a_file_with_early_writeback(tmp_path: Path) -> None:
    """A CSV over 64 MiB written to a real file crosses the early-writeback step (32 MiB) at
    least twice on the way; what lands on disk is still exactly the bytes of `csv_bytes`."""
    n = 3_000_000  # ~25 bytes a row: ~75 MB
    frame = pd.DataFrame({"id": pd.Series(np.arange(n)).map("C{}".format), "x": np.arange(n) / 3})
    target = tmp_path / "big.csv"
    with atomic(target) as handle:
        render.write_csv(frame, handle)
    expected = render.csv_bytes(frame)
    assert target.stat().st_size == len(expected) > 64 << 20
    assert target.read_bytes() == expected


def test_json_floats_are_exact_and_missing_is_null() -> None:
    frame = pd.DataFrame(
        {
            "x": [67.15, 64.56666666666666, np.nan, 30.0],
            "s": ['a "quoted"\\ word', None, "tab\there", "新"],
            "d": pd.to_datetime(["2026-11-22", None, "2026-01-02", "2026-01-03"]),
        }
    )
    rows = json.loads(render.json_text(frame))
    assert [r["x"] for r in rows] == [67.15, 64.56666666666666, None, 30.0]
    assert isinstance(rows[3]["x"], float)
    assert [r["s"] for r in rows] == ['a "quoted"\\ word', None, "tab\there", "新"]
    assert [r["d"] for r in rows] == ["2026-11-22", None, "2026-01-02", "2026-01-03"]
    assert render.json_text(frame.iloc[:0]) == "[]"
