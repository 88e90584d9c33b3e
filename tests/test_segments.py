"""Segments: first match wins, built-in set, summary, explain, config errors, properties."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cstool.config import SegmentRule, settings_from_dict
from cstool.errors import ConfigError, CstoolError, ExitCode
from cstool.render.segment import explain_lines, format_value
from cstool.segments import (
    DEFAULT_SEGMENTS,
    UNSEGMENTED,
    check_rules,
    explain_segment,
    segment,
    segment_names,
    segment_summary,
)

AS_OF = date(2026, 11, 23)


def customers(**columns: Any) -> pd.DataFrame:
    """A scored frame as docs/FRAME.md describes it (only the columns the tests need)."""
    n = len(next(iter(columns.values())))
    base: dict[str, Any] = {
        "customer_id": pd.array([f"C{i}" for i in range(n)], dtype="string"),
        "mrr": np.full(n, np.nan),
        "signup_date": pd.to_datetime([None] * n),
        "satisfaction": np.full(n, 50.0),
        "health": np.full(n, 50.0),
        "band": pd.array(["yellow"] * n, dtype="string"),
    }
    for name, values in columns.items():
        if name in ("band", "customer_id", "plan"):
            base[name] = pd.array(values, dtype="string")
        elif name == "signup_date":
            base[name] = pd.to_datetime(values)
        else:
            base[name] = np.asarray(values, dtype=float)
    return pd.DataFrame(base)


def test_value_and_health_put_customers_in_different_built_in_segments() -> None:
    frame = customers(
        customer_id=["new", "champ", "grow", "rescue", "nurture", "red-rich", "nomrr-green"],
        mrr=[50, 900, 100, 800, 10, 1000, np.nan],
        band=["red", "green", "green", "yellow", "red", "red", "green"],
        signup_date=["2026-10-01", "2020-01-01", "2020-01-01", None, "2021-01-01", None, None],
    )
    out = segment(frame, None, AS_OF)
    assert dict(zip(out["customer_id"], out["segment"], strict=True)) == {
        "new": "Onboarding",
        "champ": "Champions",
        "grow": "Grow",
        "rescue": "Rescue",
        "nurture": "Nurture",
        "red-rich": "Rescue",
        "nomrr-green": "Grow",  # unknown value, healthy
    }
    cadence = dict(zip(out["segment"], out["cadence_days"], strict=False))
    assert cadence == {r.name: r.cadence_days for r in DEFAULT_SEGMENTS if r.name in cadence}
    assert out.loc[out["segment"] == "Rescue", "play"].str.startswith("Call this week").all()


def test_output_columns_and_types_and_the_input_is_untouched() -> None:
    frame = customers(mrr=[1, 2, 3], band=["green", "red", "yellow"])
    before = frame.copy()
    out = segment(frame, None, AS_OF)
    assert list(out.columns) == [*frame.columns, "segment", "cadence_days", "play"]
    # one small code per customer, the rule names and plays as categories
    assert isinstance(out["segment"].dtype, pd.CategoricalDtype)
    assert list(out["segment"].cat.categories[:2]) == ["Onboarding", "Champions"]
    assert out["cadence_days"].dtype == np.int64
    assert isinstance(out["play"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(frame, before)
    assert list(segment(out, None, AS_OF)["segment"]) == list(out["segment"])  # re-segmenting


def test_the_built_in_set_is_documented_and_ends_with_a_catch_all() -> None:
    assert segment_names(None) == ["Onboarding", "Champions", "Grow", "Rescue", "Nurture"]
    assert DEFAULT_SEGMENTS[-1].when == "true"
    assert all(r.play and r.description and r.cadence_days > 0 for r in DEFAULT_SEGMENTS)
    check_rules(None, None)


def test_a_missing_mrr_column_crashes_nothing() -> None:
    frame = customers(band=["green", "red", "yellow"], signup_date=[None, None, "2026-11-01"])
    out = segment(frame, None, AS_OF)
    assert list(out["segment"]) == ["Grow", "Nurture", "Onboarding"]
    summary = segment_summary(out)
    assert summary.loc[summary["segment"] == "Grow", "mrr"].isna().all()


def test_first_matching_rule_wins_and_unmatched_customers_are_unsegmented() -> None:
    rules = [
        SegmentRule(name="Big", when="mrr >= 500", cadence_days=14, play="call"),
        SegmentRule(name="Red", when='band == "red"', cadence_days=7, play="rescue"),
    ]
    frame = customers(mrr=[600, 600, 10, 10], band=["red", "green", "red", "green"])
    out = segment(frame, rules, AS_OF)
    assert list(out["segment"]) == ["Big", "Big", "Red", UNSEGMENTED.name]
    assert list(out["cadence_days"]) == [14, 14, 7, UNSEGMENTED.cadence_days]
    assert list(out["play"])[:3] == ["call", "call", "rescue"]


def test_rules_may_come_as_dicts_from_a_notebook() -> None:
    frame = customers(mrr=[600, 10])
    rules = [
        {"name": "Big", "when": "mrr >= 500", "cadence_days": 14},
        {"name": "Rest", "when": "true", "cadence_days": 60},
    ]
    assert list(segment(frame, rules, AS_OF)["segment"]) == ["Big", "Rest"]
    with pytest.raises(ConfigError, match="cadence_days"):
        segment(frame, [{"name": "Big", "when": "true", "cadence_days": 0}], AS_OF)


def test_segments_from_cstool_toml() -> None:
    settings = settings_from_dict(
        {
            "segments": [
                {"name": "VIP", "when": 'plan in ["team"]', "cadence_days": 14, "play": "call"},
                {"name": "Rest", "when": "true", "cadence_days": 90},
            ]
        }
    )
    frame = customers(plan=["team", "pro", None])
    out = segment(frame, settings.segments, AS_OF)
    assert list(out["segment"]) == ["VIP", "Rest", "Rest"]


def test_a_bad_rule_names_its_segment_and_points_at_the_spot() -> None:
    rules = [
        SegmentRule(name="Fine", when="mrr > 5", cadence_days=7),
        SegmentRule(name="Rescue", when='band == "red" and mrrr >= 500', cadence_days=7),
    ]
    with pytest.raises(ConfigError) as caught:
        segment(customers(mrr=[1.0]), rules, AS_OF)
    lines = caught.value.message.splitlines()
    assert caught.value.exit_code == ExitCode.USAGE
    assert lines[0].startswith("segment 'Rescue'")
    assert "unknown field 'mrrr'" in lines[0] and "did you mean 'mrr'" in lines[0]
    assert lines[1:] == ['    band == "red" and mrrr >= 500', "                      ^^^^"]


class Explodes:
    """A cell that fails the moment anything reads it as text."""

    def __str__(self) -> str:
        raise RuntimeError("a row was evaluated")


def test_every_rule_is_checked_before_any_row_is_evaluated() -> None:
    frame = customers(mrr=[1.0, 2.0]).assign(region=[Explodes(), Explodes()])
    rules = [
        SegmentRule(name="EU", when='region == "EU"', cadence_days=7),
        SegmentRule(name="Odd", when="signup_date > 5", cadence_days=7),
    ]
    with pytest.raises(ConfigError, match=r"segment 'Odd'.*cannot compare a date with a number"):
        segment(frame, rules, AS_OF)
    with pytest.raises(RuntimeError):  # the frame really would blow up if evaluated
        segment(frame, rules[:1], AS_OF)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([], "the list is empty"),
        (
            [
                {"name": "A", "when": "true", "cadence_days": 7},
                {"name": "a", "when": "true", "cadence_days": 7},
            ],
            "used twice",
        ),
        ([{"name": "A", "when": "mrr >", "cadence_days": 7}], "segment 'A'"),
        ([{"name": "A", "when": "true"}], "cadence_days"),
    ],
)
def test_bad_segment_lists_are_config_errors(rules: list[Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        segment(customers(mrr=[1.0]), rules, AS_OF)


def test_check_rules_without_data() -> None:
    check_rules([{"name": "EU", "when": 'region == "EU"', "cadence_days": 7}], None)
    with pytest.raises(ConfigError, match="unknown field 'region'"):
        check_rules([{"name": "EU", "when": 'region == "EU"', "cadence_days": 7}], ["mrr"])
    check_rules([{"name": "EU", "when": 'Region == "EU"', "cadence_days": 7}], ["Region"])
    check_rules([{"name": "Hot", "when": "health < 40", "cadence_days": 7}], ["customer_id"])
    with pytest.raises(ConfigError, match=r"segment 'Bad'.*expected"):
        check_rules([{"name": "Bad", "when": "mrr > > 5", "cadence_days": 7}], None)


# ---------------------------------------------------------------------------- summary


def test_summary_counts_shares_money_means_and_band_mix_in_rule_order() -> None:
    frame = customers(
        mrr=[900, 800, np.nan, 10, 20],
        band=["green", "red", "green", "red", "yellow"],
        satisfaction=[90, 30, 70, 20, 40],
        health=[80, 40, 76, 20, 60],
    )
    summary = segment_summary(segment(frame, None, AS_OF))
    assert list(summary["segment"]) == segment_names(None)
    rows = summary.set_index("segment")
    assert rows.loc["Champions", "customers"] == 1
    assert rows.loc["Rescue", "mrr"] == 800
    assert rows.loc["Grow", "customers"] == 1 and np.isnan(rows.loc["Grow", "mrr"])
    assert rows.loc["Nurture", "customers"] == 2
    assert rows.loc["Nurture", "mrr"] == 30
    assert rows.loc["Nurture", "mean_satisfaction"] == 30
    assert rows.loc["Nurture", "mean_health"] == 40
    assert (rows.loc["Nurture", ["red", "yellow", "green"]].tolist()) == [1, 1, 0]
    assert rows.loc["Onboarding", "customers"] == 0  # empty segments are listed
    assert np.isnan(rows.loc["Onboarding", "mean_health"])
    assert summary["share"].sum() == pytest.approx(1.0)
    assert rows.loc["Nurture", "share"] == pytest.approx(0.4)
    assert UNSEGMENTED.name not in rows.index
    assert list(summary["cadence_days"]) == [r.cadence_days for r in DEFAULT_SEGMENTS]


def test_summary_keeps_configured_order_and_shows_unsegmented_only_when_used() -> None:
    rules = [
        SegmentRule(name="Zeta", when="mrr > 100", cadence_days=3, play="z"),
        SegmentRule(name="Alpha", when="mrr > 10", cadence_days=9, play="a"),
    ]
    out = segment(customers(mrr=[500, 50, 1]), rules, AS_OF)
    for summary in (segment_summary(out), segment_summary(out, rules)):
        assert list(summary["segment"]) == ["Zeta", "Alpha", UNSEGMENTED.name]
        assert list(summary["cadence_days"]) == [3, 9, UNSEGMENTED.cadence_days]
        assert list(summary["play"])[:2] == ["z", "a"]
    # attrs lost (e.g. after concat): order from the frame itself, nothing dropped
    copied = pd.concat([out.iloc[:2], out.iloc[2:]])
    copied.attrs = {}
    summary = segment_summary(copied)
    assert sorted(summary.loc[summary["customers"] > 0, "segment"]) == sorted(
        ["Zeta", "Alpha", UNSEGMENTED.name]
    )
    assert summary.set_index("segment").loc["Zeta", "cadence_days"] == 3


def test_summary_of_an_empty_table() -> None:
    summary = segment_summary(segment(customers(mrr=[]), None, AS_OF))
    assert list(summary["customers"]) == [0] * len(DEFAULT_SEGMENTS)
    assert list(summary["share"]) == [0.0] * len(DEFAULT_SEGMENTS)


def test_summary_needs_a_segmented_frame() -> None:
    with pytest.raises(ConfigError, match="segmented"):
        segment_summary(customers(mrr=[1.0]))


# ---------------------------------------------------------------------------- explain


def test_explain_shows_the_matching_rule_with_its_values_and_the_misses_before_it() -> None:
    frame = customers(
        mrr=[800, 100, 50],
        band=["yellow", "green", "red"],
        signup_date=["2024-01-01", "2024-01-01", "2024-01-01"],
    )
    checks = explain_segment(frame, 0, None, AS_OF)
    assert [(c.segment, c.matched) for c in checks] == [
        ("Onboarding", False),
        ("Champions", False),
        ("Grow", False),
        ("Rescue", True),
    ]
    rescue = checks[-1]
    assert rescue.values == {"pct_rank(mrr)": pytest.approx(5 / 6), "band": "yellow"}
    assert rescue.conditions == [("pct_rank(mrr) >= 0.5", True), ('band != "green"', True)]
    assert checks[0].values == {"days_since(signup_date)": 1057.0}
    assert checks[1].conditions == [("pct_rank(mrr) >= 0.5", True), ('band == "green"', False)]
    assert rescue.cadence_days == 7 and rescue.play.startswith("Call this week")
    lines = explain_lines(checks)
    assert lines[0] == "✗ Onboarding: days_since(signup_date) <= 90"
    assert "    days_since(signup_date) = 1057" in lines
    assert '✓ Rescue: pct_rank(mrr) >= 0.5 and band != "green"' in lines
    assert '    pct_rank(mrr) = 0.83, band = "yellow"' in lines
    assert '    ✗ band == "green"' in lines


def test_explain_agrees_with_segment_for_every_customer() -> None:
    rng = np.random.default_rng(7)
    n = 60
    frame = customers(
        mrr=np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 2000, n)),
        band=rng.choice(["red", "yellow", "green"], n).tolist(),
        signup_date=[None if x < 0.2 else f"2026-{1 + int(x * 10):02d}-01" for x in rng.random(n)],
    )
    out = segment(frame, None, AS_OF)
    for i in range(n):
        checks = explain_segment(frame, i, None, AS_OF)
        assert checks[-1].segment == out["segment"].iloc[i]
        assert all(not c.matched for c in checks[:-1])


def test_explain_of_an_unmatched_customer_and_missing_values() -> None:
    rules = [
        SegmentRule(name="Big", when="mrr >= 500 and signup_date < 2026-01-01", cadence_days=7)
    ]
    checks = explain_segment(customers(mrr=[np.nan]), 0, rules, AS_OF)
    assert [(c.segment, c.matched) for c in checks] == [("Big", False), (UNSEGMENTED.name, True)]
    assert checks[0].values == {"mrr": None, "signup_date": None}
    assert "mrr = missing, signup_date = missing" in "\n".join(explain_lines(checks))


def test_explain_rejects_a_bad_position() -> None:
    with pytest.raises(CstoolError, match="not a row position"):
        explain_segment(customers(mrr=[1.0]), 5, None, AS_OF)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "missing"),
        (float("nan"), "missing"),
        (3.0, "3"),
        (0.8333, "0.83"),
        (0.001234, "0.001234"),
        (True, "true"),
        (date(2026, 1, 2), "2026-01-02"),
        ('say "hi"', '"say \\"hi\\""'),
    ],
)
def test_values_are_shown_for_people(value: Any, shown: str) -> None:
    assert format_value(value) == shown


# ---------------------------------------------------------------------------- properties

maybe_mrr = st.one_of(st.none(), st.floats(0, 1e7, allow_nan=False), st.sampled_from([0.0, 100.0]))


@st.composite
def scored_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 25))
    ids = draw(st.lists(st.text(min_size=1, max_size=5), min_size=n, max_size=n, unique=True))
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "mrr": [
                np.nan if v is None else v
                for v in draw(st.lists(maybe_mrr, min_size=n, max_size=n))
            ],
            "band": pd.array(
                draw(st.lists(st.sampled_from(["red", "yellow", "green"]), min_size=n, max_size=n)),
                dtype="string",
            ),
            "health": draw(st.lists(st.floats(0, 100), min_size=n, max_size=n)),
            "satisfaction": draw(st.lists(st.floats(0, 100), min_size=n, max_size=n)),
            "signup_date": pd.to_datetime(
                [
                    None if d is None else pd.Timestamp(AS_OF) - pd.Timedelta(days=d)
                    for d in draw(
                        st.lists(
                            st.one_of(st.none(), st.integers(-30, 3000)), min_size=n, max_size=n
                        )
                    )
                ]
            ),
            "plan": pd.array(
                draw(
                    st.lists(
                        st.one_of(st.none(), st.sampled_from(["pro", "team"])),
                        min_size=n,
                        max_size=n,
                    )
                ),
                dtype="string",
            ),
        }
    )


EXTRA_RULES = [
    SegmentRule(name="Team risk", when='plan == "team" and band != "green"', cadence_days=5),
    SegmentRule(name="Top", when="pct_rank(mrr) >= 0.9", cadence_days=10),
    SegmentRule(name="Cheap", when="mrr / 12 < 10 or is_missing(mrr)", cadence_days=60),
]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=scored_frames(), seed=st.integers(0, 2**32 - 1), extra=st.booleans())
def test_assignment_does_not_depend_on_row_order(
    frame: pd.DataFrame, seed: int, extra: bool
) -> None:
    rules = [*EXTRA_RULES, *DEFAULT_SEGMENTS] if extra else None
    out = segment(frame, rules, AS_OF)
    shuffled = frame.sample(frac=1, random_state=seed).reset_index(drop=True)
    again = segment(shuffled, rules, AS_OF)
    first = dict(zip(out["customer_id"], out["segment"], strict=True))
    second = dict(zip(again["customer_id"], again["segment"], strict=True))
    assert first == second
    a, b = segment_summary(out), segment_summary(again)
    pd.testing.assert_frame_equal(
        a.drop(columns=["mrr", "mean_satisfaction", "mean_health"]),
        b.drop(columns=["mrr", "mean_satisfaction", "mean_health"]),
    )


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=scored_frames())
def test_every_customer_gets_exactly_one_built_in_segment(frame: pd.DataFrame) -> None:
    out = segment(frame, None, AS_OF)
    assert len(out) == len(frame)
    assert out["segment"].notna().all()
    assert set(out["segment"]) <= set(segment_names(None))
    summary = segment_summary(out)
    assert summary["customers"].sum() == len(frame)
    assert (summary[["red", "yellow", "green"]].sum(axis=1) == summary["customers"]).all()


def test_the_segment_summary_counts_live_customers_as_the_kpis_do(tmp_path: Path) -> None:
    import cstool

    path = tmp_path / "book.csv"
    path.write_text(
        "Customer_ID,Stage,MRR,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
        "A1,Active,100,9,9,9\nA2,Churned,300,2,2,2\nA3,Lead,,5,5,5\nA4,Active,50,2,2,2\n",
        encoding="utf-8",
    )
    book = cstool.open(path, as_of="2026-12-01")
    summary = book.segments()
    assert int(summary["customers"].sum()) == book.portfolio().kpis["customers"] == 2
    assert summary.attrs["not_live"] == 2
    assert float(summary["mrr"].sum()) == 150.0  # the churned customer's 300 is not counted
