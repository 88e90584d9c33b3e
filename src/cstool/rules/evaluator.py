"""Checked rules → one numpy bool array per rule, column-wise; missing compares false."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cstool.numeric import column_floats, first_column, pct_rank
from cstool.rules.checker import Rule
from cstool.rules.nodes import (
    Arith,
    Call,
    Coerce,
    Compare,
    FieldRef,
    InList,
    Lit,
    Logic,
    Neg,
    Node,
    Not,
    RuleType,
    day_number,
)

Array = NDArray[Any]


def _as_days(col: pd.Series) -> Array:
    """Days since 1970-01-01 as float64, NaN where missing."""
    if not pd.api.types.is_datetime64_any_dtype(col.dtype):
        text = col.astype("string").str.strip()
        col = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if getattr(col.dt, "tz", None) is not None:
        col = col.dt.tz_localize(None)
    values = np.asarray(col.to_numpy(dtype="datetime64[ns]")).astype("datetime64[D]")
    missing = np.isnat(values)
    days = values.astype("int64").astype("float64")
    days[missing] = np.nan
    return days


def _as_text(col: pd.Series) -> pd.Series:
    """Text as it is when it already is text (strings, Arrow strings, text categoricals)."""
    dtype = col.dtype
    if isinstance(dtype, pd.StringDtype):
        return col
    if isinstance(dtype, pd.CategoricalDtype) and (
        pd.api.types.is_string_dtype(dtype.categories.dtype)
        or pd.api.types.is_object_dtype(dtype.categories.dtype)
    ):
        return col  # tested per category, see _text_mask
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        if pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype):
            return col
    return col.astype("string")


def _text_mask(text: pd.Series, test: Any) -> Array:
    """`test(series)` as a numpy bool array, missing counting as false.

    A categorical (such as `band`) is tested once per category and read off its codes,
    so a million rows cost as much as three values.
    """
    if isinstance(text.dtype, pd.CategoricalDtype):
        categories = pd.Series(text.cat.categories.astype(str), dtype="string")
        per_category = np.asarray(pd.Series(test(categories)).to_numpy(dtype=bool, na_value=False))
        codes = np.asarray(text.cat.codes.to_numpy())
        return np.append(per_category, False)[codes]  # code -1 (missing) reads the False
    return np.asarray(pd.Series(test(text)).to_numpy(dtype=bool, na_value=False))


def _as_bool(col: pd.Series) -> Array:
    return np.asarray(col.astype("boolean").to_numpy(dtype=bool, na_value=False))


_COMPARE = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


class Evaluator:
    """Evaluates checked rules on one frame; conversions and function results are shared."""

    def __init__(self, frame: pd.DataFrame, as_of: date, *, record: bool = False) -> None:
        self.frame = frame
        self.n = len(frame)
        self.today = day_number(as_of)
        self.cache: dict[str, Any] = {}
        self.record: dict[int, Any] | None = {} if record else None
        self.kinds: dict[int, RuleType] = {}

    def condition(self, rule: Rule) -> Array:
        """The rule's truth for every row, as a numpy bool array (missing counts as false)."""
        return self.full(self.value_of(rule.tree)).astype(bool, copy=False)

    def full(self, value: Any) -> Array:
        if isinstance(value, np.ndarray) and value.shape == (self.n,):
            return value
        if isinstance(value, pd.Series):
            return np.asarray(value.to_numpy())
        return np.full(self.n, value)

    def value_of(self, node: Node) -> Any:
        value = self._eval(node)
        if self.record is not None:
            self.record[id(node)] = value
        return value

    def _eval(self, node: Node) -> Any:
        if isinstance(node, Lit):
            return np.float64(node.value) if node.type in ("number", "date") else node.value
        if isinstance(node, FieldRef):
            return self.column(node.column, node.type)
        if isinstance(node, Coerce):
            assert isinstance(node.operand, FieldRef)
            value = self.column(node.operand.column, node.type)
            if self.record is not None:  # explain shows the field as it was read
                self.record[id(node.operand)] = value
                self.kinds[id(node.operand)] = node.type
            return value
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Neg):
            return np.negative(self.value_of(node.operand))
        if isinstance(node, Not):
            return np.logical_not(self.value_of(node.operand))
        if isinstance(node, Arith):
            return self.arith(node)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, InList):
            return self.in_list(node)
        if isinstance(node, Logic):
            combine = np.logical_and if node.op == "and" else np.logical_or
            result = self.value_of(node.operands[0])
            for operand in node.operands[1:]:
                result = combine(result, self.value_of(operand))
            return result
        raise AssertionError(f"unexpected node {node!r}")  # pragma: no cover

    def column(self, name: str, kind: RuleType) -> Any:
        key = f"{kind}:{name}"
        if key not in self.cache:
            col = first_column(self.frame, name)
            if kind == "number":
                self.cache[key] = column_floats(self.frame, name)
            elif kind == "date":
                self.cache[key] = _as_days(col)
            elif kind == "bool":
                self.cache[key] = _as_bool(col)
            else:
                self.cache[key] = _as_text(col)
        return self.cache[key]

    def call(self, node: Call) -> Any:
        if node.func == "is_missing":
            value = self.value_of(node.arg)
            if isinstance(value, pd.Series):
                return np.asarray(value.isna().to_numpy(dtype=bool))
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                return np.isnan(value)
            if isinstance(value, np.floating):
                return bool(np.isnan(value))
            return False
        arg = self.value_of(node.arg)
        if node.func == "days_since":
            return np.subtract(self.today, arg)
        if node.func == "days_until":
            return np.subtract(arg, self.today)
        key = "pct_rank:" + structural_key(node.arg)
        if key not in self.cache:
            self.cache[key] = pct_rank(self.full(arg).astype("float64"))
        return self.cache[key]

    def arith(self, node: Arith) -> Any:
        result = self.value_of(node.first)
        with np.errstate(all="ignore"):
            for op, operand in node.rest:
                value = self.value_of(operand)
                if op == "+":
                    result = np.add(result, value)
                elif op == "-":
                    result = np.subtract(result, value)
                elif op == "*":
                    result = np.multiply(result, value)
                else:
                    result = np.divide(result, value)
            # x / 0 and overflow are missing, not infinite
            return np.where(np.isfinite(result), result, np.nan)

    def compare(self, node: Compare) -> Any:
        left, right = self.value_of(node.left), self.value_of(node.right)
        kind = node.left.type
        if kind == "flex":
            kind = "text"
        if kind == "text":
            return self._compare_text(node.op, left, right)
        with np.errstate(invalid="ignore"):
            result = _COMPARE[node.op](left, right)
        if kind in ("number", "date"):
            result = np.logical_and(result, np.logical_and(~np.isnan(left), ~np.isnan(right)))
        return result

    def _compare_text(self, op: str, left: Any, right: Any) -> Any:
        if not isinstance(left, pd.Series) and not isinstance(right, pd.Series):
            return (left == right) if op == "==" else (left != right)
        if not isinstance(left, pd.Series):
            left, right = right, left
        if isinstance(right, pd.Series):  # two columns: compare as plain strings
            left, right = left.astype("string"), right.astype("string")
            truth = _text_mask(left, lambda s: (s == right) if op == "==" else (s != right))
            return truth & _present(left) & _present(right)
        truth = _text_mask(left, lambda s: (s == right) if op == "==" else (s != right))
        return truth & _present(left) if op == "!=" else truth

    def in_list(self, node: InList) -> Any:
        left = self.value_of(node.left)
        values = [item.value for item in node.items]
        if isinstance(left, pd.Series):
            hit = _text_mask(left, lambda s: s.isin(values))
            if node.negated:
                return ~hit & _present(left)
            return hit
        if isinstance(left, str | bool | np.bool_):
            return (left in values) != node.negated
        if np.asarray(left).dtype.kind == "b":
            hit = np.isin(left, np.asarray(values, dtype=bool))
            return np.logical_not(hit) if node.negated else hit
        hit = np.isin(left, np.asarray(values, dtype="float64"))
        if node.negated:
            return np.logical_and(~hit, ~np.isnan(left))
        return hit


