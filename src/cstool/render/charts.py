"""The report's charts: matplotlib figures as inline SVG.

No script, no font, no request to anywhere; byte-identical for the same input (fixed hash
salt, no date in the metadata). Every label that comes from the user's data goes through
`mathtext_safe`, so a name with dollar signs is drawn as written and never parsed as math.
"""

from __future__ import annotations

import html
import io
import re
from typing import TYPE_CHECKING, Any

from cstool.kpis.definitions import BANDS, KPIS
from cstool.render.kpi_text import format_kpi
from cstool.render.style import BAND_COLOURS, MOVEMENT_COLOURS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from cstool.config import Settings
    from cstool.kpis.goals import GoalProgress

STATUS_COLOURS = {
    "achieved": "#2e9e5b",
    "on track": "#2e9e5b",
    "behind": "#d64545",
    "missed": "#d64545",
    "no data": "#9aa5b1",
}
ACCENT = "#3b6fd6"
TREND_KPIS = (
    "customers",
    "mrr",
    "satisfied_share",
    "mean_health",
    "nps",
    "retention_rate",
)
MOVEMENT_PERIODS_SHOWN = 24  # the latest periods in a movements chart


def mathtext_safe(text: str) -> str:
    """`text` escaped for matplotlib: every `$` as `\\$`, so it is drawn literally.

    Matplotlib reads a pair of unescaped dollars as mathtext (and raises on `$x_$`);
    with every dollar escaped there is no math, and it draws `\\$` as `$`.
    """
    return text.replace("$", r"\$")


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


def _whole_numbers(axis: Any) -> None:
    """Ticks on whole numbers only, for an axis of counts or money shown without decimals:
    with few customers the default ticks 3.0, 3.2, … read as "3, 3, 3, 4"."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))
    axis.set_major_formatter("{x:,.0f}")


def _title(ax: Any, text: str, *, color: str = "#1d2330", x: float = 0.0, ha: str = "left") -> None:
    """A title above the axes; plain text, since `set_title` would measure the whole axes
    to place itself (a third of a chart's drawing time)."""
    ax.text(
        x,
        1.04,
        mathtext_safe(text),
        transform=ax.transAxes,
        fontsize=10,
        color=color,
        ha=ha,
        va="bottom",
    )


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


def health_chart(frame: pd.DataFrame, settings: Settings) -> str:
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
    _whole_numbers(ax.yaxis)
    _style(ax)
    return _svg(fig, "health", "Health distribution")


def segment_mix(frame: pd.DataFrame) -> pd.DataFrame:
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


def segment_chart(mix: pd.DataFrame) -> str:
    from matplotlib import colormaps

    palette = getattr(colormaps["tab10"], "colors", [ACCENT])
    names = [mathtext_safe(_short_label(str(name), 30)) for name in mix["segment"].tolist()][::-1]
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
        _whole_numbers(ax.xaxis)
    return _svg(fig, "segments", "Segment mix: customers and MRR per segment")


def band_chart(frame: pd.DataFrame) -> str:
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
    _whole_numbers(ax.yaxis)
    ax.set_ylabel("MRR", fontsize=9, color="#5f6b7a")
    _style(ax)
    return _svg(fig, "bands", "MRR by health band")


DATED_TICKS = 6  # up to this many snapshots, the trend charts label each one's day


def _day_labels(days: list[Any]) -> list[str]:
    """`Aug 31`, `Sep 30`, …; with the year (`Dec 31 '25`) when the days span two years."""
    import pandas as pd

    stamps = [pd.Timestamp(day) for day in days]
    two_years = len({stamp.year for stamp in stamps}) > 1
    return [f"{s:%b} {s.day}" + (f" '{s:%y}" if two_years else "") for s in stamps]


def trend_chart(trend: pd.DataFrame) -> str:
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
            if len(days) <= DATED_TICKS:  # room for the first and last day's label
                pad = max(pad, (pd.Timestamp(max(days)) - pd.Timestamp(min(days))) * 0.07)
            ax.set_xlim(pd.Timestamp(min(days)) - pad, pd.Timestamp(max(days)) + pad)
        _title(ax, KPIS[name].label)
        if 0 < len(days) <= DATED_TICKS:
            # Few snapshots: a tick on each, labelled with its day (month-end snapshots
            # under month ticks read as the next month's).
            ax.set_xticks(days, _day_labels(days))
        else:
            locator = mdates.AutoDateLocator(minticks=2, maxticks=5)  # type: ignore[no-untyped-call]
            ax.xaxis.set_major_locator(locator)
            concise = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
            concise.show_offset = False  # the year sits in the tick labels where it changes
            ax.xaxis.set_major_formatter(concise)
        if KPIS[name].kind in ("count", "money"):
            _whole_numbers(ax.yaxis)
        if np.isnan(values).all():
            ax.set_yticks([])  # no values: no scale to read
            # A change needs two snapshots; a level missing from several was never measured.
            ax.text(
                0.5,
                0.5,
                "needs two snapshots" if len(days) < 2 else "not measured in the snapshots",
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=9,
                color="#9aa5b1",
            )
        _style(ax)
    return _svg(fig, "trend", "KPI trends over snapshots")


def goal_chart(goals: list[GoalProgress]) -> str:
    names = [mathtext_safe(_short_label(g.name)) for g in goals][::-1]
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
        ax.text(101.5, y, mathtext_safe(text), va="center", fontsize=9, color="#1d2330")
    ax.set_xlim(0, 140)
    ax.set_xticks([0, 25, 50, 75, 100], ["0 %", "25 %", "50 %", "75 %", "100 %"])
    _style(ax)
    ax.grid(axis="y", visible=False)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0, labelsize=9, labelcolor="#1d2330")
    return _svg(fig, "goals", "Goal progress from baseline to target")


