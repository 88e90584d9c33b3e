"""Terminal output of score, validate and explain."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstool.render import message, stderr, stdout
from cstool.render.style import BAND_STYLE, fit_text_columns
from cstool.render.text import clean, escaped, literal

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from rich.text import Text

    from cstool.book import Book, Explanation, GoneCustomer
    from cstool.config import Workspace
    from cstool.pipeline import Table


@contextlib.contextmanager
def progress() -> Iterator[Callable[[str], None]]:
    """A spinner with the current step on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield lambda _: None
        return
    console = stderr()
    with console.status("starting…") as status:

        def step(text: str) -> None:
            status.update(f"{text}…")

        yield step


def notes(lines: list[str]) -> None:
    """What reading and scoring noticed, one `note:` line each on stderr."""
    for line in lines:
        message(f"note: {clean(line)}")


def loaded(table: Table, rejects: Path | None) -> None:
    """Say what loading the table left out (stderr)."""
    if table.skipped:
        where = f"; written to {rejects}" if rejects else "; add --rejects FILE to keep them"
        message(
            f"left out {table.skipped} invalid row{'s' if table.skipped != 1 else ''}"
            f" of {table.source}{where}"
        )
    if table.blanked:
        cells = len(table.blanked)
        message(
            f"emptied {cells} invalid optional cell{'s' if cells != 1 else ''} "
            "(the customers are kept): "
            + "; ".join(p.describe() for p in table.blanked[:5])
            + (" …" if cells > 5 else "")
        )
    for warning in table.warnings:
        message(f"warning: {warning}")


def written(output: Path, frame: pd.DataFrame) -> None:
    """One summary line on stderr after --output."""
    message(f"wrote {len(frame)} customers to {output} ({_summary_text(frame)})")


def _summary_text(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "no customers"
    counts = frame["band"].value_counts()
    bands = ", ".join(f"{int(counts.get(b, 0))} {b}" for b in ("red", "yellow", "green"))
    return f"{_mean_text(frame, 'satisfaction')}, {_mean_text(frame, 'health')}; {bands}"


def _mean_text(frame: pd.DataFrame, name: str) -> str:
    """`mean health 71.3`, or what is missing when no customer has the score (never nan)."""
    values = frame[name] if name in frame.columns else None
    if values is None or not values.notna().any():
        return f"no {name} measured"
    return f"mean {name} {values.mean():.1f}"


def _fmt_number(value: Any, digits: int = 1) -> str:
    import pandas as pd

    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):,.{digits}f}"


def _fmt_money(value: Any) -> str:
    import pandas as pd

    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):,.0f}"


def _fmt_date(value: Any) -> str:
    import pandas as pd

    if value is None or pd.isna(value):
        return "—"
    return str(pd.Timestamp(value).date())


def _text(value: Any) -> str:
    import pandas as pd

    return "—" if value is None or pd.isna(value) else str(value)


