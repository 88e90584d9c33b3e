"""The rule language: parsing, checking, column-wise evaluation, hostile input."""

from __future__ import annotations

import math
import os
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cstool import rules as R
from cstool.errors import ConfigError, ExitCode

AS_OF = date(2026, 11, 23)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.array(["a", "b", "c", "d"], dtype="string"),
            "plan": pd.array(["pro", None, "team", "pro"], dtype="string"),
            "mrr": [100.0, np.nan, 900.0, 500.0],
            "nps": pd.array([9, None, 3, 7], dtype="Int64"),
            "band": pd.array(["green", "red", "yellow", "red"], dtype="string"),
            "signup_date": pd.to_datetime(["2026-10-01", None, "2025-01-01", "2026-11-23"]),
            "renewal_date": pd.to_datetime(["2026-12-01", "2026-11-01", None, "2027-06-01"]),
            "Account Owner": pd.array(["ann", "bob", None, "ann"], dtype="string"),
            "seats": pd.array(["10", "many", None, "3"], dtype="string"),
            "started": pd.array(["2026-01-05", "soon", None, "2020-02-02"], dtype="string"),
            "vip": [True, False, True, False],
        }
    )


def truth(rule: str, frame: pd.DataFrame) -> list[bool]:
    compiled = R.compile_rule(rule, R.field_types(frame.columns, frame))
    return [bool(x) for x in R.evaluate(compiled, frame, AS_OF)]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('band == "red" and mrr >= 500', [False, False, False, True]),
        ('band == "red" or plan == "team"', [False, True, True, True]),
        ("mrr > 100", [False, False, True, True]),
        ("mrr >= 100", [True, False, True, True]),
        ("mrr < 500", [True, False, False, False]),
        ("mrr <= 500", [True, False, False, True]),
        ("mrr == 900", [False, False, True, False]),
        ("mrr != 900", [True, False, False, True]),  # missing: false
        ("not mrr < 500", [False, True, True, True]),  # not (false) is true
        ("nps in [9, 10]", [True, False, False, False]),
        ("nps not in [9, 10]", [False, False, True, True]),  # missing is not "not in"
        ('plan in ["pro", "team"]', [True, False, True, True]),
        ('plan not in ["pro"]', [False, False, True, False]),
        ('plan != "pro"', [False, False, True, False]),
        ("is_missing(mrr)", [False, True, False, False]),
        ("is_missing(plan)", [False, True, False, False]),
        ("is_missing(signup_date)", [False, True, False, False]),
        ("not is_missing(nps)", [True, False, True, True]),
        ("days_since(signup_date) <= 90", [True, False, False, True]),
        ("days_since(signup_date) == 0", [False, False, False, True]),
        ("days_until(renewal_date) <= 30", [True, True, False, False]),
        ("days_until(renewal_date) < 0", [False, True, False, False]),
        ("signup_date >= 2026-01-01", [True, False, False, True]),
        ('signup_date >= "2026-01-01"', [True, False, False, True]),
        ("signup_date in [2026-10-01]", [True, False, False, False]),
        ("pct_rank(mrr) >= 0.5", [False, False, True, True]),
        ("pct_rank(mrr) < 0.5", [True, False, False, False]),
        ("mrr * 12 >= 6000", [False, False, True, True]),
        ("mrr / 100 + 1 == 2", [True, False, False, False]),
        ("mrr - -100 == 200", [True, False, False, False]),
        ("-mrr < -400", [False, False, True, True]),
        ("2 * (mrr + 100) == 400", [True, False, False, False]),
        ("mrr / 0 > 0", [False, False, False, False]),  # x / 0 is missing
        ("mrr / 0 < 1", [False, False, False, False]),
        ("is_missing(mrr / 0)", [True, True, True, True]),
        ('account_owner == "ann"', [True, False, False, True]),
        ('`Account Owner` == "bob"', [False, True, False, False]),
        ("seats > 5", [True, False, False, False]),  # text column read as a number
        ("seats * 2 >= 6", [True, False, False, True]),
        ('seats == "many"', [False, True, False, False]),
        ("seats in [3, 10]", [True, False, False, True]),
        ("started < 2025-01-01", [False, False, False, True]),  # text column read as a date
        ("days_since(started) > 300", [True, False, False, True]),
        ("vip", [True, False, True, False]),
        ("vip and mrr > 200", [False, False, True, False]),
        ("not vip", [False, True, False, True]),
        ("vip == false", [False, True, False, True]),
        ("true", [True, True, True, True]),
        ("FALSE", [False, False, False, False]),
        ("1 < 2", [True, True, True, True]),
        ("MRR > 100 AND Band == 'red'", [False, False, False, True]),
        ("not not (mrr > 100)", [False, False, True, True]),
        ("mrr > 100\n  and band != 'green'", [False, False, True, True]),
        ("mrr >= 1e2 and mrr < .5e3", [True, False, False, False]),
    ],
)
def test_rules_evaluate_column_wise(frame: pd.DataFrame, rule: str, expected: list[bool]) -> None:
    assert truth(rule, frame) == expected


