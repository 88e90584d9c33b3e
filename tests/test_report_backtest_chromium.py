"""The report's "does health predict churn?" section in headless Chromium, the network off.

Follows test_html_chromium.py (and skips, or fails under CI, as it does without Chromium).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from cstool.backtest import churn_check
from cstool.config import Settings
from cstool.kpis import portfolio
from cstool.render.html import html_report
from tests.test_backtest import random_history
from tests.test_html_chromium import CHART_COLOURS, _Proxy, chart_pixels, page_requests, screenshot

pytestmark = pytest.mark.slow  # a real browser: seconds per test

AS_OF = date(2026, 9, 30)


@pytest.fixture
def recording_proxy() -> Iterator[_Proxy]:
    with _Proxy() as running:
        yield running


def section_page(page: str) -> str:
    """The page with the churn section as its only section (it sits below a 2000 px window)."""
    section = re.search(r'<section id="churn">.*?</section>', page, re.S)
    assert section is not None
    start = page.index("<main>") + len("<main>")
    end = page.index("</main>")
    return page[:start] + section.group(0) + page[end:]


def test_churn_section_renders_its_bars_and_roc_curve_offline(
    tmp_path: Path, recording_proxy: _Proxy
) -> None:
    snapshots = random_history(5, customers=400, signal=1.8)
    snapshots["mrr"] = 100.0
    check = churn_check(snapshots, 60, AS_OF, tune_weights=True)
    assert check.result is not None and check.result.reliable
    last = snapshots.loc[snapshots["as_of"] == snapshots["as_of"].max()].drop(columns="as_of")
    earlier = snapshots.loc[snapshots["as_of"] < snapshots["as_of"].max()]
    settings = Settings()
    page = html_report(portfolio(last, settings, AS_OF, earlier), last, settings, churn=check)

    shown = tmp_path / "churn.html"
    shown.write_text(section_page(page), encoding="utf-8")
    image = screenshot(shown, tmp_path / "churn.png", recording_proxy)
    assert image.size == (1280, 2000)

    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r"<svg.*?</svg>", "", section_page(page), flags=re.S), encoding="utf-8")
    without = chart_pixels(screenshot(bare, tmp_path / "bare.png", recording_proxy))
    with_charts = chart_pixels(image)
    # Red and green bars (green's is short: 1 % churned), the ROC curve in the trend lines' blue.
    added = {name: with_charts[name] - without[name] for name in CHART_COLOURS}
    assert added["red"] > 5000 and added["green"] > 300 and added["line"] > 300, added

    # The two charts sit side by side: the bars on the left half, the curve on the right.
    pixels = np.asarray(image).astype(int)
    blue = (np.abs(pixels - np.array(CHART_COLOURS["line"])).sum(axis=2) < 24).sum(axis=0)
    red = (np.abs(pixels - np.array(CHART_COLOURS["red"])).sum(axis=2) < 24).sum(axis=0)
    assert blue[640:].sum() > 10 * blue[:640].sum()
    assert red[:640].sum() > 10 * red[640:].sum()

    asked = page_requests(recording_proxy.requests, tmp_path)
    assert asked == [], f"the page asked the network for {asked}"
