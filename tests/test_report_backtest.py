"""The report's "does health predict churn?" section: terminal, HTML and JSON (issue 15, item 5)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cstool.backtest import backtest, churn_cases, churn_check, roc_curve
from cstool.cli import app
from cstool.config import Settings
from cstool.render.html import churn_section
from tests.conftest import ROOT
from tests.test_backtest import random_history

HISTORY = ROOT / "examples" / "history"
LATEST = HISTORY / "customers_2026-12-01.csv"
AS_OF = "2026-12-31"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def history_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example history: twelve monthly exports, each snapshot dated from its name."""
    db = tmp_path_factory.mktemp("history") / "cstool.db"
    files = sorted(str(p) for p in HISTORY.glob("customers_2026-*.csv"))
    code, _, err = run("snapshot", *files, "--db", str(db))
    assert code == 0, err
    return db


def report(db: Path, *extra: str, as_of: str = AS_OF) -> tuple[int, str, str]:
    return run("report", str(LATEST), "--db", str(db), "--as-of", as_of, *extra)


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def section_of(page: str) -> str:
    found = re.search(r'<section id="churn">.*?</section>', page, re.S)
    assert found, "no churn section in the page"
    return found.group(0)


# ------------------------------------------------------------------------------ JSON


@pytest.mark.parametrize("tune", [False, True])
def test_report_json_has_the_backtest_of_backtest_json(history_db: Path, tune: bool) -> None:
    flags = ["--tune"] if tune else []
    code, out, err = report(history_db, "--format", "json", *flags)
    assert code == 0, err
    data = json.loads(out)
    code, alone, err = run(
        "backtest", "--db", str(history_db), "--as-of", AS_OF, "--format", "json", *flags
    )
    assert code == 0, err
    assert data["backtest"] == json.loads(alone)  # same fields, same (seeded) values
    assert ("tune" in data["backtest"]) is tune
    assert data["backtest"]["cases"] > 2000 and data["as_of"] == AS_OF  # the KPIs are still there


def test_report_json_with_html_is_the_json_alone_and_the_page(
    history_db: Path, tmp_path: Path
) -> None:
    # `--format json` alone skips the segments and follow-ups (the JSON holds neither);
    # with `--html` too, the page has them and stdout is the same JSON.
    code, alone, err = report(history_db, "--format", "json")
    assert code == 0, err
    page = tmp_path / "page.html"
    code, both, err = report(history_db, "--format", "json", "--html", str(page))
    assert code == 0, err
    assert both == alone
    data = json.loads(alone)
    assert "followups" not in data and "segments" not in data
    assert data["kpis"]["customers"] > 0
    text = page.read_text(encoding="utf-8")
    assert "follow-ups" in text.lower() and 'id="churn"' in text


def test_report_json_without_snapshots_says_what_it_needs(tmp_path: Path) -> None:
    code, out, err = report(tmp_path / "none.db", "--format", "json", "--horizon", "60d")
    assert code == 0, err
    data = json.loads(out)["backtest"]
    assert data["horizon_days"] == 60 and data["cases"] == 0 and data["auc"] is None
    assert data["by_band"]["red"] == {"cases": 0, "churned": 0, "churn_rate": None}
    assert "`cstool snapshot FILE`" in data["verdict"] and "60 days apart" in data["verdict"]
    assert not (tmp_path / "none.db").exists()  # a report creates no store


def test_a_bad_horizon_is_a_usage_error_before_any_read(tmp_path: Path) -> None:
    code, _, err = run("report", str(tmp_path / "missing.csv"), "--horizon", "soon")
    assert code == 2 and "--horizon 'soon'" in err


# -------------------------------------------------------------------------- terminal


