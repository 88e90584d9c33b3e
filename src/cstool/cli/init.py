"""Command: init."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cstool.cli.app import FileArg, Inputs, command, shared_inputs

PANEL = "Setup"


@command(PANEL)
@shared_inputs(("encoding", "delimiter", "sheet"))
def init_command(
    file: FileArg = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing cstool.toml.")
    ] = False,
    *,
    inputs: Inputs,
) -> None:
    """Write a commented cstool.toml here for your customer CSV or workbook, listing every
    setting.

    It records the column mapping cstool detected; never overwrites one without --force.

    [dim]Example: cstool init customers.csv[/]
    """
    from cstool.initialise import plan_init
    from cstool.render import message
    from cstool.render.init import config_text
    from cstool.schema import REQUIRED
    from cstool.write import write_text

    plan = plan_init(
        file,
        Path.cwd(),
        force=force,
        encoding=inputs.encoding,
        delimiter=inputs.delimiter,
        sheet=inputs.sheet,
    )
    header = plan.header
    text = config_text(plan.customers, header.cells, header.positions)
    if plan.sheet is not None:  # the sheet read is recorded, so a tab added later changes nothing
        text = text.replace('\n# sheet = ""', f"\nsheet = {json.dumps(plan.sheet)}", 1)
    for warning in plan.warnings:
        message(f"warning: {warning}")
    write_text(plan.target, text, protect=plan.table)
    where = f" (sheet {plan.sheet!r})" if plan.sheet is not None else ""
    message(
        f"wrote {plan.target} for {plan.customers}{where}: {len(header.positions)} of "
        f"{len(header.cells)} columns recognised; edit it, then check with `cstool validate`"
    )
    missing = [name for name in REQUIRED if name not in header.positions]
    if missing:
        message(
            f"required columns not found: {', '.join(missing)}; name their headers under "
            "[columns] in the file"
        )
