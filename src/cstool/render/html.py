"""The portfolio report as one self-contained, offline HTML page.

Inline CSS and inline SVG charts only: a Content-Security-Policy forbids every fetch, and the
same input gives the same bytes.
"""

from __future__ import annotations

import html
import math
import re
from typing import TYPE_CHECKING, Any

from cstool.kpis.definitions import BANDS, CHANGE_KPIS, KPIS, LEVEL_KPIS
from cstool.render.charts import (
    band_chart,
    churn_band_chart,
    goal_chart,
    health_chart,
    movements_chart,
    period_label,
    roc_chart,
    segment_chart,
    segment_mix,
    trend_chart,
)
from cstool.render.kpi_text import format_kpi, kpi_change, snapshot_dates_text
from cstool.render.style import BAND_COLOURS, MOVEMENT_COLOURS

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from cstool.backtest import ChurnCheck, TuneResult
    from cstool.config import Settings
    from cstool.drafts import Draft
    from cstool.kpis.goals import GoalProgress
    from cstool.kpis.portfolio import Portfolio

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
ROWS_SHOWN = 25
COHORTS_SHOWN = 24  # the latest signup months in the heat map
COHORT_MONTHS_SHOWN = 13  # months since signup: 0…12


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _band_badge(band: object) -> str:
    text = "" if band is None else str(band)
    return f'<span class="band {_e(text)}">{_e(text)}</span>' if text in BANDS else _e(text)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _cell(name: str, value: Any) -> str:
    if name == "draft":  # a mailto: link carrying the drafted subject and body
        return f'<td><a href="{_e(value)}">write</a></td>' if value else "<td></td>"
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
    drafts: Sequence[Draft] | None = None,
    churn: ChurnCheck | None = None,
    title: str = "Customer portfolio",
) -> str:
    """The whole report as one HTML page that opens offline and fetches nothing.

    `drafts` (one per follow-up, in order) adds a mailto: link to each follow-up shown;
    `churn` (Book.churn_check) adds the "does health predict churn?" section."""
    from importlib.resources import files

    css = files("cstool").joinpath("assets/report.css").read_text(encoding="utf-8")
    as_of = result.as_of.isoformat()
    since = (
        f"compared with the snapshot of {result.compared_with.isoformat()}"
        if result.compared_with
        else "no earlier snapshot to compare with (take one with `cstool snapshot`)"
    )
    mix = segment_mix(frame)
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
        health_chart(frame, settings),
        f"<figcaption>Customers per health score; dashed lines at the band thresholds "
        f"{settings.bands.red_below:g} and {settings.bands.green_from:g}.</figcaption>"
        "</figure></section>",
        "<section><h2>MRR by band</h2><figure>",
        band_chart(frame),
        "<figcaption>Monthly recurring revenue of the customers in each health band."
        "</figcaption></figure></section></div>",
        "<section><h2>Trends over snapshots</h2><figure>",
        trend_chart(result.trend),
        f"<figcaption>One point per stored snapshot up to {_e(as_of)}; retention compares "
        "each snapshot with the one before.</figcaption></figure></section>",
        "<section><h2>Goals</h2>",
    ]
    if result.goals:
        parts += [
            "<figure>",
            goal_chart(result.goals),
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
        parts += ["<figure>", segment_chart(mix), "</figure>"]
    parts += [_table(seg_rows, seg_columns), "</section>"]

    fu_rows, fu_total = _frame_rows(followups, ROWS_SHOWN)
    fu_columns = [
        c
        for c in ("customer_id", "name", "due", "priority", "reason", "segment", "play")
        if followups is not None and c in followups.columns
    ]
    if drafts is not None and fu_rows:
        from cstool.render.eml import mailto_url

        for row, draft in zip(fu_rows, drafts, strict=False):
            row["draft"] = mailto_url(draft.to, draft.subject, draft.body) if draft.to else None
        fu_columns.append("draft")
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
    parts += ["</section>", *_movement_sections(result), *_cohort_section(result)]
    if churn is not None:
        parts += churn_section(churn, settings)
    parts += ["<section><h2>All KPIs</h2>", _kpi_table(result), "</section>"]

    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)} · {_e(as_of)}</title>\n"
        f"<style>\n{_colour_rules()}{css}</style></head>\n<body>\n"
        f"<header><h1>{_e(title)}</h1><p>As of {_e(as_of)} · {_e(since)}</p></header>\n"
        f"<main>\n{body}\n</main>\n"
        f"<footer>Made by cstool for {_e(as_of)}.</footer>\n</body></html>\n"
    )


