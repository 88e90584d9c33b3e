"""Terminal output of report, goals, snapshot and export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstool.render import message, records, stdout
from cstool.render.style import BAND_STYLE

if TYPE_CHECKING:
    from datetime import date

    import pandas as pd
    from rich.console import RenderableType
    from rich.table import Table

    from cstool.kpis import GoalProgress, Portfolio

TONE_STYLE = {"good": "green", "bad": "red", "flat": "dim", "": ""}
STATUS_STYLE = {
    "achieved": "bold green",
    "on track": "green",
    "behind": "bold red",
    "missed": "red",
    "no data": "dim",
}
# KPIs in the terminal report, in this order.
REPORT_KPIS = (
    "customers",
    "new_customers",
    "churned_customers",
    "mrr",
    "mrr_at_risk",
    "satisfied_share",
    "mean_satisfaction",
    "mean_health",
    "green_share",
    "red_share",
    "nps",
    "retention_rate",
    "logo_churn",
    "gross_revenue_retention",
    "net_revenue_retention",
)
TOP_FOLLOWUPS = 10
TOP_MOVED = 10
MOVEMENT_PERIODS = 6  # the latest months in the terminal's movements table


def _table(title: str | None = None) -> Table:
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)


def _text(value: Any, style: str = "") -> RenderableType:
    from cstool.render.text import literal

    # User text (names, plays, goal names) is shown as it is: never markup, no controls.
    return literal("" if value is None else value, style)


def kpi_table(result: Portfolio) -> Table:
    """KPIs now, at the compared snapshot, and the change with an arrow."""
    from cstool.kpis import KPIS
    from cstool.render.kpi_text import format_kpi, kpi_change

    then_head = result.compared_with.isoformat() if result.compared_with else "before"
    table = _table("Key figures")
    table.add_column("KPI")
    table.add_column(result.as_of.isoformat(), justify="right")
    table.add_column(then_head, justify="right")
    table.add_column("change", justify="right")
    for name in REPORT_KPIS:
        now = result.kpis.get(name)
        then = result.previous.get(name) if result.previous else None
        change, tone = kpi_change(name, now, then)
        table.add_row(
            KPIS[name].label,
            format_kpi(name, now),
            format_kpi(name, then),
            _text(change, TONE_STYLE[tone]),
        )
    return table


def _bar(progress: float | None, style: str) -> RenderableType:
    from rich.progress_bar import ProgressBar

    return ProgressBar(
        total=100,
        completed=100 * (progress or 0.0),
        width=16,
        complete_style=style,
        finished_style=style,
    )


def goal_table(goals: list[GoalProgress]) -> Table:
    """Each goal: baseline, now, target, deadline, a progress bar, projection and status."""
    from cstool.render.kpi_text import format_kpi

    table = _table("Goals")
    for name, justify in (
        ("goal", "left"),
        ("baseline", "right"),
        ("now", "right"),
        ("target", "right"),
        ("deadline", "left"),
        ("progress", "left"),
        ("", "right"),
        ("projected", "right"),
        ("status", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for g in goals:
        style = STATUS_STYLE[g.status]
        share = "" if g.progress is None else f"{100 * g.progress:.0f} %"
        table.add_row(
            _text(g.name),
            format_kpi(g.metric, g.baseline),
            format_kpi(g.metric, g.current),
            format_kpi(g.metric, g.target),
            g.deadline.isoformat(),
            _bar(g.progress, style.replace("bold ", "") or "white"),
            share,
            format_kpi(g.metric, g.projected),
            _text(g.status, style),
        )
    return table


def _segment_table(segments: pd.DataFrame) -> Table:
    table = _table("Segments")
    for name in ("segment", "customers", "share", "MRR", "health", "red", "yellow", "green"):
        table.add_column(name, justify="left" if name == "segment" else "right")
    for row in records(segments):
        share = row.get("share")
        table.add_row(
            _text(row.get("segment", "")),
            f"{row.get('customers', 0):,}",
            "" if share is None else f"{100 * share:.0f} %",
            "" if row.get("mrr") is None else f"{row['mrr']:,.0f}",
            "" if row.get("mean_health") is None else f"{row['mean_health']:.1f}",
            _text(row.get("red", 0), "red"),
            _text(row.get("yellow", 0), "yellow"),
            _text(row.get("green", 0), "green"),
        )
    return table


def _migrations(result: Portfolio) -> list[RenderableType]:
    from cstool.kpis import BANDS

    comparison = result.comparison
    if comparison is None:
        return []
    counts = comparison.migrations.to_numpy().tolist()
    matrix = _table(f"Band migrations since {result.compared_with}")
    matrix.add_column("from \\ to")
    for band in BANDS:
        matrix.add_column(band, justify="right", style=BAND_STYLE[band])
    for i, band in enumerate(BANDS):
        matrix.add_row(_text(band, BAND_STYLE[band]), *(f"{n:,}" for n in counts[i]))
    out: list[RenderableType] = [matrix]
    moved = comparison.moved
    if len(moved):
        listing = _table(f"Moved between bands ({len(moved):,}, worse first)")
        for name in ("customer_id", "name", "from", "to", "MRR"):
            listing.add_column(name, justify="right" if name == "MRR" else "left")
        for row in records(moved.head(TOP_MOVED)):
            listing.add_row(
                _text(row["customer_id"]),
                _text(row.get("name") or ""),
                _text(row["from_band"], BAND_STYLE.get(str(row["from_band"]), "")),
                _text(row["to_band"], BAND_STYLE.get(str(row["to_band"]), "")),
                "" if row.get("mrr") is None else f"{row['mrr']:,.0f}",
            )
        out.append(listing)
    churned = comparison.churned
    if len(churned):
        # Those who left keep their name: from the file, else their last snapshot.
        # "last MRR": what they paid in the snapshot compared with, their last one.
        shown = "" if len(churned) <= TOP_MOVED else f"; the {TOP_MOVED} who paid most"
        listing = _table(f"Churned since {result.compared_with} ({len(churned):,}{shown})")
        for name in ("customer_id", "name", "last MRR"):
            listing.add_column(name, justify="right" if name == "last MRR" else "left")
        for row in records(churned.head(TOP_MOVED)):
            listing.add_row(
                _text(row["customer_id"]),  # user text: never read as markup
                _text(row.get("name") or ""),
                "" if row.get("mrr") is None else f"{row['mrr']:,.0f}",
            )
        out.append(listing)
    return out


def _followup_table(followups: pd.DataFrame) -> Table:
    table = _table(f"Top follow-ups ({len(followups):,} due)")
    columns = [c for c in ("customer_id", "name", "due", "reason", "play") if c in followups]
    for name in columns:
        table.add_column(name)
    for row in records(followups.head(TOP_FOLLOWUPS)):
        table.add_row(*(_text(row.get(c) or "") for c in columns))
    return table


def report(
    result: Portfolio,
    segments: pd.DataFrame | None = None,
    followups: pd.DataFrame | None = None,
) -> None:
    """The portfolio report in the terminal."""
    console = stdout()
    since = (
        f"compared with the snapshot of {result.compared_with}"
        if result.compared_with
        else "no earlier snapshot to compare with — take one with `cstool snapshot`"
    )
    console.print(f"[bold]Portfolio as of {result.as_of}[/] [dim]· {since}[/]")
    console.print(kpi_table(result))
    if segments is not None and len(segments):
        console.print(_segment_table(segments))
    if result.goals:
        console.print(goal_table(result.goals))
    if followups is not None and len(followups):
        console.print(_followup_table(followups))
    for part in _migrations(result):
        console.print(part)
    monthly = result.movements.get("month")
    if monthly is not None and len(monthly):
        console.print(movements_table(monthly))


def _missing(value: Any) -> bool:
    """None, NaN or pandas' <NA>."""
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _money(value: Any, signed: bool = False) -> str:
    if _missing(value):
        return "–"
    return f"{float(value):+,.0f}" if signed else f"{float(value):,.0f}"


