"""Commands: followups, log, snooze, history, init."""

from __future__ import annotations

import contextlib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
    from cstool.config import Settings
    from cstool.ids import FoundCustomer
    from cstool.store import Store

IdArg = Annotated[str, typer.Argument(help="The customer's ID.", show_default=False)]


class FollowupFormat(StrEnum):
    """Output formats of `followups`."""

    table = "table"
    csv = "csv"
    json = "json"
    ics = "ics"
    md = "md"


class Channel(StrEnum):
    """How a touch happened."""

    email = "email"
    call = "call"
    meeting = "meeting"
    chat = "chat"
    other = "other"


class HistoryFormat(StrEnum):
    """Output formats of `history`."""

    table = "table"
    csv = "csv"
    json = "json"


@command("followups")
def followups_command(
    file: FileArg = None,
    due: Annotated[
        str,
        typer.Option(
            "--due",
            "-d",
            help="Due by: today, overdue, week, a date, +Nd, a weekday (fri), eow, eom.",
        ),
    ] = "today",
    segment: Annotated[
        list[str] | None,
        typer.Option("--segment", "-s", help="Only this segment (repeat for several)."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=0,
            help="At most N follow-ups (0: all). Default: all; a table shows 50.",
        ),
    ] = None,
    fmt: Annotated[
        FollowupFormat,
        typer.Option("--format", "-f", help="table, csv, json, ics (calendar) or md (checklist)."),
    ] = FollowupFormat.table,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout."),
    ] = None,
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
    """Who to contact by a date, and why: one row per customer, highest priority first.

    A customer is due when its last touch plus its segment's cadence has come, or a
    trigger fires: renewal within the window, band red, health fell, NPS detractor,
    onboarding check-in, cancelling, payment failed. Churned and paused customers get none;
    snoozed customers are hidden until their date.

    [dim]Example: cstool followups --due week --format ics -o week.ics[/]
    """
    from cstool import pipeline, render
    from cstool.followup import due_followups, due_until
    from cstool.render import followups as show
    from cstool.render.score import progress, skipped

    day = resolve_as_of(as_of)
    until = due_until(due, day)
    with progress() as step:
        result = pipeline.run(
            file,
            day,
            config=config,
            db=db,
            options=read_options(encoding, delimiter, skip_invalid, rejects),
            on_step=step,
        )
        skipped(result.table, rejects)
        step("finding follow-ups")
        cap = limit or None
        if fmt is FollowupFormat.table and limit is None:
            cap = show.TABLE_ROWS
        due_list = due_followups(
            result.frame,
            result.workspace.settings,
            day,
            until,
            result.logged,
            result.snoozes,
            limit=cap,
            segments=_segments(segment, result.workspace.settings),
            earlier=result.earlier,
        )
    data: bytes
    if fmt is FollowupFormat.table:
        if output is not None:
            from cstool.errors import UsageError

            raise UsageError("--output needs --format csv, json, ics or md")
        show.followups_table(due_list, int(due_list.attrs["due_total"]), day, until)
        return
    if fmt is FollowupFormat.csv:
        data = render.csv_bytes(show.machine_frame(due_list), excel=excel)
    elif fmt is FollowupFormat.json:
        data = (render.json_text(show.machine_frame(due_list)) + "\n").encode("utf-8")
    elif fmt is FollowupFormat.ics:
        data = show.ics_bytes(due_list, day)
    else:
        data = show.followups_md(due_list, day, until).encode("utf-8")
    if output is not None:
        from cstool.write import write_bytes

        write_bytes(output, data, protect=result.table.source)
        render.message(f"wrote {len(due_list)} follow-ups to {output}")
    else:
        render.write_bytes_stdout(data)


def _segments(names: list[str] | None, settings: Settings) -> list[str] | None:
    """`--segment` names as the segments spell them; unknown ones get "did you mean"."""
    if not names:
        return None
    import difflib

    from cstool.errors import UsageError
    from cstool.segments import segment_names

    known = segment_names(settings.segments)
    by_fold = {k.casefold(): k for k in known}
    out = []
    for name in names:
        hit = by_fold.get(name.strip().casefold())
        if hit is None:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
            raise UsageError(
                f"--segment {name!r}: no such segment",
                hint=(f"did you mean {', '.join(close)}? " if close else "")
                + f"segments: {', '.join(known)}",
            )
        out.append(hit)
    return out


