"""Lifecycle triggers (save, payment, silence for churned and paused) and the health-drop
warning, on frames and on a real store."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cstool.config import FollowupSettings, Settings
from cstool.followup import PRIORITY_TERMS, due_followups, next_followup
from cstool.store import open_store
from tests.test_followup import BOOK, TODAY, ago, ahead, frame, logged

S = Settings()
EARLIER_DAY = TODAY - timedelta(days=31)


def with_status(
    df: pd.DataFrame, status: list[Any], cancel: list[Any] | None = None
) -> pd.DataFrame:
    """The lifecycle columns as cstool.lifecycle adds them (docs/FRAME.md)."""
    out = df.copy()
    out["status"] = pd.Series(status, dtype="string", index=out.index)
    out["churn_date"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    out["cancel_date"] = pd.to_datetime(pd.Series(cancel or [None] * len(out), index=out.index))
    out["cancel_date"] = out["cancel_date"].astype("datetime64[ns]")
    return out


def ids(df: pd.DataFrame, until: date = TODAY, **kw: Any) -> list[str]:
    return list(due_followups(df, S, TODAY, until, **kw)["customer_id"])


# ------------------------------------------------------------------ lifecycle
def test_churned_and_paused_customers_never_get_a_follow_up() -> None:
    # STALE would be due by cadence and RED by band; as churned/paused neither fires.
    df = with_status(BOOK, ["active", "churned", "paused", None])
    for until in (TODAY, TODAY + timedelta(days=7), TODAY + timedelta(days=4000)):
        got = ids(df, until)
        assert "STALE" not in got and "RED" not in got
        assert "RENEW" in got  # still live
    assert next_followup(df, S, TODAY, "STALE") is None
    assert next_followup(df, S, TODAY, "RED") is None
    assert next_followup(df, S, TODAY, "HAPPY") is not None  # <NA> is active


def test_a_missing_or_na_status_changes_nothing() -> None:
    plain = due_followups(BOOK, S, TODAY, TODAY + timedelta(days=60))
    na = due_followups(with_status(BOOK, [None] * 4), S, TODAY, TODAY + timedelta(days=60))
    active = due_followups(
        with_status(BOOK, ["active", "trial", "active", "active"]),
        S,
        TODAY,
        TODAY + timedelta(days=60),
    )
    pd.testing.assert_frame_equal(plain, na)
    pd.testing.assert_frame_equal(plain, active)
    assert (plain["priority_save"] == 0).all() and (plain["priority_payment"] == 0).all()


def test_cancelling_raises_a_save_follow_up_now_with_high_priority() -> None:
    df = with_status(BOOK, ["cancelling", None, None, "cancelling"], [ahead(38), None, None, None])
    got = due_followups(df, S, TODAY, TODAY).set_index("customer_id")
    renew, happy = got.loc["RENEW"], got.loc["HAPPY"]
    assert renew["reason"] == f"cancels on {ahead(38)}; renews in 20 days ({ahead(20)})"
    assert happy["reason"] == "cancelling"  # touched yesterday, yet due: the status stands
    assert happy["due"] == pd.Timestamp(TODAY) and happy["days_overdue"] == 0
    assert renew["triggers"] == "save,renewal" and happy["triggers"] == "save"
    assert renew["priority_save"] == 5.0 and happy["priority_save"] == 5.0
    assert happy["priority"] == pytest.approx(sum(happy[t] for t in PRIORITY_TERMS))
    assert got.loc["STALE", "priority_save"] == 0.0
    # 5 points put the cancelling customer above a far more overdue one.
    assert got.loc["HAPPY", "priority"] > got.loc["STALE", "priority"] - 4 + 5 - 1


def test_past_due_raises_a_payment_follow_up_now() -> None:
    df = with_status(BOOK, [None, None, None, "past_due"])
    touched = logged([("HAPPY", ago(0), ahead(30))])
    got = due_followups(df, S, TODAY, TODAY, logged=touched).set_index("customer_id")
    happy = got.loc["HAPPY"]
    assert happy["reason"] == "payment failed" and happy["triggers"] == "payment"
    assert happy["priority_payment"] == 5.0 and happy["priority_save"] == 0.0
    nxt = next_followup(df, S, TODAY, "HAPPY", logged=touched)
    assert nxt is not None and nxt.due == TODAY and nxt.terms["priority_payment"] == 5.0


# ------------------------------------------------------------------ health fell
def earlier(
    rows: list[tuple[str, float | None, str | None]], day: date = EARLIER_DAY
) -> pd.DataFrame:
    """What Store.snapshot_before returns."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype="string"),
            "health": pd.Series([r[1] for r in rows], dtype="float64"),
            "band": pd.Series([r[2] for r in rows], dtype="string"),
            "as_of": pd.Series([pd.Timestamp(day)] * len(rows), dtype="datetime64[ns]"),
        }
    )


