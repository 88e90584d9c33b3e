"""backtest: churn cases from snapshots, the AUC against scikit-learn, verdicts, --tune, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from cstool.backtest import (
    DIRECT_BUDGET,
    auc_interval,
    backtest,
    churn_cases,
    mann_whitney_auc,
    stored_snapshots,
    to_json,
    tune,
)
from cstool.cli import app
from cstool.cli.backtest import parse_horizon
from cstool.config import settings_from_dict
from cstool.errors import UsageError
from cstool.store import open_store
from tests.conftest import ROOT

HISTORY = ROOT / "examples" / "history"
runner = CliRunner()
JSON_KEYS = {
    "horizon_days",
    "cases",
    "churned",
    "auc",
    "auc_ci",
    "top_decile_lift",
    "by_band",
    "measures",
    "verdict",
}


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def band_of(health: np.ndarray) -> pd.Series:
    bands = np.where(health < 50, "red", np.where(health < 75, "yellow", "green"))
    return pd.Series(bands, dtype="string").where(~np.isnan(health), pd.NA)


def random_history(
    seed: int,
    *,
    customers: int = 200,
    months: int = 8,
    signal: float = 1.0,
    hazard: float = 0.08,
    statuses: bool = False,
) -> pd.DataFrame:
    """Monthly snapshots of a book where low health raises churn by `signal` (0: random).

    Health is whole numbers (many ties); a few healths are missing; joiners arrive monthly.
    With `statuses`, some rows carry lifecycle statuses (paused, churned, trial, <NA>).
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2026-01-01", periods=months, freq="MS")
    mood = {f"C{i:04d}": rng.uniform(0, 1) for i in range(customers)}
    next_id = customers
    frames = []
    for day in dates:
        ids = sorted(mood)
        m = np.array([mood[i] for i in ids])
        sat = np.clip(100 * m + rng.normal(0, 12, len(ids)), 0, 100)
        nps = np.clip(np.round(10 * m + rng.normal(0, 3, len(ids))), 0, 10)
        health = np.round(np.clip(0.7 * sat + 3 * nps + rng.normal(0, 5, len(ids)), 0, 100))
        health[rng.random(len(ids)) < 0.03] = np.nan
        frame = pd.DataFrame(
            {
                "as_of": np.full(len(ids), day.to_datetime64()),
                "customer_id": pd.Series(ids, dtype="string"),
                "health": health,
                "band": band_of(health),
                "satisfaction": sat,
                "nps": pd.array(nps.astype(int), dtype="Int64"),
            }
        )
        if statuses:
            status = rng.choice(
                np.array(["active", "trial", "paused", "past_due", "churned", None], dtype=object),
                size=len(ids),
                p=[0.6, 0.1, 0.05, 0.05, 0.05, 0.15],
            )
            frame["status"] = pd.Series(status, dtype="string")
        frames.append(frame)
        leave = rng.random(len(ids)) < hazard * (1 + signal * (1 - 2 * m))
        for cid, gone in zip(ids, leave, strict=True):
            if gone:
                del mood[cid]
        for _ in range(rng.integers(5, 15)):
            mood[f"C{next_id:04d}"] = rng.uniform(0, 1)
            next_id += 1
    return pd.concat(frames, ignore_index=True)


def reference_labels(snapshots: pd.DataFrame, horizon: int) -> dict[tuple[str, str], bool]:
    """The churn label of every case, by the definition, one customer at a time."""
    by_date: dict[pd.Timestamp, dict[str, str]] = {}
    for row in snapshots.itertuples(index=False):
        status = getattr(row, "status", None)
        text = "active" if status is None or pd.isna(status) else str(status)
        by_date.setdefault(pd.Timestamp(row.as_of), {})[str(row.customer_id)] = text
    dates = sorted(by_date)
    labels = {}
    for day in dates:
        later = [d for d in dates if d >= day + pd.Timedelta(days=horizon)]
        if not later:
            continue
        outcome = by_date[later[0]]
        for cid, status in by_date[day].items():
            if status in ("churned", "paused"):
                continue
            labels[(day.date().isoformat(), cid)] = outcome.get(cid, "churned") == "churned"
    return labels


# --------------------------------------------------------------------------- cases


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("statuses", [False, True])
def test_cases_follow_the_definition(seed: int, statuses: bool) -> None:
    snapshots = random_history(seed, statuses=statuses)
    cases = churn_cases(snapshots, 60)
    got = {
        (d.date().isoformat(), c): bool(y)
        for d, c, y in zip(cases["as_of"], cases["customer_id"], cases["churned"], strict=True)
    }
    assert got == reference_labels(snapshots, 60)
    assert cases.attrs["horizon_days"] == 60


