"""Output of followups, log, snooze and history: tables, csv, json, ics, md, messages."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from cstool.render import message, stdout
from cstool.render.style import BAND_STYLE
from cstool.render.text import clean, escaped, literal

if TYPE_CHECKING:
    import pandas as pd

    from cstool.drafts import Draft
    from cstool.history import TimelineEvent
    from cstool.ids import FoundCustomer
    from cstool.store import Snooze, Touch

TABLE_ROWS = 50
"""A table for people shows this many follow-ups unless --limit says otherwise."""


def when(due: Any, as_of: date) -> str:
    """`today`, `3 days overdue`, `in 2 days` for a due date."""
    days = (as_of - due.date()).days
    if days == 0:
        return "today"
    if days > 0:
        return f"{days} day{'s' if days != 1 else ''} overdue"
    return f"in {-days} day{'s' if days != -1 else ''}"


def _due_cell(due: Any, as_of: date) -> str:
    """Short due text for a table: `12d overdue`, `today`, `Wed 11-25`."""
    days = (as_of - due.date()).days
    if days > 0:
        return f"[red]{days}d overdue[/]"
    if days == 0:
        return "[bold]today[/]"
    return str(due.strftime("%a %m-%d"))


def followups_table(due: pd.DataFrame, total: int, as_of: date, until: date) -> None:
    """The follow-ups as a table for people (stdout), a summary line on stderr."""
    from rich.table import Table

    if due.empty:
        message(_nothing_due(as_of, until))
        return
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("ID", max_width=36, overflow="ellipsis", no_wrap=True)  # a UUID fits
    table.add_column("Name", max_width=20, overflow="ellipsis", no_wrap=True)
    table.add_column("Due", no_wrap=True, min_width=10)
    table.add_column("Pri", justify="right", no_wrap=True, min_width=3)
    table.add_column("Why", ratio=1, min_width=20)
    columns = zip(
        due["customer_id"].tolist(),
        due["name"].fillna("").tolist(),
        due["due"].tolist(),
        due["priority"].tolist(),
        due["reason"].fillna("").tolist(),
        due["band"].fillna("").tolist(),
        strict=True,
    )
    for cid, name, day, priority, reason, band in columns:
        table.add_row(
            literal(cid, BAND_STYLE.get(band, "")),  # the ID in its band's colour
            literal(name),
            _due_cell(day, as_of),
            f"{priority:.1f}",
            literal(reason),
        )
    from cstool.render.style import fit_text_columns

    console = stdout()
    fit_text_columns(table, console.width, shrink=(0, 1))
    console.print(table)
    shown = len(due)
    line = f"{total} follow-up{'s' if total != 1 else ''} due by {until.isoformat()}"
    if shown < total:
        line += f", the first {shown} shown (--limit 0 for all)"
    message(f"{line}; as of {as_of.isoformat()}")


def _nothing_due(as_of: date, until: date) -> str:
    if until < as_of:
        return f"Nothing overdue as of {as_of.isoformat()}."
    return f"Nothing due by {until.isoformat()} (as of {as_of.isoformat()})."


def followups_md(
    due: pd.DataFrame, as_of: date, until: date, drafts: Sequence[Draft] | None = None
) -> str:
    """A Markdown checklist to paste into notes; with `drafts` (one per row), a `mailto:`
    link carrying each drafted subject and body."""
    from cstool.render.eml import mailto_url

    if until < as_of:
        title = f"# Overdue follow-ups (as of {as_of.isoformat()})"
    else:
        title = f"# Follow-ups due by {until.isoformat()} (as of {as_of.isoformat()})"
    if due.empty:
        return f"{title}\n\nNothing due.\n"
    import numpy as np

    ids = _md_escape(due["customer_id"])
    names = _md_escape(due["name"].fillna(""))
    who = np.where(names == "", "**" + ids + "**", "**" + names + "** (" + ids + ")")
    lags = [when(d, as_of) for d in due["due"].tolist()]
    days = due["due"].dt.strftime("%Y-%m-%d").tolist()
    lines = [title, ""]
    for i, item in enumerate(who.tolist()):
        row = due.iloc[i]
        lines.append(
            f"- [ ] {item} — due {days[i]} ({lags[i]}) · priority {float(row['priority']):.1f}"
        )
        lines.append(f"  - why: {_md_text(row['reason'])}")
        if _present(row.get("play")):
            lines.append(f"  - play: {_md_text(row['play'])}")
        if _present(row.get("email")):
            lines.append(f"  - email: {_md_text(row['email'])}")
        if drafts is not None and drafts[i].to:
            draft = drafts[i]
            link = mailto_url(draft.to, draft.subject, draft.body)
            lines.append(f"  - draft: [{_md_text(draft.subject)}](<{link}>)")
    return "\n".join(lines) + "\n"


def _md_escape(values: pd.Series) -> Any:
    import numpy as np

    text = values.astype("string").map(clean, na_action="ignore")
    escaped = text.str.replace(r"([\\`*_\[\]<>#|])", r"\\\1", regex=True)
    return np.asarray(escaped.fillna("").to_numpy(dtype=object))


def _md_text(value: Any) -> str:
    import re

    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", clean(value))


def _present(value: Any) -> bool:
    import pandas as pd

    return value is not None and not (not isinstance(value, str) and pd.isna(value)) and value != ""


def ics_bytes(due: pd.DataFrame, as_of: date) -> bytes:
    """An RFC 5545 calendar: one all-day event per follow-up, byte-for-byte reproducible.

    Overdue follow-ups are placed on the as-of day (a calendar entry in the past would go
    unseen). DTSTAMP is the as-of date at midnight UTC; UID derives from the as-of date and
    the customer, so the same list gives the same file.
    """
    from datetime import timedelta

    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//cstool//follow-ups//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"cstool follow-ups {as_of.isoformat()}")
    stamp = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
    columns = {c: due[c].tolist() for c in ("customer_id", "name", "due", "reason", "priority")}
    plays = due["play"].tolist() if "play" in due else [None] * len(due)
    emails = due["email"].tolist() if "email" in due else [None] * len(due)
    for i, cid in enumerate(columns["customer_id"]):
        name = columns["name"][i]
        who = clean(name) if _present(name) else clean(cid)
        day = max(columns["due"][i].date(), as_of)
        event = Event()
        digest = hashlib.sha256(f"{as_of.isoformat()}\x00{cid}".encode()).hexdigest()[:24]
        event.add("uid", f"{as_of.strftime('%Y%m%d')}-{digest}@cstool")
        event.add("dtstamp", stamp)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", f"Follow up: {who}")
        lines = [f"Customer: {clean(cid)}", f"Why: {clean(columns['reason'][i])}"]
        lines.append(f"Priority: {float(columns['priority'][i]):.1f}")
        if _present(plays[i]):
            lines.append(f"Play: {clean(plays[i])}")
        if _present(emails[i]):
            lines.append(f"Email: {clean(emails[i])}")
        event.add("description", "\n".join(lines))
        event.add("priority", _ics_priority(float(columns["priority"][i])))
        event.add("transp", "TRANSPARENT")
        event.add("categories", ["cstool"])
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data


def _ics_priority(priority: float) -> int:
    """RFC 5545 PRIORITY: 1 high (priority ≥ 8), 5 medium (≥ 4), 9 low."""
    if priority >= 8:
        return 1
    if priority >= 4:
        return 5
    return 9


# --------------------------------------------------------------------------- log, snooze
def logged(found: FoundCustomer, touch: Touch, today: date) -> None:
    """One line on stderr confirming the touch."""
    who = clean(f"{found.customer_id} ({found.name})" if found.name else found.customer_id)
    day = touch.touched_on
    on = "today" if day == today else day.isoformat()
    text = f"logged {touch.channel} with {who} {'on ' if on != 'today' else ''}{on}"
    if touch.next_due:
        text += f"; next follow-up {touch.next_due.isoformat()}"
    message(text)


def snoozed(found: FoundCustomer, snooze: Snooze, today: date) -> None:
    """One line on stderr confirming the snooze."""
    who = clean(f"{found.customer_id} ({found.name})" if found.name else found.customer_id)
    if snooze.until <= today:
        message(
            f"{who}: snooze set to {snooze.until.isoformat()}, which is not after today, "
            "so its follow-ups show again"
        )
    else:
        message(f"snoozed {who} until {snooze.until.isoformat()} (hidden from follow-ups before)")


# --------------------------------------------------------------------------- history
def history_table(customer_id: str, name: str | None, events: Sequence[TimelineEvent]) -> None:
    """A customer's timeline, newest first."""
    from rich.table import Table

    title = clean(f"{customer_id} ({name})" if name else customer_id)
    if not events:
        message(f"{title}: nothing on record yet")
        return
    table = Table(title=escaped(title), show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("Date")
    table.add_column("What")
    table.add_column("Details")
    for event in events:
        table.add_row(event.day.isoformat(), literal(event.kind), literal(event.detail))
    stdout().print(table)


def history_frame(events: Sequence[TimelineEvent]) -> pd.DataFrame:
    """The timeline for --format json/csv: date, kind, detail, source."""
    import pandas as pd

    return pd.DataFrame(
        {
            "date": pd.Series([e.day for e in events], dtype="datetime64[ns]"),
            "kind": pd.Series([e.kind for e in events], dtype="string"),
            "detail": pd.Series([e.detail for e in events], dtype="string"),
            "source": pd.Series([e.source for e in events], dtype="string"),
        }
    )


def not_in_file(customer_id: str) -> None:
    """Warn that a customer with stored history is not in the customer file any more."""
    message(f"note: {customer_id} is not in the customer file; showing what the store has")
