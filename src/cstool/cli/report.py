"""Commands: snapshot, report, goals, export."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cstool.cli.app import FileArg, Inputs, command, shared_inputs

PANEL = "Portfolio"

# The files `cstool export` writes into --out, always under these names.
EXPORT_FILES = (
    "customers_scored.csv",
    "segments.csv",
    "followups.csv",
    "followups.ics",
    "kpis.json",
    "report.html",
)


# A calendar of every due follow-up of a big customer base would help nobody (and take long).
CALENDAR_EVENTS = 100


class ReportFormat(StrEnum):
    """Output formats of report and goals."""

    table = "table"
    json = "json"


SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Compare with the snapshot of this date (default: the latest before --as-of).",
    ),
]


ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Store a snapshot even if every row was skipped or it lost more than "
        "[lifecycle] max_snapshot_loss of the previous one's customers.",
    ),
]


@command(PANEL)
@shared_inputs()
def snapshot_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Customer files, each dated from its name (customers_2026-03-01.csv, 2026-03.csv, "
            "customers_20260301.csv) or by --as-of (default: `customers` of cstool.toml).",
            show_default=False,
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the snapshot stored for that date.")
    ] = False,
    delete: Annotated[
        str | None,
        typer.Option("--delete", help="Remove the snapshot of this date (reads no file)."),
    ] = None,
    force: ForceOpt = False,
    *,
    inputs: Inputs,
) -> None:
    """Store the scored, segmented table for its date, once per date.

    Several exports at once (a history) are each dated from their file name. Running it again
    for a stored date changes nothing (--replace replaces it); --as-of back-fills a past date.
    A table that lost every row or most of the book is refused unless --force.

    [dim]Example: cstool snapshot exports/customers_2026-*.csv[/]
    """
    import dataclasses

    from cstool.dates import date_from_name
    from cstool.errors import UsageError
    from cstool.render import report as show
    from cstool.render.score import loaded

    if delete is not None:
        if files:
            raise UsageError("--delete DATE reads no file; leave the file names out")
        book = inputs.book()
        deleted_on, removed = book.delete_snapshot(delete)
        show.snapshot_deleted(deleted_on, removed, book.db)
        return
    paths: list[Path | None] = list(files) if files else [None]
    if inputs.as_of is not None and len(paths) > 1:
        raise UsageError(
            "--as-of dates one file; several files are each dated from their name",
            hint="name them like customers_2026-03-01.csv, or snapshot them one at a time",
        )
    dated: list[tuple[Path | None, str | None]] = []
    for path in paths:
        day = inputs.as_of
        if day is None and path is not None:
            named = date_from_name(path.name)
            if named is not None:
                day = named.isoformat()
            elif len(paths) > 1:
                raise UsageError(
                    f"{path}: no date in its name (like 2026-03-01, 2026-03 or 20260301)",
                    hint="rename it, or snapshot it alone with --as-of DATE",
                )
        dated.append((path, day))
    dated.sort(key=lambda item: item[1] or "")  # oldest first: each is checked against the last
    for path, day in dated:
        book = dataclasses.replace(inputs, file=path, as_of=day).book()
        loaded(book.table, inputs.rejects)
        result = book.snapshot(replace=replace, force=force)
        show.snapshot_saved(
            result.as_of, result.customers, result.stored, result.db, result.replaced
        )


@command(PANEL)
@shared_inputs()
def report_command(
    file: FileArg = None,
    since: SinceOpt = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Write the report as one self-contained HTML page instead."),
    ] = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", help="table, or json (kpis.json and `backtest`) on stdout."),
    ] = ReportFormat.table,
    horizon: Annotated[
        str,
        typer.Option(
            "--horizon",
            help="Does health predict churn: days after a snapshot in which leaving counts.",
        ),
    ] = "90",
    tune: Annotated[
        bool,
        typer.Option("--tune", help="Also propose health weights, as `backtest --tune` does."),
    ] = False,
    *,
    inputs: Inputs,
) -> None:
    """Portfolio KPIs and their change since the last snapshot, segments, goals, follow-ups,
    and whether health predicts churn in the stored snapshots (see `backtest`).

    [dim]Example: cstool report --since 2026-10-01 --html report.html[/]
    """
    from cstool.backtest import churn_json
    from cstool.cli.backtest import parse_horizon
    from cstool.cli.memory import reuse_freed_columns
    from cstool.kpis.report import report_json
    from cstool.render import backtest as show_churn
    from cstool.render import report as show
    from cstool.render import write_stdout
    from cstool.render.html import ROWS_SHOWN, html_report
    from cstool.render.score import loaded
    from cstool.write import write_text

    horizon_days = parse_horizon(horizon)  # a bad --horizon or --since fails before any read
    book = inputs.book()
    since_day = book.since_date(since)
    loaded(book.table, inputs.rejects)
    reuse_freed_columns()  # the stacked snapshots: dozens of 2.4M-row arrays, in turn
    portfolio, churn = book.report(
        since_day, horizon_days=horizon_days, tune=tune, curve=html is not None
    )
    settings = book.settings
    if fmt is ReportFormat.json and html is None:
        # The JSON holds neither the segments nor the follow-ups: not worked out for it.
        write_stdout(_with_backtest(report_json(portfolio, settings), churn_json(churn)))
        return
    segments = book.segments()
    followups = book.due()
    if html is not None:
        page = html_report(
            portfolio,
            book.scored,
            settings,
            segments=segments,
            followups=followups,
            drafts=book.drafts(followups.head(ROWS_SHOWN)),
            churn=churn,
        )
        write_text(html, page, protect=book.table.source)
        show.html_written(html, len(page.encode("utf-8")))
    if fmt is ReportFormat.json:
        write_stdout(_with_backtest(report_json(portfolio, settings), churn_json(churn)))
    elif html is None:
        show.report(portfolio, segments, followups)
        show_churn.churn_section(churn)


def _with_backtest(report: str, backtest: dict[str, object]) -> str:
    """The report's JSON text with a last key, `backtest`, indented like the others."""
    import json

    body = report.rstrip()
    text = json.dumps(backtest, ensure_ascii=False, allow_nan=False, indent=2)
    return body[:-1].rstrip() + ',\n  "backtest": ' + text.replace("\n", "\n  ") + "\n}\n"


