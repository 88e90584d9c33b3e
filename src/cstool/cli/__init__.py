"""The command line: one Typer app; each area's commands live in their own module."""

from __future__ import annotations

from cstool.cli import followups as _followups  # noqa: F401  (registers commands)
from cstool.cli import report as _report  # noqa: F401  (registers commands)
from cstool.cli import score as _score  # noqa: F401  (registers commands)
from cstool.cli import segment as _segment  # noqa: F401  (registers commands)
from cstool.cli.app import app


def main() -> None:
    """Entry point of the `cstool` console script."""
    _return_freed_memory()
    app()


def _return_freed_memory() -> None:
    """Have glibc hand large freed blocks straight back to the system.

    Column arrays of a big table are megabytes each; glibc's adaptive threshold would
    otherwise keep freed ones on its heap and peak memory would grow with every step.
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD: blocks ≥ 1 MiB are mmapped
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune


__all__ = ["app", "main"]
