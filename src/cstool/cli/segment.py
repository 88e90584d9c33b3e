"""Command: segment."""

from __future__ import annotations

from typing import Annotated

import typer

from cstool.cli.app import (
    AsOfOpt,
    ConfigOpt,
    DbOpt,
    DelimiterOpt,
    EncodingOpt,
    FileArg,
    RejectsOpt,
    SkipInvalidOpt,
    command,
    read_options,
    resolve_as_of,
)
from cstool.cli.score import TableFormat


@command("segment")
def segment_command(
    file: FileArg = None,
    fmt: Annotated[
        TableFormat, typer.Option("--format", "-f", help="Output on stdout.")
    ] = TableFormat.table,
    summary: Annotated[
        bool, typer.Option("--summary", help="Only the summary per segment, not each customer.")
    ] = False,
    excel: Annotated[
        bool, typer.Option("--excel", help="CSV with a UTF-8 BOM, so Excel reads it right.")
    ] = False,
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Put every customer in a segment (first matching rule) with its cadence and play.

    Prints each customer's segment, then a summary per segment (customers, MRR, band mix).

    Rules: \\[\\[segments]] in cstool.toml, else Onboarding, Champions, Grow, Rescue, Nurture.

    [dim]Example: cstool segment customers.csv --summary[/]
    """
    from cstool import pipeline, render
    from cstool.config import load_workspace
    from cstool.errors import ConfigError
    from cstool.render import score as show
    from cstool.render import segment as out
    from cstool.segments import check_rules, locate_error, segment_summary

    day = resolve_as_of(as_of)
    options = read_options(encoding, delimiter, skip_invalid, rejects)
    workspace = load_workspace(config)
    try:
        # A rule with a syntax error fails now, before a big file is read.
        check_rules(workspace.settings.segments, None)
        with show.progress() as step:
            result = pipeline.run(file, day, config=config, db=db, options=options, on_step=step)
            show.skipped(result.table, rejects)
            step("summarising")
            table = segment_summary(result.frame, result.workspace.settings.segments)
    except ConfigError as exc:
        raise locate_error(exc, workspace.config_path) from None
    if fmt is TableFormat.json:
        render.write_stdout(
            out.summary_json(table) if summary else out.customers_json(result.frame)
        )
    elif fmt is TableFormat.csv:
        render.write_bytes_stdout(
            out.summary_csv(table, excel=excel)
            if summary
            else out.customers_csv(result.table.raw, result.frame, excel=excel)
        )
    else:
        title = f"{result.table.source.name} · as of {result.as_of}"
        if not summary:
            order = [str(s) for s in table["segment"].tolist()]
            out.print_customers(result.frame, order, title=title)
        out.print_summary(table, title="Segments" if not summary else title)