def test_terminal_report_shows_band_bars_auc_and_verdict(history_db: Path) -> None:
    code, out, err = report(history_db)
    assert code == 0, err
    code, data_text, _ = report(history_db, "--format", "json")
    data = json.loads(data_text)["backtest"]
    section = out[out.index("Does health predict churn?") :]
    rates = {b: data["by_band"][b]["churn_rate"] for b in ("red", "yellow", "green")}
    highest = max(rates.values())
    for band, rate in rates.items():
        row = next(line for line in section.splitlines() if line.strip().startswith(band))
        cells = row.split()
        assert cells[1] == f"{data['by_band'][band]['cases']:,}"
        assert cells[2] == f"{data['by_band'][band]['churned']:,}"
        assert cells[3] == f"{100 * rate:.1f}"
        assert row.count("█") == round(30 * rate / highest)
    low, high = data["auc_ci"]
    flat = one_line(section)
    assert f"AUC of health: {data['auc']:.3f} (95 % interval {low:.3f}–{high:.3f})" in flat
    assert f"verdict: {data['verdict']}" in flat
    assert "Tuning" not in section


def test_terminal_report_with_tune_shows_the_tuning(history_db: Path) -> None:
    code, out, err = report(history_db, "--tune")
    assert code == 0, err
    _, alone, _ = run("backtest", "--db", str(history_db), "--as-of", AS_OF, "-f", "json", "--tune")
    message = json.loads(alone)["tune"]["message"]
    section = one_line(out[out.index("Does health predict churn?") :])
    assert "Tuning · fitted on 2026-01-01" in section and message in section


def test_terminal_report_says_which_command_gives_the_section(
    history_db: Path, tmp_path: Path
) -> None:
    code, out, err = report(tmp_path / "none.db")
    assert code == 0, err
    section = one_line(out[out.index("Does health predict churn?") :])
    assert "No snapshots stored up to 2026-12-31" in section
    assert "`cstool snapshot FILE`" in section
    # Two monthly snapshots up to mid-February: none has one 90 days on.
    code, out, err = report(history_db, as_of="2026-02-15")
    assert code == 0, err
    section = one_line(out[out.index("Does health predict churn?") :])
    assert "2 snapshot dates stored (2026-01-01 … 2026-02-01)" in section
    assert "`--horizon 30`" in section and "█" not in section


# ------------------------------------------------------------------------------ HTML