def test_pct_rank_counts_ties_as_half_and_skips_missing() -> None:
    values = np.array([3.0, 1.0, np.nan, 2.0, 2.0, 5.0])
    ranks = R.pct_rank(values)
    assert ranks[2] != ranks[2]  # NaN stays missing
    assert np.allclose(ranks[[0, 1, 3, 4, 5]], [0.7, 0.1, 0.4, 0.4, 0.9])
    assert list(R.pct_rank(np.array([7.0, 7.0, 7.0]))) == [0.5, 0.5, 0.5]
    assert list(R.pct_rank(np.array([1.0, 2.0, 3.0, 4.0]))) == [0.125, 0.375, 0.625, 0.875]
    assert R.pct_rank(np.array([])).size == 0


def test_string_columns_with_nan_missing_are_still_missing() -> None:
    # pandas' NaN-backed "str" dtype: != must still be false for a missing value
    frame = pd.DataFrame({"plan": pd.Series(["pro", None, "team"], dtype="str")})
    assert truth('plan != "pro"', frame) == [False, False, True]
    assert truth('plan not in ["pro"]', frame) == [False, False, True]
    assert truth("is_missing(plan)", frame) == [False, True, False]


TEXT_DTYPES = {
    "string": lambda v: pd.Series(v, dtype="string"),
    "str (NaN-backed)": lambda v: pd.Series(v, dtype="str"),
    "categorical": lambda v: pd.Series(v, dtype="category"),
    "arrow string": lambda v: pd.Series(v, dtype=pd.ArrowDtype(pa.string())),
    "object": lambda v: pd.Series(v, dtype=object),
}


@pytest.mark.parametrize("make", TEXT_DTYPES.values(), ids=TEXT_DTYPES.keys())
def test_text_comparisons_agree_for_every_text_dtype(make: Any) -> None:
    frame = pd.DataFrame({"band": make(["red", None, "green", "red"])})
    frame["band2"] = make(["red", "red", None, "green"])
    assert truth('band == "red"', frame) == [True, False, False, True]
    assert truth('band != "red"', frame) == [False, False, True, False]
    assert truth('band in ["green", "yellow"]', frame) == [False, False, True, False]
    assert truth('band not in ["green"]', frame) == [True, False, False, True]
    assert truth("is_missing(band)", frame) == [False, True, False, False]
    assert truth("band == band2", frame) == [True, False, False, False]
    assert truth("band2 != band", frame) == [False, False, False, True]


def test_object_and_text_columns_work_for_library_frames() -> None:
    frame = pd.DataFrame(
        {
            "mrr": ["1,200", "300", None],  # text in a known number column
            "signup_date": ["2026-11-01", None, "bad"],  # text in a known date column
            "band": ["green", None, "red"],  # object dtype
        }
    )
    assert truth("mrr >= 300", frame) == [False, True, False]  # "1,200" cannot be read
    assert truth("days_since(signup_date) < 30", frame) == [True, False, False]
    assert truth('band != "red"', frame) == [True, False, False]


def test_rules_work_on_an_empty_frame(frame: pd.DataFrame) -> None:
    empty = frame.iloc[:0]
    assert truth('pct_rank(mrr) >= 0.5 and band == "green"', empty) == []
    assert truth("true", empty) == []


def test_a_non_range_index_is_fine(frame: pd.DataFrame) -> None:
    shuffled = frame.set_index(pd.Index([10, 3, 7, 1]))
    assert truth('plan == "pro" and mrr > 200', shuffled) == [False, False, False, True]


def test_lenient_check_allows_unknown_names_but_checks_known_ones() -> None:
    R.compile_rule('region == "EU" and mrr > 5', None)
    with pytest.raises(ConfigError, match="cannot compare a date with a number"):
        R.compile_rule("signup_date > 5", None)


