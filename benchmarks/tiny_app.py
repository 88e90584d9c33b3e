"""A two-command Typer app, the yardstick for `cstool --help` start-up time.

`python benchmarks/tiny_app.py --help`. Like cstool, it imports pandas only inside a command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode="rich")


@app.command()
def score(file: Annotated[Path, typer.Argument(help="Customer CSV.")]) -> None:
    """Score customers."""
    import pandas as pd

    typer.echo(len(pd.read_csv(file)))


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="Customer CSV.")]) -> None:
    """Validate the file."""
    typer.echo(file.read_text(encoding="utf-8").count("\n"))


if __name__ == "__main__":
    app()
