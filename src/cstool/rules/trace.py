"""What a rule looked at for one row: the values it read and each condition's truth."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from cstool.rules.checker import Rule
from cstool.rules.evaluator import Evaluator
from cstool.rules.nodes import (
    EPOCH,
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
)


def value_nodes(tree: Node) -> Iterator[Node]:
    """Fields and function calls in the order they appear (what a rule 'looked at')."""
    yield from _walk(tree, lambda n: isinstance(n, FieldRef | Call))


def condition_nodes(tree: Node) -> Iterator[Node]:
    """The smallest true/false parts of a rule (comparisons, is_missing, bool fields)."""
    if isinstance(tree, Logic):
        for operand in tree.operands:
            yield from condition_nodes(operand)
    elif isinstance(tree, Not):
        yield from condition_nodes(tree.operand)
    elif not isinstance(tree, Lit):
        yield tree


def _walk(node: Node, keep: Any) -> Iterator[Node]:
    if keep(node):
        yield node
    children: list[Node] = []
    if isinstance(node, Call | Neg | Not | Coerce):
        children = [node.arg if isinstance(node, Call) else node.operand]
    elif isinstance(node, Arith):
        children = [node.first, *(x for _, x in node.rest)]
    elif isinstance(node, Compare):
        children = [node.left, node.right]
    elif isinstance(node, InList):
        children = [node.left]
    elif isinstance(node, Logic):
        children = list(node.operands)
    if isinstance(node, Call) and node.func != "is_missing":
        return  # show days_since(x), not also x
    for child in children:
        yield from _walk(child, keep)


def value_at(value: Any, position: int, kind: RuleType) -> Any:
    """One row's value as plain Python: float, str, bool, date or None for missing."""
    if isinstance(value, pd.Series):
        item = value.iloc[position]
        return None if pd.isna(item) else str(item)
    if isinstance(value, np.ndarray):
        item = value[position] if value.shape else value.item()
    else:
        item = value
    if isinstance(item, np.bool_ | bool):
        return bool(item)
    if isinstance(item, str):
        return item
    number = float(item)
    if np.isnan(number):
        return None
    if kind == "date":
        return date.fromordinal(EPOCH.toordinal() + int(number))
    return number


@dataclass
class Trace:
    """What one rule saw for one row: values by source text and each condition's truth."""

    values: dict[str, Any] = field(default_factory=dict)
    conditions: list[tuple[str, bool]] = field(default_factory=list)


def trace(rule: Rule, evaluator: Evaluator, position: int) -> tuple[bool, Trace]:
    """Evaluate `rule` (with a recording evaluator) and read off row `position`."""
    assert evaluator.record is not None
    matched = bool(evaluator.full(evaluator.value_of(rule.tree))[position])
    out = Trace()
    for node in value_nodes(rule.tree):
        label = _label(node, rule.text)
        if label not in out.values and id(node) in evaluator.record:
            kind = evaluator.kinds.get(id(node), node.type)
            out.values[label] = value_at(evaluator.record[id(node)], position, kind)
    for node in condition_nodes(rule.tree):
        truth = value_at(evaluator.record[id(node)], position, "bool")
        out.conditions.append((rule.text[node.start : node.end], bool(truth)))
    return matched, out


def _label(node: Node, text: str) -> str:
    if isinstance(node, FieldRef):
        return node.column
    return " ".join(text[node.start : node.end].split())
