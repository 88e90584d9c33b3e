"""Follow-ups: triggers, reasons, priority, snoozes and logged touches (the core, on frames)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cstool.config import FollowupSettings, Settings
from cstool.errors import UsageError
from cstool.followup import PRIORITY_TERMS, due_followups, due_until, next_followup

TODAY = date(2026, 11, 23)  # a Monday
S = Settings()

DATE_COLUMNS = ("signup_date", "last_contact", "renewal_date")
TEXT_COLUMNS = ("name", "email", "plan", "stage", "tags", "notes", "band", "segment", "play")


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A scored, segmented frame as docs/FRAME.md describes it (only what follow-ups read)."""
    base: dict[str, Any] = {
        "name": None,
        "mrr": np.nan,
        "nps": None,
        "band": "green",
        "health": 80.0,
        "segment": "Grow",
        "cadence_days": 30,
        "play": "Grow value",
        **{c: None for c in DATE_COLUMNS},
    }
    full = [{**base, **row} for row in rows]
    out = pd.DataFrame(full)
    out["customer_id"] = out["customer_id"].astype("string")
    for c in TEXT_COLUMNS:
        if c in out:
            out[c] = out[c].astype("string")
    for c in DATE_COLUMNS:
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    out["mrr"] = out["mrr"].astype("float64")
    out["health"] = out["health"].astype("float64")
    out["nps"] = out["nps"].astype("Int64")
    out["cadence_days"] = out["cadence_days"].astype("int64")
    return out