def _present(text: pd.Series) -> Array:
    if isinstance(text.dtype, pd.CategoricalDtype):
        return np.asarray(text.cat.codes.to_numpy()) >= 0
    return np.asarray(text.notna().to_numpy(dtype=bool))


def structural_key(node: Node) -> str:
    """A text that is equal for equal expressions (to share work between rules)."""
    if isinstance(node, Lit):
        return f"{node.type}:{node.value!r}"
    if isinstance(node, FieldRef):
        return f"`{node.column}`:{node.type}"
    if isinstance(node, Coerce):
        return f"{node.type}({structural_key(node.operand)})"
    if isinstance(node, Call):
        return f"{node.func}({structural_key(node.arg)})"
    if isinstance(node, Neg | Not):
        return f"{type(node).__name__}({structural_key(node.operand)})"
    if isinstance(node, Arith):
        rest = "".join(f" {op} {structural_key(x)}" for op, x in node.rest)
        return f"({structural_key(node.first)}{rest})"
    if isinstance(node, Compare):
        return f"({structural_key(node.left)} {node.op} {structural_key(node.right)})"
    if isinstance(node, InList):
        items = ", ".join(structural_key(x) for x in node.items)
        return f"({structural_key(node.left)} {'not in' if node.negated else 'in'} [{items}])"
    if isinstance(node, Logic):
        return "(" + f" {node.op} ".join(structural_key(x) for x in node.operands) + ")"
    raise AssertionError(f"unexpected node {node!r}")  # pragma: no cover


def evaluate(rule: Rule, frame: pd.DataFrame, as_of: date) -> Array:
    """The rule's truth for each row of `frame` (numpy bool array, missing counts as false)."""
    return Evaluator(frame, as_of).condition(rule)