@command(PANEL)
@shared_inputs()
def goals_command(
    file: FileArg = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="table, or json on stdout.")
    ] = ReportFormat.table,
    *,
    inputs: Inputs,
) -> None:
    """Progress on the goals in cstool.toml: baseline, now, target, deadline, on track?

    On track means a straight line through the snapshots reaches the target by the deadline.
    """
    import json

    from cstool.kpis.report import report_data
    from cstool.render import report as show
    from cstool.render import write_stdout
    from cstool.render.score import loaded

    book = inputs.book()
    loaded(book.table, inputs.rejects)
    portfolio = book.portfolio()
    if fmt is ReportFormat.json:
        goals = report_data(portfolio, book.settings)["goals"]
        write_stdout(json.dumps(goals, ensure_ascii=False, indent=2))
    else:
        show.goals(portfolio)


@command(PANEL)
@shared_inputs()
def export_command(
    file: FileArg = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder to write into (made if missing); files have fixed names.",
            show_default=False,
        ),
    ] = Path("."),
    due: Annotated[
        str, typer.Option("--due", help="Follow-ups due by: today, overdue, week, DATE or +Nd.")
    ] = "today",
    calendar: Annotated[
        int,
        typer.Option(
            "--calendar",
            min=0,
            help="followups.ics holds this many of the most urgent follow-ups "
            "(followups.csv has them all).",
        ),
    ] = CALENDAR_EVENTS,
    excel: Annotated[
        bool, typer.Option("--excel", help="CSVs with a UTF-8 BOM, so Excel reads them right.")
    ] = False,
    drafts: Annotated[
        bool,
        typer.Option(
            "--drafts/--no-drafts", help="Also write a drafted message per follow-up into drafts/."
        ),
    ] = True,
    force: ForceOpt = False,
    *,
    inputs: Inputs,
) -> None:
    """Everything a cron job wants, written atomically into --out, quietly; and a snapshot.

    Writes customers_scored.csv, segments.csv, followups.csv, followups.ics, kpis.json and
    report.html (the same names every time), each through a temporary file, so a crash
    leaves the previous file whole. Nothing is printed on success; errors go to stderr with
    exit code 1 (data) or 2 (usage, config). The same input and --as-of give the same bytes.

    [dim]Example: cstool export --out ~/cs-reports[/]
    """
    from cstool.book import followup_fields
    from cstool.kpis.report import report_json
    from cstool.render import csv_bytes
    from cstool.render.eml import outbox_files
    from cstool.render.followups import ics_bytes
    from cstool.render.html import ROWS_SHOWN, html_report
    from cstool.write import write_files

    book = inputs.book()
    until = book.due_until(due)
    folder = _export_folder(out)
    # A table that would lie (every row skipped, most of the book gone) replaces nothing.
    book.check_snapshot(force=force)
    settings = book.settings
    # The portfolio and "does health predict churn?" (90 days, as `report`) from one load of
    # the stored snapshots; the check reads those before the day, as the KPIs do (the day's
    # own snapshot is the one this export stores), so a second export writes the same page.
    portfolio, churn = book.report(churn_before_day=True)
    segments = book.segments()
    followups = book.due(until)
    files: dict[str, bytes] = {
        "customers_scored.csv": csv_bytes(book.enriched(), excel=excel),
        "segments.csv": csv_bytes(segments, excel=excel),
        "followups.csv": csv_bytes(followup_fields(followups), excel=excel),
        "followups.ics": ics_bytes(followups.head(calendar), book.as_of),
        "kpis.json": report_json(portfolio, settings).encode("utf-8"),
        "report.html": html_report(
            portfolio,
            book.scored,
            settings,
            segments=segments,
            followups=followups,
            drafts=book.drafts(followups.head(ROWS_SHOWN)),
            churn=churn,
        ).encode("utf-8"),
    }
    items = [(folder / name, files[name]) for name in EXPORT_FILES]
    if drafts:
        items += outbox_files(book.drafts(followups), folder / "drafts")
    _refuse_the_input(items, book.table.source)
    # Every file is staged first, then all are renamed into place: a crash before the renames
    # leaves the old files, one during them a mix of whole old and whole new files.
    write_files(items)
    book.snapshot(portfolio, force=True)


def _refuse_the_input(items: list[tuple[Path, bytes]], source: Path) -> None:
    import os

    from cstool.errors import UsageError

    for path, _ in items:
        if path.exists() and source.exists() and os.path.samefile(path, source):
            raise UsageError(f"{path}: is the customer file; refusing to write over it")


def _export_folder(out: Path) -> Path:
    from cstool.errors import UsageError

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, expected a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot make the folder: {exc.strerror or exc}") from None
    return out
