"""KPIs against hand-computed values on a small fixture with two snapshots; goals; properties."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cstool.config import Goal, Settings, settings_from_dict
from cstool.errors import UsageError
from cstool.kpis import (
    CHANGE_KPIS,
    KPIS,
    LEVEL_KPIS,
    SnapshotHistory,
    cache_snapshot_kpis,
    compare,
    goal_progress,
    kpi_trend,
    kpi_variant,
    portfolio,
    portfolio_kpis,
    snapshot_kpis,
)
from cstool.store import Store, open_store

JAN = date(2026, 1, 1)
FEB = date(2026, 2, 1)
MAR = date(2026, 3, 1)


def table(rows: list[tuple[str, float | None, str, float, float, int | None]]) -> pd.DataFrame:
    """A scored frame as docs/FRAME.md describes it (the columns KPIs read)."""
    ids, mrr, band, sat, health, nps = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "name": pd.array([f"Name {i}" for i in ids], dtype="string"),
            "mrr": pd.array(mrr, dtype="float64"),
            "satisfaction": pd.array(sat, dtype="float64"),
            "health": pd.array(health, dtype="float64"),
            "band": pd.array(band, dtype="string"),
            "nps": pd.array(nps, dtype="Int64"),
        }
    )


# Snapshot on Jan 1: A, B, C, D (MRR 1000 in all).
BEFORE = table(
    [
        ("A", 100.0, "green", 80.0, 80.0, 10),
        ("B", 200.0, "red", 40.0, 40.0, 3),
        ("C", 300.0, "yellow", 60.0, 60.0, 8),
        ("D", 400.0, "green", 90.0, 90.0, 9),
    ]
)
# Feb 1: A expanded, B went red → green, C left, D contracted and went green → red, E is new.
AFTER = table(
    [
        ("A", 150.0, "green", 85.0, 82.0, 9),
        ("B", 200.0, "green", 70.0, 78.0, 10),
        ("D", 300.0, "red", 30.0, 35.0, 2),
        ("E", 50.0, "yellow", 60.0, 65.0, None),
    ]
)


def snapshots(*pairs: tuple[date, pd.DataFrame]) -> pd.DataFrame:
    """Stored snapshots: as_of plus the snapshot columns, as the store returns them."""
    frames = [
        frame.drop(columns="name").assign(as_of=pd.Timestamp(day), segment="Grow")
        for day, frame in pairs
    ]
    return pd.concat(frames, ignore_index=True)


def test_level_kpis_match_hand_computed_values() -> None:
    kpis = portfolio_kpis(AFTER, Settings())
    assert kpis["customers"] == 4
    assert kpis["mrr"] == 700
    assert kpis["mrr_at_risk"] == 350  # D red 300 + E yellow 50
    assert kpis["mrr_at_risk_red"] == 300
    assert kpis["mrr_at_risk_yellow"] == 50
    assert kpis["satisfied_share"] == 75  # A 85, B 70, E 60 (≥ 60); D 30 is not
    assert kpis["mean_satisfaction"] == pytest.approx(61.25)
    assert kpis["mean_health"] == pytest.approx(65.0)
    assert kpis["green_share"] == 50
    assert kpis["yellow_share"] == 25
    assert kpis["red_share"] == 25
    # Answers 9, 10, 2 (E did not answer): 2 promoters, 1 detractor of 3.
    assert kpis["nps"] == pytest.approx(100 / 3)
    assert kpis["nps_responses"] == 3


def test_nps_of_the_earlier_snapshot() -> None:
    # 10 and 9 promote, 3 detracts, 8 is passive: (2 − 1) / 4.
    assert portfolio_kpis(BEFORE, Settings())["nps"] == 25


def test_satisfied_threshold_is_configurable() -> None:
    strict = settings_from_dict({"kpis": {"satisfied_threshold": 80}})
    assert portfolio_kpis(AFTER, strict)["satisfied_share"] == 25  # only A (85)


def test_change_kpis_match_hand_computed_values() -> None:
    result = compare(BEFORE, AFTER)
    kpis = result.kpis
    assert kpis["retention_rate"] == 75  # A, B, D of 4
    assert kpis["logo_churn"] == 25  # C
    # GRR: min(150,100) + min(200,200) + min(300,400) = 600 of 1000.
    assert kpis["gross_revenue_retention"] == pytest.approx(60)
    # NRR: 150 + 200 + 300 = 650 of 1000 (E is new, not retained revenue).
    assert kpis["net_revenue_retention"] == pytest.approx(65)
    assert kpis["new_customers"] == 1
    assert kpis["churned_customers"] == 1
    assert result.new["customer_id"].tolist() == ["E"]
    assert result.churned["customer_id"].tolist() == ["C"]
    assert result.churned["mrr"].tolist() == [300.0]


def test_band_migrations_name_who_moved() -> None:
    result = compare(BEFORE, AFTER)
    m = result.migrations
    assert m.loc["red", "green"] == 1  # B
    assert m.loc["green", "red"] == 1  # D
    assert m.loc["green", "green"] == 1  # A
    assert int(m.to_numpy().sum()) == 3  # kept customers only
    moved = result.moved
    # Worse first: D fell green → red, then B rose red → green.
    assert moved[["customer_id", "from_band", "to_band", "direction"]].values.tolist() == [
        ["D", "green", "red", "down"],
        ["B", "red", "green", "up"],
    ]
    assert moved["name"].tolist() == ["Name D", "Name B"]
    # Snapshots keep no names: a churned customer's name is missing, a new one's is known.
    assert compare(BEFORE.drop(columns="name"), AFTER).new["name"].tolist() == ["Name E"]


def test_compare_with_an_empty_earlier_table_has_no_rates() -> None:
    result = compare(BEFORE.iloc[0:0], AFTER)
    assert result.kpis["retention_rate"] is None
    assert result.kpis["net_revenue_retention"] is None
    assert result.kpis["new_customers"] == 4


def test_missing_mrr_counts_as_zero() -> None:
    before = BEFORE.assign(mrr=[100.0, np.nan, 300.0, 400.0])
    after = AFTER.assign(mrr=[np.nan, 200.0, 300.0, 50.0])
    kpis = compare(before, after).kpis
    # Then: A 100 + D 400 + C 300 = 800. Kept now: A 0, B 200 (was 0), D 300.
    assert kpis["net_revenue_retention"] == pytest.approx(100 * 500 / 800)
    assert kpis["gross_revenue_retention"] == pytest.approx(100 * 300 / 800)
    assert portfolio_kpis(after, Settings())["mrr"] == 550


def test_empty_table_has_zero_counts_and_undefined_means() -> None:
    kpis = portfolio_kpis(AFTER.iloc[0:0], Settings())
    assert kpis["customers"] == 0
    assert kpis["mrr"] == 0
    assert kpis["mean_health"] is None
    assert kpis["nps"] is None


def test_no_nps_answers_gives_no_nps() -> None:
    kpis = portfolio_kpis(AFTER.assign(nps=pd.array([None] * 4, dtype="Int64")), Settings())
    assert kpis["nps"] is None
    assert kpis["nps_responses"] == 0


def test_trend_has_one_row_per_snapshot_with_change_against_the_one_before() -> None:
    trend = kpi_trend(snapshots((FEB, AFTER), (JAN, BEFORE)), Settings())
    assert list(trend.index) == [JAN, FEB]
    assert trend.loc[JAN, "customers"] == 4
    assert np.isnan(trend.loc[JAN, "retention_rate"])
    assert trend.loc[FEB, "retention_rate"] == 75
    assert trend.loc[FEB, "net_revenue_retention"] == pytest.approx(65)
    assert trend.loc[FEB, "mrr"] == 700
    assert set(trend.columns) == set(LEVEL_KPIS) | set(CHANGE_KPIS)


def test_trend_accepts_iso_text_dates() -> None:
    stored = snapshots((JAN, BEFORE), (FEB, AFTER))
    stored["as_of"] = stored["as_of"].dt.strftime("%Y-%m-%d")
    assert list(kpi_trend(stored, Settings()).index) == [JAN, FEB]


def test_portfolio_compares_with_the_latest_snapshot_before_as_of() -> None:
    stored = snapshots((JAN, BEFORE), (MAR, AFTER))  # MAR is after as_of: left out
    result = portfolio(AFTER, Settings(), FEB, stored)
    assert result.compared_with == JAN
    assert result.kpis["retention_rate"] == 75
    assert result.previous is not None and result.previous["mrr"] == 1000
    assert list(result.trend.index) == [JAN, FEB]
    assert result.trend.loc[FEB, "mrr"] == 700


def test_portfolio_since_a_given_snapshot() -> None:
    stored = snapshots((JAN, BEFORE), (FEB, AFTER))
    result = portfolio(AFTER, Settings(), MAR, stored, since=JAN)
    assert result.compared_with == JAN
    assert result.kpis["logo_churn"] == 25
    # Today's trend row still compares with the latest snapshot (same data: all kept).
    assert result.trend.loc[MAR, "retention_rate"] == 100


def test_portfolio_since_a_date_without_snapshot_is_a_usage_error() -> None:
    stored = snapshots((JAN, BEFORE))
    with pytest.raises(UsageError, match="no snapshot on 2026-01-15"):
        portfolio(AFTER, Settings(), FEB, stored, since=date(2026, 1, 15))


def test_portfolio_without_snapshots_has_no_change() -> None:
    result = portfolio(AFTER, Settings(), FEB)
    assert result.compared_with is None and result.comparison is None
    assert result.kpis["retention_rate"] is None
    assert list(result.trend.index) == [FEB]


# Goals ---------------------------------------------------------------------------------------


def goal(**kw: object) -> Goal:
    base: dict[str, object] = {"metric": "satisfied_share", "target": 70, "deadline": "2026-05-01"}
    base.update(kw)
    return Goal.model_validate(base)


def test_goal_on_track_when_the_line_through_snapshots_reaches_the_target() -> None:
    # 50 → 55 → 60 over Jan 1, Jan 31, Mar 2: +5 per 30 days, 70 reached at May 1.
    history = [(date(2026, 1, 1), 50.0), (date(2026, 1, 31), 55.0)]
    g = goal_progress(goal(deadline="2026-05-01"), history, 60.0, date(2026, 3, 2))
    assert g.status == "on track" and g.on_track is True
    assert g.projected == pytest.approx(70.0)
    assert g.baseline == 50 and g.baseline_date == date(2026, 1, 1)
    assert g.progress == pytest.approx(0.5)
    assert g.points == 3


def test_goal_behind_when_the_projection_falls_short() -> None:
    history = [(date(2026, 1, 1), 50.0), (date(2026, 1, 31), 55.0)]
    g = goal_progress(goal(deadline="2026-04-01"), history, 60.0, date(2026, 3, 2))
    assert g.status == "behind" and g.on_track is False
    assert g.projected == pytest.approx(65.0)


def test_goal_achieved_missed_and_without_history() -> None:
    assert goal_progress(goal(), [], 75.0, date(2026, 3, 1)).status == "achieved"
    assert goal_progress(goal(), [], 60.0, date(2026, 6, 1)).status == "missed"
    alone = goal_progress(goal(), [], 60.0, date(2026, 3, 1))
    assert alone.status == "no data" and alone.on_track is None
    assert goal_progress(goal(), [], None, date(2026, 3, 1)).status == "no data"


def test_goal_with_own_baseline_and_a_downward_target() -> None:
    # MRR at risk from 1000 down to 400: lower is better because target < baseline.
    g = goal_progress(
        goal(metric="mrr_at_risk", target=400, baseline=1000),
        [(date(2026, 1, 1), 900.0)],
        700.0,
        date(2026, 2, 1),
    )
    assert g.higher_is_better is False
    assert g.progress == pytest.approx(0.5)
    assert g.status == "on track"  # −200 a month reaches 400 well before May
    assert goal_progress(goal(metric="mrr_at_risk", target=400), [], 350.0, FEB).status == (
        "achieved"
    )


def test_goals_in_settings_are_evaluated_on_the_portfolio() -> None:
    settings = settings_from_dict(
        {
            "goals": [
                {"metric": "retention_rate", "target": 70, "deadline": "2026-12-31"},
                {"metric": "mrr", "target": 2000, "deadline": "2026-12-31", "name": "Double"},
            ]
        }
    )
    result = portfolio(AFTER, settings, FEB, snapshots((JAN, BEFORE)))
    retention, mrr = result.goals
    assert retention.current == 75 and retention.status == "achieved"
    assert retention.name.startswith("Customer retention → 70 by 2026-12-31")
    assert mrr.name == "Double"
    assert mrr.baseline == 1000 and mrr.current == 700
    assert mrr.status == "behind"


def test_every_goal_metric_is_a_kpi() -> None:
    from typing import get_args

    from cstool.config import GoalMetric

    assert set(get_args(GoalMetric)) <= set(KPIS)


# Properties ----------------------------------------------------------------------------------

customer_rows = st.lists(
    st.tuples(
        st.sampled_from([f"C{i}" for i in range(12)]),
        st.one_of(st.none(), st.floats(0, 1e6)),
        st.sampled_from(["red", "yellow", "green"]),
        st.floats(0, 100),
        st.floats(0, 100),
        st.one_of(st.none(), st.integers(0, 10)),
    ),
    max_size=12,
    unique_by=lambda r: r[0],
)


def frame_of(rows: list[tuple[str, float | None, str, float, float, int | None]]) -> pd.DataFrame:
    return table(rows) if rows else BEFORE.iloc[0:0]


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(customer_rows, customer_rows)
def test_change_kpis_are_consistent_and_order_free(before_rows: list, after_rows: list) -> None:
    before, after = frame_of(before_rows), frame_of(after_rows)
    result = compare(before, after)
    kpis = result.kpis
    retention, churn = kpis["retention_rate"], kpis["logo_churn"]
    if retention is not None and churn is not None:
        assert retention + churn == pytest.approx(100)
    grr, nrr = kpis["gross_revenue_retention"], kpis["net_revenue_retention"]
    if grr is not None and nrr is not None:
        assert 0 <= grr <= 100 + 1e-9
        assert grr <= nrr + 1e-9
    assert kpis["new_customers"] == len({r[0] for r in after_rows} - {r[0] for r in before_rows})
    # Reordering the rows changes nothing.
    shuffled = compare(before[::-1], after[::-1])
    assert shuffled.kpis == kpis
    assert shuffled.moved["customer_id"].tolist() == result.moved["customer_id"].tolist()
    assert shuffled.migrations.equals(result.migrations)


@settings(max_examples=60, deadline=None)
@given(customer_rows)
def test_level_kpis_stay_in_range(rows: list) -> None:
    level = portfolio_kpis(frame_of(rows), Settings())
    assert level["customers"] == len(rows)
    for name in ("satisfied_share", "green_share", "yellow_share", "red_share"):
        value = level[name]
        assert value is None or 0 <= value <= 100
    assert level["nps"] is None or -100 <= level["nps"] <= 100
    assert level["mrr_at_risk"] is not None and level["mrr"] is not None
    assert level["mrr_at_risk"] <= level["mrr"] + 1e-6


# The KPI cache in the store ------------------------------------------------------------------


def _store_with(tmp_path: Path, *pairs: tuple[date, pd.DataFrame]) -> Store:
    store = open_store(tmp_path / "cstool.db")
    assert store is not None
    for day, frame in pairs:
        assert store.save_snapshot(day, frame)
    return store


def test_history_from_the_store_matches_the_one_from_memory(tmp_path: Path) -> None:
    pairs = ((JAN, BEFORE), (FEB, AFTER), (MAR, BEFORE))
    with _store_with(tmp_path, *pairs) as store:
        stored = SnapshotHistory.from_store(store, Settings(), date(2026, 4, 1))
        memory = SnapshotHistory.from_snapshots(snapshots(*pairs), Settings())
        pd.testing.assert_frame_equal(stored.trend, memory.trend)
        assert set(stored.frames) == {MAR}  # only the latest is kept in full
        assert len(store.snapshot_kpis(kpi_variant(Settings()))) == 3
        # Cached now: a second reading gives the same without recomputing.
        again = SnapshotHistory.from_store(store, Settings(), date(2026, 4, 1))
        pd.testing.assert_frame_equal(again.trend, memory.trend)


def test_cached_rows_are_used_and_keyed_by_settings(tmp_path: Path) -> None:
    with _store_with(tmp_path, (JAN, BEFORE), (FEB, AFTER)) as store:
        SnapshotHistory.from_store(store, Settings(), MAR)
        variant = kpi_variant(Settings())
        row = store.snapshot_kpis(variant)[(FEB, JAN)]
        store.save_snapshot_kpis(variant, [(FEB, JAN, {**row, "mrr": 1.0})])
        assert SnapshotHistory.from_store(store, Settings(), MAR).trend.loc[FEB, "mrr"] == 1.0
        strict = settings_from_dict({"kpis": {"satisfied_threshold": 80}})
        fresh = SnapshotHistory.from_store(store, strict, MAR).trend
        assert fresh.loc[FEB, "mrr"] == 700 and fresh.loc[FEB, "satisfied_share"] == 25


def test_back_filled_snapshot_gets_its_own_pairs(tmp_path: Path) -> None:
    with _store_with(tmp_path, (JAN, BEFORE), (MAR, AFTER)) as store:
        SnapshotHistory.from_store(store, Settings(), date(2026, 4, 1))
        assert store.save_snapshot(FEB, BEFORE)  # back-filled between the two
        trend = SnapshotHistory.from_store(store, Settings(), date(2026, 4, 1)).trend
        assert list(trend.index) == [JAN, FEB, MAR]
        assert trend.loc[FEB, "retention_rate"] == 100  # JAN → FEB: the same four
        assert trend.loc[MAR, "retention_rate"] == 75  # FEB → MAR, not JAN → MAR's cache


def test_portfolio_row_cached_on_export_equals_a_recomputed_one(tmp_path: Path) -> None:
    with _store_with(tmp_path, (JAN, BEFORE)) as store:
        result = portfolio(
            AFTER, Settings(), FEB, SnapshotHistory.from_store(store, Settings(), FEB)
        )
        assert store.save_snapshot(FEB, AFTER)
        cache_snapshot_kpis(store, Settings(), result)
        cached = store.snapshot_kpis(kpi_variant(Settings()))[(FEB, JAN)]
        recomputed = snapshot_kpis(store.load_snapshot(FEB), store.load_snapshot(JAN), Settings())
        assert cached == pytest.approx(recomputed)


# Lifecycle ------------------------------------------------------------------------------------


def with_status(frame: pd.DataFrame, statuses: list[str | None]) -> pd.DataFrame:
    return frame.assign(status=pd.array(statuses, dtype="string"))


def test_level_kpis_count_live_customers_only() -> None:
    # B churned, C paused, D without status (active): live are A and D.
    frame = with_status(BEFORE, ["active", "churned", "paused", None])
    kpis = portfolio_kpis(frame, Settings())
    assert kpis["customers"] == 2
    assert kpis["mrr"] == 500.0
    assert kpis["mrr_at_risk"] == 0.0  # B (red) and C (yellow) are not live
    assert kpis["green_share"] == 100.0 and kpis["red_share"] == 0.0
    assert kpis["mean_health"] == pytest.approx(85.0)
    assert kpis["mean_satisfaction"] == pytest.approx(85.0)
    assert kpis["nps"] == pytest.approx(100.0)  # A 10 and D 9: promoters; B's 3 is left out
    assert kpis["nps_responses"] == 2
    # Frames without the column: everyone is active.
    assert portfolio_kpis(BEFORE, Settings())["customers"] == 4


def test_a_churned_customer_in_the_later_table_counts_as_churned() -> None:
    after = with_status(AFTER, ["active", "churned", "active", "trial"])  # B churned
    result = compare(BEFORE, after)
    assert result.kpis["churned_customers"] == 2  # C left, B churned
    assert result.kpis["retention_rate"] == pytest.approx(50.0)
    assert set(result.churned["customer_id"]) == {"B", "C"}
    assert result.kpis["new_customers"] == 1  # E (a trial is live)
    # Snapshots: the same in the trend, churned rows do not count as present.
    trend = kpi_trend(snapshots((JAN, BEFORE), (FEB, after)), Settings())
    assert trend.loc[FEB, "churned_customers"] == 2
    assert trend.loc[FEB, "customers"] == 3


# Goal projections stay in the metric's range --------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "values", "target", "bound"),
    [
        ("satisfied_share", [40.0, 70.0, 95.0], 99.0, 100.0),  # rising fast: clipped at 100 %
        ("red_share", [60.0, 30.0, 5.0], 1.0, 0.0),  # falling fast: clipped at 0 %
        ("nps", [-20.0, -60.0, -90.0], 50.0, -100.0),
        ("mrr", [3000.0, 1500.0, 100.0], 5000.0, 0.0),
        ("customers", [300.0, 150.0, 10.0], 500.0, 0.0),
    ],
)
def test_goal_projection_is_clipped_to_the_metric_range(
    metric: str, values: list[float], target: float, bound: float
) -> None:
    as_of = date(2026, 3, 1)
    history = [(date(2026, 1, 1), values[0]), (date(2026, 2, 1), values[1])]
    progress = goal_progress(
        goal(metric=metric, target=target, deadline="2027-12-31"), history, values[2], as_of
    )
    assert progress.projected == bound


def test_unclipped_projection_stays_as_fitted() -> None:
    history = [(date(2026, 1, 1), 50.0), (date(2026, 2, 1), 51.0)]
    g = goal(metric="satisfied_share", target=60, deadline="2026-06-01")
    progress = goal_progress(g, history, 52.0, date(2026, 3, 1))
    assert progress.projected is not None and 52.0 < progress.projected < 60.0


@pytest.mark.parametrize("ordered", [True, False], ids=["sorted by day", "shuffled"])
def test_trend_day_sums_are_the_floats_bincount_gives(ordered: bool) -> None:
    from cstool.kpis.compare import _day_sums

    rng = np.random.default_rng(5)
    days = np.repeat(np.array([0, 1, 3, 4]), [50, 1, 70, 3])  # day 2 has no rows
    if not ordered:
        days = rng.permutation(days)
    values = rng.normal(1000.0, 300.0, len(days)) / 7.0
    values[days == 1] = -0.0  # a day whose only value is -0.0 sums to 0.0
    values[rng.random(len(days)) < 0.2] = np.nan
    flags = rng.random(len(days)) < 0.4
    per_day = _day_sums(days, 5)
    expected = np.bincount(days, weights=np.nan_to_num(values), minlength=5)
    assert per_day(values, skip_nan=True).tobytes() == expected.tobytes()
    finite = np.nan_to_num(values)
    assert per_day(finite).tobytes() == np.bincount(days, weights=finite, minlength=5).tobytes()
    counted = per_day(flags)
    assert counted.dtype == np.float64
    assert counted.tolist() == np.bincount(days, weights=flags.astype(float), minlength=5).tolist()
    assert counted[2] == 0.0 and per_day(values, skip_nan=True)[2] == 0.0


def test_trend_of_shuffled_snapshots_counts_the_same() -> None:
    frames = [
        pd.DataFrame(
            {
                "as_of": pd.Timestamp(day),
                "customer_id": pd.array([f"C{i}" for i in range(n)], dtype="string"),
                "mrr": [100.0] * n,
                "health": [50.0 + i for i in range(n)],
                "satisfaction": [70.0] * n,
                "band": pd.array(["red", "green"] * (n // 2), dtype="string"),
                "status": pd.array(["active"] * (n - 1) + ["churned"], dtype="string"),
                "nps": pd.array([9] * n, dtype="Int64"),
            }
        )
        for day, n in (("2026-01-01", 4), ("2026-02-01", 6))
    ]
    ordered = pd.concat(frames, ignore_index=True)
    shuffled = ordered.iloc[[7, 0, 9, 3, 1, 5, 8, 2, 6, 4]].reset_index(drop=True)
    a, b = kpi_trend(ordered, Settings()), kpi_trend(shuffled, Settings())
    pd.testing.assert_frame_equal(a, b)
    assert a["customers"].tolist() == [3.0, 5.0]
    assert a["red_share"].tolist() == [pytest.approx(100 * 2 / 3), pytest.approx(100 * 3 / 5)]
    assert a["churned_customers"].tolist()[1] == 0.0  # C3 churned in Jan: not present then


def test_status_masks_judge_each_normalised_status_once() -> None:
    from cstool.kpis import live_mask
    from cstool.kpis.definitions import status_masks, status_of

    frame = pd.DataFrame(
        {"status": pd.array([" Churned", "paused", None, "active", "CHURNED ", "trial"], "string")}
    )
    live, churned = status_masks(frame)
    status = status_of(frame)
    assert live.tolist() == [False, False, True, True, False, True]
    assert churned.tolist() == [True, False, False, False, True, False]
    assert live.tolist() == (~status.isin(["churned", "paused"])).tolist()
    assert live_mask(frame).tolist() == live.tolist()
    assert [m.tolist() for m in status_masks(pd.DataFrame({"mrr": [1.0, 2.0]}))] == [
        [True, True],
        [False, False],
    ]


def test_level_parts_count_live_customers_only_with_missing_values() -> None:
    from cstool.kpis.definitions import _level_masks

    frame = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D", "E"],
            "status": pd.Series(["active", " Paused", None, "churned", "trial"], dtype="string"),
            "mrr": [100.0, 50.0, np.nan, 30.0, -0.0],
            "band": pd.Series(["red", "green", "yellow", None, "red"], dtype="string"),
            "satisfaction": [80.0, 90.0, np.nan, 75.0, 60.0],
            "health": [30.0, 90.0, 55.0, np.nan, np.nan],
            "nps": pd.array([10, 3, None, 9, 6], dtype="Int64"),
        }
    )
    parts = _level_masks(frame, 70.0)
    assert parts["customers"].tolist() == [True, False, True, False, True]
    assert parts["mrr"].tolist() == [100.0, 0.0, 0.0, 0.0, 0.0]
    assert str(parts["mrr"][4]) == "-0.0"  # a live customer's own value, as it is
    assert parts["mrr_at_risk_red"].tolist() == [100.0, 0.0, 0.0, 0.0, 0.0]
    assert parts["red"].tolist() == [True, False, False, False, True]
    assert parts["yellow"].tolist() == [False, False, True, False, False]
    assert not parts["green"].any()  # B is green but paused
    assert parts["satisfied"].tolist() == [True, False, False, False, False]
    assert np.isnan(parts["satisfaction"][[1, 2, 3]]).all() and parts["satisfaction"][4] == 60
    assert np.isnan(parts["health"][[1, 3, 4]]).all() and parts["health"][[0, 2]].tolist() == [
        30,
        55,
    ]
    assert parts["promoters"].tolist() == [True, False, False, False, False]
    assert parts["detractors"].tolist() == [False, False, False, False, True]
    assert parts["nps_responses"].tolist() == [True, False, False, False, True]
