"""Commands: followups, log, snooze, history."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cstool.cli.app import LOOKUP, FileArg, IdArg, Inputs, command, shared_inputs

PANEL = "Follow-ups"


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


@command(PANEL)
@shared_inputs()
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
    drafts: Annotated[
        Path | None,
        typer.Option(
            "--drafts",
            help="Also write a drafted message per follow-up into this folder "
            "(.eml drafts to open in a mail client; .txt without an email). Never sent.",
        ),
    ] = None,
    *,
    inputs: Inputs,
) -> None:
    """Who to contact by a date, and why: one row per customer, highest priority first.

    A customer is due when its last touch plus its segment's cadence has come, or a
    trigger fires: renewal within the window, band red, health fell, NPS detractor,
    onboarding check-in, cancelling, payment failed. Churned, paused and prospect rows get none;
    snoozed customers are hidden until their date.

    [dim]Example: cstool followups --due week --format ics -o week.ics[/]
    """
    from cstool import render
    from cstool.book import followup_fields
    from cstool.errors import UsageError
    from cstool.render import followups as show
    from cstool.render.score import loaded, progress

    if fmt is FollowupFormat.table and output is not None:
        raise UsageError("--output needs --format csv, json, ics or md")
    with progress() as step:
        book = inputs.book(on_step=step)
        until = book.due_until(due)  # a bad --due fails before the file is read
        loaded(book.table, inputs.rejects)
        cap = limit or None
        if fmt is FollowupFormat.table and limit is None:
            cap = show.TABLE_ROWS
        due_list = book.due(until, segments=segment, limit=cap)
    day = book.as_of
    messages = book.drafts(due_list) if drafts is not None or fmt is FollowupFormat.md else None
    if drafts is not None and messages is not None:
        from cstool.render.eml import write_outbox

        written = write_outbox(messages, drafts)
        render.message(f"wrote {len(written)} drafts to {drafts} (review them; nothing is sent)")
    data: bytes
    if fmt is FollowupFormat.table:
        show.followups_table(due_list, int(due_list.attrs["due_total"]), day, until)
        return
    if fmt is FollowupFormat.csv:
        data = render.csv_bytes(followup_fields(due_list), excel=excel)
    elif fmt is FollowupFormat.json:
        data = (render.json_text(followup_fields(due_list)) + "\n").encode("utf-8")
    elif fmt is FollowupFormat.ics:
        data = show.ics_bytes(due_list, day)
    else:
        data = show.followups_md(due_list, day, until, messages).encode("utf-8")
    if output is not None:
        from cstool.write import write_bytes

        write_bytes(output, data, protect=book.table.source)
        render.message(f"wrote {len(due_list)} follow-ups to {output}")
    else:
        render.write_bytes_stdout(data)


@command(PANEL)
@shared_inputs(LOOKUP)
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
    *,
    inputs: Inputs,
) -> None:
    """Record a touch: it counts as the customer's last touch and clears its follow-up.

    [dim]Example: cstool log C1001 --note "renewal call, happy" --channel call --next +2w[/]
    """
    from cstool.render import followups as show

    book = inputs.book()
    found, touch = book.log(customer_id, note, channel=channel.value, on=on, next_due=next_due)
    show.logged(found, touch, book.as_of)


@command(PANEL)
@shared_inputs(LOOKUP)
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
    *,
    inputs: Inputs,
) -> None:
    """Hide a customer's follow-ups until a date (the latest snooze wins; a past date ends it).

    [dim]Example: cstool snooze C1001 --until +2w --note "on holiday"[/]
    """
    from cstool.render import followups as show

    book = inputs.book()
    found, snooze = book.snooze(customer_id, until, note=note)
    show.snoozed(found, snooze, book.as_of)


@command(PANEL)
@shared_inputs(LOOKUP)
def history_command(
    customer_id: IdArg,
    file: FileArg = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=0, help="Only the newest N entries.")
    ] = None,
    fmt: Annotated[
        HistoryFormat, typer.Option("--format", "-f", help="table, csv or json.")
    ] = HistoryFormat.table,
    *,
    inputs: Inputs,
) -> None:
    """A customer's timeline, newest first: file dates, touches, snoozes, score changes.

    Score changes come from snapshots (cstool snapshot / export).

    [dim]Example: cstool history C1001 --limit 10[/]
    """
    from cstool import render
    from cstool.render import followups as show

    book = inputs.book(skip_invalid=True)
    story = book.history(customer_id, limit=limit)
    if not story.in_file:
        show.not_in_file(story.customer_id)
    if fmt is HistoryFormat.table:
        show.history_table(story.customer_id, story.name, story.events)
    elif fmt is HistoryFormat.csv:
        render.write_bytes_stdout(render.csv_bytes(show.history_frame(story.events)))
    else:
        render.write_stdout(render.json_text(show.history_frame(story.events)))
