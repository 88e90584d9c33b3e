"""The command line: one Typer app; each area's commands live in their own module.

Commands are registered here, in the order of a working day, and grouped in `--help` by
their module's panel.
"""

from __future__ import annotations

from cstool.cli import backtest, draft, followups, init, report, score, segment
from cstool.cli.app import app, register

COMMANDS = (
    ("score", score.score_command),
    ("validate", score.validate_command),
    ("explain", score.explain_command),
    ("segment", segment.segment_command),
    ("followups", followups.followups_command),
    ("log", followups.log_command),
    ("snooze", followups.snooze_command),
    ("history", followups.history_command),
    ("draft", draft.draft_command),
    ("snapshot", report.snapshot_command),
    ("report", report.report_command),
    ("goals", report.goals_command),
    ("export", report.export_command),
    ("backtest", backtest.backtest_command),
    ("init", init.init_command),
)
for _name, _func in COMMANDS:
    register(app, _name, _func)


def main() -> None:
    """Entry point of the `cstool` console script."""
    _return_freed_memory()
    try:
        app()
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(0)


def _exit_now(code: object) -> None:
    """Flush stdout and stderr and leave without tearing the interpreter down.

    Every file a command writes is closed (and fsynced) before it returns; what is left is
    freeing a million rows of tables object by object, which took 0.3–0.4 s on 1M rows.
    """
    import contextlib
    import os
    import sys

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): printed, exit 1, as Python does
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`)
            stream.flush()
    os._exit(status)


def _return_freed_memory() -> None:
    """Tune the allocators for tables of a million rows: reuse memory, return it in bulk.

    Measured on 1M rows (benchmarks/RESULTS.md): page faults were a third of the CPU time.
    Arrow allocates through glibc (its default, mimalloc, gives pages back and faults them
    in again). glibc keeps blocks under 4 MiB on its heap for reuse and trims a free top
    above 32 MiB; a column of a million numbers (8 MiB) is mmapped and given back when
    freed. With a 32 MiB mmap threshold freed columns stayed on the heap: peak memory was
    about 12 % higher (614 vs 542 MiB on 1M rows) for no measurable CPU gain.
    """
    import ctypes
    import os
    import sys

    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 4 << 20)  # M_MMAP_THRESHOLD: blocks ≥ 4 MiB are mmapped
        libc.mallopt(-1, 32 << 20)  # M_TRIM_THRESHOLD: free heap top given back above this
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune


__all__ = ["app", "main"]