def logged(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    """What Store.last_logged() returns: (customer_id, last_logged, next_due)."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype="string"),
            "last_logged": pd.to_datetime([r[1] for r in rows]).astype("datetime64[ns]"),
            "next_due": pd.to_datetime([r[2] for r in rows]).astype("datetime64[ns]"),
        }
    )


def snoozes(rows: list[tuple[str, str]]) -> pd.DataFrame:
    """What Store.snoozes() returns."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype="string"),
            "snoozed_until": pd.to_datetime([r[1] for r in rows]).astype("datetime64[ns]"),
        }
    )


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def ahead(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


def due_ids(df: pd.DataFrame, **kw: Any) -> list[str]:
    until = kw.pop("until", TODAY)
    as_of = kw.pop("as_of", TODAY)
    return list(due_followups(df, kw.pop("settings", S), as_of, until, **kw)["customer_id"])


BOOK = frame(
    [
        {"customer_id": "RENEW", "last_contact": ago(15), "renewal_date": ahead(20), "mrr": 50},
        {"customer_id": "STALE", "last_contact": ago(400), "mrr": 20},
        {
            "customer_id": "RED",
            "last_contact": ago(9),
            "band": "red",
            "health": 31.6,
            "mrr": 2000,
            "segment": "Rescue",
            "cadence_days": 14,
        },
        {"customer_id": "HAPPY", "last_contact": ago(1), "mrr": 100, "nps": 10},
    ]
)


# ------------------------------------------------------------------ what it must show
def test_the_morning_list() -> None:
    result = due_followups(BOOK, S, TODAY, TODAY)
    assert set(result["customer_id"]) == {"RENEW", "STALE", "RED"}  # HAPPY was touched yesterday
    reasons = dict(zip(result["customer_id"], result["reason"], strict=True))
    assert reasons["RENEW"] == f"renews in 20 days ({ahead(20)})"
    assert reasons["STALE"] == "last touch 400 days ago (every 30 days)"
    assert reasons["RED"] == "band red (health 32)"
    row = result.set_index("customer_id").loc["RENEW"]
    assert row["due"] == pd.Timestamp(ahead(20)) - pd.Timedelta(days=30)
    assert row["segment"] == "Grow" and row["play"] == "Grow value"
    assert list(result.columns[:5]) == ["customer_id", "name", "due", "reason", "priority"]


def test_logging_a_touch_removes_it_until_its_next_due_date() -> None:
    touched = logged([("STALE", TODAY.isoformat(), None), ("RED", TODAY.isoformat(), None)])
    assert due_ids(BOOK, logged=touched) == ["RENEW"]
    # Back when the cadence comes round (30 days), RED after its 7-day re-check.
    assert "RED" not in due_ids(BOOK, logged=touched, until=TODAY + timedelta(days=6))
    assert "RED" in due_ids(BOOK, logged=touched, until=TODAY + timedelta(days=7))
    assert "STALE" not in due_ids(BOOK, logged=touched, until=TODAY + timedelta(days=29))
    assert "STALE" in due_ids(BOOK, logged=touched, until=TODAY + timedelta(days=30))


def test_a_touch_inside_the_renewal_window_satisfies_it() -> None:
    assert "RENEW" not in due_ids(BOOK, logged=logged([("RENEW", ago(2), None)]))
    # A touch before the window opened (10 days ago) does not.
    assert "RENEW" in due_ids(BOOK, logged=logged([("RENEW", ago(12), None)]))


def test_next_date_set_by_a_touch_replaces_the_cadence() -> None:
    later = logged([("HAPPY", TODAY.isoformat(), ahead(3))])
    assert "HAPPY" not in due_ids(BOOK, logged=later, until=TODAY + timedelta(days=2))
    got = due_followups(BOOK, S, TODAY, TODAY + timedelta(days=3), logged=later)
    row = got.set_index("customer_id").loc["HAPPY"]
    assert row["due"] == pd.Timestamp(ahead(3))
    assert row["reason"] == f"follow-up planned for {ahead(3)}"
    # A CSV contact after the logged touch wins: the cadence runs from it again.
    df = frame([{"customer_id": "A", "last_contact": TODAY.isoformat()}])
    old_plan = logged([("A", ago(5), ahead(1))])
    assert due_ids(df, logged=old_plan, until=TODAY + timedelta(days=5)) == []


def test_snooze_hides_until_the_date_and_then_it_is_back() -> None:
    z = snoozes([("STALE", ahead(3))])
    assert "STALE" not in due_ids(BOOK, snoozes=z)
    assert "STALE" not in due_ids(BOOK, snoozes=z, as_of=TODAY + timedelta(days=2))
    assert "STALE" in due_ids(BOOK, snoozes=z, as_of=TODAY + timedelta(days=3))
    # In a longer view it shows on the day it comes back, saying so.
    week = due_followups(BOOK, S, TODAY, TODAY + timedelta(days=6), snoozes=z)
    row = week.set_index("customer_id").loc["STALE"]
    assert row["due"] == pd.Timestamp(ahead(3))
    assert row["reason"].endswith(f"; snoozed until {ahead(3)}")
    # A snooze to a past date hides nothing.
    assert "STALE" in due_ids(BOOK, snoozes=snoozes([("STALE", ago(1))]))


def test_overdue_and_future_horizons() -> None:
    # RENEW's window opened 10 days ago; STALE is long overdue; RED is due today exactly? no:
    # its red re-check came due 2 days ago.
    overdue = due_followups(BOOK, S, TODAY, due_until("overdue", TODAY))
    assert set(overdue["customer_id"]) == {"RENEW", "STALE", "RED"}
    df = frame([{"customer_id": "T", "last_contact": ago(30)}])
    assert due_ids(df) == ["T"]
    assert due_ids(df, until=due_until("overdue", TODAY)) == []  # due today is not overdue


# ------------------------------------------------------------------ triggers one by one
def test_never_touched() -> None:
    df = frame(
        [
            {"customer_id": "NOSIGNUP"},
            {"customer_id": "OLD", "signup_date": ago(100), "cadence_days": 30},
            {"customer_id": "NEW", "signup_date": ago(3), "cadence_days": 30},
        ]
    )
    onb = Settings(followups=FollowupSettings(onboarding_checkins=[]))
    got = due_followups(df, onb, TODAY, TODAY).set_index("customer_id")
    assert list(got.index) == ["OLD", "NOSIGNUP"]  # OLD is 70 days overdue
    assert got.loc["NOSIGNUP", "reason"] == "no touch on record"
    assert got.loc["NOSIGNUP", "due"] == pd.Timestamp(TODAY)
    assert got.loc["OLD", "due"] == pd.Timestamp(ago(70))


def test_nps_detractor_until_a_touch_is_logged() -> None:
    df = frame(
        [
            {"customer_id": "DET", "last_contact": ago(2), "nps": 6},
            {"customer_id": "PASSIVE", "last_contact": ago(2), "nps": 7},
            {"customer_id": "NONPS", "last_contact": ago(2)},
        ]
    )
    got = due_followups(df, S, TODAY, TODAY)
    assert list(got["customer_id"]) == ["DET"]
    assert got["reason"][0] == "NPS 6 (detractor)"
    assert got["due"][0] == pd.Timestamp(ago(2))
    assert due_ids(df, logged=logged([("DET", ago(1), None)])) == []
    assert due_ids(df, logged=logged([("DET", ago(2), None)])) == []  # same day counts
    assert due_ids(df, logged=logged([("DET", ago(3), None)])) == ["DET"]  # before the contact
    off = Settings(followups=FollowupSettings(nps_detractor=False))
    assert due_ids(df, settings=off) == []


def test_red_trigger_can_be_switched_off() -> None:
    off = Settings(followups=FollowupSettings(red=False))
    assert "RED" not in due_ids(BOOK, settings=off)  # cadence 14, touched 9 days ago


def test_renewal_window_edges() -> None:
    df = frame(
        [
            {"customer_id": "IN", "last_contact": ago(40), "renewal_date": ahead(30)},
            {
                "customer_id": "OUT",
                "last_contact": ago(30),
                "renewal_date": ahead(31),
                "cadence_days": 60,
            },
            {"customer_id": "PAST", "last_contact": ago(1), "renewal_date": ago(1)},
            {
                "customer_id": "TODAY",
                "last_contact": ago(31),
                "renewal_date": TODAY.isoformat(),
                "cadence_days": 60,
            },
            {"customer_id": "DONE", "last_contact": ago(29), "renewal_date": ahead(1)},
        ]
    )
    got = due_followups(df, S, TODAY, TODAY).set_index("customer_id")
    assert sorted(got.index) == ["IN", "TODAY"]
    assert got.loc["TODAY", "reason"] == "renews today"
    assert got.loc["TODAY", "priority_renewal"] == 3.0
    assert got.loc["IN", "priority_renewal"] == 0.0  # renews in 30 days: the window's edge
    wide = Settings(followups=FollowupSettings(renewal_window_days=60))
    assert "OUT" in due_ids(df, settings=wide)


def test_onboarding_check_ins() -> None:
    df = frame(
        [
            {
                "customer_id": "NEW",
                "signup_date": ago(7),
                "last_contact": ago(7),
                "segment": "Onboarding",
                "cadence_days": 30,
            }
        ]
    )
    got = due_followups(df, S, TODAY, TODAY)
    assert got["reason"][0] == "onboarding check-in (day 7)"
    assert got["due"][0] == pd.Timestamp(TODAY)
    touched = logged([("NEW", TODAY.isoformat(), None)])
    assert due_ids(df, logged=touched, until=TODAY + timedelta(days=22)) == []
    day30 = due_followups(df, S, TODAY, TODAY + timedelta(days=23), logged=touched)
    assert day30["reason"][0] == "onboarding check-in (day 30)"
    assert day30["due"][0] == pd.Timestamp(ahead(23))
    # Old customers get no check-in: the last one closes 30 days after day 90.
    old = frame(
        [
            {
                "customer_id": "OLD",
                "signup_date": ago(121),
                "last_contact": ago(35),
                "cadence_days": 60,
            }
        ]
    )
    assert due_ids(old) == []
    late = frame(
        [{"customer_id": "L", "signup_date": ago(119), "last_contact": ago(35), "cadence_days": 60}]
    )
    assert due_ids(late) == ["L"]


def test_all_reasons_on_one_row() -> None:
    df = frame(
        [
            {
                "customer_id": "ALL",
                "last_contact": ago(60),
                "renewal_date": ahead(5),
                "band": "red",
                "health": 40.0,
                "nps": 2,
            }
        ]
    )
    got = due_followups(df, S, TODAY, TODAY)
    assert len(got) == 1
    assert got["reason"][0] == (
        f"renews in 5 days ({ahead(5)}); band red (health 40); "
        "NPS 2 (detractor); last touch 60 days ago (every 30 days)"
    )
    assert got["triggers"][0] == "renewal,red,detractor,cadence"
    assert got["due"][0] == pd.Timestamp(ago(60))  # the earliest reason


# ------------------------------------------------------------------ priority
def test_priority_terms_and_formula() -> None:
    got = due_followups(BOOK, S, TODAY, TODAY).set_index("customer_id")
    stale = got.loc["STALE"]
    assert stale["priority_overdue"] == 4.0  # capped at 90 days overdue
    assert stale["priority_value"] == pytest.approx(3 * 0.125)  # lowest MRR of 4
    assert stale["days_overdue"] == 370
    red = got.loc["RED"]
    assert red["priority_band"] == 3.0
    assert red["priority_value"] == pytest.approx(3 * 0.875)
    assert red["priority_overdue"] == pytest.approx(4 * 2 / 90)
    renew = got.loc["RENEW"]
    assert renew["priority_renewal"] == pytest.approx(3 * (1 - 20 / 30))
    for _, row in got.iterrows():
        assert row["priority"] == pytest.approx(sum(row[t] for t in PRIORITY_TERMS))
    assert list(got.index) == ["RED", "STALE", "RENEW"]
    assert got["priority"].is_monotonic_decreasing


def test_ties_break_by_customer_id_and_limit() -> None:
    df = frame([{"customer_id": c, "last_contact": ago(45)} for c in ["b", "c", "a", "B"]])
    got = due_followups(df, S, TODAY, TODAY)
    assert list(got["customer_id"]) == ["B", "a", "b", "c"]
    assert list(due_followups(df, S, TODAY, TODAY, limit=2)["customer_id"]) == ["B", "a"]
    assert due_followups(df, S, TODAY, TODAY, limit=0).empty


def test_frame_without_segments_uses_the_expected_interval() -> None:
    df = frame([{"customer_id": "X", "last_contact": ago(20)}]).drop(
        columns=["segment", "cadence_days", "play"]
    )
    s = Settings.model_validate({"health": {"expected_interval_days": 20}})
    got = due_followups(df, s, TODAY, TODAY)
    assert list(got["customer_id"]) == ["X"]
    assert got["segment"].isna().all()


def test_empty_frame() -> None:
    got = due_followups(BOOK.iloc[:0], S, TODAY, TODAY)
    assert got.empty and "priority" in got.columns


# ------------------------------------------------------------------ explain
def test_next_followup_for_explain() -> None:
    nxt = next_followup(BOOK, S, TODAY, "HAPPY")
    assert nxt is not None
    assert nxt.due == TODAY + timedelta(days=29)
    assert nxt.reason == "last touch 1 day ago (every 30 days)"
    assert nxt.priority == pytest.approx(sum(nxt.terms.values()))
    assert set(nxt.terms) == set(PRIORITY_TERMS)
    assert nxt.segment == "Grow" and nxt.snoozed_until is None
    red = next_followup(BOOK, S, TODAY, "RED")
    assert red is not None and red.days_overdue == 2 and red.terms["priority_band"] == 3.0
    snoozed = next_followup(BOOK, S, TODAY, "STALE", snoozes=snoozes([("STALE", ahead(4))]))
    assert snoozed is not None
    assert snoozed.due == TODAY + timedelta(days=4) and snoozed.snoozed_until == snoozed.due
    assert next_followup(BOOK, S, TODAY, "NOPE") is None


# ------------------------------------------------------------------ --due
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY),
        ("overdue", TODAY - timedelta(days=1)),
        ("week", date(2026, 11, 29)),
        ("+3d", TODAY + timedelta(days=3)),
        ("2026-12-01", date(2026, 12, 1)),
        ("fri", date(2026, 11, 27)),
    ],
)
def test_due_until(text: str, expected: date) -> None:
    assert due_until(text, TODAY) == expected


