"""Names and types: resolve every field, type every node, refuse what cannot be true/false."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd

from cstool.numeric import first_column
from cstool.rules.lexer import EXAMPLE_ARG, FUNCTIONS, RuleError
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
from cstool.rules.parser import parse
from cstool.schema import BANDS, KIND, LIFECYCLE_KIND, SCORED_KIND

# How each kind of field (schema.KIND, schema.SCORED_KIND) reads in a rule.
_TYPE_OF_KIND: dict[str, RuleType] = {
    "id": "text",
    "text": "text",
    "email": "text",
    "score": "number",
    "money": "number",
    "int": "number",
    "date": "date",
    "number": "number",
    "band": "text",
}
# The type of every column the pipeline produces (docs/FRAME.md); anything else is
# typed from its dtype, and text columns are `flex`.
CANONICAL_TYPES: dict[str, RuleType] = {
    name: _TYPE_OF_KIND[k] for name, k in {**KIND, **LIFECYCLE_KIND}.items()
}
SCORE_TYPES: dict[str, RuleType] = {name: _TYPE_OF_KIND[k] for name, k in SCORED_KIND.items()}
KNOWN_TYPES: dict[str, RuleType] = {**CANONICAL_TYPES, **SCORE_TYPES}
SCORE_COLUMNS = frozenset(SCORE_TYPES)
# Columns that segmenting writes; a rule cannot read them.
OUTPUT_COLUMNS = ("segment", "cadence_days", "play")


def field_types(columns: Iterable[str], frame: pd.DataFrame | None = None) -> dict[str, RuleType]:
    """The type a rule sees for each column: known ones by name, others by dtype (text is flex)."""
    types: dict[str, RuleType] = {}
    for name in columns:
        if not isinstance(name, str) or name in OUTPUT_COLUMNS:
            continue
        if name in KNOWN_TYPES:
            types[name] = KNOWN_TYPES[name]
        elif frame is not None:
            types[name] = _dtype_type(first_column(frame, name))
        else:
            types[name] = "flex"
    return types


def _dtype_type(col: pd.Series) -> RuleType:
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    return "flex"


def _normal(name: str) -> str:
    return re.sub(r"[\s\-./]+", "_", name.strip().casefold())


@dataclass(frozen=True)
class Rule:
    """A checked rule, ready to evaluate on any frame with the same columns."""

    text: str
    tree: Node
    columns: tuple[str, ...]


class _Checker:
    def __init__(self, text: str, types: Mapping[str, RuleType] | None) -> None:
        self.text = text
        self.types = types
        self.columns: list[str] = []
        self.normal: dict[str, list[str]] = {}
        if types is not None:
            for name in types:
                self.normal.setdefault(_normal(name), []).append(name)

    def fail(self, reason: str, node: Node, hint: str | None = None) -> RuleError:
        return RuleError(reason, self.text, node.start, node.end, hint=hint)

    def check(self, node: Node) -> Node:
        if isinstance(node, Lit):
            return node
        if isinstance(node, FieldRef):
            return self.field(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Neg):
            node.operand = self.as_number(self.check(node.operand), "'-'")
            node.type = "number"
            return node
        if isinstance(node, Not):
            node.operand = self.as_condition(self.check(node.operand), "'not'")
            node.type = "bool"
            return node
        if isinstance(node, Arith):
            word = "'" + "' / '".join(sorted({op for op, _ in node.rest})) + "'"
            node.first = self.as_number(self.check(node.first), word)
            node.rest = [(op, self.as_number(self.check(x), word)) for op, x in node.rest]
            node.type = "number"
            return node
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, InList):
            return self.in_list(node)
        if isinstance(node, Logic):
            node.operands = [
                self.as_condition(self.check(x), f"'{node.op}'") for x in node.operands
            ]
            node.type = "bool"
            return node
        raise AssertionError(f"unexpected node {node!r}")  # pragma: no cover

    def field(self, node: FieldRef) -> Node:
        column = self.resolve(node)
        node.column = column
        if column not in self.columns:
            self.columns.append(column)
        if self.types is None:
            node.type = KNOWN_TYPES.get(column, "flex")
        else:
            node.type = self.types[column]
        return node

    def resolve(self, node: FieldRef) -> str:
        name = node.name
        if self.types is None:  # lenient: names are checked again once the file is known
            return name
        if name in self.types:
            return name
        matches = self.normal.get(_normal(name), [])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise self.fail(
                f"{name!r} matches several columns ({', '.join(map(repr, matches))}); "
                "write the exact header in backticks",
                node,
            )
        if name in FUNCTIONS:
            raise self.fail(
                f"{name} is a function: write {name}({EXAMPLE_ARG[name]})",
                node,
            )
        choices = {_normal(c): c for c in self.types}
        close = difflib.get_close_matches(_normal(name), list(choices), n=3, cutoff=0.6)
        hint = None
        if name in SCORE_COLUMNS or _normal(name) in SCORE_COLUMNS:
            hint = "score the table first (cstool.score) so health, band and satisfaction exist"
        elif not close:
            hint = "fields: " + ", ".join(sorted(self.types)[:40])
        suggestion = (
            " — did you mean " + " or ".join(repr(choices[c]) for c in close) + "?" if close else ""
        )
        raise self.fail(f"unknown field {name!r}{suggestion}", node, hint=hint)

    def call(self, node: Call) -> Node:
        arg = self.check(node.arg)
        func = node.func
        if func == "is_missing":
            node.arg = arg
            node.type = "bool"
            return node
        if func in ("days_since", "days_until"):
            if arg.type == "flex":
                arg = Coerce(start=arg.start, end=arg.end, operand=arg, type="date")
            elif isinstance(arg, Lit) and arg.type == "text":
                arg = self.text_as_date(arg)
            elif arg.type != "date":
                raise self.fail(
                    f"{func}() needs a date (a field such as {EXAMPLE_ARG[func]}), "
                    f"got {_a(arg.type)}",
                    arg,
                )
            node.arg = arg
            node.type = "number"
            return node
        # pct_rank: numbers or dates
        if arg.type == "flex":
            arg = Coerce(start=arg.start, end=arg.end, operand=arg, type="number")
        elif arg.type not in ("number", "date"):
            raise self.fail(
                f"pct_rank() needs a number (e.g. pct_rank(mrr)), got {_a(arg.type)}", arg
            )
        node.arg = arg
        node.type = "number"
        return node

    def as_number(self, node: Node, where: str) -> Node:
        if node.type == "number":
            return node
        if node.type == "flex":
            return Coerce(start=node.start, end=node.end, operand=node, type="number")
        if node.type == "date":
            raise self.fail(
                f"{where} works on numbers, not dates",
                node,
                hint="days_since(field) and days_until(field) turn a date into a number of days",
            )
        raise self.fail(f"{where} works on numbers, got {_a(node.type)}", node)

    def as_condition(self, node: Node, where: str) -> Node:
        if node.type == "bool":
            return node
        raise self.fail(
            f"{where} needs a condition (true or false), got {_a(node.type)}",
            node,
            hint='a condition compares something, e.g. mrr >= 500 or band == "red"',
        )

    def text_as_date(self, lit: Lit) -> Lit:
        try:
            day = date.fromisoformat(str(lit.value))
        except ValueError:
            raise self.fail(
                f"{lit.value!r} is not a date: write dates as 2026-01-31", lit
            ) from None
        return Lit(start=lit.start, end=lit.end, value=day_number(day), type="date")

    def unify(self, left: Node, right: Node, op: str, whole: Node) -> tuple[Node, Node, RuleType]:
        """Make both sides of a comparison the same type, or explain why they cannot be."""
        lt, rt = left.type, right.type
        if lt == "flex" and rt == "flex":
            lt = rt = "text"
        if lt == "flex" and rt in ("number", "date"):
            left, lt = Coerce(start=left.start, end=left.end, operand=left, type=rt), rt
        elif rt == "flex" and lt in ("number", "date"):
            right, rt = Coerce(start=right.start, end=right.end, operand=right, type=lt), lt
        elif lt == "flex" and rt == "text":
            lt = "text"
        elif rt == "flex" and lt == "text":
            rt = "text"
        if lt == "date" and rt == "text" and isinstance(right, Lit):
            right, rt = self.text_as_date(right), "date"
        elif rt == "date" and lt == "text" and isinstance(left, Lit):
            left, lt = self.text_as_date(left), "date"
        if lt != rt:
            hint = None
            if {lt, rt} == {"date", "number"}:
                hint = "days_since(field) and days_until(field) turn a date into a number of days"
            raise self.fail(f"cannot compare {_a(lt)} with {_a(rt)}", whole, hint=hint)
        if lt in ("text", "bool") and op not in ("==", "!=", "in"):
            raise self.fail(
                f"{_a(lt)} can only be compared with ==, != or in [...], not {op!r}", whole
            )
        return left, right, lt

    def compare(self, node: Compare) -> Node:
        left, right = self.check(node.left), self.check(node.right)
        node.left, node.right, _ = self.unify(left, right, node.op, node)
        self.check_band(node.left, [node.right])
        self.check_band(node.right, [node.left])
        node.type = "bool"
        return node

    def in_list(self, node: InList) -> Node:
        left = self.check(node.left)
        items: list[Lit] = []
        for item in node.items:
            if left.type == "flex":
                left = self._flex_for(left, node.items)
            _, checked, _ = self.unify(left, item, "in", item)
            assert isinstance(checked, Lit)
            items.append(checked)
        node.left, node.items = left, items
        self.check_band(left, list(items))
        node.type = "bool"
        return node

    def _flex_for(self, left: Node, items: list[Lit]) -> Node:
        kinds = {i.type for i in items}
        if kinds == {"number"}:
            return Coerce(start=left.start, end=left.end, operand=left, type="number")
        if kinds == {"date"}:
            return Coerce(start=left.start, end=left.end, operand=left, type="date")
        left.type = "text"
        return left

    def check_band(self, node: Node, others: list[Node]) -> None:
        """`band == "Red"` would never match: band is one of red, yellow, green."""
        if not (isinstance(node, FieldRef) and node.column == "band"):
            return
        for other in others:
            if isinstance(other, Lit) and other.type == "text" and other.value not in BANDS:
                raise self.fail(
                    f'band is one of "red", "yellow" or "green", never {other.value!r}',
                    other,
                )


def _a(kind: str) -> str:
    return {
        "number": "a number",
        "date": "a date",
        "text": "text",
        "bool": "a condition",
        "flex": "text",
    }[kind]


def compile_rule(text: str, types: Mapping[str, RuleType] | None) -> Rule:
    """Parse and check a rule against the columns it may use (`types`, see field_types).

    With `types=None` only the syntax and the known fields are checked; any other name is
    taken as a pass-through column of the file (checked again once the file is read).
    """
    tree = parse(text)
    checker = _Checker(text, types)
    tree = checker.check(tree)
    if tree.type != "bool":
        raise RuleError(
            f"a rule must be a condition that is true or false for each customer, "
            f"but this is {_a(tree.type)}",
            text,
            tree.start,
            tree.end,
            hint='for example: mrr >= 500, band == "red", days_since(signup_date) <= 90',
        )
    return Rule(text=text, tree=tree, columns=tuple(checker.columns))