# ---------------------------------------------------------------------------- errors


def error_of(rule: str, types: dict[str, R.RuleType] | None = None) -> R.RuleError:
    with pytest.raises(R.RuleError) as caught:
        R.compile_rule(rule, types if types is not None else dict(R.KNOWN_TYPES))
    return caught.value


def caret_column(err: R.RuleError) -> int:
    """Where the caret points, in characters of the shown rule line."""
    shown, carets = err.message.splitlines()[-2:]
    return carets.index("^") - (len(shown) - len(shown.lstrip()))


@pytest.mark.parametrize(
    ("rule", "words", "at"),
    [
        ("mrrr > 5", ["unknown field 'mrrr'", "did you mean 'mrr'"], 0),
        ('band == "red" and helth < 50', ["unknown field 'helth'", "did you mean 'health'"], 18),
        ("signup_date > 5", ["cannot compare a date with a number"], 0),
        ("mrr > signup_date", ["cannot compare a number with a date"], 0),
        ('signup_date < "soon"', ["'soon' is not a date"], 14),
        ("signup_date + 5 > 0", ["works on numbers, not dates"], 0),
        ('plan > "a"', ["text can only be compared with ==, != or in"], 0),
        ('band == "Red"', ['band is one of "red", "yellow" or "green"'], 8),
        ('band in ["green", "GREEN"]', ["never 'GREEN'"], 18),
        ("mrr = 5", ["use '=='"], 4),
        ("mrr <> 5", ["use '!='"], 4),
        ("mrr > 5 && nps > 8", ["use 'and'"], 8),
        ("mrr > 5 || nps > 8", ["use 'or'"], 8),
        ("!is_missing(mrr)", ["use 'not'"], 0),
        ("mrr ** 2 > 5", ["only + - * /"], 4),
        ("mrr % 2 == 0", ["only + - * /"], 4),
        ("mrr >= 1,000", ["unexpected ','"], 8),
        ("mrr > 1 < 2", ["cannot be chained"], 8),
        ("mrr", ["must be a condition", "a number"], 0),
        ('"pro"', ["must be a condition", "text"], 0),
        ("mrr > 5 and nps", ["'and' needs a condition"], 12),
        ("not mrr", ["'not' needs a condition"], 4),
        ('band == "red" and', ["ends too early"], 17),
        ("(mrr > 5", ["expected ')'"], 8),
        ("mrr > 5)", ["no '(' is open"], 7),
        ("mrr > 5 nps > 3", ["expected an operator"], 8),
        ('"abc', ["unterminated text"], 0),
        ("`Account", ["unterminated `name`"], 0),
        ("", ["the rule is empty"], 0),
        ("days_since(mrr) > 5", ["days_since() needs a date", "got a number"], 11),
        ("pct_rank(plan) > 0.5", ["pct_rank() needs a number", "got text"], 9),
        ("days_since() > 5", ["needs one argument"], 11),
        ("days_since(signup_date, 3) > 5", ["takes one argument"], 22),
        ("dayz_since(signup_date) > 5", ["unknown function 'dayz_since'", "days_since"], 0),
        ("pct_rank > 5", ["pct_rank is a function"], 0),
        ("mrr in 5", ["expected a list after 'in'"], 7),
        ("mrr in [1, nps]", ["list items are numbers"], 11),
        ('mrr in [1, "a"]', ["cannot compare a number with text"], 11),
        ("[1, 2]", ["a list can only follow 'in'"], 0),
        ("mrr > 90d", ["'90d' is not a number"], 6),
        ("signup_date > 2026-13-01", ["not a valid date"], 14),
        ("mrr == None", ["is_missing(field)"], 7),
        ("mrr is None", ["'is' is not part"], 4),
        ("health_coverage > 0.5 and stage == 1", ["cannot compare text with a number"], 26),
    ],
)
def test_bad_rules_are_config_errors_with_a_caret(rule: str, words: list[str], at: int) -> None:
    err = error_of(rule)
    assert err.exit_code == ExitCode.USAGE
    text = err.message + "\n" + (err.hint or "")
    for word in words:
        assert word in text
    assert caret_column(err) == at, err.message


def test_the_caret_line_shows_the_rule_and_marks_the_whole_bad_name() -> None:
    err = error_of('band == "red" and mrrr >= 500')
    lines = err.message.splitlines()
    assert lines[-2] == '    band == "red" and mrrr >= 500'
    assert lines[-1] == "                      ^^^^"