def test_due_until_bad_word() -> None:
    with pytest.raises(UsageError, match="overdue, week"):
        due_until("soonish", TODAY)


# ------------------------------------------------------------------ properties
customers = st.lists(
    st.fixed_dictionaries(
        {
            "last": st.one_of(st.none(), st.integers(0, 800)),
            "signup": st.one_of(st.none(), st.integers(0, 900)),
            "renewal": st.one_of(st.none(), st.integers(-30, 120)),
            "band": st.sampled_from(["red", "yellow", "green"]),
            "nps": st.one_of(st.none(), st.integers(0, 10)),
            "mrr": st.one_of(st.none(), st.floats(0, 5000)),
            "cadence": st.integers(1, 90),
        }
    ),
    min_size=1,
    max_size=30,
)


def _book(specs: list[dict[str, Any]]) -> pd.DataFrame:
    return frame(
        [
            {
                "customer_id": f"C{i:03d}",
                "last_contact": None if s["last"] is None else ago(s["last"]),
                "signup_date": None if s["signup"] is None else ago(s["signup"]),
                "renewal_date": None if s["renewal"] is None else ahead(s["renewal"]),
                "band": s["band"],
                "nps": s["nps"],
                "mrr": np.nan if s["mrr"] is None else s["mrr"],
                "cadence_days": s["cadence"],
            }
            for i, s in enumerate(specs)
        ]
    )


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers, st.integers(0, 40), st.randoms(use_true_random=False))
def test_properties(specs: list[dict[str, Any]], horizon: int, rnd: Any) -> None:
    df = _book(specs)
    until = TODAY + timedelta(days=horizon)
    got = due_followups(df, S, TODAY, until)
    # Everything listed is due by the horizon, sorted by priority then id, one row each.
    assert (got["due"] <= pd.Timestamp(until)).all()
    assert got["customer_id"].is_unique
    keys = list(zip(-got["priority"], got["customer_id"], strict=True))
    assert keys == sorted(keys)
    assert (got["reason"].str.len() > 0).all()
    # Row order does not matter.
    shuffled = df.sample(frac=1.0, random_state=rnd.randint(0, 10_000)).reset_index(drop=True)
    pd.testing.assert_frame_equal(due_followups(shuffled, S, TODAY, until), got)
    # A longer horizon never drops anyone.
    later = due_followups(df, S, TODAY, until + timedelta(days=10))
    assert set(got["customer_id"]) <= set(later["customer_id"])
    # Touching everyone today clears today's list.
    everyone = logged([(c, TODAY.isoformat(), None) for c in df["customer_id"]])
    assert due_followups(df, S, TODAY, TODAY, logged=everyone).empty


def test_arrow_and_categorical_columns_give_the_same_list() -> None:
    """The loader hands over Arrow strings; band and segment may come as categoricals."""
    import pyarrow as pa

    other = BOOK.copy()
    for name in ("customer_id", "name"):
        other[name] = other[name].astype(pd.ArrowDtype(pa.string()))
    for name in ("band", "segment", "play"):
        other[name] = other[name].astype("category")
    until = TODAY + timedelta(days=10)
    pd.testing.assert_frame_equal(
        due_followups(other, S, TODAY, until), due_followups(BOOK, S, TODAY, until)
    )
