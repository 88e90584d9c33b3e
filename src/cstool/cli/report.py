"""Commands: snapshot, report, goals, export."""

from __future__ import annotations

from dataclasses import dataclass
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
    from datetime import date

    import pandas as pd

    from cstool.kpis import Portfolio
    from cstool.pipeline import Run

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


@dataclass
class _Portfolio:
    """A pipeline run plus what the stored snapshots add: the portfolio."""

    run: Run
    result: Portfolio


def _since(text: str | None, as_of: date) -> date | None:
    from cstool.dates import parse_date

    return None if text is None else parse_date(text, as_of, option="--since")


def _portfolio(run: Run, since: date | None) -> _Portfolio:
    """KPIs, trend and goals from the run and the snapshots stored before its as-of date."""
    from cstool.kpis import History, portfolio
    from cstool.store import open_store

    settings = run.workspace.settings
    history = None
    store = open_store(run.db, create=False)
    if store is not None:
        with store:
            history = History.from_store(store, settings, run.as_of, since)
    result = portfolio(run.frame, settings, run.as_of, history, since)
    return _Portfolio(run, result)


def _followups(run: Run, until: date) -> pd.DataFrame:
    from cstool.followup import due_followups

    settings = run.workspace.settings
    return due_followups(
        run.frame, settings, run.as_of, until, run.logged, run.snoozes, earlier=run.earlier
    )


def _segments(run: Run) -> pd.DataFrame:
    from cstool.segments import segment_summary

    return segment_summary(run.frame, run.workspace.settings.segments)


def _save_snapshot(run: Run, result: Portfolio | None = None) -> bool:
    """Store the run's table for its as-of date (once); with `result`, its KPI row too."""
    from cstool.kpis import cache_snapshot_kpis
    from cstool.store import open_store

    store = open_store(run.db, create=True)
    assert store is not None  # create=True always gives a store
    with store:
        if run.as_of in store.snapshot_dates():  # stored already: skip building the rows
            return False
        saved = store.save_snapshot(run.as_of, run.frame, source=str(run.table.source))
        if saved and result is not None:
            cache_snapshot_kpis(store, run.workspace.settings, result)
        return saved


@command("snapshot")
def snapshot_command(
    file: FileArg = None,
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Store the scored, segmented table for the as-of date, once per date.

    Running it again for the same date changes nothing; --as-of back-fills a past date.

    [dim]Example: cstool snapshot customers.csv --as-of 2026-10-31[/]
    """
    from cstool import pipeline
    from cstool.render import report as show
    from cstool.render.score import skipped

    day = resolve_as_of(as_of)
    options = read_options(encoding, delimiter, skip_invalid, rejects)
    run = pipeline.run(file, day, config=config, db=db, options=options)
    skipped(run.table, rejects)
    saved = _save_snapshot(run)
    show.snapshot_saved(day, len(run.frame), saved, run.db)


@command("report")
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
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Portfolio KPIs and their change since the last snapshot, segments, goals, follow-ups.

    [dim]Example: cstool report --since 2026-10-01 --html report.html[/]
    """
    from cstool import pipeline
    from cstool.render import report as show
    from cstool.render import write_stdout
    from cstool.render.score import skipped
    from cstool.report import html_report, report_json
    from cstool.write import write_text

    day = resolve_as_of(as_of)
    since_day = _since(since, day)
    options = read_options(encoding, delimiter, skip_invalid, rejects)
    run = pipeline.run(file, day, config=config, db=db, options=options)
    skipped(run.table, rejects)
    data = _portfolio(run, since_day)
    settings = run.workspace.settings
    segments = _segments(run)
    followups = _followups(run, day)
    if html is not None:
        page = html_report(data.result, run.frame, settings, segments=segments, followups=followups)
        write_text(html, page, protect=run.table.source)
        show.html_written(html, len(page.encode("utf-8")))
    if fmt is ReportFormat.json:
        write_stdout(report_json(data.result, settings))
    elif html is None:
        show.report(data.result, segments, followups)


@command("goals")
def goals_command(
    file: FileArg = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="table, or json on stdout.")
    ] = ReportFormat.table,
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Progress on the goals in cstool.toml: baseline, now, target, deadline, on track?

    On track means a straight line through the snapshots reaches the target by the deadline.
    """
    import json

    from cstool import pipeline
    from cstool.render import report as show
    from cstool.render import write_stdout
    from cstool.render.score import skipped
    from cstool.report import report_data

    day = resolve_as_of(as_of)
    options = read_options(encoding, delimiter, skip_invalid, rejects)
    run = pipeline.run(file, day, config=config, db=db, options=options)
    skipped(run.table, rejects)
    data = _portfolio(run, None)
    if fmt is ReportFormat.json:
        goals = report_data(data.result, run.workspace.settings)["goals"]
        write_stdout(json.dumps(goals, ensure_ascii=False, indent=2))
    else:
        show.goals(data.result)


@command("export")
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
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Everything a cron job wants, written atomically into --out, quietly; and a snapshot.

    Writes customers_scored.csv, segments.csv, followups.csv, followups.ics, kpis.json and
    report.html (the same names every time), each through a temporary file, so a crash
    leaves the previous file whole. Nothing is printed on success; errors go to stderr with
    exit code 1 (data) or 2 (usage, config). The same input and --as-of give the same bytes.

    [dim]Example: cstool export --out ~/cs-reports[/]
    """
    from cstool import pipeline
    from cstool.followup import due_until
    from cstool.render import csv_bytes
    from cstool.render.followups import ics_bytes, machine_frame
    from cstool.report import html_report, report_json
    from cstool.write import write_bytes

    day = resolve_as_of(as_of)
    until = due_until(due, day)
    folder = _export_folder(out)
    options = read_options(encoding, delimiter, skip_invalid, rejects)
    run = pipeline.run(file, day, config=config, db=db, options=options)
    settings = run.workspace.settings
    data = _portfolio(run, None)
    segments = _segments(run)
    followups = _followups(run, until)
    files: dict[str, bytes] = {
        "customers_scored.csv": csv_bytes(pipeline.csv_frame(run.table, run.frame), excel=excel),
        "segments.csv": csv_bytes(segments, excel=excel),
        "followups.csv": csv_bytes(machine_frame(followups), excel=excel),
        "followups.ics": ics_bytes(followups.head(calendar), day),
        "kpis.json": report_json(data.result, settings).encode("utf-8"),
        "report.html": html_report(
            data.result, run.frame, settings, segments=segments, followups=followups
        ).encode("utf-8"),
    }
    for name in EXPORT_FILES:
        write_bytes(folder / name, files[name], protect=run.table.source)
    _save_snapshot(run, data.result)


def _export_folder(out: Path) -> Path:
    from cstool.errors import UsageError

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, expected a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot make the folder: {exc.strerror or exc}") from None
    return out
