"""Command: init."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cstool.cli.app import FileArg, Inputs, command, shared_inputs

PANEL = "Setup"


@command(PANEL)
@shared_inputs(("encoding", "delimiter"))
def init_command(
    file: FileArg = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing cstool.toml.")
    ] = False,
    *,
    inputs: Inputs,
) -> None:
    """Write a commented cstool.toml here for your customer CSV, listing every setting.

    It records the column mapping cstool detected; never overwrites one without --force.

    [dim]Example: cstool init customers.csv[/]
    """
    from cstool.initialise import plan_init
    from cstool.render import message
    from cstool.render.init import config_text
    from cstool.schema import REQUIRED
    from cstool.write import write_text

    plan = plan_init(
        file, Path.cwd(), force=force, encoding=inputs.encoding, delimiter=inputs.delimiter
    )
    header = plan.header
    text = config_text(plan.customers, header.cells, header.positions)
    write_text(plan.target, text, protect=plan.table)
    message(
        f"wrote {plan.target} for {plan.customers}: {len(header.positions)} of "
        f"{len(header.cells)} columns recognised; edit it, then check with `cstool validate`"
    )
    missing = [name for name in REQUIRED if name not in header.positions]
    if missing:
        message(
            f"required columns not found: {', '.join(missing)}; name their headers under "
            "[columns] in the file"
        )