DRIFT = frame(
    [
        # touched 3 days ago, cadence 30: not due by cadence
        {"customer_id": "FELL20", "last_contact": ago(10), "health": 60.0, "band": "yellow"},
        {"customer_id": "MOVED5", "last_contact": ago(3), "health": 76.0, "band": "green"},
        {"customer_id": "BANDFELL", "last_contact": ago(10), "health": 74.0, "band": "yellow"},
        {"customer_id": "NEW", "last_contact": ago(10), "health": 20.0, "band": "red"},
        {"customer_id": "NOHEALTH", "last_contact": ago(10), "health": None, "band": None},
    ]
)
BEFORE = earlier(
    [
        ("FELL20", 80.0, "green"),
        ("MOVED5", 81.0, "green"),
        ("BANDFELL", 76.0, "green"),
        ("NOHEALTH", 90.0, "green"),
    ]
)


def test_health_that_fell_20_points_fires_and_5_points_does_not() -> None:
    got = due_followups(DRIFT, S, TODAY, TODAY, earlier=BEFORE).set_index("customer_id")
    since = EARLIER_DAY.isoformat()
    assert got.loc["FELL20", "reason"] == (
        f"health fell 20 points since {since}; band fell from green to yellow since {since}"
    )
    assert got.loc["FELL20", "triggers"] == "health_drop"
    assert got.loc["FELL20", "due"] == pd.Timestamp(TODAY)
    assert got.loc["BANDFELL", "reason"] == f"band fell from green to yellow since {since}"
    assert "MOVED5" not in got.index
    assert "NOHEALTH" not in got.index  # no health now: no fall can be measured
    assert "NEW" in got.index and "fell" not in got.loc["NEW", "reason"]  # red, not a drop
    # Without the earlier snapshot, nobody but the red one is due.
    assert ids(DRIFT) == ["NEW"]


def test_health_drop_threshold_touch_and_switch() -> None:
    strict = Settings(followups=FollowupSettings(health_drop_points=25))
    got = due_followups(DRIFT, strict, TODAY, TODAY, earlier=BEFORE).set_index("customer_id")
    assert got.loc["FELL20", "reason"].startswith("band fell from green to yellow")
    off = Settings(followups=FollowupSettings(health_drop=False))
    assert list(due_followups(DRIFT, off, TODAY, TODAY, earlier=BEFORE)["customer_id"]) == ["NEW"]
    # A touch two days ago holds the warning off until a week after that touch.
    touched = logged([("FELL20", ago(2), None)])
    assert "FELL20" not in ids(DRIFT, earlier=BEFORE, logged=touched)
    later = due_followups(
        DRIFT, S, TODAY, TODAY + timedelta(days=5), earlier=BEFORE, logged=touched
    ).set_index("customer_id")
    assert later.loc["FELL20", "due"] == pd.Timestamp(ahead(5))
    # A churned customer gets no warning either.
    gone = with_status(DRIFT, ["churned", None, None, None, None])
    assert "FELL20" not in ids(gone, earlier=BEFORE)


def test_health_drop_from_a_real_store(tmp_path: Path) -> None:
    db = tmp_path / "cstool.db"
    with open_store(db) as store:  # type: ignore[union-attr]
        for day, health in (
            (TODAY - timedelta(days=40), 85.0),
            (EARLIER_DAY, 80.0),
            (TODAY - timedelta(days=10), 65.0),
        ):
            snap = DRIFT[["customer_id"]].assign(health=health, band="green")
            assert store.save_snapshot(day, snap)
    with open_store(db, create=False) as store:  # type: ignore[union-attr]
        before = store.snapshot_before(TODAY, S.followups.health_drop_days)
        assert store.snapshot_before(TODAY, 100).empty
    assert list(before.columns) == ["customer_id", "health", "band", "as_of"]
    assert set(before["as_of"]) == {pd.Timestamp(EARLIER_DAY)}  # the latest ≤ as-of − 30
    got = due_followups(DRIFT, S, TODAY, TODAY, earlier=before).set_index("customer_id")
    assert got.loc["FELL20", "reason"].startswith(f"health fell 20 points since {EARLIER_DAY}")
    assert "MOVED5" not in got.index  # 81 → 76 in the frame, but 80 → 76 here: 4 points
