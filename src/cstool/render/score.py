"""Terminal output of score, validate and explain."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstool.render import message, stderr, stdout
from cstool.render.segment import clean, escaped, literal

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from rich.text import Text

    from cstool.config import Settings, Workspace
    from cstool.pipeline import Run, Table

BAND_STYLE = {"red": "bold red", "yellow": "yellow", "green": "green"}


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


def skipped(table: Table, rejects: Path | None) -> None:
    """Say how many bad rows --skip-invalid left out (stderr)."""
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


def written(output: Path, frame: pd.DataFrame, settings: Settings) -> None:
    """One summary line on stderr after --output."""
    message(f"wrote {len(frame)} customers to {output} ({_summary_text(frame)})")


def _summary_text(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "no customers"
    counts = frame["band"].value_counts()
    bands = ", ".join(f"{int(counts.get(b, 0))} {b}" for b in ("red", "yellow", "green"))
    return (
        f"mean satisfaction {frame['satisfaction'].mean():.1f}, "
        f"mean health {frame['health'].mean():.1f}; {bands}"
    )


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


def score_table(result: Run, order: np.ndarray) -> None:
    """The scored customers as a rich table, with a footer summary."""
    from rich.table import Table as RichTable

    frame = result.frame.iloc[order]
    has = set(result.table.headers)
    from rich import box

    table = RichTable(
        title=escaped(f"{result.table.source.name} · as of {result.as_of}"),
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("ID", no_wrap=True)
    if "name" in has:
        table.add_column("Name", max_width=24, overflow="ellipsis", no_wrap=True)
    if "mrr" in has:
        table.add_column("MRR", justify="right", no_wrap=True)
    table.add_column("Satisf.", justify="right", no_wrap=True)
    table.add_column("Health", justify="right", no_wrap=True)
    table.add_column("Band", no_wrap=True)
    if "segment" in frame.columns:
        table.add_column("Segment", no_wrap=True)
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
    bands = frame["band"].astype(str).tolist()
    columns.append([literal(b, BAND_STYLE.get(b, "")) for b in bands])
    if "segment" in frame.columns:
        columns.append([literal(_text(v)) for v in frame["segment"].tolist()])
    if wide:
        columns.append([literal(_fmt_date(v)) for v in frame["last_touch"].tolist()])
    for row in zip(*columns, strict=True):
        table.add_row(*row)
    console.print(table)
    total = len(result.frame)
    shown = f"{len(frame)} of {total} customers" if len(frame) != total else f"{total} customers"
    console.print(f"{shown} · {_summary_text(result.frame)}", markup=False)


def valid(table: Table, workspace: Workspace) -> None:
    """The verdict of `cstool validate` when all is well."""
    config = workspace.config_path or "built-in defaults (no cstool.toml)"
    columns = len(table.raw.columns)
    message(
        f"ok: {table.source}: {len(table.frame)} customer{'s' if len(table.frame) != 1 else ''}, "
        f"{columns} columns "
        f"({table.encoding}, {_delimiter_name(table.delimiter)}-separated); config: {config}"
    )
    unmatched = [c for c in table.raw.columns if c not in table.headers.values()]
    if unmatched:
        message(f"passed through as they are: {', '.join(map(clean, unmatched))}")
    for note in [*table.warnings, *table.notes]:
        message(f"note: {note}")


def _delimiter_name(sep: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(sep, repr(sep))


def explain(result: Run, index: int) -> None:
    """One customer's scores, term by term, then segment and next follow-up."""
    from rich.table import Table as RichTable

    from cstool.schema import SCORE_INPUTS
    from cstool.scoring import HEALTH_MEASURES

    settings = result.workspace.settings
    row = result.frame.iloc[index]
    console = stdout()
    name = _text(row["name"])
    line = int(result.table.lines[index])
    console.print(
        f"[bold]{escaped(row['customer_id'])}[/] {escaped(name)}  "
        f"[dim](line {line} of {escaped(result.table.source)}, as of {result.as_of})[/]"
    )
    facts = []
    for field, label in (("plan", "plan"), ("stage", "stage"), ("mrr", "MRR")):
        if field in result.table.headers:
            value = _fmt_money(row[field]) if field == "mrr" else _text(row[field])
            facts.append(f"{label} {value}")
    if facts:
        console.print(literal(" · ".join(facts)))

    scale = settings.scale
    weights = settings.weights.normalised()
    sat = RichTable(title="Satisfaction", title_justify="left", header_style="bold")
    for col in ("input", "value", f"on 0–100 (scale {scale.min:g}–{scale.max:g})", "weight"):
        sat.add_column(col, justify="right" if col != "input" else "left")
    sat.add_column("contribution", justify="right")
    for field in (f for f in SCORE_INPUTS if f in row.index):  # a file may have none
        raw_value = float(row[field])
        normalised = (raw_value - scale.min) / (scale.max - scale.min) * 100
        sat.add_row(
            literal(result.table.headers.get(field, field)),  # the file's own column name
            f"{raw_value:g}",
            f"{normalised:.1f}",
            f"{weights[field]:.2f}",
            f"{float(row[f'satisfaction_from_{field}']):.2f}",
        )
    sat.add_row("[bold]satisfaction[/]", "", "", "1.00", f"[bold]{row['satisfaction']:.2f}[/]")
    console.print(sat)

    health_weights = settings.health.weights.normalised()
    measure_values = {
        "satisfaction": (row["satisfaction"], f"{row['satisfaction']:.1f}"),
        "recency": (
            row["recency_score"],
            f"{_fmt_number(row['days_since_touch'], 0)} days ago "
            f"(≤ {settings.health.expected_interval_days} is full marks)",
        ),
        "nps": (row["nps_score"], f"NPS {_text(row['nps'])}"),
        "support": (row["support_score"], f"{_text(row['open_tickets'])} open tickets"),
    }
    health = RichTable(title="Health", title_justify="left", header_style="bold")
    for col in ("measure", "raw", "on 0–100", "weight", "used", "contribution"):
        health.add_column(
            col, justify="left" if col in ("measure", "raw") else "right", no_wrap=col != "raw"
        )
    coverage = float(row["health_coverage"])
    for measure in HEALTH_MEASURES:
        value, raw_text = measure_values[measure]
        missing = value is None or value != value
        used = 0.0 if missing else health_weights[measure] / coverage
        health.add_row(
            measure,
            literal(raw_text) if not missing else "[dim]missing: left out[/]",
            "—" if missing else f"{float(value):.1f}",
            f"{health_weights[measure]:.2f}",
            f"{used:.2f}",
            f"{float(row[f'health_from_{measure}']):.2f}",
        )
    health.add_row(
        "[bold]health[/]",
        f"coverage {coverage:.0%}",
        "",
        "",
        "1.00",
        f"[bold]{row['health']:.2f}[/]",
    )
    console.print(health)
    band = str(row["band"])
    bands = settings.bands
    console.print(
        f"band: [{BAND_STYLE.get(band, '')}]{band}[/]  "
        f"[dim](red < {bands.red_below:g} ≤ yellow < {bands.green_from:g} ≤ green)[/]"
    )
    _explain_segment(result, index)
    _explain_followup(result, index)


