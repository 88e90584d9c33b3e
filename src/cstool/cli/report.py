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


@command(PANEL)
@shared_inputs()
def snapshot_command(file: FileArg = None, *, inputs: Inputs) -> None:
    """Store the scored, segmented table for the as-of date, once per date.

    Running it again for the same date changes nothing; --as-of back-fills a past date.

    [dim]Example: cstool snapshot customers.csv --as-of 2026-10-31[/]
    """
    from cstool.render import report as show
    from cstool.render.score import loaded

    book = inputs.book()
    loaded(book.table, inputs.rejects)
    result = book.snapshot()
    show.snapshot_saved(result.as_of, result.customers, result.stored, result.db)


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
        ReportFormat, typer.Option("--format", "-f", help="table, or json (kpis.json) on stdout.")
    ] = ReportFormat.table,
    *,
    inputs: Inputs,
) -> None:
    """Portfolio KPIs and their change since the last snapshot, segments, goals, follow-ups.

    [dim]Example: cstool report --since 2026-10-01 --html report.html[/]
    """
    from cstool.kpis.report import report_json
    from cstool.render import report as show
    from cstool.render import write_stdout
    from cstool.render.html import html_report
    from cstool.render.score import loaded
    from cstool.write import write_text

    book = inputs.book()
    since_day = book.since_date(since)  # a bad --since fails before the file is read
    loaded(book.table, inputs.rejects)
    portfolio = book.portfolio(since_day)
    settings = book.settings
    segments = book.segments()
    followups = book.due()
    if html is not None:
        page = html_report(portfolio, book.scored, settings, segments=segments, followups=followups)
        write_text(html, page, protect=book.table.source)
        show.html_written(html, len(page.encode("utf-8")))
    if fmt is ReportFormat.json:
        write_stdout(report_json(portfolio, settings))
    elif html is None:
        show.report(portfolio, segments, followups)


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
    from cstool.render.followups import ics_bytes
    from cstool.render.html import html_report
    from cstool.write import write_bytes

    book = inputs.book()
    until = book.due_until(due)
    folder = _export_folder(out)
    settings = book.settings
    portfolio = book.portfolio()
    segments = book.segments()
    followups = book.due(until)
    files: dict[str, bytes] = {
        "customers_scored.csv": csv_bytes(book.enriched(), excel=excel),
        "segments.csv": csv_bytes(segments, excel=excel),
        "followups.csv": csv_bytes(followup_fields(followups), excel=excel),
        "followups.ics": ics_bytes(followups.head(calendar), book.as_of),
        "kpis.json": report_json(portfolio, settings).encode("utf-8"),
        "report.html": html_report(
            portfolio, book.scored, settings, segments=segments, followups=followups
        ).encode("utf-8"),
    }
    for name in EXPORT_FILES:
        write_bytes(folder / name, files[name], protect=book.table.source)
    book.snapshot(portfolio)


def _export_folder(out: Path) -> Path:
    from cstool.errors import UsageError

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, expected a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot make the folder: {exc.strerror or exc}") from None
    return out