def _percent(value: Any) -> str:
    return "–" if _missing(value) else f"{float(value):.1f}%"


def movements_table(monthly: pd.DataFrame, periods: int = MOVEMENT_PERIODS) -> Table:
    """The latest monthly revenue movements: gains, losses, net new, MRR and retention.

    Losses show as negative amounts; numbers are never cut (a narrow console folds headers).
    """
    import pandas as pd

    shown = monthly.tail(periods)
    columns = {name: shown[name].tolist() for name in shown.columns}
    rows: list[list[RenderableType]] = []
    for i in range(len(shown)):
        net = columns["net_new_mrr"][i]
        losses = [columns["contraction_mrr"][i], columns["churned_mrr"][i]]
        rows.append(
            [
                _text(pd.Timestamp(columns["start"][i]).strftime("%Y-%m")),
                _text(_money(columns["new_mrr"][i]), "green"),
                _text(_money(columns["expansion_mrr"][i]), "green"),
                _text(_money(columns["reactivation_mrr"][i]), "green"),
                *(_text(_money(-x if x else 0.0), "red" if x else "") for x in losses),
                _text(_money(net, signed=True), "green" if net > 0 else "red" if net < 0 else ""),
                _text(_money(columns["mrr_end"][i])),
                _text(_percent(columns["logo_churn"][i])),
                _text(_percent(columns["gross_revenue_retention"][i])),
                _text(_percent(columns["net_revenue_retention"][i])),
            ]
        )
    table = _table("Revenue movements per month (lost: churned MRR; churn: logo churn)")
    table.collapse_padding = True  # eleven columns fit in 80 characters
    headers = (
        "month",
        "new",
        "exp.",
        "react.",
        "contr.",
        "lost",
        "net",
        "MRR",
        "churn",
        "GRR",
        "NRR",
    )
    for j, name in enumerate(headers):
        widest = max((len(str(row[j])) for row in rows), default=1)
        table.add_column(
            name,
            justify="left" if j == 0 else "right",
            no_wrap=False,
            overflow="fold",
            min_width=widest,
        )
    for row in rows:
        table.add_row(*row)
    return table


