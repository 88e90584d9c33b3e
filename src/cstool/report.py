"""The portfolio report as data (kpis.json) and as one self-contained, offline HTML page.

Charts are drawn by matplotlib as inline SVG: no script, no font, no request to anywhere,
byte-identical for the same input (fixed hash salt, no date in the metadata).
"""

from __future__ import annotations

import html
import io
import json
import math
import re
from typing import TYPE_CHECKING, Any

from cstool.kpis import BANDS, CHANGE_KPIS, KPIS, LEVEL_KPIS, GoalProgress, Portfolio

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from cstool.config import Settings

BAND_COLOURS = {"red": "#d64545", "yellow": "#d99a00", "green": "#2e9e5b"}
STATUS_COLOURS = {
    "achieved": "#2e9e5b",
    "on track": "#2e9e5b",
    "behind": "#d64545",
    "missed": "#d64545",
    "no data": "#9aa5b1",
}
ACCENT = "#3b6fd6"
# The Content-Security-Policy of the page: nothing may be fetched, inline styles only.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
# KPIs shown as cards, in this order (the rest are in the table).
CARD_KPIS = (
    "customers",
    "mrr",
    "mrr_at_risk",
    "satisfied_share",
    "mean_satisfaction",
    "mean_health",
    "nps",
    "retention_rate",
    "logo_churn",
    "gross_revenue_retention",
    "net_revenue_retention",
    "new_customers",
)
TREND_KPIS = (
    "customers",
    "mrr",
    "satisfied_share",
    "mean_health",
    "nps",
    "retention_rate",
)
ROWS_SHOWN = 25


# Formatting -----------------------------------------------------------------------------------


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


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


# Data (kpis.json) -----------------------------------------------------------------------------


LISTINGS = ("moved", "new", "churned")