@pytest.mark.parametrize("statuses", [False, True])
def test_rows_in_any_order_give_the_same_cases(statuses: bool) -> None:
    snapshots = random_history(2, statuses=statuses)  # sorted by as_of, customer_id
    shuffled = snapshots.sample(frac=1.0, random_state=3).reset_index(drop=True)
    cases, again = churn_cases(snapshots, 60), churn_cases(shuffled, 60)
    pd.testing.assert_frame_equal(cases, again)
    assert 0 < int(cases["churned"].sum()) < len(cases)


def test_cases_keep_health_band_and_measures() -> None:
    snapshots = random_history(1)
    cases = churn_cases(snapshots, 30)
    assert {"health", "band", "satisfaction", "nps", "name"} <= set(cases.columns)
    assert "recency" not in cases.columns  # the snapshots have none
    first = snapshots[snapshots["as_of"] == snapshots["as_of"].min()].set_index("customer_id")
    row = cases.iloc[0]
    assert row["health"] == first.loc[row["customer_id"], "health"] or (
        np.isnan(row["health"]) and np.isnan(first.loc[row["customer_id"], "health"])
    )
    assert row["nps"] == 10 * first.loc[row["customer_id"], "nps"]  # the nps measure, 0–100


def test_a_snapshot_exactly_the_horizon_later_decides_and_the_last_dates_give_no_cases() -> None:
    day = pd.Timestamp
    snapshots = pd.DataFrame(
        {
            "as_of": [day("2026-01-01")] * 3 + [day("2026-04-01")] * 2 + [day("2026-05-01")],
            "customer_id": pd.Series(["A", "B", "C", "A", "C", "A"], dtype="string"),
            "health": [80.0, 20.0, 60.0, 80.0, 40.0, 75.0],
            "status": pd.Series(["active", None, "paused", "cancelling", "churned", None]),
        }
    )
    cases = churn_cases(snapshots, 90)  # 2026-01-01 + 90 days = 2026-04-01
    assert cases["customer_id"].tolist() == ["A", "B"]  # C was paused: not live
    assert cases["churned"].tolist() == [False, True]  # B is gone on 2026-04-01
    assert cases["outcome_as_of"].tolist() == [day("2026-04-01")] * 2
    # April and May have no snapshot 90 days on: left out. C churned in April, but was paused.
    assert set(cases["as_of"]) == {day("2026-01-01")}


def test_churned_status_in_the_outcome_snapshot_counts_as_churn() -> None:
    day = pd.Timestamp
    snapshots = pd.DataFrame(
        {
            "as_of": [day("2026-01-01")] * 2 + [day("2026-02-01")] * 2,
            "customer_id": pd.Series(["A", "B", "A", "B"], dtype="string"),
            "health": [80.0, 30.0, 80.0, 30.0],
            "status": pd.Series([None, "active", "paused", "churned"], dtype="string"),
        }
    )
    cases = churn_cases(snapshots, 30)
    assert cases.set_index("customer_id")["churned"].to_dict() == {"A": False, "B": True}


def test_a_bad_horizon_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--horizon 0"):
        churn_cases(random_history(0, months=2), 0)


# ----------------------------------------------------------------------------- AUC


@pytest.mark.parametrize("seed", range(5))
def test_auc_and_band_rates_equal_sklearn_and_plain_counts(seed: int) -> None:
    cases = churn_cases(random_history(seed, signal=1.5), 60)
    result = backtest(cases, seed=seed, bootstrap=200)
    scored = cases[cases["health"].notna()]
    expected = roc_auc_score(scored["churned"], -scored["health"])
    assert result.auc == pytest.approx(expected, abs=1e-12)
    for band in ("red", "yellow", "green"):
        rows = cases[cases["band"] == band]
        assert result.by_band.at[band, "cases"] == len(rows)
        assert result.by_band.at[band, "churned"] == int(rows["churned"].sum())
        assert result.by_band.at[band, "churn_rate"] == pytest.approx(rows["churned"].mean())
    for name in ("satisfaction", "nps"):
        assert result.measures[name] == pytest.approx(
            roc_auc_score(cases["churned"], -cases[name]), abs=1e-12
        )
    red = cases[cases["band"] == "red"]["churned"].mean()
    green = cases[cases["band"] == "green"]["churned"].mean()
    assert result.red_green_ratio == pytest.approx(red / green)
    low, high = result.auc_ci or (0, 0)
    assert low < result.auc < high


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=2, max_size=80).filter(
        lambda pairs: len({y for y, _ in pairs}) == 2
    )
)
def test_mann_whitney_with_ties_equals_sklearn(pairs: list[tuple[bool, int]]) -> None:
    y = np.array([p[0] for p in pairs])
    s = np.array([p[1] for p in pairs], dtype=float)
    assert mann_whitney_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_auc_needs_churners_and_stayers() -> None:
    assert mann_whitney_auc(np.array([True, True]), np.array([1.0, 2.0])) is None
    assert auc_interval(np.array([False, False]), np.array([1.0, 2.0])) is None