def movements_chart(frame: pd.DataFrame, period: str) -> str:
    """MRR movements per period: gains stacked up, losses stacked down, net new as a line."""
    import numpy as np

    shown = frame.tail(MOVEMENT_PERIODS_SHOWN)
    labels = [period_label(day, period) for day in shown["start"]]
    x = np.arange(len(shown))
    fig = _figure(11.0, 3.2, left=0.08, right=0.985, top=0.9, bottom=0.16)
    ax = fig.add_subplot()
    bottom = np.zeros(len(shown))
    for kind in ("new", "expansion", "reactivation"):
        values = shown[f"{kind}_mrr"].to_numpy(dtype=float)
        ax.bar(x, values, bottom=bottom, width=0.6, color=MOVEMENT_COLOURS[kind], label=kind)
        bottom += values
    bottom = np.zeros(len(shown))
    for kind in ("contraction", "churned"):
        values = -shown[f"{kind}_mrr"].to_numpy(dtype=float)
        ax.bar(x, values, bottom=bottom, width=0.6, color=MOVEMENT_COLOURS[kind], label=kind)
        bottom += values
    ax.plot(
        x,
        shown["net_new_mrr"].to_numpy(dtype=float),
        color=MOVEMENT_COLOURS["net"],
        marker="o",
        markersize=3.5,
        linewidth=1.4,
        label="net new",
    )
    ax.axhline(0, color="#5f6b7a", linewidth=0.8)
    # The net-new line's highest and lowest points stay inside: an empty bar stacked on
    # top (height 0 at the stack's top) would otherwise pin the axis there.
    ax.use_sticky_edges = False
    ax.margins(y=0.12)
    ax.set_xticks(x, [mathtext_safe(label) for label in labels])
    _whole_numbers(ax.yaxis)
    ax.set_ylabel("MRR", fontsize=9, color="#5f6b7a")
    ax.legend(fontsize=8, ncols=6, loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False)
    _style(ax)
    return _svg(fig, f"movements-{period}", f"MRR movements per {period}")