def _listing(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None:
        return []
    from cstool.render import records

    return records(frame)


def _listing_lines(frame: pd.DataFrame) -> list[str]:
    """One JSON object per row, written by pandas' C encoder (no Python call per row)."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = out[name].dt.strftime("%Y-%m-%d")
    text = out.to_json(orient="records", lines=True, force_ascii=False, double_precision=15)
    return text.splitlines()


def _kpi_value(name: str, value: float | None) -> float | int | None:
    """Counts as integers in JSON (`200`, not `200.0`); everything else as it is."""
    if value is not None and name in KPIS and KPIS[name].kind == "count":
        return round(value)
    return value


def _goal_record(goal: GoalProgress) -> dict[str, Any]:
    return {
        "name": goal.name,
        "metric": goal.metric,
        "baseline": goal.baseline,
        "baseline_date": goal.baseline_date.isoformat() if goal.baseline_date else None,
        "current": goal.current,
        "target": goal.target,
        "deadline": goal.deadline.isoformat(),
        "progress": goal.progress,
        "projected": goal.projected,
        "status": goal.status,
        "on_track": goal.on_track,
        "days_left": goal.days_left,
    }


def report_data(result: Portfolio, settings: Settings) -> dict[str, Any]:
    """Everything the report shows, as plain JSON-ready data (missing as None)."""
    data = _report_data(result, settings)
    comparison = result.comparison
    for key in LISTINGS:
        data[key] = _listing(getattr(comparison, key) if comparison else None)
    return data


def _report_data(result: Portfolio, settings: Settings) -> dict[str, Any]:
    """report_data with the customer listings left as frames (or None)."""
    names = list(LEVEL_KPIS) + list(CHANGE_KPIS)
    previous = result.previous
    change: dict[str, float | None] = {}
    for name in names:
        now = result.kpis.get(name)
        then = previous.get(name) if previous else None
        change[name] = _kpi_value(
            name, now - then if now is not None and then is not None else None
        )
    comparison = result.comparison
    migrations = None
    if comparison is not None:
        m = comparison.migrations
        counts = m.to_numpy().tolist()
        migrations = {
            a: {b: int(counts[i][j]) for j, b in enumerate(BANDS)} for i, a in enumerate(BANDS)
        }
    trend = [
        {
            "as_of": day.isoformat(),
            **{k: _kpi_value(k, _number(row[k])) for k in result.trend.columns},
        }
        for day, row in zip(result.trend.index, result.trend.to_dict("records"), strict=True)
    ]
    return {
        "as_of": result.as_of.isoformat(),
        "compared_with": result.compared_with.isoformat() if result.compared_with else None,
        "satisfied_threshold": settings.kpis.satisfied_threshold,
        "kpis": {name: _kpi_value(name, result.kpis.get(name)) for name in names},
        "previous": (
            {name: _kpi_value(name, previous.get(name)) for name in names} if previous else None
        ),
        "change": change,
        "band_migrations": migrations,
        **{key: getattr(comparison, key) if comparison else None for key in LISTINGS},
        "goals": [_goal_record(g) for g in result.goals],
        "trend": trend,
    }


def report_json(result: Portfolio, settings: Settings) -> str:
    """kpis.json: the report's data, stable key order, full precision, null for missing.

    Indented like `json.dumps(indent=2)`, except that each item of a list sits on one line:
    as readable, and C encoders do the work (a 100k-customer list takes ~0.1 s, not 1 s).
    """

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)

    def items(lines: list[str]) -> str:
        return "[\n    " + ",\n    ".join(lines) + "\n  ]" if lines else "[]"

    parts = []
    for key, value in _report_data(result, settings).items():
        if key in LISTINGS:
            text = items(_listing_lines(value) if value is not None else [])
        elif isinstance(value, list):
            text = items([dump(item) for item in value])
        elif isinstance(value, dict):
            text = json.dumps(value, ensure_ascii=False, allow_nan=False, indent=2)
            text = text.replace("\n", "\n  ")
        else:
            text = dump(value)
        parts.append(f"  {dump(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


# Charts ---------------------------------------------------------------------------------------


def _figure(width: float, height: float, **margins: float) -> Figure:
    """A figure with fixed margins (a layout engine would cost ~0.1 s per chart)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    fig.subplots_adjust(**{"left": 0.1, "right": 0.97, "top": 0.93, "bottom": 0.15, **margins})
    return fig


def _label_margin(labels: list[str], width: float) -> float:
    """The left margin (figure fraction) that fits the longest y label at 9 pt."""
    longest = max((len(label) for label in labels), default=4)
    return min(0.5, (0.2 + 0.072 * longest) / width)


def _short_label(text: str, limit: int = 42) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _style(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.spines[["left", "bottom"]].set_color("#c3cad4")
    ax.tick_params(colors="#5f6b7a", labelsize=9)
    ax.grid(axis="y", color="#e9edf3", linewidth=0.8)
    ax.set_axisbelow(True)


def _title(ax: Any, text: str, *, color: str = "#1d2330", x: float = 0.0, ha: str = "left") -> None:
    """A title above the axes; plain text, since `set_title` would measure the whole axes
    to place itself (a third of a chart's drawing time)."""
    ax.text(x, 1.04, text, transform=ax.transAxes, fontsize=10, color=color, ha=ha, va="bottom")


_SVG_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_SVG_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_SVG_SIZE = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')


def _svg(fig: Figure, key: str, label: str) -> str:
    """The figure as inline SVG: no prolog or metadata, ids made unique to this chart."""
    import warnings

    import matplotlib

    buffer = io.StringIO()
    with (
        matplotlib.rc_context({"svg.hashsalt": f"cstool-{key}", "svg.fonttype": "none"}),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")  # glyphs missing from DejaVu: the browser draws them
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = _SVG_METADATA.sub("", _SVG_PROLOG.sub("", buffer.getvalue(), count=1))
    text = _SVG_SIZE.sub(
        rf'<svg\1 role="img" aria-label="{html.escape(label)}" preserveAspectRatio="xMidYMid meet"',
        text,
        count=1,
    )
    text = text.replace('xmlns:xlink="http://www.w3.org/1999/xlink" ', "")
    text = re.sub(r'\bid="', f'id="{key}-', text)
    text = text.replace("url(#", f"url(#{key}-").replace('href="#', f'href="#{key}-')
    return text.strip()


def _health_chart(frame: pd.DataFrame, settings: Settings) -> str:
    import numpy as np

    health = frame["health"].to_numpy(dtype=float, na_value=np.nan)
    health = health[~np.isnan(health)]
    edges = np.linspace(0, 100, 21)
    counts, _ = np.histogram(np.clip(health, 0, 100), bins=edges)
    mids = (edges[:-1] + edges[1:]) / 2
    colours = np.where(
        mids < settings.bands.red_below,
        BAND_COLOURS["red"],
        np.where(mids < settings.bands.green_from, BAND_COLOURS["yellow"], BAND_COLOURS["green"]),
    )
    fig = _figure(5.6, 2.9, left=0.12, bottom=0.17, top=0.96)
    ax = fig.add_subplot()
    ax.bar(mids, counts, width=4.6, color=colours.tolist())
    for x in (settings.bands.red_below, settings.bands.green_from):
        ax.axvline(x, color="#5f6b7a", linewidth=0.8, linestyle="--")
    ax.set_xlim(0, 100)
    ax.set_xlabel("health", fontsize=9, color="#5f6b7a")
    ax.set_ylabel("customers", fontsize=9, color="#5f6b7a")
    _style(ax)
    return _svg(fig, "health", "Health distribution")


def _segment_mix(frame: pd.DataFrame) -> pd.DataFrame:
    """Customers and MRR per segment, biggest first, ties by name."""
    import pandas as pd

    if "segment" not in frame.columns:
        return pd.DataFrame(columns=["segment", "customers", "mrr"])
    parts = pd.DataFrame(
        {
            "segment": frame["segment"].astype("string").fillna("(none)"),
            "mrr": pd.to_numeric(frame["mrr"], errors="coerce").fillna(0.0),
        }
    )
    mix = parts.groupby("segment", sort=True).agg(customers=("mrr", "size"), mrr=("mrr", "sum"))
    mix = mix.reset_index().sort_values(
        ["customers", "segment"], ascending=[False, True], kind="stable"
    )
    return mix.reset_index(drop=True)


def _segment_chart(mix: pd.DataFrame) -> str:
    from matplotlib import colormaps

    palette = getattr(colormaps["tab10"], "colors", [ACCENT])
    names = [_short_label(name, 30) for name in mix["segment"].tolist()][::-1]
    colours = [palette[i % len(palette)] for i in range(len(names))][::-1]
    height = max(1.6, 0.36 * len(names) + 0.9)
    fig = _figure(
        11.0,
        height,
        left=_label_margin(names, 11.0),
        top=1 - 0.35 / height,
        bottom=0.4 / height,
        wspace=0.12,
    )
    left, right = fig.subplots(1, 2, sharey=True)
    left.barh(names, mix["customers"].tolist()[::-1], color=colours)
    right.barh(names, mix["mrr"].tolist()[::-1], color=colours)
    _title(left, "customers", color="#5f6b7a", x=0.5, ha="center")
    _title(right, "MRR", color="#5f6b7a", x=0.5, ha="center")
    for ax in (left, right):
        _style(ax)
        ax.grid(axis="x", color="#e9edf3", linewidth=0.8)
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter("{x:,.0f}")
    return _svg(fig, "segments", "Segment mix: customers and MRR per segment")


def _band_chart(frame: pd.DataFrame) -> str:
    import pandas as pd

    mrr = pd.to_numeric(frame["mrr"], errors="coerce").fillna(0.0)
    band = frame["band"].astype("string")
    totals = [float(mrr[(band == b).fillna(False).to_numpy(dtype=bool)].sum()) for b in BANDS]
    counts = [int((band == b).fillna(False).sum()) for b in BANDS]
    fig = _figure(5.6, 2.9, left=0.15, bottom=0.1, top=0.96)
    ax = fig.add_subplot()
    bars = ax.bar(list(BANDS), totals, color=[BAND_COLOURS[b] for b in BANDS], width=0.6)
    labels = [f"{t:,.0f}\n{c:,} customers" for t, c in zip(totals, counts, strict=True)]
    ax.bar_label(bars, labels=labels, fontsize=8, color="#1d2330", padding=2)
    ax.margins(y=0.25)
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.set_ylabel("MRR", fontsize=9, color="#5f6b7a")
    _style(ax)
    return _svg(fig, "bands", "MRR by health band")


def _trend_chart(trend: pd.DataFrame) -> str:
    import matplotlib.dates as mdates
    import numpy as np
    import pandas as pd

    fig = _figure(11.0, 4.6, left=0.07, right=0.985, top=0.93, bottom=0.07, hspace=0.42, wspace=0.3)
    axes = fig.subplots(2, 3).ravel()
    days = list(trend.index)
    for ax, name in zip(axes, TREND_KPIS, strict=True):
        values = trend[name].to_numpy(dtype=float) if name in trend.columns else np.array([])
        ax.plot(days, values, color=ACCENT, marker="o", markersize=3.5, linewidth=1.6)
        if days:  # every chart spans all snapshots, even one with a single value
            pad = pd.Timedelta(days=1 if len(days) > 1 else 3)
            ax.set_xlim(pd.Timestamp(min(days)) - pad, pd.Timestamp(max(days)) + pad)
        _title(ax, KPIS[name].label)
        locator = mdates.AutoDateLocator(minticks=2, maxticks=5)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        concise = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
        concise.show_offset = False  # the year sits in the tick labels where it changes
        ax.xaxis.set_major_formatter(concise)
        if KPIS[name].kind in ("count", "money"):
            ax.yaxis.set_major_formatter("{x:,.0f}")
        if np.isnan(values).all():
            ax.text(
                0.5,
                0.5,
                "needs two snapshots",
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=9,
                color="#9aa5b1",
            )
        _style(ax)
    return _svg(fig, "trend", "KPI trends over snapshots")


def _goal_chart(goals: list[GoalProgress]) -> str:
    names = [_short_label(g.name) for g in goals][::-1]
    height = max(1.4, 0.5 * len(goals) + 0.7)
    fig = _figure(11.0, height, left=_label_margin(names, 11.0), top=1 - 0.15 / height)
    fig.subplots_adjust(bottom=0.45 / height)
    ax = fig.add_subplot()
    progress = [100 * (g.progress or 0.0) for g in goals][::-1]
    colours = [STATUS_COLOURS[g.status] for g in goals][::-1]
    ax.barh(names, [100] * len(goals), color="#e9edf3", height=0.55)
    ax.barh(names, progress, color=colours, height=0.55)
    for y, g in enumerate(goals[::-1]):
        text = f"{format_kpi(g.metric, g.current)} of {format_kpi(g.metric, g.target)} · {g.status}"
        ax.text(101.5, y, text, va="center", fontsize=9, color="#1d2330")
    ax.set_xlim(0, 140)
    ax.set_xticks([0, 25, 50, 75, 100], ["0 %", "25 %", "50 %", "75 %", "100 %"])
    _style(ax)
    ax.grid(axis="y", visible=False)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0, labelsize=9, labelcolor="#1d2330")
    return _svg(fig, "goals", "Goal progress from baseline to target")


# HTML -----------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _band_badge(band: object) -> str:
    text = "" if band is None else str(band)
    return f'<span class="band {_e(text)}">{_e(text)}</span>' if text in BANDS else _e(text)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _cell(name: str, value: Any) -> str:
    if name in ("band", "from_band", "to_band"):
        return f"<td>{_band_badge(value)}</td>"
    if value is None or isinstance(value, bool):
        return f"<td>{_e(value)}</td>"
    if isinstance(value, int | float):
        if math.isnan(value):
            return "<td></td>"
        if name == "share":  # a segment's share of the customers, 0–1
            text = f"{100 * value:.0f} %"
        else:
            text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
        return f'<td class="num">{_e(text)}</td>'
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return f'<td class="day">{_e(value)}</td>'
    return f"<td>{_e(value)}</td>"


def _table(rows: list[dict[str, Any]], columns: list[str], total: int | None = None) -> str:
    """An HTML table of the first rows; `total` counts them all, for a "… and N more" note."""
    if not rows:
        return '<p class="note">None.</p>'
    first = rows[0]
    numeric = {c for c in columns if isinstance(first.get(c), int | float) and c != "priority"}
    head = "".join(
        f"<th{' class=num' if c in numeric else ''}>{_e(c.replace('_', ' '))}</th>" for c in columns
    )
    body = "".join(
        "<tr>" + "".join(_cell(c, row.get(c)) for c in columns) + "</tr>" for row in rows
    )
    hidden = (total or len(rows)) - len(rows)
    more = f'<p class="note">… and {hidden:,} more.</p>' if hidden > 0 else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _frame_rows(frame: pd.DataFrame | None, limit: int) -> tuple[list[dict[str, Any]], int]:
    if frame is None or frame.empty:
        return [], 0
    from cstool.render import records

    return records(frame.head(limit)), len(frame)


def _cards(result: Portfolio) -> str:
    cards = []
    for name in CARD_KPIS:
        now = result.kpis.get(name)
        then = result.previous.get(name) if result.previous else None
        text, tone = kpi_change(name, now, then)
        change = f'<div class="change {tone}">{_e(text)}</div>' if text else ""
        cards.append(
            f'<div class="card" title="{_e(KPIS[name].definition)}">'
            f'<div class="label">{_e(KPIS[name].label)}</div>'
            f'<div class="value">{_e(format_kpi(name, now))}</div>{change}</div>'
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


def _kpi_table(result: Portfolio) -> str:
    rows = []
    for name in list(LEVEL_KPIS) + list(CHANGE_KPIS):
        now = result.kpis.get(name)
        then = result.previous.get(name) if result.previous else None
        text, tone = kpi_change(name, now, then)
        rows.append(
            f"<tr><td>{_e(KPIS[name].label)}</td>"
            f'<td class="num">{_e(format_kpi(name, now))}</td>'
            f'<td class="num">{_e(format_kpi(name, then))}</td>'
            f'<td class="num {tone}">{_e(text)}</td>'
            f'<td class="note">{_e(KPIS[name].definition)}</td></tr>'
        )
    then_head = result.compared_with.isoformat() if result.compared_with else "previous"
    return (
        f"<table><thead><tr><th>KPI</th><th class='num'>{_e(result.as_of.isoformat())}</th>"
        f"<th class='num'>{_e(then_head)}</th><th class='num'>change</th><th>definition</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _goal_table(goals: list[GoalProgress]) -> str:
    rows = []
    for g in goals:
        width = 100 * (g.progress or 0.0)
        slug = g.status.replace(" ", "-")
        rows.append(
            f"<tr><td>{_e(g.name)}</td>"
            f'<td class="num">{_e(format_kpi(g.metric, g.baseline))}</td>'
            f'<td class="num">{_e(format_kpi(g.metric, g.current))}</td>'
            f'<td class="num">{_e(format_kpi(g.metric, g.target))}</td>'
            f"<td>{_e(g.deadline.isoformat())}</td>"
            f'<td><div class="bar"><span style="width:{width:.1f}%"></span></div></td>'
            f'<td class="num">{_e(format_kpi(g.metric, g.projected))}</td>'
            f'<td class="status {slug}">{_e(g.status)}</td></tr>'
        )
    return (
        "<table><thead><tr><th>goal</th><th class='num'>baseline</th><th class='num'>now</th>"
        "<th class='num'>target</th><th>deadline</th><th>progress</th>"
        "<th class='num'>projected</th><th>status</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _migration_table(result: Portfolio) -> str:
    if result.comparison is None:
        return '<p class="note">Band migrations need a snapshot to compare with.</p>'
    counts = result.comparison.migrations.to_numpy().tolist()
    head = "".join(f"<th class='num'>to {_band_badge(b)}</th>" for b in BANDS)
    body = "".join(
        f"<tr><th>from {_band_badge(a)}</th>"
        + "".join(f'<td class="num">{int(n):,}</td>' for n in counts[i])
        + "</tr>"
        for i, a in enumerate(BANDS)
    )
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(
    result: Portfolio,
    frame: pd.DataFrame,
    settings: Settings,
    *,
    segments: pd.DataFrame | None = None,
    followups: pd.DataFrame | None = None,
    title: str = "Customer portfolio",
) -> str:
    """The whole report as one HTML page that opens offline and fetches nothing."""
    from importlib.resources import files

    css = files("cstool").joinpath("assets/report.css").read_text(encoding="utf-8")
    as_of = result.as_of.isoformat()
    since = (
        f"compared with the snapshot of {result.compared_with.isoformat()}"
        if result.compared_with
        else "no earlier snapshot to compare with (take one with `cstool snapshot`)"
    )
    mix = _segment_mix(frame)
    if segments is not None and not segments.empty:
        seg_rows, _ = _frame_rows(segments, 100)
        seg_columns = list(segments.columns)
        if {"segment", "customers", "mrr"} <= set(segments.columns):
            # The chart in the table's (rule) order, so colours and rows line up.
            mix = segments.loc[segments["customers"] > 0, ["segment", "customers", "mrr"]]
            mix = mix.fillna({"mrr": 0.0}).reset_index(drop=True)
    else:
        seg_rows, _ = _frame_rows(mix, 100)
        seg_columns = list(mix.columns)

    parts: list[str] = [
        "<section><h2>Key figures</h2>",
        _cards(result),
        f'<p class="note">{_e(since)}. Satisfied means satisfaction ≥ '
        f"{settings.kpis.satisfied_threshold:g}.</p></section>",
        '<div class="grid2">',
        "<section><h2>Health distribution</h2><figure>",
        _health_chart(frame, settings),
        f"<figcaption>Customers per health score; dashed lines at the band thresholds "
        f"{settings.bands.red_below:g} and {settings.bands.green_from:g}.</figcaption>"
        "</figure></section>",
        "<section><h2>MRR by band</h2><figure>",
        _band_chart(frame),
        "<figcaption>Monthly recurring revenue of the customers in each health band."
        "</figcaption></figure></section></div>",
        "<section><h2>Trends over snapshots</h2><figure>",
        _trend_chart(result.trend),
        f"<figcaption>One point per stored snapshot up to {_e(as_of)}; retention compares "
        "each snapshot with the one before.</figcaption></figure></section>",
        "<section><h2>Goals</h2>",
    ]
    if result.goals:
        parts += [
            "<figure>",
            _goal_chart(result.goals),
            "<figcaption>Share of the way from baseline to target; the projection is a "
            "straight line through the snapshots, extended to the deadline.</figcaption>"
            "</figure>",
            _goal_table(result.goals),
        ]
    else:
        parts.append(
            '<p class="note">No goals yet. Add them to cstool.toml, e.g. '
            '<code>[[goals]] metric = "satisfied_share" target = 85 '
            'deadline = "2027-06-30"</code>.</p>'
        )
    parts += ["</section>", "<section><h2>Segments</h2>"]
    if len(mix):
        parts += ["<figure>", _segment_chart(mix), "</figure>"]
    parts += [_table(seg_rows, seg_columns), "</section>"]

    fu_rows, fu_total = _frame_rows(followups, ROWS_SHOWN)
    fu_columns = [
        c
        for c in ("customer_id", "name", "due", "priority", "reason", "segment", "play")
        if followups is not None and c in followups.columns
    ]
    parts += [
        f"<section><h2>Top follow-ups</h2><p class='note'>{fu_total:,} due by {_e(as_of)}"
        f"{', the first ' + str(ROWS_SHOWN) + ' shown' if fu_total > ROWS_SHOWN else ''}.</p>",
        _table(fu_rows, fu_columns, fu_total) if fu_rows else "",
        "</section>",
    ]

    comparison = result.comparison
    parts += ["<section><h2>Changes since the last snapshot</h2>", _migration_table(result)]
    if comparison is not None:
        listings: tuple[tuple[str, pd.DataFrame, list[str]], ...] = (
            ("Moved between bands (worse first)", comparison.moved, ["from_band", "to_band"]),
            ("New customers", comparison.new, []),
            ("Churned customers", comparison.churned, []),
        )
        for heading, listing, extra in listings:
            rows, total = _frame_rows(listing, ROWS_SHOWN)
            parts += [
                f"<h3>{_e(heading)}</h3>",
                _table(rows, ["customer_id", "name", *extra, "mrr"], total),
            ]
    parts += ["</section>", "<section><h2>All KPIs</h2>", _kpi_table(result), "</section>"]

    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)} · {_e(as_of)}</title>\n"
        f"<style>\n{css}</style></head>\n<body>\n"
        f"<header><h1>{_e(title)}</h1><p>As of {_e(as_of)} · {_e(since)}</p></header>\n"
        f"<main>\n{body}\n</main>\n"
        f"<footer>Made by cstool for {_e(as_of)}.</footer>\n</body></html>\n"
    )
