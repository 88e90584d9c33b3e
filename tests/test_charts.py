"""The charts' axes say what the data says: whole-number ticks for counts, a tick on each of
a few snapshots with its own day, and an empty chart that says why it is empty."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cstool.config import Settings
from cstool.kpis.definitions import BANDS, KPIS
from cstool.render import charts
from cstool.render.kpi_text import snapshot_dates_text

MONTH_ENDS = ["2026-08-31", "2026-09-30", "2026-10-31", "2026-11-30"]


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def _trend(days: list[str], **values: list[float]) -> pd.DataFrame:
    columns = {name: [np.nan] * len(days) for name in charts.TREND_KPIS}
    columns.update(values)
    return pd.DataFrame(columns, index=pd.DatetimeIndex(days, name="as_of"))


MESSAGES = {"needs two snapshots", "not measured in the snapshots"}


def _chart(svg: str, title: str) -> list[str]:
    """The texts of one small chart of the trend figure: its ticks, then its message if any
    (the ticks come before the title, a message after it)."""
    texts = _texts(svg)
    titles = [KPIS[name].label for name in charts.TREND_KPIS]
    at = texts.index(title)
    start = 0
    for i in range(at - 1, -1, -1):
        if texts[i] in titles or texts[i] in MESSAGES:
            start = i + 1
            break
    message = texts[at + 1 : at + 2] if at + 1 < len(texts) and texts[at + 1] in MESSAGES else []
    return texts[start:at] + message


def test_few_snapshots_are_labelled_with_their_own_days() -> None:
    svg = charts.trend_chart(_trend(MONTH_ENDS, customers=[3, 3, 3, 4], mrr=[230, 240, 220, 310]))
    customers = _chart(svg, "Customers")
    # Month-end snapshots under month ticks would read as the next month's.
    assert customers[:4] == ["Aug 31", "Sep 30", "Oct 31", "Nov 30"]
    # Counts of 3 and 4 customers: whole ticks only (not "3, 3, 3, 4" from 3.0, 3.2, …).
    assert customers[4:] == ["3", "4"]
    money = _chart(svg, "MRR")[4:]
    assert len(money) == len(set(money)) and all(re.fullmatch(r"\d+", t) for t in money)


def test_days_across_a_new_year_carry_the_year() -> None:
    svg = charts.trend_chart(_trend(["2025-12-31", "2026-01-31"], customers=[5, 6]))
    assert _chart(svg, "Customers")[:2] == ["Dec 31 '25", "Jan 31 '26"]


def test_many_snapshots_get_date_ticks_not_one_per_snapshot() -> None:
    days = [str(d.date()) for d in pd.date_range("2025-01-31", periods=24, freq="ME")]
    svg = charts.trend_chart(_trend(days, customers=list(range(100, 124))))
    labels = [t for t in _chart(svg, "Customers") if not re.fullmatch(r"[\d,]+", t)]
    assert 2 <= len(labels) <= 6


def test_a_measure_absent_from_every_snapshot_says_so() -> None:
    svg = charts.trend_chart(_trend(MONTH_ENDS, customers=[3, 3, 3, 4]))
    nps = _chart(svg, "NPS")
    assert "not measured in the snapshots" in nps and "needs two snapshots" not in nps
    assert nps[-1] == "not measured in the snapshots"  # and no scale of an empty axis
    one = charts.trend_chart(_trend(MONTH_ENDS[:1], customers=[3]))
    assert "needs two snapshots" in _chart(one, "Customer retention")


def test_health_and_segment_counts_have_whole_ticks() -> None:
    frame = pd.DataFrame(
        {
            "health": [62.0, 71.0, 78.6, 85.7],
            "segment": ["Rescue", "Nurture", "Onboarding", "Champions"],
            "mrr": [90.0, 30.0, 40.0, 150.0],
        }
    )
    health = _texts(charts.health_chart(frame, Settings()))
    # x ticks, "health", the y ticks (customers per bin: 0 or 1 here), "customers"
    assert health[health.index("health") + 1 : health.index("customers")] == ["0", "1"]
    segments = _texts(charts.segment_chart(charts.segment_mix(frame)))
    assert segments[: segments.index("Rescue")] == ["0", "1"]  # one customer per segment


def test_snapshot_dates_are_counted_in_words() -> None:
    assert snapshot_dates_text(1, "2026-08-31", "2026-08-31") == "1 snapshot date (2026-08-31)"
    assert (
        snapshot_dates_text(24, "2024-12-31", "2026-11-30")
        == "24 snapshot dates (2024-12-31 … 2026-11-30)"
    )
    assert snapshot_dates_text(2, None, None) == "2 snapshot dates"


def _band_rates(churned: list[int], cases: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({"cases": cases, "churned": churned}, index=list(BANDS))
    frame["churn_rate"] = frame["churned"] / frame["cases"].where(frame["cases"] > 0)
    return frame


def _y_ticks(svg: str, label: str) -> list[str]:
    texts = _texts(svg)
    return [t for t in texts[: texts.index(label)] if t.endswith("%")]


def test_churn_rates_get_ticks_that_differ() -> None:
    nothing = _y_ticks(charts.churn_band_chart(_band_rates([0, 0, 0], [0, 2, 1])), "churn rate")
    assert len(nothing) == len(set(nothing)) > 1  # was "0 %" nine times
    small = _y_ticks(
        charts.churn_band_chart(_band_rates([1, 2, 1], [200, 700, 900])),
        "churn rate",
    )
    assert len(small) == len(set(small)) > 1 and any("." in t for t in small)


def test_the_movements_chart_keeps_its_highest_point_inside() -> None:
    frame = pd.DataFrame(
        {
            "start": pd.to_datetime(["2026-09-01", "2026-10-01", "2026-11-01"]),
            "new_mrr": [40.0, 0, 0],
            "expansion_mrr": [50.0, 0, 0],
            "reactivation_mrr": [0.0, 0, 90],
            "contraction_mrr": [0.0, 20, 0],
            "churned_mrr": [80.0, 0, 0],
            "net_new_mrr": [10.0, -20, 90],
        }
    )
    texts = _texts(charts.movements_chart(frame, "month"))
    ticks = [int(t.replace("\u2212", "-")) for t in texts if re.fullmatch("[\u2212-]?\\d+", t)]
    # A tick above the +90 point and one below the -80 bar: both have room (an empty bar
    # stacked at 90 used to pin the top of the axis there, cutting the point in half).
    assert max(ticks) > 90 and min(ticks) < -80