def test_the_caret_lines_up_under_wide_characters() -> None:
    err = error_of('plan == "专业版" and mrrr > 1')
    carets = err.message.splitlines()[-1]
    assert carets.index("^") == 4 + len('plan == "') + 2 * 3 + len('" and ')


def test_the_caret_points_into_the_right_line_of_a_multi_line_rule() -> None:
    err = error_of('band == "red"\n  and mrrr >= 500')
    shown, carets = err.message.splitlines()[-2:]
    assert shown == "      and mrrr >= 500"
    assert carets == "          ^^^^"


def test_a_long_rule_is_shown_as_a_window_around_the_error() -> None:
    rule = " and ".join(["mrr > 5"] * 200) + " and mrrr > 5"
    err = error_of(rule)
    shown, carets = err.message.splitlines()[-2:]
    assert len(shown) < 160 and shown.lstrip().startswith("…")
    assert shown[carets.index("^") :].startswith("mrrr")


def test_unknown_score_fields_hint_at_scoring_first() -> None:
    err = error_of("health < 50", {"mrr": "number"})
    assert "unknown field 'health'" in err.message
    assert err.hint and "score" in err.hint


def test_an_ambiguous_field_asks_for_the_exact_header() -> None:
    with pytest.raises(ConfigError, match="several columns"):
        R.compile_rule("account_owner == 'x'", {"Account Owner": "flex", "account-owner": "flex"})


def test_output_columns_cannot_be_used_in_rules(frame: pd.DataFrame) -> None:
    with_segment = frame.assign(segment="Grow")
    with pytest.raises(ConfigError, match="unknown field 'segment'"):
        R.compile_rule('segment == "Grow"', R.field_types(with_segment.columns, with_segment))


# ---------------------------------------------------------------------------- hostile rules

HOSTILE = [
    '__import__("os").system("touch x")',
    "__import__('os').system('touch x') == 0",
    "mrr.__class__.__mro__[1].__subclasses__() == 1",
    "mrr.real > 1",
    "().__class__",
    "lambda: 1",
    "(lambda x: x)(1) == 1",
    "exec(\"open('x', 'w')\") == 1",
    'eval("1") == 1',
    "open('x', 'w') == 1",
    "getattr(mrr, 'x') == 1",
    "[x for x in mrr] == 1",
    "import os",
    "mrr if true else nps",
    "globals() == 1",
    "__builtins__ == 1",
    "mrr; touch x",
    "{'a': 1} == 1",
    "mrr @ nps",
    "`mrr`.x",
    "(" * 10_000 + "mrr > 1" + ")" * 10_000,
    "not " * 10_000 + "true",
    "-" * 10_000 + "mrr > 1",
    "days_since(" * 5_000 + "signup_date" + ")" * 5_000 + " > 1",
    "mrr > 1 and " * 50_000 + "true",
]


@pytest.mark.parametrize("rule", HOSTILE, ids=lambda r: r[:40])
def test_hostile_rules_are_refused_without_side_effects(
    rule: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        R.compile_rule(rule, dict(R.KNOWN_TYPES))
    assert caught.value.exit_code == ExitCode.USAGE
    assert len(caught.value.message.splitlines()) <= 3  # a message, the rule, the caret
    assert os.listdir(tmp_path) == []


def test_deep_nesting_says_so() -> None:
    err = error_of("(" * 10_000 + "mrr > 1" + ")" * 10_000)
    assert "nests too deeply" in err.message
    err = error_of("(" * (R.MAX_DEPTH + 1) + "mrr > 1" + ")" * (R.MAX_DEPTH + 1))
    assert "nests too deeply" in err.message
    ok = "(" * (R.MAX_DEPTH - 1) + "mrr > 1" + ")" * (R.MAX_DEPTH - 1)
    R.compile_rule(ok, dict(R.KNOWN_TYPES))


def test_long_and_or_chains_do_not_nest() -> None:
    rule = " or ".join(f"mrr == {i}" for i in range(300))
    frame = pd.DataFrame({"mrr": [5.0, 300.0, np.nan]})
    assert truth(rule, frame) == [True, False, False]


def test_dunder_names_and_python_words_are_named_in_the_error() -> None:
    assert "'__import__' is not allowed" in error_of('__import__("os")').message
    assert "'lambda' is not part of the rule language" in error_of("lambda x: x").message
    err = error_of("class == 'a'")
    assert err.hint and "`class`" in err.hint  # a column with that name: backticks


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("mrnps_ ()[]<>=!.,'\"`-+*/%0123456789aidotfelu\n"))
        | st.characters(),
        max_size=60,
    )
)
def test_any_text_is_either_a_rule_or_a_config_error(text: str) -> None:
    try:
        rule = R.compile_rule(text, dict(R.KNOWN_TYPES))
    except R.RuleError as err:
        assert err.exit_code == ExitCode.USAGE
        assert "^" in err.message.splitlines()[-1]
        return
    frame = pd.DataFrame({name: [] for name in R.KNOWN_TYPES})
    R.evaluate(rule, frame.astype({"mrr": float}), AS_OF)