def test_top_decile_lift_is_the_lowest_tenths_rate_over_the_overall_rate() -> None:
    cases = churn_cases(random_history(3, signal=1.5), 60)
    result = backtest(cases, bootstrap=0)
    scored = cases[cases["health"].notna()].sort_values(
        ["health", "as_of", "customer_id"], kind="stable"
    )
    top = scored.head(int(np.ceil(len(scored) / 10)))
    assert result.top_decile_lift == pytest.approx(top["churned"].mean() / scored["churned"].mean())
    assert result.auc_ci is None  # no bootstrap asked for


def test_the_interval_is_seeded_and_the_large_sample_path_agrees_with_resampling() -> None:
    rng = np.random.default_rng(7)
    n = DIRECT_BUDGET // 1000 + 1000  # above the direct budget at 1000 replicates
    y = rng.random(n) < 0.25
    s = rng.normal(size=n) + 0.6 * y
    interval = auc_interval(y, s, seed=3)
    assert interval == auc_interval(y, s, seed=3)
    assert interval != auc_interval(y, s, seed=4)
    # Reference: resample cases directly and score each replicate with scikit-learn.
    draws = []
    for _ in range(300):
        pick = rng.integers(0, n, n)
        draws.append(roc_auc_score(y[pick], s[pick]))
    low, high = np.percentile(draws, [2.5, 97.5])
    assert interval is not None
    assert interval[0] == pytest.approx(low, abs=0.006)
    assert interval[1] == pytest.approx(high, abs=0.006)


# --------------------------------------------------------------------------- verdicts


def test_random_churn_does_not_predict_the_interval_covers_one_half() -> None:
    cases = churn_cases(random_history(11, customers=400, signal=0.0), 60)
    result = backtest(cases, seed=1)
    assert result.churned >= 100
    assert result.auc_ci is not None
    assert result.auc_ci[0] < 0.5 < result.auc_ci[1]
    assert result.verdict.startswith("health does not predict churn: the interval covers 0.5")


def test_health_that_predicts_says_so_with_its_figures() -> None:
    cases = churn_cases(random_history(5, customers=400, signal=1.8), 60)
    result = backtest(cases)
    assert result.auc_ci is not None and result.auc_ci[0] > 0.5
    assert result.verdict.startswith(
        f"health predicts churn: AUC {result.auc:.2f} "
        f"({result.auc_ci[0]:.2f}–{result.auc_ci[1]:.2f})"
    )
    assert result.reliable


def test_fewer_than_twenty_churn_events_are_unreliable() -> None:
    cases = churn_cases(random_history(2, customers=60, months=3, hazard=0.05), 30)
    events = int(cases["churned"].sum())
    assert 0 < events < 20
    result = backtest(cases)
    assert result.verdict.startswith(f"only {events} churn events: the figures are unreliable")
    assert not result.reliable


def test_json_has_the_agreed_keys_and_plain_values() -> None:
    cases = churn_cases(random_history(4), 60)
    data = to_json(backtest(cases, bootstrap=100))
    assert set(data) == JSON_KEYS
    assert set(data["by_band"]) == {"red", "yellow", "green"}
    assert set(data["by_band"]["red"]) == {"cases", "churned", "churn_rate"}
    assert set(data["measures"]) == {"satisfaction", "nps"}
    assert data["horizon_days"] == 60 and data["cases"] == len(cases)
    assert json.loads(json.dumps(data)) == data  # plain JSON types only


# ------------------------------------------------------------------------------ tune


