"""KPI values and their changes as text for people (terminal and HTML)."""

from __future__ import annotations

import math

from cstool.kpis.definitions import KPIS


def format_kpi(name: str, value: float | None) -> str:
    """A KPI value for people: counts and money with separators, shares as %, NPS signed."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    kind = KPIS[name].kind if name in KPIS else "score"
    if kind in ("count", "money"):
        return f"{value:,.0f}"
    if kind == "percent":
        return f"{value:.1f} %"
    if kind == "nps":
        return f"{value:+.0f}"
    return f"{value:.1f}"


def kpi_change(name: str, now: float | None, then: float | None) -> tuple[str, str]:
    """The change of a KPI as `▲ +3.2 pp` and its tone: good, bad or flat ('' if unknown)."""
    if now is None or then is None or math.isnan(now) or math.isnan(then):
        return "", ""
    delta = now - then
    kind = KPIS[name].kind if name in KPIS else "score"
    better = KPIS[name].better if name in KPIS else "neutral"
    if kind in ("count", "money"):
        text = f"{delta:+,.0f}"
    elif kind == "percent":
        text = f"{delta:+.1f} pp"
    elif kind == "nps":
        text = f"{delta:+.0f}"
    else:
        text = f"{delta:+.1f}"
    if abs(delta) < 1e-9:
        return "= 0", "flat"
    arrow = "▲" if delta > 0 else "▼"
    rising_is_good = better == "up"
    tone = "flat" if better == "neutral" else ("good" if (delta > 0) == rising_is_good else "bad")
    return f"{arrow} {text}", tone


def snapshot_dates_text(periods: int, first: object, last: object) -> str:
    """`1 snapshot date (2026-08-31)`, `24 snapshot dates (2024-12-31 … 2026-11-30)`."""
    noun = "snapshot date" if periods == 1 else "snapshot dates"
    if first is None or first == "":
        return f"{periods:,} {noun}"
    span = str(first) if first == last or last is None else f"{first} … {last}"
    return f"{periods:,} {noun} ({span})"
