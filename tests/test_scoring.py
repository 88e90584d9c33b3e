"""Scores: the seed formula exactly, health with missing measures, bands."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from cstool.config import Settings, settings_from_dict
from cstool.pipeline import load_table
from cstool.schema import SCORED_KIND
from cstool.scoring import score
from tests.conftest import AS_OF, DATA, EXAMPLE


def frame(**columns: object) -> pd.DataFrame:
    n = len(next(iter(columns.values())))  # type: ignore[arg-type]
    base: dict[str, object] = {
        "customer_id": pd.array([f"C{i}" for i in range(n)], dtype="string"),
        "value_delivery": [5.0] * n,
        "issue_resolution": [5.0] * n,
        "growth_strategy": [5.0] * n,
        "last_contact": pd.Series([pd.NaT] * n, dtype="datetime64[ns]"),
        "nps": pd.array([pd.NA] * n, dtype="Int64"),
        "open_tickets": pd.array([pd.NA] * n, dtype="Int64"),
    }
    base.update(columns)
    return pd.DataFrame(base)


def seed_formula(vd: float, ir: float, gs: float) -> float:
    return 0.5 * vd * 10 + 0.3 * ir * 10 + 0.2 * gs * 10


@pytest.mark.parametrize("path", [DATA / "seed_headers.csv", EXAMPLE])
def test_seed_formula_is_exact(path: object) -> None:
    table = load_table(path, Settings())  # type: ignore[arg-type]
    scored = score(table.frame, Settings(), AS_OF)
    f = table.frame
    expected = (
        0.5 * f["value_delivery"] * 10
        + 0.3 * f["issue_resolution"] * 10
        + 0.2 * f["growth_strategy"] * 10
    )
    assert np.max(np.abs(scored["satisfaction"].to_numpy() - expected.to_numpy())) < 1e-9


def test_weights_are_normalised() -> None:
    f = frame(value_delivery=[10.0], issue_resolution=[0.0], growth_strategy=[0.0])
    s = settings_from_dict(
        {"weights": {"value_delivery": 5, "issue_resolution": 3, "growth_strategy": 2}}
    )
    assert score(f, s, AS_OF)["satisfaction"].iloc[0] == pytest.approx(50.0)


def test_contributions_sum_to_the_scores() -> None:
    table = load_table(EXAMPLE, Settings())
    scored = score(table.frame, Settings(), AS_OF)
    parts = scored[[c for c in scored.columns if c.startswith("satisfaction_from_")]].sum(axis=1)
    assert np.allclose(parts, scored["satisfaction"])
    health_parts = scored[[c for c in scored.columns if c.startswith("health_from_")]].sum(axis=1)
    assert np.allclose(health_parts, scored["health"])


def test_missing_measures_are_left_out_and_renormalised() -> None:
    f = frame(value_delivery=[8.0], issue_resolution=[8.0], growth_strategy=[8.0])
    scored = score(f, Settings(), AS_OF)
    # Only satisfaction is known: health equals it, with half the weight present.
    assert scored["health"].iloc[0] == pytest.approx(80.0)
    assert scored["health_coverage"].iloc[0] == pytest.approx(0.5)


def test_recency_nps_and_support() -> None:
    f = frame(
        value_delivery=[10.0, 10.0],
        issue_resolution=[10.0, 10.0],
        growth_strategy=[10.0, 10.0],
        last_contact=pd.Series(pd.to_datetime(["2026-11-20", "2025-01-01"])),
        nps=pd.array([10, 0], dtype="Int64"),
        open_tickets=pd.array([0, 9], dtype="Int64"),
    )
    scored = score(f, Settings(), AS_OF)
    assert scored["days_since_touch"].tolist() == [3.0, (AS_OF - date(2025, 1, 1)).days]
    assert scored["recency_score"].tolist() == [100.0, 0.0]
    assert scored["nps_score"].tolist() == [100.0, 0.0]
    assert scored["support_score"].tolist() == [100.0, 0.0]
    assert scored["health"].tolist() == pytest.approx([100.0, 50.0])
    assert scored["health_coverage"].tolist() == [1.0, 1.0]


def test_logged_touch_counts_as_last_touch() -> None:
    f = frame(value_delivery=[5.0], last_contact=pd.Series(pd.to_datetime(["2025-01-01"])))
    logged = pd.DataFrame(
        {
            "customer_id": pd.array(["C0"], dtype="string"),
            "last_logged": pd.to_datetime(["2026-11-22"]),
        }
    )
    scored = score(f, Settings(), AS_OF, last_logged=logged)
    assert scored["days_since_touch"].iloc[0] == 1.0


def test_bands_and_thresholds() -> None:
    f = frame(
        value_delivery=[0.0, 5.0, 7.5, 10.0],
        issue_resolution=[0.0, 5.0, 7.5, 10.0],
        growth_strategy=[0.0, 5.0, 7.5, 10.0],
    )
    assert score(f, Settings(), AS_OF)["band"].tolist() == ["red", "yellow", "green", "green"]
    custom = settings_from_dict({"bands": {"red_below": 60, "green_from": 90}})
    assert score(f, custom, AS_OF)["band"].tolist() == ["red", "red", "yellow", "green"]


values = st.floats(min_value=0, max_value=10, allow_nan=False)


@hsettings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            values,
            values,
            values,
            st.one_of(st.none(), st.integers(0, 10)),
            st.one_of(st.none(), st.integers(0, 50)),
            st.one_of(st.none(), st.integers(-30, 2000)),
        ),
        min_size=1,
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_scores_stay_in_range_and_ignore_row_order(rows: list[tuple], rnd: object) -> None:  # type: ignore[type-arg]
    f = frame(
        value_delivery=[r[0] for r in rows],
        issue_resolution=[r[1] for r in rows],
        growth_strategy=[r[2] for r in rows],
        nps=pd.array([r[3] for r in rows], dtype="Int64"),
        open_tickets=pd.array([r[4] for r in rows], dtype="Int64"),
        last_contact=pd.Series(
            [
                pd.NaT if r[5] is None else pd.Timestamp(AS_OF) - pd.Timedelta(days=r[5])
                for r in rows
            ],
            dtype="datetime64[ns]",
        ),
    )
    scored = score(f, Settings(), AS_OF)
    for column in ("satisfaction", "health"):
        assert scored[column].between(0, 100).all()
    assert scored["health_coverage"].between(0.5, 1).all()
    order = list(range(len(rows)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = score(f.iloc[order].reset_index(drop=True), Settings(), AS_OF)
    back = shuffled.set_index("customer_id").loc[scored["customer_id"]]
    assert np.allclose(back["health"].to_numpy(), scored["health"].to_numpy())
    assert back["band"].tolist() == scored["band"].tolist()


def days_before(n: int) -> pd.Timestamp:
    return pd.Timestamp(AS_OF) - pd.Timedelta(days=n)


def test_a_customer_with_every_measure_scores_by_hand() -> None:
    f = frame(
        value_delivery=[8.0],
        issue_resolution=[6.0],
        growth_strategy=[4.0],
        last_contact=pd.Series([days_before(45)], dtype="datetime64[ns]"),
        nps=pd.array([7], dtype="Int64"),
        open_tickets=pd.array([1], dtype="Int64"),
    )
    scored = score(f, Settings(), AS_OF)
    # 0.5·80 + 0.3·60 + 0.2·40 = 66; recency 100·(1 − (45 − 30)/60) = 75; nps 70; support 80
    assert scored["satisfaction"].iloc[0] == pytest.approx(66.0)
    assert scored["recency_score"].iloc[0] == pytest.approx(75.0)
    assert scored["support_score"].iloc[0] == pytest.approx(80.0)
    # 0.5·66 + 0.2·75 + 0.15·70 + 0.15·80 = 33 + 15 + 10.5 + 12
    assert scored["health"].iloc[0] == pytest.approx(70.5)
    assert scored["health_coverage"].iloc[0] == pytest.approx(1.0)
    assert scored["band"].tolist() == ["yellow"]
    assert scored.attrs["future_touches"] == 0


def test_no_measure_present_means_no_health_and_no_band() -> None:
    nan = float("nan")
    f = frame(
        value_delivery=[nan, 10.0],
        issue_resolution=[nan, 10.0],
        growth_strategy=[nan, 10.0],
    )
    scored = score(f, Settings(), AS_OF)
    assert math.isnan(scored["satisfaction"].iloc[0])
    assert math.isnan(scored["health"].iloc[0])
    assert scored["health_coverage"].tolist() == [0.0, 0.5]
    assert pd.isna(scored["band"].iloc[0])  # never green
    assert scored["band"].iloc[1] == "green"
    band = scored["band"].dtype
    assert isinstance(band, pd.CategoricalDtype)
    assert list(band.categories) == ["red", "yellow", "green"]
    # nothing contributed: every contribution is 0, not NaN
    parts = [c for c in scored.columns if c.startswith("health_from_")]
    assert scored.loc[0, parts].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_a_measure_weighted_zero_does_not_count_as_present() -> None:
    only_recency = settings_from_dict(
        {"health": {"weights": {"satisfaction": 0, "recency": 1, "nps": 0, "support": 0}}}
    )
    f = frame(
        last_contact=pd.Series([pd.NaT, days_before(60)], dtype="datetime64[ns]"),
        nps=pd.array([9, 9], dtype="Int64"),
    )
    scored = score(f, only_recency, AS_OF)
    # row 0 has satisfaction and nps, both weighted 0, and no recency: no health at all
    assert math.isnan(scored["health"].iloc[0])
    assert scored["health_coverage"].tolist() == [0.0, 1.0]
    assert pd.isna(scored["band"].iloc[0])
    # row 1: recency 100·(1 − 30/60) = 50 is all there is
    assert scored["health"].iloc[1] == pytest.approx(50.0)
    assert scored["band"].iloc[1] == "yellow"


def test_a_satisfaction_input_weighted_zero_may_be_missing() -> None:
    s = settings_from_dict(
        {"weights": {"value_delivery": 1, "issue_resolution": 1, "growth_strategy": 0}}
    )
    f = frame(value_delivery=[8.0], issue_resolution=[6.0], growth_strategy=[float("nan")])
    assert score(f, s, AS_OF)["satisfaction"].iloc[0] == pytest.approx(70.0)  # 0.5·80 + 0.5·60


def test_a_frame_without_satisfaction_inputs_is_scored_on_the_rest() -> None:
    f = frame(
        last_contact=pd.Series([days_before(10)], dtype="datetime64[ns]"),
        nps=pd.array([8], dtype="Int64"),
        open_tickets=pd.array([0], dtype="Int64"),
    ).drop(columns=["value_delivery", "issue_resolution", "growth_strategy"])
    scored = score(f, Settings(), AS_OF)
    assert math.isnan(scored["satisfaction"].iloc[0])
    assert math.isnan(scored["satisfaction_from_value_delivery"].iloc[0])
    # (0.2·100 + 0.15·80 + 0.15·100) / 0.5 = 47 / 0.5
    assert scored["health"].iloc[0] == pytest.approx(94.0)
    assert scored["health_coverage"].iloc[0] == pytest.approx(0.5)
    assert scored["band"].tolist() == ["green"]


def test_a_customer_never_touched_is_timed_from_signup() -> None:
    f = frame(
        signup_date=pd.Series(
            [days_before(10), days_before(60), days_before(100), pd.NaT, days_before(400)],
            dtype="datetime64[ns]",
        ),
        last_contact=pd.Series(
            [pd.NaT, pd.NaT, pd.NaT, pd.NaT, days_before(5)], dtype="datetime64[ns]"
        ),
    )
    scored = score(f, Settings(), AS_OF)
    recency = scored["recency_score"].tolist()
    # 10 days: within the interval; 60: 100·(1 − 30/60); 100: past three intervals
    assert recency[:3] == pytest.approx([100.0, 50.0, 0.0])
    assert math.isnan(recency[3])  # neither a touch nor a signup: unknown, not full marks
    assert recency[4] == pytest.approx(100.0)  # a touch wins over an old signup
    # days_since_touch stays about touches
    assert scored["days_since_touch"].isna().tolist() == [True, True, True, True, False]
    # satisfaction 50 everywhere; row 1: (0.5·50 + 0.2·50) / 0.7 = 50, row 2: 25 / 0.7
    assert scored["health"].iloc[1] == pytest.approx(50.0)
    assert scored["health"].iloc[2] == pytest.approx(25.0 / 0.7)
    assert scored["health_coverage"].iloc[3] == pytest.approx(0.5)
    assert scored["health_coverage"].iloc[2] == pytest.approx(0.7)


def test_a_logged_touch_beats_the_signup_date() -> None:
    f = frame(signup_date=pd.Series([days_before(200)], dtype="datetime64[ns]"))
    logged = pd.DataFrame(
        {
            "customer_id": pd.array(["C0"], dtype="string"),
            "last_logged": pd.Series([days_before(2)], dtype="datetime64[ns]"),
        }
    )
    scored = score(f, Settings(), AS_OF, last_logged=logged)
    assert scored["days_since_touch"].iloc[0] == 2.0
    assert scored["recency_score"].iloc[0] == 100.0


def test_a_touch_after_as_of_is_touched_today_and_counted() -> None:
    f = frame(
        last_contact=pd.Series(
            [days_before(-5), days_before(-1), days_before(90), pd.NaT],
            dtype="datetime64[ns]",
        )
    )
    scored = score(f, Settings(), AS_OF)
    days = scored["days_since_touch"].tolist()
    assert days[:3] == [0.0, 0.0, 90.0]
    assert math.isnan(days[3])
    assert scored["recency_score"].tolist()[:3] == [100.0, 100.0, 0.0]
    assert scored.attrs["future_touches"] == 2


def test_scoring_adds_exactly_the_columns_schema_declares() -> None:
    f = frame(value_delivery=[1.0])
    added = [c for c in score(f, Settings(), AS_OF).columns if c not in f.columns]
    assert added == list(SCORED_KIND)


def test_coverage_and_health_stay_in_range_when_weights_do_not_sum_exactly(
    tmp_path: Path,
) -> None:
    """10/12 + 2/12 is 1.0000000000000002 in floats (found by tests/test_fuzz.py)."""
    from cstool.api import open as open_book

    config = tmp_path / "cstool.toml"
    config.write_text("[health.weights]\nrecency = 10\nsupport = 2\n", encoding="utf-8")
    book = open_book(EXAMPLE, config=config, db=tmp_path / "s.db", as_of="2026-11-23")
    frame = book.customers()
    assert float(frame["health_coverage"].max()) == 1.0
    assert float(frame["health"].max()) <= 100.0 and float(frame["health"].min()) >= 0.0


def test_a_tiny_share_of_weight_is_still_coverage(tmp_path: Path) -> None:
    """One huge weight makes the others about 1e-13 of the whole: still present (test_fuzz)."""
    from cstool.api import open as open_book

    config = tmp_path / "cstool.toml"
    config.write_text("[health.weights]\nnps = 1.7e12\n", encoding="utf-8")
    book = open_book(EXAMPLE, config=config, db=tmp_path / "s.db", as_of="2026-11-23")
    frame = book.customers()
    scored = frame[frame["health"].notna()]
    assert (scored["health_coverage"] > 0).all() and (scored["health_coverage"] <= 1).all()
    assert scored["band"].notna().all()
