"""Command: segment."""

from __future__ import annotations

from typing import Annotated

import typer

from cstool.cli.app import FileArg, Inputs, command, shared_inputs
from cstool.cli.score import PANEL, ExcelOpt, FormatOpt, TableFormat


@command(PANEL)
@shared_inputs()
def segment_command(
    file: FileArg = None,
    fmt: FormatOpt = TableFormat.table,
    summary: Annotated[
        bool, typer.Option("--summary", help="Only the summary per segment, not each customer.")
    ] = False,
    excel: ExcelOpt = False,
    *,
    inputs: Inputs,
) -> None:
    """Put every customer in a segment (first matching rule) with its cadence and play.

    Prints each customer's segment, then a summary per segment (customers, MRR, band mix).

    Rules: \\[\\[segments]] in cstool.toml, else Onboarding, Champions, Grow, Rescue, Nurture.

    [dim]Example: cstool segment customers.csv --summary[/]
    """
    from cstool import render
    from cstool.render import score as show
    from cstool.render import segment as out

    with show.progress() as step:
        book = inputs.book(on_step=step)
        show.loaded(book.table, inputs.rejects)
        table = book.segments()
    if fmt is TableFormat.json:
        render.write_stdout(out.summary_json(table) if summary else out.customers_json(book.scored))
    elif fmt is TableFormat.csv:
        render.write_bytes_stdout(
            out.summary_csv(table, excel=excel)
            if summary
            else out.customers_csv(book.table.raw, book.scored, excel=excel)
        )
    else:
        title = f"{book.table.source.name} · as of {book.as_of}"
        if not summary:
            order = [str(s) for s in table["segment"].tolist()]
            out.print_customers(book.scored, order, title=title)
        out.print_summary(table, title="Segments" if not summary else title)
