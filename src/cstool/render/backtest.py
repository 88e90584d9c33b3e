"""Terminal output of `cstool backtest`: bands as text bars, AUC with its interval, misses."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from cstool.render import stdout
from cstool.render.kpi_text import snapshot_dates_text

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import RenderableType
    from rich.table import Table

    from cstool.backtest import BacktestResult, ChurnCheck, TuneResult

BAND_STYLE = {"red": "bold red", "yellow": "yellow", "green": "green"}
BAR_WIDTH = 30
TOP_MISSES = 10


def _table(title: str | None = None) -> Table:
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)


def _text(value: Any, style: str = "") -> RenderableType:
    """Data shown literally: a name like [bold] stays text, never markup."""
    from rich.text import Text

    return Text("" if value is None else str(value), style=style)


def _rate(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{100 * float(value):.1f} %"


def bar(rate: float | None, highest: float, width: int = BAR_WIDTH) -> str:
    """A churn rate as a bar of block characters, the highest rate filling `width`."""
    if rate is None or math.isnan(rate) or highest <= 0:
        return ""
    cells = round(width * rate / highest)
    return "█" * cells if cells else ("▏" if rate > 0 else "")


def band_table(result: BacktestResult) -> Table:
    """Cases, churned and churn rate per band, with a bar."""
    rates = [float(r) for r in result.by_band["churn_rate"] if not math.isnan(float(r))]
    highest = max(rates, default=0.0)
    table = _table(f"Churn within {result.horizon_days} days, by band")
    for name, justify in (
        ("band", "left"),
        ("cases", "right"),
        ("churned", "right"),
        ("rate", "right"),
        ("", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for band, row in result.by_band.iterrows():
        style = BAND_STYLE.get(str(band), "")
        rate = float(row["churn_rate"])
        table.add_row(
            _text(band, style),
            f"{int(row['cases']):,}",
            f"{int(row['churned']):,}",
            _rate(rate),
            _text(bar(None if math.isnan(rate) else rate, highest), style),
        )
    return table


def figures_table(result: BacktestResult) -> Table:
    """AUC with its interval, red ÷ green, lift, and each measure's own AUC."""
    table = _table("How well low health ranks churners")
    table.add_column("figure")
    table.add_column("value", justify="right")
    auc = "" if result.auc is None else f"{result.auc:.3f}"
    if result.auc_ci is not None:
        auc += f"  ({result.auc_ci[0]:.3f}–{result.auc_ci[1]:.3f}, 95 %)"
    table.add_row("AUC of health", auc)
    ratio = result.red_green_ratio
    table.add_row("red churn ÷ green churn", "" if ratio is None else f"{ratio:.1f}×")
    lift = result.top_decile_lift
    table.add_row("lowest-health tenth ÷ all", "" if lift is None else f"{lift:.1f}×")
    for name, value in result.measures.items():
        table.add_row(f"AUC of {name}", "" if value is None else f"{value:.3f}")
    return table


def miss_table(title: str, misses: pd.DataFrame, total: int) -> Table:
    """A few named customers health got wrong, with how many there were in all."""
    from cstool.render import records

    shown = misses.head(TOP_MISSES)
    more = f", {TOP_MISSES} shown" if total > TOP_MISSES else ""
    table = _table(f"{title} ({total:,}{more})")
    for name, justify in (("customer_id", "left"), ("name", "left"), ("date", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("health", justify="right")
    for row in records(shown):
        health = row.get("health")
        table.add_row(
            _text(row.get("customer_id")),
            _text(row.get("name") or ""),
            _text(row.get("as_of")),
            "" if health is None else f"{health:.1f}",
        )
    return table


def tune_lines(result: TuneResult) -> list[RenderableType]:
    """What --tune found: the periods, held-out AUCs, and the lines to paste (if any)."""
    from rich.text import Text

    out: list[RenderableType] = []
    head = Text("Tuning", style="bold")
    if result.train_dates and result.test_dates:
        head.append(
            f" · fitted on {result.train_dates[0]}…{result.train_dates[1]} "
            f"({result.train_cases:,} cases), judged on {result.test_dates[0]}…"
            f"{result.test_dates[1]} ({result.test_cases:,} cases, "
            f"{result.test_churned:,} churned)",
            style="dim",
        )
    out.append(head)
    if result.fitted_weights is not None:
        weights = ", ".join(f"{k} {v:g}" for k, v in result.fitted_weights.items())
        out.append(Text(f"fitted weights: {weights}"))
    out.append(Text(result.message))
    if result.toml:
        out.append(Text("paste into cstool.toml:", style="bold"))
        out.append(Text(result.toml.rstrip("\n")))
    return out


def backtest(result: BacktestResult, tuned: TuneResult | None = None) -> None:
    """The whole backtest in the terminal."""
    from rich.text import Text

    console = stdout()
    dates = snapshot_dates_text(result.periods, result.first, result.last)
    console.print(
        Text(f"Backtest of health against churn · {result.cases:,} cases", style="bold"),
        Text(
            f"from {dates}, {result.churned:,} churned",
            style="dim",
        ),
    )
    console.print(band_table(result))
    console.print(figures_table(result))
    if len(result.churned_green):
        console.print(
            miss_table("Churned while green", result.churned_green, len(result.churned_green))
        )
    if len(result.red_stayed):
        console.print(miss_table("Red but stayed", result.red_stayed, len(result.red_stayed)))
    style = "bold green" if result.reliable and result.verdict.startswith("health predicts") else ""
    console.print(Text("verdict: ", style="bold") + Text(result.verdict, style=style))
    if tuned is not None:
        console.print()
        for line in tune_lines(tuned):
            console.print(line)


def churn_section(check: ChurnCheck) -> None:
    """The report's "does health predict churn?" in the terminal: churn rate by band as bars,
    the AUC with its interval, the verdict (and the tuning, if asked); or what is missing."""
    from rich.text import Text

    console = stdout()
    console.print()
    console.print(Text("Does health predict churn?", style="bold"))
    result = check.result
    if result is None:
        console.print(Text(check.needs or "", style="dim"))
        return
    console.print(band_table(result))
    auc = "n/a" if result.auc is None else f"{result.auc:.3f}"
    if result.auc_ci is not None:
        auc += f" (95 % interval {result.auc_ci[0]:.3f}–{result.auc_ci[1]:.3f})"
    console.print(
        Text("AUC of health: ", style="bold") + Text(auc),
        Text(
            f"· {result.cases:,} cases from "
            f"{snapshot_dates_text(result.periods, None, None)}, "
            f"{result.churned:,} churned; 0.5 is chance",
            style="dim",
        ),
    )
    style = "bold green" if result.reliable and result.verdict.startswith("health predicts") else ""
    console.print(Text("verdict: ", style="bold") + Text(result.verdict, style=style))
    if check.tuned is not None:
        console.print()
        for line in tune_lines(check.tuned):
            console.print(line)