def _located(
    customer_id: str,
    file: Path | None,
    config: Path | None,
    db: Path | None,
    encoding: str | None,
    delimiter: str | None,
) -> tuple[FoundCustomer, Path]:
    """The customer (checked against the file's ID column only) and the store's path."""
    from cstool.config import load_workspace
    from cstool.ids import find_customer
    from cstool.pipeline import customers_file
    from cstool.store import db_path

    workspace = load_workspace(config)
    path = customers_file(file, workspace)
    found = find_customer(
        path, workspace.settings, customer_id, encoding=encoding, delimiter=delimiter
    )
    return found, db_path(workspace, db)


def _writable(path: Path) -> Store:
    from cstool.store import open_store

    store = open_store(path, create=True)
    assert store is not None  # create=True always gives a store
    return store


@command("log")
def log_command(
    customer_id: IdArg,
    note: Annotated[
        str, typer.Option("--note", "-m", help="What happened (free text).", show_default=False)
    ],
    file: FileArg = None,
    channel: Annotated[
        Channel, typer.Option("--channel", "-c", help="email, call, meeting, chat or other.")
    ] = Channel.other,
    on: Annotated[
        str | None,
        typer.Option("--date", help="When it happened (default today; e.g. yesterday, -2d)."),
    ] = None,
    next_due: Annotated[
        str | None,
        typer.Option("--next", help="Follow up on this date instead of the cadence (+2w, fri…)."),
    ] = None,
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
) -> None:
    """Record a touch: it counts as the customer's last touch and clears its follow-up.

    [dim]Example: cstool log C1001 --note "renewal call, happy" --channel call --next +2w[/]
    """
    from cstool.dates import parse_date
    from cstool.errors import UsageError
    from cstool.render import followups as show

    now = resolve_as_of(as_of)
    day = now if on is None else parse_date(on, now, option="--date")
    if day > now:
        raise UsageError(
            f"--date {day.isoformat()} is in the future; a touch is logged once it happened",
            hint="to plan a follow-up, use --next",
        )
    planned = None if next_due is None else parse_date(next_due, now, option="--next")
    if planned is not None and planned <= day:
        raise UsageError(f"--next {planned.isoformat()} must be after the touch ({day})")
    found, store_path = _located(customer_id, file, config, db, encoding, delimiter)
    with _writable(store_path) as store:
        touch = store.log_touch(
            found.customer_id, day, channel=channel.value, note=note, next_due=planned
        )
    show.logged(found, touch, now)


@command("snooze")
def snooze_command(
    customer_id: IdArg,
    until: Annotated[
        str,
        typer.Option(
            "--until",
            "-u",
            help="Hidden from follow-ups before this date (+1w, fri, 2026-12-01…).",
            show_default=False,
        ),
    ],
    file: FileArg = None,
    note: Annotated[str, typer.Option("--note", "-m", help="Why (free text).")] = "",
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
) -> None:
    """Hide a customer's follow-ups until a date (the latest snooze wins; a past date ends it).

    [dim]Example: cstool snooze C1001 --until +2w --note "on holiday"[/]
    """
    from cstool.dates import parse_date
    from cstool.render import followups as show

    now = resolve_as_of(as_of)
    day = parse_date(until, now, option="--until")
    found, store_path = _located(customer_id, file, config, db, encoding, delimiter)
    with _writable(store_path) as store:
        snooze = store.snooze(found.customer_id, day, set_on=now, note=note)
    show.snoozed(found, snooze, now)


