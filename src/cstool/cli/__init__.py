"""The command line: one Typer app; each area's commands live in their own module."""

from __future__ import annotations

from cstool.cli import followups as _followups  # noqa: F401  (registers commands)
from cstool.cli import report as _report  # noqa: F401  (registers commands)
from cstool.cli import score as _score  # noqa: F401  (registers commands)
from cstool.cli import segment as _segment  # noqa: F401  (registers commands)
from cstool.cli.app import app


def main() -> None:
    """Entry point of the `cstool` console script."""
    app()


__all__ = ["app", "main"]
