"""Commands: score, validate, explain."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cstool.cli.app import CHECKING, LOOKUP, FileArg, IdArg, Inputs, command, shared_inputs

PANEL = "Customers"


class TableFormat(StrEnum):
    """Output formats of the per-customer commands."""

    table = "table"
    csv = "csv"
    json = "json"


FormatOpt = Annotated[TableFormat, typer.Option("--format", "-f", help="Output on stdout.")]
ExcelOpt = Annotated[
    bool, typer.Option("--excel", help="CSV with a UTF-8 BOM, so Excel reads it right.")
]


@command(PANEL)
@shared_inputs()
def score_command(
    file: FileArg = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the enriched table to this CSV (atomically)."),
    ] = None,
    fmt: FormatOpt = TableFormat.table,
    sort: Annotated[
        str | None, typer.Option("--sort", help="Sort by this column (e.g. health, mrr).")
    ] = None,
    desc: Annotated[bool, typer.Option("--desc", help="Sort descending.")] = False,
    top: Annotated[int | None, typer.Option("--top", min=0, help="Only the first N rows.")] = None,
    excel: ExcelOpt = False,
    *,
    inputs: Inputs,
) -> None:
    """Validate, score and print every customer: satisfaction, health, band, segment.

    [dim]Example: cstool score customers.csv --sort health --top 10[/]
    """
    from cstool import render
    from cstool.pipeline import in_order
    from cstool.render import score as show
    from cstool.write import atomic, distinct_outputs

    if output is not None and inputs.rejects is not None:
        distinct_outputs({"--output": output, "--rejects": inputs.rejects})
    with show.progress() as step:
        book = inputs.book(on_step=step)
        show.loaded(book.table, inputs.rejects)
        order = book.order(sort, descending=desc, top=top)
        if output is not None:
            step(f"writing {output.name}")
            with atomic(output, protect=book.table.source) as handle:
                render.write_csv(
                    book.enriched(order), handle, excel=excel, numbers=book.table.number_columns
                )
    show.notes(book.notes())
    if output is not None:
        show.written(output, in_order(book.scored, order))
    elif fmt is TableFormat.csv:
        render.write_bytes_stdout(render.csv_bytes(book.enriched(order), excel=excel))
    elif fmt is TableFormat.json:
        render.write_stdout(render.json_text(in_order(book.customers(), order)))
    else:
        show.score_table(book, order)


@command(PANEL)
@shared_inputs(CHECKING)
def validate_command(file: FileArg = None, *, inputs: Inputs) -> None:
    """Report every problem in the customer file and in cstool.toml; change nothing.

    Exit 0 when all is well, 1 when the data has problems, 2 for a bad config.
    """
    from cstool.render import score as show

    book = inputs.book()
    book.check_rules()  # a config problem is reported even when the data has problems too
    table = book.table
    book.check_rules(list(table.frame.columns))
    sources = book.sources  # sources (issue 14): the customer table alone, then each source
    show.valid(table if sources is None else sources.main, book.workspace)
    if sources is not None:
        from cstool.render.sources import sources_report

        sources_report(sources.reports)
    show.notes(book.notes())


@command(PANEL)
@shared_inputs(LOOKUP)
def explain_command(customer_id: IdArg, file: FileArg = None, *, inputs: Inputs) -> None:
    """Explain one customer's scores: each measure's value, weight and contribution.

    Also the band and its thresholds, the segment rule that matched and the next follow-up.
    """
    from cstool.render import score as show

    book = inputs.book(skip_invalid=True)
    show.explain(book.explain(customer_id))
    if book.sources is not None:  # sources (issue 14): where each value came from
        from cstool.render.sources import origins

        origins(book.provenance(customer_id))