def period_label(day: Any, period: str) -> str:
    """A period by its start: `2026-03` for a month, `2026 Q1`, `2026-03-02` for a week."""
    import pandas as pd

    stamp = pd.Timestamp(day)
    if period == "month":
        return stamp.strftime("%Y-%m")
    if period == "quarter":
        return f"{stamp.year} Q{stamp.quarter}"
    return stamp.strftime("%Y-%m-%d")


def churn_band_chart(by_band: pd.DataFrame) -> str:
    """Churn rate per health band as bars, each labelled with its rate and counts."""
    import numpy as np
    from matplotlib.ticker import PercentFormatter

    rates = by_band.reindex(list(BANDS))
    shares = 100 * rates["churn_rate"].to_numpy(dtype=float, na_value=np.nan)
    cases = rates["cases"].fillna(0).astype(int).tolist()
    churned = rates["churned"].fillna(0).astype(int).tolist()
    fig = _figure(5.6, 2.9, left=0.12, bottom=0.1, top=0.96)
    ax = fig.add_subplot()
    bars = ax.bar(
        list(BANDS),
        np.nan_to_num(shares).tolist(),
        color=[BAND_COLOURS[b] for b in BANDS],
        width=0.6,
    )
    labels = [
        ("no cases" if n == 0 else f"{s:.1f} %\n{c:,} of {n:,} churned")
        for s, c, n in zip(shares, churned, cases, strict=True)
    ]
    ax.bar_label(bars, labels=labels, fontsize=8, color="#1d2330", padding=2)
    ax.margins(y=0.3)
    highest = float(np.nan_to_num(shares).max())
    if highest == 0:
        ax.set_ylim(0, 10)  # nothing churned: a scale of 0–10 %, not ticks a hair apart
    else:
        ax.set_ylim(bottom=0)
    # As many decimals as the scale needs: rates under 1 % read "0.2 %", not "0 %, 0 %, 0 %".
    decimals = 0 if highest == 0 or highest >= 4 else 1 if highest >= 0.4 else 2
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=decimals, symbol=" %"))
    ax.set_ylabel("churn rate", fontsize=9, color="#5f6b7a")
    _style(ax)
    return _svg(fig, "churn-bands", "Churn rate by health band")


def roc_chart(roc: pd.DataFrame, auc: float | None, interval: tuple[float, float] | None) -> str:
    """The ROC curve of low health as the churn signal, the chance diagonal and the AUC.

    `roc` is already thinned for drawing (backtest.roc_points); the AUC is the exact one.
    """
    fig = _figure(5.6, 2.9, left=0.12, bottom=0.17, top=0.96, right=0.97)
    ax = fig.add_subplot()
    ax.plot([0, 100], [0, 100], color="#9aa5b1", linewidth=0.9, linestyle="--")
    ax.plot(
        (100 * roc["fpr"]).tolist(),
        (100 * roc["tpr"]).tolist(),
        color=ACCENT,
        linewidth=1.8,
    )
    ax.text(62, 55, "chance", fontsize=8, color="#9aa5b1", rotation=0)
    if auc is not None:
        text = f"AUC {auc:.2f}"
        if interval is not None:
            text += f"\n95 % interval\n{interval[0]:.2f}–{interval[1]:.2f}"
        text += "\n\n0.5 is chance,\n1 a perfect ranking"
        # Beside the square axes, in the room their equal aspect leaves on the right.
        ax.text(1.08, 0.5, text, transform=ax.transAxes, fontsize=9, color="#1d2330", va="center")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_aspect("equal", adjustable="box")
    ax.set_anchor("W")
    ax.xaxis.set_major_formatter("{x:.0f} %")
    ax.yaxis.set_major_formatter("{x:.0f} %")
    ax.set_xlabel("stayers flagged (lowest health first)", fontsize=9, color="#5f6b7a")
    ax.set_ylabel("churners caught", fontsize=9, color="#5f6b7a")
    _style(ax)
    ax.grid(axis="x", color="#e9edf3", linewidth=0.8)
    return _svg(fig, "roc", "ROC curve of health against churn")
