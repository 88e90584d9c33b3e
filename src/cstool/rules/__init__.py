"""The segment rule language: tokenize → parse → check names and types → evaluate column-wise.

Rules are small expressions such as ``band == "red" and mrr >= 500``. cstool reads them
with its own tokenizer and parser (never ``eval``, ``exec``, ``DataFrame.query`` or ``ast``),
checks every name and type before any row is touched, and evaluates them with numpy/pandas
vector operations. A comparison with a missing value is false, not an error.

Grammar (lowest precedence first)::

    rule       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum | "not"? "in" list)?
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := number | "text" | 2026-01-31 | true | false | field | `any header`
                | function "(" or_expr ")" | "(" or_expr ")"
    list       := "[" (literal ("," literal)* ","?)? "]"
"""

from __future__ import annotations

# The names the rest of cstool (and its tests) import from here.
from cstool.numeric import pct_rank
from cstool.rules.checker import KNOWN_TYPES, OUTPUT_COLUMNS, Rule, compile_rule, field_types
from cstool.rules.evaluator import Evaluator, evaluate
from cstool.rules.lexer import RuleError
from cstool.rules.nodes import (
    Arith,
    Call,
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
from cstool.rules.parser import MAX_DEPTH
from cstool.rules.trace import trace

__all__ = [
    "KNOWN_TYPES",
    "MAX_DEPTH",
    "OUTPUT_COLUMNS",
    "Arith",
    "Call",
    "Compare",
    "Evaluator",
    "FieldRef",
    "InList",
    "Lit",
    "Logic",
    "Neg",
    "Node",
    "Not",
    "Rule",
    "RuleError",
    "RuleType",
    "compile_rule",
    "evaluate",
    "field_types",
    "pct_rank",
    "trace",
]