def score_table(book: Book, order: np.ndarray) -> None:
    """The scored customers as a rich table, with a footer summary."""
    from rich.table import Table as RichTable

    scored = book.scored
    frame = scored.iloc[order]
    has = set(book.table.headers)
    from rich import box

    table = RichTable(
        title=escaped(f"{book.table.source.name} · as of {book.as_of}"),
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    # Long IDs and names are cut with an ellipsis (a UUID still fits); the score columns
    # have a minimum width, so a narrow terminal shrinks the text columns, never the scores.
    table.add_column("ID", max_width=36, overflow="ellipsis", no_wrap=True)
    if "name" in has:
        table.add_column("Name", max_width=24, overflow="ellipsis", no_wrap=True)
    if "mrr" in has:
        table.add_column("MRR", justify="right", no_wrap=True, min_width=7)
    table.add_column("Satisf.", justify="right", no_wrap=True, min_width=7)
    table.add_column("Health", justify="right", no_wrap=True, min_width=6)
    table.add_column("Band", no_wrap=True, min_width=6)
    if "segment" in frame.columns:
        table.add_column("Segment", no_wrap=True, min_width=10)
    console = stdout()
    wide = console.width >= 96
    if wide:
        table.add_column("Last touch", justify="right", no_wrap=True)

    # Every cell is a Text: user text shows as it is (never read as markup), its control
    # characters replaced; the band's colour is a Text style.
    columns: list[list[Text]] = [[literal(v) for v in frame["customer_id"].astype(str).tolist()]]
    if "name" in has:
        columns.append([literal(_text(v)) for v in frame["name"].tolist()])
    if "mrr" in has:
        columns.append([literal(_fmt_money(v)) for v in frame["mrr"].tolist()])
    columns.append([literal(_fmt_number(v)) for v in frame["satisfaction"].tolist()])
    columns.append([literal(_fmt_number(v)) for v in frame["health"].tolist()])
    # no health measure present: no band (<NA>), shown as a dash like a missing number
    bands = [b if isinstance(b, str) else "—" for b in frame["band"].tolist()]
    columns.append([literal(b, BAND_STYLE.get(b, "")) for b in bands])
    if "segment" in frame.columns:
        columns.append([literal(_text(v)) for v in frame["segment"].tolist()])
    if wide:
        columns.append([literal(_fmt_date(v)) for v in frame["last_touch"].tolist()])
    for row in zip(*columns, strict=True):
        table.add_row(*row)
    fit_text_columns(table, console.width, shrink=(0, 1) if "name" in has else (0,))
    console.print(table)
    total = len(scored)
    shown = f"{len(frame)} of {total} customers" if len(frame) != total else f"{total} customers"
    console.print(f"{shown} · {_summary_text(scored)}", markup=False)


def valid(table: Table, workspace: Workspace) -> None:
    """The verdict of `cstool validate` when all is well."""
    config = workspace.config_path or "built-in defaults (no cstool.toml)"
    columns = len(table.raw.columns)
    sheet = table.raw_table.sheet
    how = (
        f"{table.raw_table.format} workbook, sheet {sheet!r}"
        if sheet is not None
        else f"{table.encoding}, {_delimiter_name(table.delimiter)}-separated"
    )
    message(
        f"ok: {table.source}: {len(table.frame)} customer{'s' if len(table.frame) != 1 else ''}, "
        f"{columns} columns ({how}); config: {config}"
    )
    unmatched = [c or "(no header)" for c in table.raw.columns if c not in table.headers.values()]
    if unmatched:
        message(f"passed through as they are: {', '.join(map(clean, unmatched))}")
    for note in [*table.warnings, *table.notes]:
        message(f"note: {note}")


def _delimiter_name(sep: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(sep, repr(sep))


def explain(data: Explanation | GoneCustomer) -> None:
    """One customer's scores, term by term, then segment and next follow-up (for a customer
    gone from the file: who it was, when it churned and its last known data)."""
    from cstool.book import GoneCustomer

    if isinstance(data, GoneCustomer):
        gone(data)
        return
    console = stdout()
    console.print(
        f"[bold]{escaped(data.customer_id)}[/] {escaped(_text(data.name))}  "
        f"[dim](line {data.line} of {escaped(data.source)}, as of {data.as_of})[/]"
    )
    labels = {"plan": "plan", "stage": "stage", "mrr": "MRR"}
    facts = [
        f"{labels[f]} {_fmt_money(v) if f == 'mrr' else _text(v)}" for f, v in data.facts.items()
    ]
    if facts:
        console.print(literal(" · ".join(facts)))

    low, high = data.scale
    if not data.satisfaction_terms:
        console.print(
            "satisfaction: [dim]missing: the file has no value_delivery, issue_resolution and "
            "growth_strategy columns (add them to score it)[/]"
        )
    else:
        _satisfaction_table(data, low, high)
    _health_table(data)


def gone(data: GoneCustomer) -> None:
    """A customer only the snapshots still hold: who, when it churned, its last known data."""
    console = stdout()
    console.print(
        f"[bold]{escaped(data.customer_id)}[/] {escaped(_text(data.name))}  "
        f"[dim](not in {escaped(data.source.name)} as of {data.as_of})[/]"
    )
    console.print(f"churned on {data.churned_on}; last seen in the snapshot of {data.last_seen}")
    plural = "s" if data.snapshots != 1 else ""
    console.print(
        f"known from {data.snapshots:,} snapshot{plural} ({data.first_seen} to {data.last_seen})"
    )
    last = data.last
    labels = (
        ("mrr", "MRR", _fmt_money),
        ("health", "health", _fmt_number),
        ("band", "band", _text),
        ("segment", "segment", _text),
        ("status", "status", _text),
        ("plan", "plan", _text),
    )
    facts = [
        f"{label} {show(last[key])}" for key, label, show in labels if last.get(key) is not None
    ]
    if facts:
        console.print(literal("last known: " + " · ".join(facts)))
    console.print(
        "[dim]no scores today: a churned customer gets no follow-ups; "
        f"`cstool history {escaped(data.customer_id)}` shows its timeline[/]"
    )


def _satisfaction_table(data: Explanation, low: float, high: float) -> None:
    from rich.table import Table as RichTable

    console = stdout()
    sat = RichTable(title="Satisfaction", title_justify="left", header_style="bold")
    for col in ("input", "value", f"on 0–100 (scale {low:g}–{high:g})", "weight"):
        sat.add_column(col, justify="right" if col != "input" else "left")
    sat.add_column("contribution", justify="right")
    for input_term in data.satisfaction_terms:
        sat.add_row(
            literal(input_term.header),  # the file's own column name
            "—" if input_term.value is None else f"{input_term.value:g}",
            "—" if input_term.normalised is None else f"{input_term.normalised:.1f}",
            f"{input_term.weight:.2f}",
            f"{input_term.contribution:.2f}",
        )
    sat.add_row("[bold]satisfaction[/]", "", "", "1.00", f"[bold]{_fmt_2(data.satisfaction)}[/]")
    console.print(sat)


def _days_ago(days: float) -> str:
    """`today`, `1 day ago`, `12 days ago`."""
    text = _fmt_number(days, 0)
    if text == "0":
        return "today"
    return f"{text} day{'' if text == '1' else 's'} ago"


def _health_table(data: Explanation) -> None:
    from rich.table import Table as RichTable

    console = stdout()
    raw_text = {
        "satisfaction": _fmt_number(data.satisfaction),
        "recency": (
            _days_ago(data.days_since_touch)
            if data.days_since_touch is not None
            else "no touch on record: days since signup"
        )
        + f" (≤ {data.expected_interval_days} is full marks)",
        "nps": f"NPS {_text(data.nps)}",
        "support": f"{_text(data.open_tickets)} open tickets",
    }
    health = RichTable(title="Health", title_justify="left", header_style="bold")
    for col in ("measure", "raw", "on 0–100", "weight", "used", "contribution"):
        health.add_column(
            col, justify="left" if col in ("measure", "raw") else "right", no_wrap=col != "raw"
        )
    for term in data.health_terms:
        missing = term.value is None
        health.add_row(
            term.measure,
            literal(raw_text[term.measure]) if not missing else "[dim]missing: left out[/]",
            "—" if missing else f"{term.value:.1f}",
            f"{term.weight:.2f}",
            f"{term.used:.2f}",
            f"{term.contribution:.2f}",
        )
    health.add_row(
        "[bold]health[/]",
        f"coverage {data.coverage:.0%}",
        "",
        "",
        "1.00" if data.health is not None else "—",
        f"[bold]{_fmt_2(data.health)}[/]",
    )
    console.print(health)
    red_below, green_from = data.band_thresholds
    band = data.band if data.band is not None else "none (no health measure present)"
    console.print(
        f"band: [{BAND_STYLE.get(band, 'dim')}]{band}[/]  "
        f"[dim](red < {red_below:g} ≤ yellow < {green_from:g} ≤ green)[/]"
    )
    _explain_segment(data)
    _explain_followup(data)


def _fmt_2(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _explain_segment(data: Explanation) -> None:
    from cstool.render.segment import explain_lines

    console = stdout()
    console.print(
        f"segment: [bold]{escaped(data.segment)}[/] · every {data.cadence_days} days"
        f" · play: {escaped(data.play)}"
    )
    for text in explain_lines(data.rule_checks):
        console.print(literal("  " + text))


def _explain_followup(data: Explanation) -> None:
    upcoming = data.followup
    if upcoming is None:
        return
    console = stdout()
    when = "due today" if upcoming.due <= data.as_of else f"next due {upcoming.due}"
    if upcoming.days_overdue > 0:
        when = f"overdue by {upcoming.days_overdue} days (since {upcoming.due})"
    console.print(f"follow-up: [bold]{when}[/] · {escaped(upcoming.reason)}")
    if upcoming.snoozed_until is not None and upcoming.snoozed_until > data.as_of:
        console.print(f"  snoozed until {upcoming.snoozed_until}")
    terms = " + ".join(
        f"{name.removeprefix('priority_')} {points:.1f}"
        for name, points in upcoming.terms.items()
        if points
    )
    console.print(f"  priority {upcoming.priority:.1f} = {terms or '0'}", markup=False)