def _explain_segment(result: Run, index: int) -> None:
    from cstool.render.segment import explain_lines
    from cstool.segments import explain_segment

    checks = explain_segment(result.frame, index, result.workspace.settings.segments, result.as_of)
    console = stdout()
    row = result.frame.iloc[index]
    console.print(
        f"segment: [bold]{escaped(row['segment'])}[/] · every {int(row['cadence_days'])} days"
        f" · play: {escaped(row['play'])}"
    )
    for text in explain_lines(checks):
        console.print(literal("  " + text))


def _explain_followup(result: Run, index: int) -> None:
    from cstool.followup import next_followup

    customer_id = str(result.frame["customer_id"].iloc[index])
    settings = result.workspace.settings
    upcoming = next_followup(
        result.frame, settings, result.as_of, customer_id, result.logged, result.snoozes
    )
    if upcoming is None:
        return
    console = stdout()
    when = "due today" if upcoming.due <= result.as_of else f"next due {upcoming.due}"
    if upcoming.days_overdue > 0:
        when = f"overdue by {upcoming.days_overdue} days (since {upcoming.due})"
    console.print(f"follow-up: [bold]{when}[/] · {escaped(upcoming.reason)}")
    if upcoming.snoozed_until is not None and upcoming.snoozed_until > result.as_of:
        console.print(f"  snoozed until {upcoming.snoozed_until}")
    terms = " + ".join(
        f"{name.removeprefix('priority_')} {points:.1f}"
        for name, points in upcoming.terms.items()
        if points
    )
    console.print(f"  priority {upcoming.priority:.1f} = {terms or '0'}", markup=False)
