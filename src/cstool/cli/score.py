"""Commands: score, validate, explain."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    pass


class TableFormat(StrEnum):
    """Output formats of the per-customer commands."""

    table = "table"
    csv = "csv"
    json = "json"


@command("score")
def score_command(
    file: FileArg = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the enriched table to this CSV (atomically)."),
    ] = None,
    fmt: Annotated[
        TableFormat, typer.Option("--format", "-f", help="Output on stdout.")
    ] = TableFormat.table,
    sort: Annotated[
        str | None, typer.Option("--sort", help="Sort by this column (e.g. health, mrr).")
    ] = None,
    desc: Annotated[bool, typer.Option("--desc", help="Sort descending.")] = False,
    top: Annotated[int | None, typer.Option("--top", min=0, help="Only the first N rows.")] = None,
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
    """Validate, score and print every customer: satisfaction, health, band, segment.

    [dim]Example: cstool score customers.csv --sort health --top 10[/]
    """
    from cstool import pipeline, render
    from cstool.render import score as show
    from cstool.write import atomic, distinct_outputs

    if output is not None and rejects is not None:
        distinct_outputs({"--output": output, "--rejects": rejects})
    day = resolve_as_of(as_of)
    with show.progress() as step:
        result = pipeline.run(
            file,
            day,
            config=config,
            db=db,
            options=read_options(encoding, delimiter, skip_invalid, rejects),
            on_step=step,
        )
        show.skipped(result.table, rejects)
        order = pipeline.sort_order(result.frame, sort, descending=desc, top=top)
        if output is not None:
            step(f"writing {output.name}")
            enriched = pipeline.csv_frame(result.table, result.frame, order)
            with atomic(output, protect=result.table.source) as handle:
                render.write_csv(enriched, handle, excel=excel, numbers=result.table.number_columns)
    if output is not None:
        show.written(output, result.frame.iloc[order], result.workspace.settings)
        return
    if fmt is TableFormat.csv:
        render.write_bytes_stdout(
            render.csv_bytes(pipeline.csv_frame(result.table, result.frame, order), excel=excel)
        )
    elif fmt is TableFormat.json:
        render.write_stdout(
            render.json_text(pipeline.json_frame(result.table, result.frame, order))
        )
    else:
        show.score_table(result, order)


@command("validate")
def validate_command(
    file: FileArg = None,
    config: ConfigOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
) -> None:
    """Report every problem in the customer file and in cstool.toml; change nothing.

    Exit 0 when all is well, 1 when the data has problems, 2 for a bad config.
    """
    from cstool.config import load_workspace
    from cstool.errors import ConfigError
    from cstool.pipeline import ReadOptions, customers_file, load_table
    from cstool.render import score as show
    from cstool.segments import check_rules, locate_error

    workspace = load_workspace(config)
    try:  # the rules first: a config problem is reported even when the data has problems too
        check_rules(workspace.settings.segments)
    except ConfigError as exc:
        raise locate_error(exc, workspace.config_path) from None
    path = customers_file(file, workspace)
    table = load_table(
        path, workspace.settings, ReadOptions(encoding=encoding, delimiter=delimiter)
    )
    try:
        check_rules(workspace.settings.segments, list(table.frame.columns))
    except ConfigError as exc:
        raise locate_error(exc, workspace.config_path) from None
    show.valid(table, workspace)


@command("explain")
def explain_command(
    customer_id: Annotated[str, typer.Argument(help="The customer's ID.", show_default=False)],
    file: FileArg = None,
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
) -> None:
    """Explain one customer's scores: each measure's value, weight and contribution.

    Also the band and its thresholds, the segment rule that matched and the next follow-up.
    """
    from cstool import pipeline
    from cstool.render import score as show

    day = resolve_as_of(as_of)
    result = pipeline.run(
        file,
        day,
        config=config,
        db=db,
        options=pipeline.ReadOptions(encoding=encoding, delimiter=delimiter, skip_invalid=True),
    )
    index = pipeline.customer_index(result.frame, customer_id)
    show.explain(result, index)