@command("history")
def history_command(
    customer_id: IdArg,
    file: FileArg = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=0, help="Only the newest N entries.")
    ] = None,
    fmt: Annotated[
        HistoryFormat, typer.Option("--format", "-f", help="table, csv or json.")
    ] = HistoryFormat.table,
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
) -> None:
    """A customer's timeline, newest first: file dates, touches, snoozes, score changes.

    Score changes come from snapshots (cstool snapshot / export).

    [dim]Example: cstool history C1001 --limit 10[/]
    """
    import pandas as pd

    from cstool import render
    from cstool.config import load_workspace
    from cstool.errors import UsageError
    from cstool.history import timeline
    from cstool.pipeline import ReadOptions, customer_index, customers_file, load_table
    from cstool.render import followups as show
    from cstool.store import db_path, open_store

    day = resolve_as_of(as_of)
    workspace = load_workspace(config)
    path = customers_file(file, workspace)
    table = load_table(
        path,
        workspace.settings,
        ReadOptions(encoding=encoding, delimiter=delimiter, skip_invalid=True),
    )
    store = open_store(db_path(workspace, db), create=False)
    with contextlib.ExitStack() as stack:
        if store is not None:
            stack.enter_context(store)
        row: dict[str, Any] | None = None
        try:
            index = customer_index(table.frame, customer_id)
            row = {str(k): v for k, v in table.frame.iloc[index].to_dict().items()}
            customer_id = str(row["customer_id"])
        except UsageError:
            # Gone from the file (churned?) but still in the store: show what the store has.
            if store is None or not (
                store.touches(customer_id)
                or store.snooze_history(customer_id)
                or not store.customer_snapshots(customer_id).empty
            ):
                raise
        # The store as it was on the as-of date: later entries are left out.
        touches = [t for t in store.touches(customer_id) if t.touched_on <= day] if store else []
        snoozes = [s for s in store.snooze_history(customer_id) if s.set_on <= day] if store else []
        snapshots = store.customer_snapshots(customer_id) if store else None
        if snapshots is not None:
            snapshots = snapshots[snapshots["as_of"] <= pd.Timestamp(day)]
    events = timeline(row, touches, snoozes, snapshots, limit=limit)
    if row is None:
        show.not_in_file(customer_id)
    name = None if row is None or _blank(row.get("name")) else str(row["name"])
    if row is None:
        from cstool.history import last_known_name

        name = last_known_name(snapshots)
    if fmt is HistoryFormat.table:
        show.history_table(customer_id, name, events)
    elif fmt is HistoryFormat.csv:
        render.write_bytes_stdout(render.csv_bytes(show.history_frame(events)))
    else:
        render.write_stdout(render.json_text(show.history_frame(events)))


def _blank(value: object) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))  # type: ignore[call-overload]


@command("init")
def init_command(
    file: FileArg = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing cstool.toml.")
    ] = False,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
) -> None:
    """Write a commented cstool.toml here for your customer CSV, listing every setting.

    It records the column mapping cstool detected; never overwrites one without --force.

    [dim]Example: cstool init customers.csv[/]
    """
    from cstool.config import CONFIG_NAME, Settings
    from cstool.errors import UsageError
    from cstool.ids import read_headers
    from cstool.render import message
    from cstool.render.init import config_text
    from cstool.schema import REQUIRED
    from cstool.write import write_text

    here = Path.cwd()
    target = here / CONFIG_NAME
    if target.exists() and not force:
        raise UsageError(
            f"{target}: already exists; nothing written",
            hint="add --force to replace it (your edits in it would be lost)",
        )
    csv_path = _init_csv(file, here)
    settings = Settings()
    header = read_headers(csv_path, settings, encoding=encoding, delimiter=delimiter)
    try:
        customers = csv_path.resolve().relative_to(here.resolve()).as_posix()
    except ValueError:
        customers = csv_path.resolve().as_posix()
    text = config_text(customers, header.cells, header.positions)
    write_text(target, text, protect=csv_path)
    found = len(header.positions)
    message(
        f"wrote {target} for {customers}: {found} of {len(header.cells)} columns recognised; "
        "edit it, then check with `cstool validate`"
    )
    missing = [name for name in REQUIRED if name not in header.positions]
    if missing:
        message(
            f"required columns not found: {', '.join(missing)}; name their headers under "
            "[columns] in the file"
        )


def _init_csv(file: Path | None, here: Path) -> Path:
    from cstool.config import DEFAULT_CUSTOMERS
    from cstool.errors import UsageError

    if file is not None:
        if not file.is_file():
            raise UsageError(f"{file}: file not found")
        return file
    default = here / DEFAULT_CUSTOMERS
    if default.is_file():
        return default
    candidates = sorted(
        p for p in here.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".tsv", ".txt")
    )
    csvs = [p for p in candidates if p.suffix.lower() == ".csv"]
    if len(csvs) == 1:
        return csvs[0]
    if not csvs:
        raise UsageError(
            f"no CSV file in {here}",
            hint="name your customer file: cstool init path/to/customers.csv",
        )
    raise UsageError(
        f"several CSV files in {here}: {', '.join(p.name for p in csvs)}",
        hint="name the customer file: cstool init customers.csv",
    )
