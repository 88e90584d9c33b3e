"""Output of `cstool segment`, and the segment lines of `cstool explain`.

Tables for people go to stdout through rich; machine formats are data alone on stdout.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

from cstool.render import csv_bytes, json_text, stdout
from cstool.render.style import BAND_STYLE
from cstool.render.text import clean, escaped, literal

if TYPE_CHECKING:
    import pandas as pd

    from cstool.segments import RuleCheck

# `--format json`: one object per customer under canonical names.
CUSTOMER_FIELDS = (
    "customer_id",
    "name",
    "mrr",
    "satisfaction",
    "health",
    "band",
    "segment",
    "cadence_days",
    "play",
)
# `--format csv`: the input's own columns, then these.
APPENDED_FIELDS = ("satisfaction", "health", "band", "segment", "cadence_days", "play")


# ---------------------------------------------------------------------------- explain


def format_value(value: Any) -> str:
    """A value as a person reads it in an explanation: missing, 12, 0.83, "green", 2026-01-31."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "missing"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.2f}" if abs(value) >= 0.01 else f"{value:.4g}"
    if isinstance(value, date):
        return value.isoformat()
    return '"' + str(value).replace('"', '\\"') + '"'


def explain_lines(checks: list[RuleCheck]) -> list[str]:
    """Plain-text lines: each rule tried in order, ✓ for the one that matched, ✗ before it.

    Under each rule: its conditions (when it has several) and the values it used.
    """
    lines: list[str] = []
    for check in checks:
        mark = "✓" if check.matched else "✗"
        rule = check.rule or "(no rule matched)"
        lines.append(f"{mark} {check.segment}: {' '.join(rule.split())}")
        if len(check.conditions) > 1:
            for text, truth in check.conditions:
                lines.append(f"    {'✓' if truth else '✗'} {' '.join(text.split())}")
        if check.values:
            shown = ", ".join(f"{k} = {format_value(v)}" for k, v in check.values.items())
            lines.append(f"    {shown}")
    return lines


# ---------------------------------------------------------------------------- machine formats


def customers_json(frame: pd.DataFrame) -> str:
    """Per-customer segments as a JSON array under canonical names."""
    return json_text(frame[[c for c in CUSTOMER_FIELDS if c in frame.columns]])


def customers_csv(raw: pd.DataFrame, frame: pd.DataFrame, *, excel: bool = False) -> bytes:
    """The input's own columns as they were, then satisfaction … play appended.

    An appended name that the input already uses (in any case) is written as `cstool_<name>`.
    """
    import pandas as pd

    out = raw.reset_index(drop=True).copy(deep=False)
    taken = {str(c).casefold() for c in raw.columns}
    for name in APPENDED_FIELDS:
        if name not in frame.columns:
            continue
        header = name if name.casefold() not in taken else f"cstool_{name}"
        out[header] = pd.Series(frame[name].array, copy=False)
    return csv_bytes(out, excel=excel)


def summary_json(summary: pd.DataFrame) -> str:
    """The per-segment summary as a JSON array."""
    return json_text(summary)


def summary_csv(summary: pd.DataFrame, *, excel: bool = False) -> bytes:
    """The per-segment summary as CSV."""
    return csv_bytes(summary, excel=excel)


# ---------------------------------------------------------------------------- tables for people


def _number(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):,.{digits}f}"


def _table(title: str) -> Any:
    from rich import box
    from rich.table import Table

    return Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )


def print_customers(frame: pd.DataFrame, order: list[str], *, title: str = "Segments") -> None:
    """One row per customer, grouped by segment in rule order, then by customer ID."""
    import numpy as np
    import pandas as pd

    codes = pd.Categorical(frame["segment"].astype("string"), categories=order).codes
    position = np.where(codes < 0, len(order), codes)
    sorter = pd.DataFrame(
        {"rank": position, "id": frame["customer_id"].astype("string").to_numpy()}
    )
    rows = frame.iloc[sorter.sort_values(["rank", "id"], kind="stable").index.to_numpy()]
    table = _table(escaped(title))
    table.add_column("ID", max_width=36, overflow="ellipsis", no_wrap=True)  # a UUID fits
    table.add_column("Name", max_width=24, overflow="ellipsis", no_wrap=True)
    table.add_column("Segment", no_wrap=True, min_width=10)
    table.add_column("Every", justify="right", no_wrap=True, min_width=5)
    table.add_column("Band", no_wrap=True, min_width=6)
    table.add_column("Health", justify="right", no_wrap=True, min_width=6)
    table.add_column("MRR", justify="right", no_wrap=True, min_width=7)

    def texts(name: str) -> list[str]:
        if name not in rows.columns:
            return [""] * len(rows)
        return [str(v) for v in rows[name].astype("string").fillna("").tolist()]

    def numbers(name: str, digits: int) -> list[str]:
        if name not in rows.columns:
            return ["—"] * len(rows)
        values = pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return [_number(v, digits) for v in values.tolist()]

    for cid, name, segment, cadence, band, health, mrr in zip(
        texts("customer_id"),
        texts("name"),
        texts("segment"),
        texts("cadence_days"),
        texts("band"),
        numbers("health", 1),
        numbers("mrr", 0),
        strict=True,
    ):
        table.add_row(
            literal(cid),
            literal(name),
            literal(segment),
            literal(f"{cadence} d"),
            literal(band, BAND_STYLE.get(band, "")),
            literal(health),
            literal(mrr),
        )
    from cstool.render.style import fit_text_columns

    console = stdout()
    fit_text_columns(table, console.width, shrink=(0, 1))
    console.print(table)


def print_summary(summary: pd.DataFrame, *, title: str = "Segment summary") -> None:
    """One row per segment (customers, share, MRR, mean scores, band mix), then each play.

    Numbers are never cut short: the number columns keep the width of their widest value,
    and when the table is wider than the console (a pipe is 80 columns) the padding
    collapses and the segment names and the band mix wrap instead.
    """
    from rich.cells import cell_len
    from rich.text import Text

    records = summary.to_dict("records")
    numbers: list[list[str]] = [
        [
            f"{int(row['customers']):,}",
            f"{float(row['share']) * 100:.1f}%",
            _number(row["mrr"]),
            _number(row["mean_satisfaction"], 1),
            _number(row["mean_health"], 1),
        ]
        for row in records
    ]
    mixes = [[str(int(row[band])) for band in BAND_STYLE] for row in records]  # red, yellow, green
    every = [f"{int(row['cadence_days'])} d" for row in records]

    def widest(cells: list[str]) -> int:
        return max((cell_len(c) for c in cells), default=1)

    table = _table(escaped(title))
    table.add_column("Segment", overflow="fold")
    for i, header in enumerate(("Customers", "Share", "MRR", "Satisf.", "Health")):
        width = widest([cells[i] for cells in numbers])
        table.add_column(header, justify="right", no_wrap=True, min_width=width)
    table.add_column(  # band mix: wraps between the counts, never inside one
        "[bold red]R[/]·[yellow]Y[/]·[green]G[/]",
        justify="right",
        min_width=widest([n for counts in mixes for n in counts]),
    )
    table.add_column("Every", justify="right", no_wrap=True, min_width=widest(every))
    for row, cells, counts, cadence in zip(records, numbers, mixes, every, strict=True):
        mix = Text(" ").join(
            Text(n, style=BAND_STYLE[band]) for n, band in zip(counts, BAND_STYLE, strict=True)
        )
        table.add_row(literal(row["segment"]), *(Text(c) for c in cells), mix, Text(cadence))
    console = stdout()

    def too_wide() -> bool:
        natural = console.measure(table, options=console.options.update_width(10_000))
        return natural.maximum > console.width

    if too_wide():
        table.collapse_padding = True  # one space less between columns before anything wraps
    if too_wide():  # a narrow console: numbers keep their width, headers and names give way
        for column in table.columns[1:]:
            if column.no_wrap:
                column.width = column.min_width
    console.print(table)
    total = int(sum(int(r["customers"]) for r in records))
    left_out = int(summary.attrs.get("not_live", 0))
    gone = f" ({left_out:,} churned, paused or prospects left out)" if left_out else ""
    console.print(f"{total:,} customers in {len(records)} segments{gone}", markup=False)
    for row in records:
        if row["play"]:
            console.print(Text.assemble((clean(row["segment"]), "bold"), ": ", clean(row["play"])))