def shifting_history(seed: int, *, early: str, late: str, n: int = 300) -> pd.DataFrame:
    """Cases whose churn is driven by `early` in the first six dates and `late` after;
    stored health weighs satisfaction and nps equally."""
    rng = np.random.default_rng(seed)
    frames = []
    for i, day in enumerate(pd.date_range("2026-01-01", periods=9, freq="MS")):
        sat = rng.uniform(0, 100, n)
        nps = rng.uniform(0, 100, n)
        driver = sat if (early if i < 6 else late) == "satisfaction" else nps
        churned = rng.random(n) < 0.05 + 0.5 * (1 - driver / 100) ** 2
        health = 0.5 * sat + 0.5 * nps
        frames.append(
            pd.DataFrame(
                {
                    "as_of": day,
                    "customer_id": pd.Series([f"C{j}" for j in range(n)], dtype="string"),
                    "name": pd.Series([f"N{j}" for j in range(n)], dtype="string"),
                    "health": health,
                    "band": band_of(health),
                    "satisfaction": sat,
                    "nps": nps,
                    "churned": churned,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_tune_reports_only_the_held_out_auc_and_never_an_in_sample_gain() -> None:
    cases = shifting_history(1, early="satisfaction", late="nps")
    result = tune(cases)
    assert result.fitted_weights is not None
    assert result.fitted_weights["satisfaction"] > 0.8  # the early periods say satisfaction
    test = cases[cases["as_of"] >= pd.Timestamp("2026-07-01")]
    train = cases[cases["as_of"] < pd.Timestamp("2026-07-01")]
    assert result.test_cases == len(test) and result.train_cases == len(train)
    w = result.fitted_weights
    new = w["satisfaction"] * cases["satisfaction"] + w["nps"] * cases["nps"]
    # In the fitted periods the new weights look better ...
    in_sample = roc_auc_score(train["churned"], -new[train.index])
    assert in_sample > roc_auc_score(train["churned"], -train["health"]) + 0.02
    # ... but only the held-out AUCs are reported, and there they lose: nothing proposed.
    assert result.old_auc == pytest.approx(roc_auc_score(test["churned"], -test["health"]))
    assert result.new_auc == pytest.approx(roc_auc_score(test["churned"], -new[test.index]))
    assert result.new_auc < result.old_auc
    assert result.weights is None and result.toml == ""
    assert "do not improve" in result.message


def test_tune_proposes_weights_that_improve_the_held_out_auc() -> None:
    cases = shifting_history(2, early="satisfaction", late="satisfaction")
    result = tune(cases)
    assert result.weights is not None
    assert result.new_auc is not None and result.old_auc is not None
    assert result.new_auc > result.old_auc
    assert result.weights["satisfaction"] > result.weights["nps"]
    assert result.weights["recency"] == 0 and result.weights["support"] == 0
    assert sum(result.weights.values()) == pytest.approx(1.0, abs=0.002)
    pasted = settings_from_dict(tomllib.loads(result.toml))
    assert pasted.health.weights.normalised()["satisfaction"] == pytest.approx(
        result.weights["satisfaction"], abs=0.002
    )
    assert 0 < pasted.bands.red_below <= pasted.bands.green_from < 100


def test_a_wrong_signed_measure_gets_weight_zero() -> None:
    cases = shifting_history(3, early="satisfaction", late="satisfaction")
    # a measure that churners score higher on: its coefficient has the wrong sign
    rng = np.random.default_rng(0)
    cases["support"] = rng.uniform(0, 100, len(cases))
    cases["churned"] |= rng.random(len(cases)) < 0.4 * (cases["support"] / 100) ** 2
    result = tune(cases)
    assert result.coefficients["support"] > 0
    assert result.fitted_weights is not None and result.fitted_weights["support"] == 0


def test_tune_without_scikit_learn_names_the_extra(tmp_path: Path) -> None:
    script = (
        "import sys; sys.modules['sklearn'] = None\n"
        "import pandas as pd\n"
        "from cstool.backtest import tune\n"
        "from cstool.errors import UsageError\n"
        "try:\n"
        "    tune(pd.DataFrame({'as_of': [], 'churned': [], 'health': []}))\n"
        "except UsageError as exc:\n"
        "    print(exc.hint)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.strip() == 'pip install "cstool[tune]"'


# ------------------------------------------------------------------------- the CLI


@pytest.fixture(scope="module")
def history_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example history, one snapshot per monthly export."""
    db = tmp_path_factory.mktemp("history") / "cstool.db"
    for path in sorted(HISTORY.glob("customers_2026-*.csv")):
        day = path.stem.removeprefix("customers_")
        code, _, err = run("snapshot", str(path), "--as-of", day, "--db", str(db))
        assert code == 0, err
    return db


def test_the_example_history_has_twelve_monthly_exports() -> None:
    files = sorted(p.name for p in HISTORY.glob("customers_*.csv"))
    assert files == [f"customers_2026-{m:02d}-01.csv" for m in range(1, 13)]
    header = (ROOT / "examples" / "customer_data.csv").read_text(encoding="utf-8").splitlines()[0]
    sizes = []
    for name in files:
        lines = (HISTORY / name).read_text(encoding="utf-8").splitlines()
        assert lines[0] == header
        sizes.append(len(lines) - 1)
    assert all(250 <= size <= 350 for size in sizes)


def test_backtest_json_on_the_example_history(history_db: Path) -> None:
    code, out, err = run(
        "backtest", "--db", str(history_db), "--as-of", "2026-12-31", "--format", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == JSON_KEYS
    store = open_store(history_db, create=False)
    assert store is not None
    with store:
        cases = churn_cases(stored_snapshots(store, pd.Timestamp("2026-12-31").date()), 90)
    assert data["cases"] == len(cases) and data["churned"] == int(cases["churned"].sum())
    assert data["auc"] == pytest.approx(roc_auc_score(cases["churned"], -cases["health"]))
    assert data["verdict"].startswith("health predicts churn")  # the history is built so
    assert data["by_band"]["red"]["churn_rate"] > data["by_band"]["green"]["churn_rate"]


def test_as_of_and_horizon_choose_the_cases(history_db: Path) -> None:
    def cases(*extra: str) -> int:
        code, out, err = run("backtest", "--db", str(history_db), "--format", "json", *extra)
        assert code == 0, err
        return int(json.loads(out)["cases"])

    full = cases("--as-of", "2026-12-31", "--horizon", "90d")
    assert full == cases("--as-of", "2026-12-31", "--horizon", "90")
    assert cases("--as-of", "2026-10-01", "--horizon", "90d") < full  # fewer snapshots
    assert cases("--as-of", "2026-12-31", "--horizon", "30") > full  # more dates have outcomes


def test_backtest_tune_on_the_example_history_improves_or_says_it_cannot(
    history_db: Path,
) -> None:
    code, out, err = run(
        "backtest", "--db", str(history_db), "--as-of", "2026-12-31", "--tune", "--format", "json"
    )
    assert code == 0, err
    tuned = json.loads(out)["tune"]
    assert tuned["test_dates"][0] > tuned["train_dates"][1]
    if tuned["weights"] is None:
        assert "do not improve" in tuned["message"] or "cannot" in tuned["message"]
        assert tuned["toml"] is None
    else:
        assert tuned["new_auc"] > tuned["old_auc"]
        assert "[health.weights]" in tuned["toml"]


def test_backtest_table_shows_bands_figures_misses_and_verdict(history_db: Path) -> None:
    code, out, err = run("backtest", "--db", str(history_db), "--as-of", "2026-12-31", "--tune")
    assert code == 0, err
    _, raw, _ = run(
        "backtest", "--db", str(history_db), "--as-of", "2026-12-31", "--format", "json"
    )
    data = json.loads(raw)
    red = data["by_band"]["red"]
    red_line = next(line for line in out.splitlines() if line.strip().startswith("red "))
    assert red_line.split()[1:4] == [
        f"{red['cases']:,}",
        f"{red['churned']:,}",
        f"{100 * red['churn_rate']:.1f}",
    ]
    assert "█" in red_line
    assert f"{data['auc']:.3f}" in out
    assert "Churned while green" in out and "Red but stayed" in out
    assert "verdict: " + data["verdict"][:40] in out.replace("\n", " ")
    assert "Tuning" in out


@pytest.mark.parametrize(("text", "days"), [("90", 90), ("90d", 90), ("13w", 91), (" 30D ", 30)])
def test_horizon_forms(text: str, days: int) -> None:
    assert parse_horizon(text) == days


def test_bad_horizon_and_missing_store_are_usage_errors(tmp_path: Path, history_db: Path) -> None:
    code, _, err = run("backtest", "--db", str(history_db), "--horizon", "3 months")
    assert code == 2 and "--horizon '3 months'" in err
    code, _, err = run("backtest", "--db", str(tmp_path / "none.db"))
    assert code == 2 and "no store here" in err
    assert not (tmp_path / "none.db").exists()
    code, _, err = run("backtest", "--db", str(history_db), "--as-of", "2026-02-15")
    assert code == 2 and "nothing to check" in err


def test_cstool_help_does_not_import_scikit_learn() -> None:
    script = "import sys, cstool.cli; print('sklearn' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"]


def test_make_history_writes_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    script = HISTORY / "make_history.py"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    for made in sorted(tmp_path.glob("customers_*.csv")):
        assert made.read_bytes() == (HISTORY / made.name).read_bytes(), made.name
    assert len(list(tmp_path.glob("customers_*.csv"))) == 12