def goals(result: Portfolio) -> None:
    """`cstool goals`: the goal table, or how to add goals when there are none."""
    if not result.goals:
        message(
            "no goals in cstool.toml yet; add one, e.g.\n\n"
            "  [[goals]]\n"
            '  metric = "satisfied_share"   # or retention_rate, nps, mrr, mrr_at_risk, …\n'
            "  target = 85\n"
            '  deadline = "2027-06-30"\n'
        )
        return
    console = stdout()
    console.print(goal_table(result.goals))
    if any(g.status == "no data" for g in result.goals):
        message(
            "a projection needs at least two dated values: take snapshots with `cstool snapshot`"
        )


def snapshot_saved(
    as_of: date, customers: int, saved: bool, db: Path, replaced: bool = False
) -> None:
    """One line on stderr after `cstool snapshot`."""
    if replaced:
        message(f"replaced the snapshot of {as_of} ({customers:,} customers) in {db}")
    elif saved:
        message(f"stored the snapshot of {as_of} ({customers:,} customers) in {db}")
    else:
        message(f"a snapshot of {as_of} is already stored in {db}; nothing changed")


def snapshot_deleted(as_of: date, rows: int, db: Path) -> None:
    """One line on stderr after `cstool snapshot --delete`."""
    if rows:
        message(f"deleted the snapshot of {as_of} ({rows:,} customers) from {db}")
    else:
        message(f"no snapshot of {as_of} in {db}; nothing changed")


def html_written(path: Path, size: int) -> None:
    """One line on stderr after --html."""
    message(f"wrote the report to {path} ({size / 1024:,.0f} KiB)")