def _colour_rules() -> str:
    """The band colours as CSS variables (the stylesheet reads var(--red) and the others)."""
    names = "; ".join(f"--{band}: {BAND_COLOURS[band]}" for band in BANDS)
    return f":root {{ {names}; }}\n"


MOVEMENT_TABLE_COLUMNS = (
    ("start", "period"),
    ("new_mrr", "new"),
    ("expansion_mrr", "expansion"),
    ("reactivation_mrr", "reactivation"),
    ("contraction_mrr", "contraction"),
    ("churned_mrr", "churned"),
    ("net_new_mrr", "net new"),
    ("mrr_end", "MRR at end"),
    ("customers_end", "paying customers"),
    ("logo_churn", "logo churn"),
    ("gross_revenue_retention", "GRR"),
    ("net_revenue_retention", "NRR"),
    ("arpa", "ARPA"),
    ("quick_ratio", "quick ratio"),
)
PERCENT_COLUMNS = ("logo_churn", "gross_revenue_retention", "net_revenue_retention")


def _movement_value(name: str, value: Any, period: str = "month") -> str:
    """One cell of the movements table as text ('–' when undefined)."""
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if name == "start":
        return period_label(value, period)
    number = float(value)
    if name in PERCENT_COLUMNS:
        return f"{number:.1f} %"
    if name == "quick_ratio":
        return f"{number:.2f}"
    if name.endswith("_mrr") and name != "mrr_end" and name != "net_new_mrr":
        return f"{number:,.0f}" if number else "0"
    return f"{number:+,.0f}" if name == "net_new_mrr" else f"{number:,.0f}"


def _movement_table(frame: pd.DataFrame, limit: int, period: str) -> str:
    shown = frame.tail(limit).iloc[::-1]  # latest period first
    head = "".join(
        f"<th{'' if name == 'start' else ' class=num'}>{_e(label)}</th>"
        for name, label in MOVEMENT_TABLE_COLUMNS
    )
    columns = {name: shown[name].tolist() for name, _ in MOVEMENT_TABLE_COLUMNS}
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=day' if name == 'start' else ' class=num'}>"
            f"{_e(_movement_value(name, columns[name][i], period))}</td>"
            for name, _ in MOVEMENT_TABLE_COLUMNS
        )
        + "</tr>"
        for i in range(len(shown))
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _movement_sections(result: Portfolio) -> list[str]:
    """The monthly movements (weekly while there is no whole month yet): chart and table."""
    parts = ["<section><h2>Revenue movements</h2>"]
    shown = [(p, result.movements[p]) for p in ("month", "week") if p in result.movements]
    shown = [(p, f) for p, f in shown if len(f)][:1]
    if not shown:
        parts.append(
            '<p class="note">Movements need a snapshot on or before the start of a week or '
            "month (take them with <code>cstool snapshot</code>).</p></section>"
        )
        return parts
    legend = "".join(
        f'<span style="background:{MOVEMENT_COLOURS[k]}"></span>{_e(k)}'
        for k in ("new", "expansion", "reactivation", "contraction", "churned")
    )
    period, frame = shown[0]
    parts += [
        f"<h3>Per {_e(period)}</h3><figure>",
        movements_chart(frame, period),
        f'<figcaption class="legend-note">Gains above the line, losses below:{legend}; '
        "the line is net new MRR. Each period compares the last snapshot on or before "
        "its start with the last one on or before its end.</figcaption></figure>",
        _movement_table(frame, 12, period),
        "</section>",
    ]
    return parts


def _shade(share: float | None) -> str:
    """A cell background for a share (0–100 %): white → green, more retained is darker."""
    if share is None or math.isnan(share):
        return ""
    strength = min(1.0, max(0.0, share / 100.0))
    alpha = 0.08 + 0.72 * strength
    ink = "#fff" if strength > 0.6 else "#1d2330"
    return f' style="background:rgba(46,158,91,{alpha:.2f});color:{ink}"'


