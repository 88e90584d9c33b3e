"""Revenue movements and cohorts against hand-computed values; daily = monthly snapshots."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from cstool.config import Settings, settings_from_dict
from cstool.kpis import SnapshotHistory, cohorts, movements, portfolio
from cstool.kpis.movements import PERIODS, movements_and_cohorts
from cstool.kpis.report import report_data, report_json
from cstool.store import open_store

JAN, FEB, MAR, APR = (pd.Timestamp(2026, m, 1) for m in (1, 2, 3, 4))
SIGNUP = {
    "A": "2025-12-03",
    "B": "2025-12-10",
    "C": "2025-12-15",
    "D": "2025-12-20",
    "E": "2026-01-20",
}


def book(day: pd.Timestamp) -> pd.DataFrame:
    """The customer book on `day`: changes spread over the months, as a real one has them.

    Jan 12 D goes to 0, Jan 15–24 B dips to 150, Jan 20 E signs (40); Feb 5 D leaves,
    Feb 10 A expands to 150, Feb 15 C churns (still listed), Feb 20 B contracts to 120;
    Mar 3 C leaves, Mar 5 D comes back (90), Mar 25 F signs (30, no signup date).
    """
    rows: list[tuple[str, float, str]] = []
    rows.append(("A", 150.0 if day >= pd.Timestamp(2026, 2, 10) else 100.0, "active"))
    if day >= pd.Timestamp(2026, 2, 20):
        b = 120.0
    elif pd.Timestamp(2026, 1, 15) <= day < pd.Timestamp(2026, 1, 25):
        b = 150.0
    else:
        b = 200.0
    rows.append(("B", b, "active"))
    if day < pd.Timestamp(2026, 3, 3):
        rows.append(("C", 50.0, "churned" if day >= pd.Timestamp(2026, 2, 15) else "active"))
    if day < pd.Timestamp(2026, 2, 5):
        rows.append(("D", 0.0 if day >= pd.Timestamp(2026, 1, 12) else 80.0, "active"))
    elif day >= pd.Timestamp(2026, 3, 5):
        rows.append(("D", 90.0, "active"))
    if day >= pd.Timestamp(2026, 1, 20):
        rows.append(("E", 40.0, "active"))
    if day >= pd.Timestamp(2026, 3, 25):
        rows.append(("F", 30.0, "active"))
    ids, mrr, status = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "mrr": list(mrr),
            "status": pd.array(status, dtype="string"),
            "signup_date": pd.to_datetime([SIGNUP.get(i) for i in ids]),
            "band": pd.array(["green"] * len(ids), dtype="string"),
            "health": [80.0] * len(ids),
            "satisfaction": [80.0] * len(ids),
            "nps": pd.array([None] * len(ids), dtype="Int64"),
        }
    )


def snapshots(days: list[pd.Timestamp]) -> pd.DataFrame:
    """The book on each day, as Store.load_snapshots returns it."""
    return pd.concat([book(d).assign(as_of=d) for d in days], ignore_index=True)


MONTHLY = snapshots([JAN, FEB, MAR, APR])
DAILY = snapshots(list(pd.date_range(JAN, APR, freq="D")))


def value(frame: pd.DataFrame, row: int, column: str) -> float | None:
    cell = frame[column].iloc[row]
    return None if pd.isna(cell) else float(cell)


def test_monthly_movements_match_the_hand_computed_ones() -> None:
    moves = movements(MONTHLY, "month")
    assert list(moves["start"]) == [JAN, FEB, MAR]
    assert list(moves["end"]) == [FEB, MAR, APR]
    expected = {
        # Jan: E new 40, D to 0 (churn 80).
        "new_mrr": [40, 0, 30],
        "expansion_mrr": [0, 50, 0],  # Feb: A 100 → 150
        "contraction_mrr": [0, 80, 0],  # Feb: B 200 → 120
        "churned_mrr": [80, 50, 0],  # Feb: C churned (still listed with its 50)
        "reactivation_mrr": [0, 0, 90],  # Mar: D paid in January, back with 90
        "net_new_mrr": [-40, -80, 120],
        "mrr_start": [430, 390, 310],
        "mrr_end": [390, 310, 430],
        "new_customers": [1, 0, 1],
        "expansion_customers": [0, 1, 0],
        "contraction_customers": [0, 1, 0],
        "churned_customers": [1, 1, 0],
        "reactivation_customers": [0, 0, 1],
        "customers_start": [4, 4, 3],
        "customers_end": [4, 3, 5],
        "live_customers_end": [5, 3, 5],  # Feb 1 still lists D (0 MRR, live); C churned by Mar
    }
    for column, values in expected.items():
        assert moves[column].tolist() == values, column
    assert value(moves, 0, "logo_churn") == pytest.approx(25.0)
    assert value(moves, 1, "logo_churn") == pytest.approx(25.0)
    assert value(moves, 2, "logo_churn") == 0.0
    assert value(moves, 0, "gross_revenue_retention") == pytest.approx(100 * 350 / 430)
    assert value(moves, 1, "gross_revenue_retention") == pytest.approx(100 * 260 / 390)
    assert value(moves, 1, "net_revenue_retention") == pytest.approx(100 * 310 / 390)
    assert value(moves, 2, "net_revenue_retention") == pytest.approx(100.0)
    assert value(moves, 0, "arpa") == pytest.approx(390 / 5)
    assert value(moves, 1, "arpa") == pytest.approx(310 / 3)
    assert value(moves, 0, "quick_ratio") == pytest.approx(40 / 80)
    assert value(moves, 1, "quick_ratio") == pytest.approx(50 / 130)
    assert value(moves, 2, "quick_ratio") is None  # nothing lost: undefined, not infinite


@pytest.mark.parametrize("period", ["week", "month", "quarter"])
@pytest.mark.parametrize("frame", [MONTHLY, DAILY], ids=["monthly", "daily"])
def test_net_new_is_the_change_in_mrr(frame: pd.DataFrame, period: str) -> None:
    moves = movements(frame, period)  # type: ignore[arg-type]
    gains = moves["new_mrr"] + moves["expansion_mrr"] + moves["reactivation_mrr"]
    losses = moves["contraction_mrr"] + moves["churned_mrr"]
    assert (gains - losses).tolist() == pytest.approx(moves["net_new_mrr"].tolist())
    change = moves["mrr_end"] - moves["mrr_start"]
    assert moves["net_new_mrr"].tolist() == pytest.approx(change.tolist())
    # Periods chain: each one starts where the one before ended.
    assert moves["mrr_start"].iloc[1:].tolist() == moves["mrr_end"].iloc[:-1].tolist()
    flow = (
        moves["customers_start"]
        + moves["new_customers"]
        + moves["reactivation_customers"]
        - moves["churned_customers"]
    )
    assert flow.tolist() == moves["customers_end"].tolist()


def test_daily_snapshots_give_the_same_monthly_figures() -> None:
    pd.testing.assert_frame_equal(movements(DAILY, "month"), movements(MONTHLY, "month"))
    weekly = movements(DAILY, "week")
    assert len(weekly) == 13  # Mondays from Jan 5 to Mar 30
    assert weekly["start"].iloc[0] == pd.Timestamp(2026, 1, 5)
    quarterly = movements(DAILY, "quarter")
    assert quarterly["start"].tolist() == [JAN]  # Q1 ends Apr 1: the last snapshot
    assert value(quarterly, 0, "mrr_end") == 430.0


@pytest.mark.parametrize("frame", [MONTHLY, DAILY], ids=["monthly", "daily"])
def test_frames_taken_one_after_the_other_give_what_their_concatenation_gives(
    frame: pd.DataFrame,
) -> None:
    # As the report passes them: the stored rows, then today's table (here without
    # signup_date and status, which the concatenation fills with missing values).
    today = book(pd.Timestamp(2026, 4, 20))[["customer_id", "mrr"]].assign(
        as_of=pd.Timestamp(2026, 4, 20)
    )
    joined = pd.concat([frame, today], ignore_index=True)
    moves, table = movements_and_cohorts([frame, today], PERIODS)
    expected_moves, expected_table = movements_and_cohorts(joined, PERIODS)
    for period in PERIODS:
        pd.testing.assert_frame_equal(moves[period], expected_moves[period])
        pd.testing.assert_frame_equal(moves[period], movements(joined, period))
    pd.testing.assert_frame_equal(table, expected_table)
    pd.testing.assert_frame_equal(table, cohorts(joined))
    # Today's customers have no status: live, paying their mrr (F signed in March, 30).
    assert value(moves["month"], len(moves["month"]) - 1, "mrr_end") == 430.0
    empty = frame.iloc[:0]
    alone, alone_table = movements_and_cohorts([empty, today], PERIODS)
    assert all(len(alone[p]) == 0 for p in PERIODS)  # one snapshot: no period
    assert alone_table["customers"].tolist() == cohorts(today)["customers"].tolist()


def test_retention_goals_use_the_monthly_figures_not_day_over_day() -> None:
    settings = settings_from_dict(
        {
            "goals": [
                {"metric": "gross_revenue_retention", "target": 90, "deadline": "2026-12-31"},
                {"metric": "logo_churn", "target": 5, "deadline": "2026-12-31"},
            ]
        }
    )
    now = book(MAR)
    daily = portfolio(now, settings, MAR.date(), DAILY)
    monthly = portfolio(now, settings, MAR.date(), MONTHLY)
    # Day over day (Feb 28 → Mar 1) nothing changed; February as a month kept 260 of 390.
    assert daily.kpis["gross_revenue_retention"] == pytest.approx(100.0)
    for result in (daily, monthly):
        grr, churn = result.goals
        assert grr.current == pytest.approx(100 * 260 / 390)
        assert grr.baseline == pytest.approx(100 * 350 / 430)  # January, the first month
        assert churn.current == pytest.approx(25.0)
        assert grr.points == 2
    assert daily.goals == monthly.goals


def test_cohorts_share_of_customers_and_mrr_still_live() -> None:
    table = cohorts(MONTHLY)
    december = table.loc[table["cohort"] == "2025-12"]
    assert december["months_since"].tolist() == [1, 2, 3, 4]  # Jan … Apr snapshots
    assert december["customers"].tolist() == [4, 4, 4, 4]
    # Jan all four; Feb C and D still listed and live; Mar C churned, D gone; Apr D is back.
    assert december["live_customers"].tolist() == [4, 4, 2, 3]
    assert december["customer_share"].astype(float).tolist() == [100.0, 100.0, 50.0, 75.0]
    mrr_share = [100 * m / 430 for m in (430, 350, 270, 360)]
    assert december["mrr_share"].astype(float).tolist() == pytest.approx(mrr_share)
    # F has no signup date: its cohort is the month it was first seen.
    april = table.loc[table["cohort"] == "2026-04"]
    assert april[["months_since", "customers", "live_customers"]].values.tolist() == [[0, 1, 1]]
    assert sorted(table["cohort"].unique()) == ["2025-12", "2026-01", "2026-04"]
    # E signed on Jan 20: January's snapshot (Jan 1) predates it, so its row starts in Feb.
    january = table.loc[table["cohort"] == "2026-01"]
    assert january["months_since"].tolist() == [1, 2, 3]
    assert january["customer_share"].astype(float).tolist() == [100.0, 100.0, 100.0]
    # Daily snapshots: each month read from its last day, so the same December cohort.
    daily = cohorts(DAILY)
    daily_december = daily.loc[daily["cohort"] == "2025-12"]
    assert daily_december["months_since"].tolist() == [1, 2, 3, 4]


def test_report_data_lists_movements_with_iso_dates() -> None:
    settings = settings_from_dict({})
    result = portfolio(book(APR), settings, APR.date(), MONTHLY)
    data = report_data(result, settings)
    first = data["movements"][0]
    assert first["start"] == "2026-01-01" and first["end"] == "2026-02-01"
    assert first["net_new_mrr"] == -40 and first["churned_mrr"] == 80
    assert data["movements"][2]["quick_ratio"] is None
    assert [m["mrr_end"] for m in data["movements"]] == [390, 310, 430]
    assert data["cohorts"][0]["cohort"] == "2025-12"
    assert set(data["movements_by_period"]) == {"week", "month", "quarter"}
    import json

    assert json.loads(report_json(result, settings))["movements"] == data["movements"]


def test_empty_and_single_snapshots_have_no_movements() -> None:
    assert movements(MONTHLY.iloc[0:0], "month").empty
    assert movements(snapshots([JAN]), "month").empty
    assert cohorts(MONTHLY.iloc[0:0]).empty
    one = movements(snapshots([JAN, JAN + timedelta(days=3)]), "week")
    assert one.empty  # Jan 1 is a Thursday: no snapshot on or before a week's start but the first


def test_the_store_reads_only_boundary_snapshots_and_gives_the_same_movements(
    tmp_path: Path,
) -> None:
    days = list(pd.date_range(JAN, APR - pd.Timedelta(days=1), freq="D"))
    plain = {d: book(d).drop(columns=["status", "signup_date"]) for d in days}
    store = open_store(tmp_path / "cstool.db")
    assert store is not None
    with store:
        for day, frame in plain.items():
            assert store.save_snapshot(day.date(), frame)
        history = SnapshotHistory.from_store(store, Settings(), APR.date())
    loaded = history.revenue["as_of"].nunique()
    assert 4 <= loaded < len(days) // 2  # boundaries and month ends, not all 90 days
    now = book(APR).drop(columns=["status", "signup_date"])
    from_store = portfolio(now, Settings(), APR.date(), history)
    in_memory = portfolio(
        now, Settings(), APR.date(), pd.concat([f.assign(as_of=d) for d, f in plain.items()])
    )
    for period in ("week", "month", "quarter"):
        pd.testing.assert_frame_equal(
            from_store.movements[period], in_memory.movements[period], check_dtype=False
        )
    assert from_store.cohorts is not None and in_memory.cohorts is not None
    pd.testing.assert_frame_equal(from_store.cohorts, in_memory.cohorts, check_dtype=False)
    # Without statuses the churn of C is seen when it leaves (March), not when it churned.
    assert from_store.movements["month"]["churned_mrr"].tolist() == [80.0, 0.0, 50.0]


@pytest.mark.parametrize("missing_id", [False, True])
def test_latest_signup_month_is_the_last_row_of_each_customers_latest_day(
    missing_id: bool,
) -> None:
    import numpy as np

    from cstool.kpis.movements import _latest_signup_month

    rng = np.random.default_rng(9)
    customer = rng.integers(0, 50, 400)
    if missing_id:
        customer[::37] = -1  # rows without an ID: as the sort and groupby did
    day = rng.integers(0, 6, 400)  # several rows of a customer on one day: the last wins
    month = rng.integers(24_000, 24_400, 400)
    got = np.full(60, -7, dtype=np.int64)
    _latest_signup_month(got, customer, day, month)
    expected = np.full(60, -7, dtype=np.int64)
    latest = (
        pd.DataFrame({"c": customer, "d": day, "m": month})
        .sort_values(["c", "d"], kind="stable")
        .groupby("c")["m"]
        .last()
    )
    expected[latest.index.to_numpy()] = latest.to_numpy()
    assert got.tolist() == expected.tolist()
    assert (got[50:59] == -7).all()  # customers without rows keep their value


def test_cohorts_of_daily_snapshots_read_each_months_last_day() -> None:
    last_days = [d for d in DAILY["as_of"].unique() if (d + timedelta(days=1)).day == 1]
    month_ends = DAILY[DAILY["as_of"].isin([*last_days, DAILY["as_of"].max()])]
    pd.testing.assert_frame_equal(cohorts(DAILY), cohorts(month_ends.reset_index(drop=True)))
    read = sorted(cohorts(DAILY)["as_of"].unique())
    assert read == [
        pd.Timestamp(2026, 1, 31),
        pd.Timestamp(2026, 2, 28),
        pd.Timestamp(2026, 3, 31),
        APR,
    ]


def test_snapshots_dated_within_a_day_count_as_that_day() -> None:
    late = MONTHLY.assign(as_of=MONTHLY["as_of"] + pd.Timedelta(hours=10, minutes=30))
    shuffled = late.sample(frac=1.0, random_state=1).reset_index(drop=True)
    for period in PERIODS:
        expected = movements(MONTHLY, period)
        pd.testing.assert_frame_equal(movements(late, period), expected)
        pd.testing.assert_frame_equal(movements(shuffled, period), expected)
    pd.testing.assert_frame_equal(cohorts(shuffled), cohorts(MONTHLY))