# ---------------------------------------------------------------------------- properties
# A plain-Python, row-by-row reading of the same rule is the reference for the vectorised one.

NUMBER_FIELDS = ("mrr", "nps", "health")
TEXT_FIELDS = ("plan", "band")


def reference(node: R.Node, row: dict[str, Any], frame: pd.DataFrame) -> Any:
    """What a rule means for one row, written the slow and obvious way."""
    if isinstance(node, R.Lit):
        return node.value
    if isinstance(node, R.FieldRef):
        value = row[node.column]
        if node.type == "number":
            return math.nan if value is None or value is pd.NA else float(value)
        if node.type == "date":
            return math.nan if pd.isna(value) else float((value.date() - date(1970, 1, 1)).days)
        return None if value is None or value is pd.NA or value != value else value
    if isinstance(node, R.Call):
        if node.func == "is_missing":
            value = reference(node.arg, row, frame)
            return value is None or (isinstance(value, float) and math.isnan(value))
        if node.func == "pct_rank":
            assert isinstance(node.arg, R.FieldRef)
            column = pd.to_numeric(frame[node.arg.column]).astype(float).tolist()
            known = [v for v in column if not math.isnan(v)]
            mine = reference(node.arg, row, frame)
            if math.isnan(mine):
                return math.nan
            below = sum(v < mine for v in known)
            equal = sum(v == mine for v in known)
            return (below + equal / 2) / len(known)
        today = float((AS_OF - date(1970, 1, 1)).days)
        day = reference(node.arg, row, frame)
        return today - day if node.func == "days_since" else day - today
    if isinstance(node, R.Neg):
        return -reference(node.operand, row, frame)
    if isinstance(node, R.Not):
        return not reference(node.operand, row, frame)
    if isinstance(node, R.Arith):
        with np.errstate(all="ignore"):
            value = np.float64(reference(node.first, row, frame))
            for op, operand in node.rest:
                other = np.float64(reference(operand, row, frame))
                value = {"+": value + other, "-": value - other, "*": value * other}.get(
                    op, value / other if op == "/" else value
                )
        return float(value) if np.isfinite(value) else math.nan
    if isinstance(node, R.Compare):
        left, right = reference(node.left, row, frame), reference(node.right, row, frame)
        if left is None or right is None:
            return False
        if isinstance(left, float) and math.isnan(left):
            return False
        if isinstance(right, float) and math.isnan(right):
            return False
        return {
            "==": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[node.op]
    if isinstance(node, R.InList):
        left = reference(node.left, row, frame)
        if left is None or (isinstance(left, float) and math.isnan(left)):
            return False
        inside = left in [item.value for item in node.items]
        return inside != node.negated
    if isinstance(node, R.Logic):
        values = [bool(reference(x, row, frame)) for x in node.operands]
        return all(values) if node.op == "and" else any(values)
    raise AssertionError(node)


numbers = st.one_of(
    st.integers(-5, 1000).map(str),
    st.floats(0, 1, allow_nan=False).map(lambda f: f"{f:.3f}"),
)
number_atoms = st.one_of(
    st.sampled_from(NUMBER_FIELDS),
    numbers,
    st.sampled_from(["pct_rank(mrr)", "days_since(signup_date)", "days_until(signup_date)"]),
)
number_exprs = st.recursive(
    number_atoms,
    lambda inner: (
        st.tuples(inner, st.sampled_from("+-*/"), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
        | inner.map(lambda x: f"-{x}")
    ),
    max_leaves=4,
)
words = st.sampled_from(["pro", "team", "red", "green", ""])
conditions_base = st.one_of(
    st.tuples(number_exprs, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), number_exprs).map(
        " ".join
    ),
    st.tuples(st.just("plan"), st.sampled_from(["==", "!="]), words.map(repr)).map(" ".join),
    st.tuples(
        st.sampled_from(["plan", "nps"]),
        st.sampled_from(["in", "not in"]),
        st.lists(st.integers(0, 10), max_size=3),
    ).map(lambda t: f"{t[0]} {t[1]} {[str(x) for x in t[2]] if t[0] == 'plan' else t[2]}"),
    st.sampled_from(NUMBER_FIELDS + TEXT_FIELDS + ("signup_date",)).map(
        lambda f: f"is_missing({f})"
    ),
    st.sampled_from(["true", "false"]),
)
conditions = st.recursive(
    conditions_base,
    lambda inner: (
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        )
        | inner.map(lambda c: f"not {c}")
    ),
    max_leaves=5,
)
maybe_number = st.one_of(
    st.none(), st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 10).map(float)
)