def _cohort_section(result: Portfolio) -> list[str]:
    """The cohort heat map: signup month × months since, share of customers still live."""

    table = result.cohorts
    parts = ["<section><h2>Cohorts</h2>"]
    if table is None or table.empty:
        parts.append('<p class="note">No cohorts yet.</p></section>')
        return parts
    shown = table.loc[table["months_since"] < COHORT_MONTHS_SHOWN]
    names = sorted(shown["cohort"].astype(str).unique())[-COHORTS_SHOWN:]
    shown = shown.loc[shown["cohort"].astype(str).isin(names)]
    share = shown.pivot(index="cohort", columns="months_since", values="customer_share")
    share = share.astype("float64")
    mrr_share = shown.pivot(index="cohort", columns="months_since", values="mrr_share")
    mrr_share = mrr_share.astype("float64").reindex(index=share.index, columns=share.columns)
    sizes = shown.groupby("cohort")["customers"].first().reindex(share.index)
    months = [int(m) for m in share.columns]
    head = "<th>signup month</th><th class=num>customers</th>" + "".join(
        f"<th class=num>{m}</th>" for m in months
    )
    values, money = share.to_numpy(), mrr_share.to_numpy()
    rows = []
    for i, cohort in enumerate(share.index):  # one row per signup month shown (≤ 24)
        cells = []
        for j in range(len(months)):
            value = float(values[i, j])
            if math.isnan(value):
                cells.append("<td></td>")
                continue
            title = "" if math.isnan(money[i, j]) else f' title="MRR {money[i, j]:.0f} %"'
            cells.append(f'<td class="num"{_shade(value)}{title}>{value:.0f} %</td>')
        rows.append(
            f"<tr><th>{_e(cohort)}</th><td class=num>{int(sizes.iloc[i]):,}</td>"
            + "".join(cells)
            + "</tr>"
        )
    parts += [
        f'<table class="heat"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>',
        '<p class="note">Share of each signup month\'s customers still live (not churned, '
        "paused or prospects) so many months later; hover a cell for the share of its MRR.</p>",
        "</section>",
    ]
    return parts


def churn_section(check: ChurnCheck, settings: Settings) -> list[str]:
    """ "Does health predict churn?": churn rate by band, the ROC curve, the verdict and the
    tuned weights when asked for; what the store needs when it cannot answer."""
    from cstool.backtest import roc_points

    parts = ['<section id="churn"><h2>Does health predict churn?</h2>']
    result = check.result
    if result is None:
        parts += [f'<p class="note">{_e(check.needs)}</p>', "</section>"]
        return parts
    tone = "good" if result.reliable and result.verdict.startswith("health predicts") else ""
    dates = snapshot_dates_text(result.periods, result.first, result.last)
    parts += [
        f'<p class="verdict {tone}"><strong>{_e(_sentence(result.verdict))}</strong></p>',
        f'<p class="note">{result.cases:,} cases (customers live in a snapshot) from '
        f"{_e(dates)}; {result.churned:,} churned within "
        f"{result.horizon_days} days. An AUC of 0.5 is chance, 1 a perfect ranking of "
        "churners below stayers; the interval is a 95 % bootstrap.</p>",
        '<div class="grid2"><figure>',
        churn_band_chart(result.by_band),
        "<figcaption>Share of each band's cases that churned within the horizon."
        "</figcaption></figure><figure>",
    ]
    if result.roc is not None:
        parts += [
            roc_chart(roc_points(result.roc), result.auc, result.auc_ci),
            "<figcaption>Flagging customers from the lowest health up: the share of churners "
            "caught against the share of stayers flagged; the dashed diagonal is chance."
            "</figcaption>",
        ]
    else:
        parts.append('<p class="note">The ROC curve needs churners and stayers.</p>')
    parts.append("</figure></div>")
    if check.tuned is not None:
        parts += _tuning(check.tuned, settings)
    parts.append("</section>")
    return parts


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _tuning(tuned: TuneResult, settings: Settings) -> list[str]:
    """The weights --tune fitted on the earlier periods, judged on the later ones."""
    parts = ["<h3>Tuned weights</h3>"]
    if tuned.train_dates and tuned.test_dates:
        parts.append(
            f'<p class="note">Fitted on {tuned.train_dates[0]} … {tuned.train_dates[1]} '
            f"({tuned.train_cases:,} cases), judged on {tuned.test_dates[0]} … "
            f"{tuned.test_dates[1]} ({tuned.test_cases:,} cases, {tuned.test_churned:,} "
            "churned) only.</p>"
        )
    weights = tuned.weights or tuned.fitted_weights
    if weights is not None:
        current = settings.health.weights.normalised()
        head = "<th>measure</th><th class=num>current</th><th class=num>fitted</th>"
        rows = "".join(
            f"<tr><td>{_e(name)}</td><td class=num>{current.get(name, 0.0):.3f}</td>"
            f"<td class=num>{value:.3f}</td></tr>"
            for name, value in weights.items()
        )
        auc = (
            "<tr><td>held-out AUC</td>"
            f"<td class=num>{_auc(tuned.old_auc)}</td><td class=num>{_auc(tuned.new_auc)}</td></tr>"
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}{auc}</tbody></table>")
    parts.append(f"<p>{_e(_sentence(tuned.message))}</p>")
    if tuned.toml:
        parts.append(
            f'<p class="note">To use them, paste into cstool.toml:</p><pre>{_e(tuned.toml)}</pre>'
        )
    return parts


def _auc(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
