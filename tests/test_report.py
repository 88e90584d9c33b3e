"""The report as data (kpis.json) and as a self-contained, deterministic HTML page."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from cstool.config import Settings, settings_from_dict
from cstool.kpis import portfolio
from cstool.kpis.report import report_data, report_json
from cstool.render.html import CSP, html_report
from cstool.render.kpi_text import format_kpi, kpi_change

AS_OF = date(2026, 11, 23)
GOALS = {
    "goals": [
        {"metric": "satisfied_share", "target": 85, "deadline": "2027-06-30", "baseline": 60},
        {"metric": "retention_rate", "target": 70, "deadline": "2027-03-31"},
    ]
}


def scored(n: int, seed: int = 1, shift: int = 0) -> pd.DataFrame:
    """A scored, segmented frame of n customers (docs/FRAME.md columns the report reads)."""
    rng = np.random.default_rng(seed)
    health = np.clip(rng.normal(65, 18, n), 0, 100)
    band = np.where(health < 50, "red", np.where(health < 75, "yellow", "green"))
    ids = [f"C{i:07d}" for i in range(shift, n + shift)]
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "name": pd.array([f"Client {i}" for i in ids], dtype="string"),
            "mrr": rng.gamma(2.0, 300.0, n).round(2),
            "satisfaction": np.clip(health + rng.normal(0, 8, n), 0, 100),
            "health": health,
            "band": pd.array(band, dtype="string"),
            "nps": pd.array(rng.integers(0, 11, n), dtype="Int64"),
            "segment": pd.array(rng.choice(["Champions", "Grow", "Rescue"], n), dtype="string"),
        }
    )


def stored(n: int, count: int) -> pd.DataFrame:
    """`count` monthly snapshots before AS_OF, as Store.load_snapshots returns them."""
    frames = []
    for k in range(count):
        day = AS_OF - timedelta(days=30 * (count - k))
        frame = scored(n, seed=k + 10, shift=k * max(1, n // 50)).drop(columns="name")
        frames.append(frame.assign(as_of=pd.Timestamp(day)))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def page() -> str:
    settings = settings_from_dict(GOALS)
    current = scored(300, shift=12 * 6)
    result = portfolio(current, settings, AS_OF, stored(300, 4))
    return html_report(result, current, settings)


def test_page_is_deterministic() -> None:
    settings = settings_from_dict(GOALS)
    current = scored(120)
    snaps = stored(120, 3)
    first = html_report(portfolio(current, settings, AS_OF, snaps), current, settings)
    second = html_report(portfolio(current, settings, AS_OF, snaps), current, settings)
    assert first == second


def test_page_fetches_nothing(page: str) -> None:
    assert f'content="{CSP}"' in page
    assert "default-src 'none'" in CSP
    lowered = page.lower()
    for tag in ("<script", "<link", "<iframe", "<object", "<embed", "<img", "@import", "<base"):
        assert tag not in lowered, tag
    # No attribute or CSS url() points anywhere but inside the page.
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page) + re.findall(r"url\(([^)]*)\)", page)
    assert refs, "the charts' internal references were expected"
    assert all(ref.lstrip("'\"").startswith("#") for ref in refs), refs
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page


def test_page_has_every_chart_and_section(page: str) -> None:
    assert page.count("<svg") == 6  # health, bands, trend, goals, segments, movements
    for label in (
        "MRR movements per month",
        "Health distribution",
        "MRR by health band",
        "KPI trends over snapshots",
        "Goal progress",
        "Segment mix",
    ):
        assert f'aria-label="{label}' in page
    for heading in (
        "Key figures",
        "Goals",
        "Segments",
        "Top follow-ups",
        "Revenue movements",
        "Cohorts",
        "All KPIs",
    ):
        assert f"<h2>{heading}</h2>" in page


def test_chart_ids_are_unique_in_the_page(page: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for ref in re.findall(r"url\(#([^)]+)\)", page):
        assert ref in ids


def test_customer_and_segment_text_is_escaped() -> None:
    hostile = "<script>alert('x')</script> & \"Co\""
    current = scored(40).assign(
        name=pd.array([hostile] * 40, dtype="string"),
        segment=pd.array(["</svg><b>seg</b>"] * 40, dtype="string"),
    )
    snaps = stored(40, 1)
    result = portfolio(current, Settings(), AS_OF, snaps)
    followups = current[["customer_id", "name"]].assign(due="2026-11-23", reason=hostile)
    page = html_report(result, current, Settings(), followups=followups)
    assert "<script" not in page
    assert "</svg><b>" not in page
    assert "&lt;script&gt;" in page


def test_page_without_snapshots_or_goals_says_so() -> None:
    current = scored(50)
    page = html_report(portfolio(current, Settings(), AS_OF), current, Settings())
    assert "no earlier snapshot to compare with" in page
    assert "No goals yet" in page
    assert "Band migrations need a snapshot" in page


@pytest.mark.slow
def test_big_portfolio_page_stays_small() -> None:
    """100k customers: the tables are capped, the charts aggregate (benchmarks/bench_export.py
    measures the page with 12 snapshots)."""
    current = scored(100_000, shift=3 * 2000)
    settings = settings_from_dict(GOALS)
    result = portfolio(current, settings, AS_OF, stored(100_000, 3))
    followups = current[["customer_id", "name"]].assign(due="2026-11-23", reason="r", priority=1)
    page = html_report(result, current, settings, followups=followups)
    assert len(page.encode("utf-8")) < 1_000_000
    assert "more.</p>" in page  # the capped tables say how many they leave out


def test_report_data_is_plain_json_with_nulls() -> None:
    current = scored(60, shift=6)
    settings = settings_from_dict(GOALS)
    result = portfolio(current, settings, AS_OF, stored(60, 2))
    text = report_json(result, settings)
    data = json.loads(text)
    assert data["as_of"] == "2026-11-23"
    assert data["compared_with"] == (AS_OF - timedelta(days=30)).isoformat()
    assert data["kpis"]["customers"] == 60
    assert set(data["band_migrations"]) == {"red", "yellow", "green"}
    assert [g["metric"] for g in data["goals"]] == ["satisfied_share", "retention_rate"]
    assert data["goals"][0]["baseline"] == 60
    assert len(data["trend"]) == 3 and data["trend"][0]["retention_rate"] is None
    assert data["change"]["customers"] == 0
    assert "NaN" not in text
    assert report_json(result, settings) == text
    first = report_data(result, settings)["new"]
    assert [r["customer_id"] for r in first] == sorted(
        (r["customer_id"] for r in first),
        key=lambda c: (-next(x["mrr"] for x in first if x["customer_id"] == c), c),
    )


def test_format_and_change() -> None:
    assert format_kpi("mrr", 1234.5) == "1,234"
    assert format_kpi("satisfied_share", 66.666) == "66.7 %"
    assert format_kpi("nps", 12.0) == "+12"
    assert format_kpi("mean_health", None) == "–"
    assert kpi_change("mrr_at_risk", 900.0, 1000.0) == ("▼ -100", "good")
    assert kpi_change("retention_rate", 70.0, 75.0) == ("▼ -5.0 pp", "bad")
    assert kpi_change("customers", 5.0, 5.0) == ("= 0", "flat")
    assert kpi_change("nps", 5.0, None) == ("", "")


def _svg_of(page: str, label: str) -> str:
    match = re.search(rf'<svg[^>]*aria-label="{re.escape(label)}.*?</svg>', page, flags=re.S)
    assert match, label
    return match.group(0)


def test_dollar_signs_in_names_are_drawn_literally() -> None:
    # Matplotlib would read `$x_$` as math and raise, `$5-$10` as math and garble it.
    names = ["Cost $x_$", "Deal $5-$10"]
    current = scored(60).assign(segment=pd.array([names[i % 2] for i in range(60)], dtype="string"))
    settings = settings_from_dict(
        {
            "goals": [
                {"metric": "mrr", "target": 1e6, "deadline": "2027-06-30", "name": names[1]},
                {"metric": "nps", "target": 50, "deadline": "2027-06-30", "name": names[0]},
            ]
        }
    )
    result = portfolio(current, settings, AS_OF, stored(60, 2))
    page = html_report(result, current, settings)
    segments = _svg_of(page, "Segment mix")
    goals = _svg_of(page, "Goal progress")
    for name in names:
        assert f">{name}</text>" in segments, name
        assert f">{name}</text>" in goals, name
    assert "\\$" not in segments + goals  # the escape itself is never drawn


def test_terminal_report_has_a_movements_table() -> None:
    from rich.console import Console

    from cstool.render.report import movements_table

    before = scored(10).assign(as_of=pd.Timestamp(2026, 10, 1))
    after = scored(10).assign(as_of=pd.Timestamp(2026, 11, 1))
    after.loc[0, "mrr"] = float(before.loc[0, "mrr"]) + 100  # one expansion of exactly 100
    after.loc[1, "mrr"] = 0.0  # one churn
    current = scored(10)
    current["mrr"] = after["mrr"]
    result = portfolio(current, Settings(), AS_OF, pd.concat([before, after]))
    monthly = result.movements["month"]
    # October between the two snapshots; November so far (to the table of AS_OF): no change.
    assert monthly["start"].tolist() == [pd.Timestamp(2026, 10, 1), pd.Timestamp(2026, 11, 1)]
    assert monthly["net_new_mrr"].tolist()[1] == 0.0
    console = Console(record=True, width=200, color_system=None)
    console.print(movements_table(monthly))
    text = console.export_text()
    churned = float(before.loc[1, "mrr"])
    assert "2026-10" in text and " 100 " in text
    assert f"-{churned:,.0f}" in text
    net = 100 - churned
    assert f"{net:+,.0f}" in text
    assert "10.0%" in text  # logo churn: 1 of 10 paying customers
