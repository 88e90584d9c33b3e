"""Wall and CPU seconds of each step of `cstool score --output`, in one process.

python benchmarks/profile_score.py benchmarks/data/customers_1000000_seed1.csv
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

_last = [time.process_time(), time.perf_counter(), 0.0]


def _faults() -> float:
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)


def step(label: str) -> None:
    cpu, wall, faults = time.process_time(), time.perf_counter(), _faults()
    print(
        f"{label:10s} wall {wall - _last[1]:5.2f} s   cpu {cpu - _last[0]:5.2f} s"
        f"   page faults {int(faults - _last[2]):7d}"
    )
    _last[0], _last[1], _last[2] = cpu, wall, faults


def main(path: Path) -> None:
    from cstool.cli import _return_freed_memory

    _return_freed_memory()  # as `cstool` itself does
    import pandas  # noqa: F401
    import pyarrow.csv  # noqa: F401

    from cstool import pipeline, render
    from cstool.config import Settings
    from cstool.read import read_raw
    from cstool.scoring import score
    from cstool.validate import validate_table
    from cstool.write import atomic

    step("imports")
    settings, as_of = Settings(), date(2026, 11, 23)
    raw = read_raw(path, settings)
    step("read")
    table = validate_table(raw, settings)
    step("validate")
    frame = score(table.frame, settings, as_of)
    step("score")
    frame = pipeline.segment_frame(frame, settings, as_of)
    step("segment")
    with tempfile.TemporaryDirectory() as folder, atomic(Path(folder) / "out.csv") as handle:
        enriched = pipeline.csv_frame(table, frame)
        render.write_csv(enriched, handle, numbers=table.number_columns)
    step("write")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
