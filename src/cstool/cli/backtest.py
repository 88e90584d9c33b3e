"""Command: backtest (does the health score predict churn in the stored snapshots?)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from cstool.cli.app import Inputs, command, shared_inputs

PANEL = "Portfolio"


class BacktestFormat(StrEnum):
    """Output formats of backtest."""

    table = "table"
    json = "json"


def parse_horizon(text: str) -> int:
    """`--horizon` as days: 90, 90d, 13w."""
    from cstool.errors import UsageError

    value = text.strip().lower()
    unit = 1
    if value.endswith("d"):
        value = value[:-1]
    elif value.endswith("w"):
        value, unit = value[:-1], 7
    if not value.isdigit() or int(value) <= 0:
        raise UsageError(
            f"--horizon {text!r}: expected a number of days above 0, such as 90, 90d or 13w"
        )
    return int(value) * unit


@command(PANEL)
@shared_inputs(("as_of", "config", "db"))
def backtest_command(
    horizon: Annotated[
        str,
        typer.Option("--horizon", help="Days after a snapshot in which leaving counts (90, 90d)."),
    ] = "90",
    tune: Annotated[
        bool,
        typer.Option(
            "--tune", help="Fit weights on the earlier snapshots, judge them on the later ones."
        ),
    ] = False,
    fmt: Annotated[
        BacktestFormat, typer.Option("--format", "-f", help="table, or json on stdout.")
    ] = BacktestFormat.table,
    *,
    inputs: Inputs,
) -> None:
    """Does health predict churn? Checks the stored snapshots up to --as-of.

    A customer live in a snapshot churned if it is gone from (or churned in) the first
    snapshot at least --horizon days later. Reports the AUC with a bootstrap interval,
    churn rate by band, lift, each measure's AUC and the customers health got wrong.

    [dim]Example: cstool backtest --horizon 90d --tune[/]
    """
    import json

    from cstool import backtest as bt
    from cstool.render import backtest as show
    from cstool.render import write_stdout

    book = inputs.book()
    result, tuned = book.backtest(parse_horizon(horizon), tune=tune)
    if fmt is BacktestFormat.json:
        data = bt.to_json(result)
        if tuned is not None:
            data["tune"] = bt.tune_json(tuned)
        write_stdout(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        show.backtest(result, tuned)
