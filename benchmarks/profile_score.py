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


def _rss() -> float:
    """Resident memory now, MiB (Linux)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * 4096 / 2**20
    except OSError:
        return float("nan")


def _arrow() -> float:
    """What Arrow's memory pool holds now, MiB (0 before pyarrow is imported)."""
    if "pyarrow" not in sys.modules:
        return 0.0
    return float(sys.modules["pyarrow"].total_allocated_bytes()) / 2**20


def step(label: str) -> None:
    cpu, wall, faults = time.process_time(), time.perf_counter(), _faults()
    print(
        f"{label:10s} wall {wall - _last[1]:5.2f} s   cpu {cpu - _last[0]:5.2f} s"
        f"   page faults {int(faults - _last[2]):7d}"
        f"   peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:6.0f} MiB"
        f"   rss {_rss():6.0f} MiB   arrow {_arrow():6.0f} MiB"
    )
    _last[0], _last[1], _last[2] = cpu, wall, faults


def main(path: Path) -> None:
    from cstool.cli import _return_freed_memory

    _return_freed_memory()  # as `cstool` itself does
    import pandas  # noqa: F401
    import pyarrow.csv  # noqa: F401

    from cstool import pipeline, render
    from cstool.config import Settings
    from cstool.lifecycle import apply_lifecycle
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
    live = apply_lifecycle(table.frame, settings, as_of)
    step("lifecycle")
    frame = score(live, settings, as_of)
    step("score")
    frame = pipeline.segment_frame(frame, settings, as_of)
    step("segment")
    with tempfile.TemporaryDirectory() as folder, atomic(Path(folder) / "out.csv") as handle:
        enriched = pipeline.csv_frame(table, frame)
        render.write_csv(enriched, handle, numbers=table.number_columns)
    step("write")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