def test_html_section_has_bars_roc_auc_and_verdict(history_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, _, err = report(history_db, "--html", str(out))
    assert code == 0, err
    _, data_text, _ = report(history_db, "--format", "json")
    data = json.loads(data_text)["backtest"]
    section = section_of(out.read_text(encoding="utf-8"))
    bars, roc = re.findall(r"<svg.*?</svg>", section, re.S)
    assert 'aria-label="Churn rate by health band"' in bars
    for band in ("red", "yellow", "green"):
        row = data["by_band"][band]
        assert f"{100 * row['churn_rate']:.1f} %" in bars
        assert f"{row['churned']:,} of {row['cases']:,} churned" in bars
    assert 'aria-label="ROC curve of health against churn"' in roc
    low, high = data["auc_ci"]
    assert f"AUC {data['auc']:.2f}" in roc and f"{low:.2f}–{high:.2f}" in roc
    verdict = data["verdict"][0].upper() + data["verdict"][1:]
    assert verdict in section.replace("&#x27;", "'")
    assert "Tuned weights" not in section


def test_html_section_with_tune_shows_the_weights_and_held_out_auc(
    history_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    code, _, err = report(history_db, "--html", str(out), "--tune")
    assert code == 0, err
    _, alone, _ = run("backtest", "--db", str(history_db), "--as-of", AS_OF, "-f", "json", "--tune")
    tune = json.loads(alone)["tune"]
    section = section_of(out.read_text(encoding="utf-8"))
    assert "<h3>Tuned weights</h3>" in section
    held_out = re.search(r"<tr><td>held-out AUC</td>(.*?)</tr>", section)
    assert held_out is not None
    assert re.findall(r"<td class=num>([\d.]+)</td>", held_out.group(1)) == [
        f"{tune['old_auc']:.3f}",
        f"{tune['new_auc']:.3f}",
    ]
    rows = re.findall(
        r"<tr><td>(\w+)</td><td class=num>([\d.]+)</td><td class=num>([\d.]+)</td></tr>", section
    )
    current = {name: float(now) for name, now, _ in rows}
    fitted = {name: float(new) for name, _, new in rows}
    assert current == {"satisfaction": 0.5, "recency": 0.2, "nps": 0.15, "support": 0.15}
    assert sum(fitted.values()) == pytest.approx(1.0, abs=0.003)
    if tune["weights"] is not None:  # proposed: the table shows exactly those
        assert fitted == pytest.approx(tune["weights"], abs=5e-4)
    assert tune["message"][1:] in section


def test_html_section_without_pairs_says_what_to_run(history_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, _, err = report(history_db, "--html", str(out), as_of="2026-02-15")
    assert code == 0, err
    section = section_of(out.read_text(encoding="utf-8"))
    assert "<svg" not in section
    assert "none with a later snapshot at least 90 days on" in section
    assert "<code>" not in section and "`cstool snapshot FILE`" in section


def test_html_section_calls_few_churn_events_unreliable() -> None:
    snapshots = random_history(2, customers=60, months=3, hazard=0.05)
    check = churn_check(snapshots, 30, date(2026, 3, 31))
    assert check.result is not None and 0 < check.result.churned < 20
    section = "".join(churn_section(check, Settings()))
    assert f"Only {check.result.churned} churn events: the figures are unreliable" in section
    assert 'class="verdict "' in section  # not the green "predicts" tone


def test_the_report_check_gives_the_backtest_figures_without_its_listings() -> None:
    snapshots = random_history(3, customers=400, months=8, hazard=0.08)
    check = churn_check(snapshots, 60, date(2026, 8, 31))
    full = backtest(churn_cases(snapshots, 60), horizon_days=60)
    result = check.result
    assert result is not None and result.cases == full.cases > 0
    assert (result.auc, result.auc_ci, result.top_decile_lift) == (
        full.auc,
        full.auc_ci,
        full.top_decile_lift,
    )
    assert result.measures == full.measures and result.verdict == full.verdict
    pd.testing.assert_frame_equal(result.by_band, full.by_band)
    assert result.roc is not None and full.roc is not None and result.roc.equals(full.roc)
    # The report shows no listing of misses: they are not built (nor the cases' names).
    assert len(full.churned_green) > 0 and len(full.red_stayed) > 0
    assert result.churned_green.empty and result.red_stayed.empty
    assert list(result.churned_green.columns) == list(full.churned_green.columns)
    bare = churn_check(snapshots, 60, date(2026, 8, 31), curve=False).result
    assert bare is not None and bare.roc is None  # only the HTML page draws the curve
    assert (bare.auc, bare.auc_ci, bare.verdict) == (result.auc, result.auc_ci, result.verdict)
    lean = churn_cases(snapshots, 60, listings=False)
    assert "name" not in lean.columns and "customer_id" not in lean.columns
    assert lean["churned"].tolist() == churn_cases(snapshots, 60)["churned"].tolist()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_auc_without_the_curve_is_the_same_float(seed: int) -> None:
    # Without the ROC curve the AUC comes from two sorts, not the counts per distinct
    # health: the same wins and pairs, so the same float (ties, NaN, 0.0 and -0.0 too).
    rng = np.random.default_rng(seed)
    n = 5_000
    health = np.where(rng.random(n) < 0.5, rng.uniform(0, 100, n), np.round(rng.uniform(0, 5, n)))
    health[rng.random(n) < 0.05] = np.nan
    health[rng.random(n) < 0.02] = -0.0
    churned = rng.random(n) < 0.4 - 0.003 * np.nan_to_num(health)
    cases = pd.DataFrame(
        {
            "as_of": np.full(n, np.datetime64("2026-01-01", "ns")),
            "health": health,
            "band": pd.Series(np.where(health < 40, "red", "green"), dtype="string"),
            "churned": churned,
        }
    )
    with_curve = backtest(cases, listings=False)
    without = backtest(cases, listings=False, curve=False)
    assert with_curve.roc is not None and without.roc is None
    assert without.auc is not None and without.auc == with_curve.auc
    assert without.auc_ci == with_curve.auc_ci and without.verdict == with_curve.verdict


def test_a_big_book_draws_a_few_hundred_roc_points() -> None:
    rng = np.random.default_rng(5)
    n = 120_000
    health = rng.uniform(0, 100, n)
    churned = rng.random(n) < 0.3 - 0.002 * health
    cases = pd.DataFrame(
        {
            "as_of": pd.Timestamp("2026-01-01"),
            "customer_id": pd.array([f"C{i:06d}" for i in range(n)], dtype="string"),
            "name": pd.array([None] * n, dtype="string"),
            "health": health,
            "band": pd.array(np.where(health < 50, "red", "green"), dtype="string"),
            "churned": churned,
        }
    )
    result = backtest(cases, horizon_days=90, bootstrap=50)
    assert result.roc is not None and len(result.roc) == n + 1
    check = churn_check(None, 90, date(2026, 6, 1))
    check.result = result
    roc_svg = re.findall(r"<svg.*?</svg>", "".join(churn_section(check, Settings())), re.S)[1]
    path = max(re.findall(r'<path d="([^"]*)"', roc_svg), key=len)
    assert len(re.findall(r"[ML]", path)) <= 300
    assert len(roc_svg) < 40_000
    # The AUC shown is the exact one, not the thinned curve's.
    assert result.auc is not None and f"AUC {result.auc:.2f}" in roc_svg
    full = roc_curve(churned, -health)
    assert full is not None and full.equals(result.roc)


def test_cases_come_from_one_load_of_the_book(history_db: Path) -> None:
    import cstool

    book = cstool.open(LATEST, db=history_db, as_of=date(2026, 12, 31))
    check = book.churn_check(90)
    frame = book.stored_snapshots
    assert frame is not None and frame is book.stored_snapshots  # loaded once, then reused
    result, _ = book.backtest(90)
    assert check.result is not None and check.result.auc == result.auc
    assert check.result.cases == len(churn_cases(frame, 90))


@pytest.mark.parametrize("since", [None, date(2026, 6, 1)])
def test_the_report_reads_names_only_of_the_snapshots_it_compares_with(
    history_db: Path, since: date | None
) -> None:
    import cstool

    lean = cstool.open(LATEST, db=history_db, as_of=date(2026, 12, 1))
    portfolio, check = lean.report(since)
    stacked = lean._report_snapshots
    assert stacked is not None and "name" not in stacked.columns
    full = cstool.open(LATEST, db=history_db, as_of=date(2026, 12, 1))
    assert full.stored_snapshots is not None and "name" in full.stored_snapshots.columns
    expected, expected_check = full.report(since)  # the full load, sliced as before
    assert full._report_snapshots is full.stored_snapshots
    assert portfolio.comparison is not None and expected.comparison is not None
    gone = portfolio.comparison.churned
    assert len(gone) > 0 and gone["name"].notna().all()  # names from the earlier snapshot
    for listing in ("churned", "new", "moved"):
        pd.testing.assert_frame_equal(
            getattr(portfolio.comparison, listing), getattr(expected.comparison, listing)
        )
    assert portfolio.kpis == expected.kpis and portfolio.previous == expected.previous
    assert check.result is not None and expected_check.result is not None
    assert check.result.auc == expected_check.result.auc


def test_the_section_is_the_same_bytes_every_time(history_db: Path, tmp_path: Path) -> None:
    pages = []
    for name in ("a.html", "b.html"):
        code, _, err = report(history_db, "--html", str(tmp_path / name), "--tune")
        assert code == 0, err
        pages.append((tmp_path / name).read_bytes())
    assert pages[0] == pages[1]
    section = section_of(pages[0].decode("utf-8"))
    assert 'id="roc-' in section and 'id="churn-bands-' in section  # ids unique to each chart


def test_export_report_html_has_the_churn_section_of_report_html(
    history_db: Path, tmp_path: Path
) -> None:
    """The cron job's report.html is the same page as `report --html`, churn check included."""
    import shutil

    db = tmp_path / "cstool.db"
    shutil.copy(history_db, db)
    page = tmp_path / "page.html"
    code, _, err = report(db, "--html", str(page))
    assert code == 0, err
    out = tmp_path / "out"
    code, _, err = run("export", str(LATEST), "--db", str(db), "--as-of", AS_OF, "--out", str(out))
    assert code == 0, err
    exported = section_of((out / "report.html").read_text(encoding="utf-8"))
    assert exported == section_of(page.read_text(encoding="utf-8"))
    assert "cases" in one_line(exported).lower()