@st.composite
def customer_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 12))
    rows = st.lists(maybe_number, min_size=n, max_size=n)
    nps = draw(st.lists(st.one_of(st.none(), st.integers(0, 10)), min_size=n, max_size=n))
    days = draw(st.lists(st.one_of(st.none(), st.integers(-400, 400)), min_size=n, max_size=n))
    plans = draw(st.lists(st.one_of(st.none(), words), min_size=n, max_size=n))
    bands = draw(st.lists(st.sampled_from(["red", "yellow", "green"]), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "mrr": np.array([math.nan if v is None else v for v in draw(rows)], dtype=float),
            "health": np.array([math.nan if v is None else v for v in draw(rows)], dtype=float),
            "nps": pd.array(nps, dtype="Int64"),
            "plan": TEXT_DTYPES[draw(st.sampled_from(sorted(TEXT_DTYPES)))](plans),
            "band": pd.array(bands, dtype="string"),
            "signup_date": pd.to_datetime(
                [None if d is None else pd.Timestamp(AS_OF) - pd.Timedelta(days=d) for d in days]
            ),
        }
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=conditions, frame=customer_frames())
def test_vectorised_evaluation_matches_the_row_by_row_reference(
    rule: str, frame: pd.DataFrame
) -> None:
    compiled = R.compile_rule(rule, R.field_types(frame.columns, frame))
    got = [bool(x) for x in R.evaluate(compiled, frame, AS_OF)]
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    expected = [bool(reference(compiled.tree, row, frame)) for row in rows]
    assert got == expected


def test_field_types_come_from_the_schema_tables() -> None:
    from cstool.schema import KIND, LIFECYCLE_KIND, SCORED_KIND

    assert set(R.KNOWN_TYPES) == set(KIND) | set(SCORED_KIND) | set(LIFECYCLE_KIND)
    assert R.KNOWN_TYPES["status"] == "text"
    assert R.KNOWN_TYPES["churn_date"] == "date"
    assert R.KNOWN_TYPES["mrr"] == "number"  # money
    assert R.KNOWN_TYPES["nps"] == "number"  # int
    assert R.KNOWN_TYPES["email"] == "text"
    assert R.KNOWN_TYPES["renewal_date"] == "date"
    assert R.KNOWN_TYPES["last_touch"] == "date"
    assert R.KNOWN_TYPES["band"] == "text"


def test_a_customer_without_a_band_matches_no_band_condition() -> None:
    band = pd.Categorical.from_codes([0, -1, 2], categories=["red", "yellow", "green"])
    f = pd.DataFrame({"band": band})
    types = R.field_types(f.columns, f)
    for rule, expected in [
        ('band == "red"', [True, False, False]),
        ('band != "red"', [False, False, True]),
        ('band in ["red", "green"]', [True, False, True]),
        ('band not in ["red"]', [False, False, True]),
        ("is_missing(band)", [False, True, False]),
    ]:
        assert R.evaluate(R.compile_rule(rule, types), f, AS_OF).tolist() == expected, rule


def test_the_package_keeps_the_names_callers_import() -> None:
    import importlib

    from cstool.rules import checker, evaluator, lexer, nodes, parser

    # `cstool.rules.trace` the name is the function callers import; the module is still there
    trace_module = importlib.import_module("cstool.rules.trace")
    assert R.RuleError is lexer.RuleError
    assert R.compile_rule is checker.compile_rule
    assert R.Evaluator is evaluator.Evaluator
    assert R.Node is nodes.Node
    assert R.MAX_DEPTH == parser.MAX_DEPTH == 32
    assert R.trace is trace_module.trace
