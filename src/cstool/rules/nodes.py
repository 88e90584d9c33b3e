"""The syntax tree of a rule: one dataclass per construct, typed by the checker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

RuleType = Literal["number", "date", "text", "bool", "flex"]
"""`flex` is a pass-through text column: read as a number or a date where the rule needs one."""

EPOCH = date(1970, 1, 1)


def day_number(day: date) -> float:
    """A date as the rule language holds it: days since 1970-01-01, as a float."""
    return float((day - EPOCH).days)


@dataclass(kw_only=True, eq=False)
class Node:
    """A piece of a rule; `start:end` is its place in the text, `type` is set by the checker."""

    start: int
    end: int
    type: RuleType = "bool"


@dataclass(kw_only=True, eq=False)
class Lit(Node):
    """A number, text, date (days since 1970-01-01 as a float) or true/false."""

    value: Any


@dataclass(kw_only=True, eq=False)
class FieldRef(Node):
    """A column, as written (`name`) and as resolved (`column`)."""

    name: str
    quoted: bool = False
    column: str = ""


@dataclass(kw_only=True, eq=False)
class Call(Node):
    """One of FUNCTIONS applied to one argument."""

    func: str
    arg: Node


@dataclass(kw_only=True, eq=False)
class Neg(Node):
    """Unary minus."""

    operand: Node


@dataclass(kw_only=True, eq=False)
class Not(Node):
    """Logical not."""

    operand: Node


@dataclass(kw_only=True, eq=False)
class Arith(Node):
    """`first (op operand)*` with + - or * / (one precedence level per node)."""

    first: Node
    rest: list[tuple[str, Node]]


@dataclass(kw_only=True, eq=False)
class Compare(Node):
    """`left op right` with one of == != < <= > >=."""

    op: str
    left: Node
    right: Node


@dataclass(kw_only=True, eq=False)
class InList(Node):
    """`left in [items]` or `left not in [items]`."""

    left: Node
    items: list[Lit]
    negated: bool


@dataclass(kw_only=True, eq=False)
class Logic(Node):
    """`a and b and c` or `a or b or c` (flattened, so long chains do not nest)."""

    op: Literal["and", "or"]
    operands: list[Node]


@dataclass(kw_only=True, eq=False)
class Coerce(Node):
    """A pass-through text column read as a number or a date."""

    operand: Node
