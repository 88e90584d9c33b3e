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

import difflib
import keyword
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cstool.errors import ConfigError

RuleType = Literal["number", "date", "text", "bool", "flex"]
"""`flex` is a pass-through text column: read as a number or a date where the rule needs one."""

FUNCTIONS = ("days_since", "days_until", "pct_rank", "is_missing")
MAX_DEPTH = 32  # nesting of ( ), not, unary minus and function calls
MAX_LENGTH = 5000  # characters in one rule
BANDS = ("red", "yellow", "green")

_EPOCH = date(1970, 1, 1)
Array = NDArray[Any]

# The type of every column the pipeline produces (docs/FRAME.md); anything else is
# typed from its dtype, and text columns are `flex`.
CANONICAL_TYPES: dict[str, RuleType] = {
    "customer_id": "text",
    "name": "text",
    "email": "text",
    "plan": "text",
    "stage": "text",
    "tags": "text",
    "notes": "text",
    "value_delivery": "number",
    "issue_resolution": "number",
    "growth_strategy": "number",
    "mrr": "number",
    "signup_date": "date",
    "last_contact": "date",
    "renewal_date": "date",
    "nps": "number",
    "open_tickets": "number",
}
SCORE_TYPES: dict[str, RuleType] = {
    "satisfaction": "number",
    "satisfaction_from_value_delivery": "number",
    "satisfaction_from_issue_resolution": "number",
    "satisfaction_from_growth_strategy": "number",
    "last_touch": "date",
    "days_since_touch": "number",
    "recency_score": "number",
    "nps_score": "number",
    "support_score": "number",
    "health_from_satisfaction": "number",
    "health_from_recency": "number",
    "health_from_nps": "number",
    "health_from_support": "number",
    "health": "number",
    "health_coverage": "number",
    "band": "text",
}
KNOWN_TYPES: dict[str, RuleType] = {**CANONICAL_TYPES, **SCORE_TYPES}
SCORE_COLUMNS = frozenset(SCORE_TYPES)
# Columns that segmenting writes; a rule cannot read them.
OUTPUT_COLUMNS = ("segment", "cadence_days", "play")


class RuleError(ConfigError):
    """A rule that cannot be read or checked; shows the rule with a caret under the bad spot."""

    def __init__(
        self,
        reason: str,
        text: str,
        start: int,
        end: int | None = None,
        *,
        context: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.reason = reason
        self.text = text
        self.start = start
        self.end = max(end if end is not None else start + 1, start + 1)
        self.context = context
        super().__init__(self._compose(), hint=hint)

    def _compose(self) -> str:
        head = f"{self.context}: {self.reason}" if self.context else self.reason
        return head + "\n" + "\n".join(caret_lines(self.text, self.start, self.end))

    def within(self, context: str) -> RuleError:
        """The same error, its message prefixed with where the rule is (e.g. the segment)."""
        return RuleError(
            self.reason, self.text, self.start, self.end, context=context, hint=self.hint
        )


def caret_lines(text: str, start: int, end: int, indent: str = "    ") -> list[str]:
    """The line of `text` holding `start`, and a line of carets under `start:end`."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end == -1:
        line_end = len(text)
    end = min(max(end, start + 1), line_end + 1)
    # a window of the line around the error, so a huge rule shows as one readable line
    left = max(line_start, start - 40)
    right = min(line_end, max(end, start + 1) + 40, left + 100)
    before = "…" if left > line_start else ""
    after = "…" if right < line_end else ""
    shown = before + text[left:right].replace("\t", " ") + after
    pad = _width(before + text[left:start].replace("\t", " "))
    marked = text[start : min(end, right)].replace("\t", " ")
    marks = max(1, _width(marked) if start < line_end else 1)
    return [indent + shown, indent + " " * pad + "^" * marks]


def _width(text: str) -> int:
    """Terminal columns of `text` (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# ---------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    """One token; `start:end` is its place in the rule text."""

    kind: Literal["number", "string", "date", "name", "op", "keyword", "end"]
    text: str
    start: int
    end: int
    value: Any = None
    quoted: bool = False


_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = frozenset("0123456789")
_NAME = re.compile(r"[^\W\d]\w*")
_WORDCHAR = re.compile(r"[\w.]")
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})
_OPS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",")
# Things people type from other languages, and what to write instead.
_MISTAKES = (
    ("<>", "use '!=' for 'not equal'"),
    ("=>", "use '>=' for 'at least'"),
    ("=<", "use '<=' for 'at most'"),
    ("&&", "use 'and'"),
    ("||", "use 'or'"),
    ("**", "only + - * / are supported"),
    ("//", "only + - * / are supported"),
    ("=", "use '==' to compare"),
    ("&", "use 'and'"),
    ("|", "use 'or'"),
    ("!", "use 'not'"),
    ("%", "only + - * / are supported (percent ranks are 0–1: pct_rank(mrr) >= 0.5)"),
    (".", "attribute access ('.') is not part of the rule language"),
    (":", "':' is not part of the rule language"),
    (";", "';' is not part of the rule language; combine conditions with 'and' / 'or'"),
    ("{", "'{' is not part of the rule language; lists are written [1, 2]"),
    ("}", "'}' is not part of the rule language"),
)
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}


def tokenize(text: str) -> list[Token]:
    """Split a rule into tokens; raises RuleError at the first character that does not fit."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            tokens.append(_number_or_date(text, i))
            i = tokens[-1].end
            continue
        if ch in "\"'":
            tokens.append(_string(text, i))
            i = tokens[-1].end
            continue
        if ch == "`":
            close = text.find("`", i + 1)
            if close == -1 or "\n" in text[i:close]:
                raise RuleError("unterminated `name`: add the closing `", text, i)
            if close == i + 1:
                raise RuleError("empty `name`", text, i, i + 2)
            tokens.append(Token("name", text[i + 1 : close], i, close + 1, quoted=True))
            i = close + 1
            continue
        m = _NAME.match(text, i)
        if m:
            word = m.group()
            _refuse_python(word, text, i, m.end())
            kind: Literal["name", "keyword"] = "keyword" if word.lower() in _KEYWORDS else "name"
            tokens.append(Token(kind, word.lower() if kind == "keyword" else word, i, m.end()))
            i = m.end()
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        mistake = next(((s, why) for s, why in _MISTAKES if text.startswith(s, i)), None)
        if mistake and (op is None or len(mistake[0]) > len(op)):
            raise RuleError(
                f"unexpected {mistake[0]!r}: {mistake[1]}", text, i, i + len(mistake[0])
            )
        if op is None:
            raise RuleError(f"unexpected character {ch!r}", text, i)
        tokens.append(Token("op", op, i, i + len(op)))
        i += len(op)
    tokens.append(Token("end", "", n, n))
    return tokens


def _refuse_python(word: str, text: str, start: int, end: int) -> None:
    """Python's own words and dunder names have no meaning here; say so where they appear."""
    if word.startswith("__") or word.endswith("__"):
        raise RuleError(
            f"{word!r} is not allowed: rules are not Python and reach nothing outside the table",
            text,
            start,
            end,
        )
    if word in ("None", "null", "NULL", "nan", "NaN", "NA"):
        raise RuleError(
            f"{word!r} is not a value here: test for a missing value with is_missing(field)",
            text,
            start,
            end,
        )
    if word == "is":
        raise RuleError(
            "'is' is not part of the rule language: use '==' or is_missing(field)", text, start, end
        )
    if keyword.iskeyword(word) and word.lower() not in _KEYWORDS:
        raise RuleError(
            f"{word!r} is not part of the rule language",
            text,
            start,
            end,
            hint="rules use and, or, not, in, comparisons, + - * / and "
            + ", ".join(f"{f}()" for f in FUNCTIONS)
            + "; a column with this name can be written in backticks: `"
            + word
            + "`",
        )


def _number_or_date(text: str, i: int) -> Token:
    m = _DATE.match(text, i)
    if m:
        end = m.end()
        if end < len(text) and _WORDCHAR.match(text, end):
            raise RuleError("malformed date: expected YYYY-MM-DD", text, i, end + 1)
        try:
            day = date.fromisoformat(m.group())
        except ValueError:
            raise RuleError(
                f"{m.group()} is not a valid date (expected YYYY-MM-DD)", text, i, end
            ) from None
        return Token("date", m.group(), i, end, value=day)
    m = _NUMBER.match(text, i)
    assert m is not None  # a digit, or a dot before a digit, always starts a number
    end = m.end()
    if end < len(text) and (text[end].isalpha() or text[end] in "_."):
        stop = end
        while stop < len(text) and (text[stop].isalnum() or text[stop] in "_."):
            stop += 1
        raise RuleError(f"{text[i:stop]!r} is not a number", text, i, stop)
    return Token("number", m.group(), i, end, value=float(m.group()))


def _string(text: str, i: int) -> Token:
    quote = text[i]
    out: list[str] = []
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == quote:
            return Token("string", text[i : j + 1], i, j + 1, value="".join(out))
        if ch == "\n":
            break
        if ch == "\\" and j + 1 < len(text):
            nxt = text[j + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            j += 2
            continue
        out.append(ch)
        j += 1
    raise RuleError(f"unterminated text: add the closing {quote}", text, i)


# ---------------------------------------------------------------------------- syntax tree


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


_VALUE_START = "a value (a field, a number, \"text\", a date, true/false, a function or '(')"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0

    # helpers
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "end":
            self.pos += 1
        return tok

    def is_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.text in ops

    def is_keyword(self, word: str) -> bool:
        tok = self.peek()
        return tok.kind == "keyword" and tok.text == word

    def fail(self, reason: str, tok: Token, hint: str | None = None) -> RuleError:
        return RuleError(reason, self.text, tok.start, tok.end, hint=hint)

    def deeper(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"the rule nests too deeply (more than {MAX_DEPTH} levels)", tok)

    # grammar
    def rule(self) -> Node:
        if self.peek().kind == "end":
            raise self.fail(
                "the rule is empty: expected a condition such as mrr >= 500", self.peek()
            )
        node = self.or_expr()
        tok = self.peek()
        if tok.kind != "end":
            if tok.kind == "op" and tok.text == ")":
                raise self.fail("unexpected ')': no '(' is open here", tok)
            if tok.kind == "op" and tok.text == ",":
                raise self.fail(
                    "unexpected ','",
                    tok,
                    hint="write numbers without separators (1000, not 1,000); "
                    'lists go in brackets: plan in ["pro", "team"]',
                )
            raise self.fail(
                f"unexpected {_describe(tok)}: expected an operator "
                "(and, or, ==, <, +, …) or the end of the rule",
                tok,
            )
        return node

    def or_expr(self) -> Node:
        return self._logic("or", self.and_expr)

    def and_expr(self) -> Node:
        return self._logic("and", self.not_expr)

    def _logic(self, word: Literal["and", "or"], operand: Any) -> Node:
        first: Node = operand()
        operands = [first]
        while self.is_keyword(word):
            self.take()
            operands.append(operand())
        if len(operands) == 1:
            return first
        return Logic(start=first.start, end=operands[-1].end, op=word, operands=operands)

    def not_expr(self) -> Node:
        nots: list[Token] = []
        while self.is_keyword("not"):
            tok = self.take()
            self.deeper(tok)
            nots.append(tok)
        node = self.comparison()
        for tok in reversed(nots):
            node = Not(start=tok.start, end=node.end, operand=node)
        self.depth -= len(nots)
        return node

    def comparison(self) -> Node:
        left = self.sum()
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.sum()
            node: Node = Compare(
                start=left.start, end=right.end, op=tok.text, left=left, right=right
            )
        elif self.is_keyword("in") or (
            self.is_keyword("not") and self.tokens[self.pos + 1].text == "in"
        ):
            negated = self.take().text == "not"
            if negated:
                self.take()
            items, end = self.literal_list()
            node = InList(start=left.start, end=end, left=left, items=items, negated=negated)
        else:
            return left
        nxt = self.peek()
        if nxt.kind == "op" and nxt.text in ("==", "!=", "<", "<=", ">", ">="):
            raise self.fail("comparisons cannot be chained: write 'a < b and b < c'", nxt)
        return node

    def literal_list(self) -> tuple[list[Lit], int]:
        tok = self.peek()
        if not self.is_op("["):
            raise self.fail(
                f'unexpected {_describe(tok)}: expected a list after \'in\', e.g. ["pro", "team"]',
                tok,
            )
        self.take()
        items: list[Lit] = []
        while not self.is_op("]"):
            items.append(self.list_item())
            if self.is_op(","):
                self.take()
            elif not self.is_op("]"):
                bad = self.peek()
                raise self.fail(f"unexpected {_describe(bad)}: expected ',' or ']'", bad)
        return items, self.take().end

    def list_item(self) -> Lit:
        tok = self.take()
        sign = 1.0
        start = tok.start
        if tok.kind == "op" and tok.text in ("-", "+"):
            sign = -1.0 if tok.text == "-" else 1.0
            tok = self.take()
            if tok.kind != "number":
                raise self.fail(
                    f"unexpected {_describe(tok)}: expected a number after the sign", tok
                )
        if tok.kind == "number":
            return Lit(start=start, end=tok.end, value=sign * tok.value, type="number")
        if tok.kind == "string":
            return Lit(start=start, end=tok.end, value=tok.value, type="text")
        if tok.kind == "date":
            return Lit(start=start, end=tok.end, value=_day_number(tok.value), type="date")
        if tok.kind == "keyword" and tok.text in ("true", "false"):
            return Lit(start=start, end=tok.end, value=tok.text == "true", type="bool")
        raise self.fail(
            f'unexpected {_describe(tok)}: list items are numbers, "text", dates or true/false',
            tok,
        )

    def sum(self) -> Node:
        return self._arith(("+", "-"), self.product)

    def product(self) -> Node:
        return self._arith(("*", "/"), self.unary)

    def _arith(self, ops: tuple[str, ...], operand: Any) -> Node:
        first: Node = operand()
        rest: list[tuple[str, Node]] = []
        while self.is_op(*ops):
            op = self.take().text
            rest.append((op, operand()))
        if not rest:
            return first
        return Arith(start=first.start, end=rest[-1][1].end, first=first, rest=rest)

    def unary(self) -> Node:
        signs: list[Token] = []
        while self.is_op("-", "+"):
            tok = self.take()
            self.deeper(tok)
            signs.append(tok)
        node = self.primary()
        for tok in reversed(signs):
            if tok.text == "-":
                node = Neg(start=tok.start, end=node.end, operand=node)
        self.depth -= len(signs)
        return node

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "number":
            return Lit(start=tok.start, end=tok.end, value=tok.value, type="number")
        if tok.kind == "string":
            return Lit(start=tok.start, end=tok.end, value=tok.value, type="text")
        if tok.kind == "date":
            return Lit(start=tok.start, end=tok.end, value=_day_number(tok.value), type="date")
        if tok.kind == "keyword" and tok.text in ("true", "false"):
            return Lit(start=tok.start, end=tok.end, value=tok.text == "true", type="bool")
        if tok.kind == "op" and tok.text == "(":
            self.deeper(tok)
            inner = self.or_expr()
            if not self.is_op(")"):
                bad = self.peek()
                raise self.fail(f"unexpected {_describe(bad)}: expected ')' to close the '('", bad)
            close = self.take()
            self.depth -= 1
            inner.start, inner.end = tok.start, close.end
            return inner
        if tok.kind == "name":
            if tok.quoted:
                return FieldRef(start=tok.start, end=tok.end, name=tok.text, quoted=True)
            if self.is_op("("):
                return self.call(tok)
            return FieldRef(start=tok.start, end=tok.end, name=tok.text)
        if tok.kind == "op" and tok.text == "[":
            raise self.fail('a list can only follow \'in\', as in plan in ["pro", "team"]', tok)
        if tok.kind == "end":
            raise self.fail(f"the rule ends too early: expected {_VALUE_START}", tok)
        raise self.fail(f"unexpected {_describe(tok)}: expected {_VALUE_START}", tok)

    def call(self, name: Token) -> Node:
        func = name.text
        if func not in FUNCTIONS:
            similar = difflib.get_close_matches(func.lower(), FUNCTIONS, n=1)
            hint = f" — did you mean {similar[0]}?" if similar else ""
            raise self.fail(
                f"unknown function {func!r}{hint}",
                name,
                hint="functions: " + ", ".join(f"{f}(field)" for f in FUNCTIONS),
            )
        open_ = self.take()
        self.deeper(open_)
        if self.is_op(")"):
            raise self.fail(
                f"{func}() needs one argument, e.g. {func}({_EXAMPLE_ARG[func]})", self.peek()
            )
        arg = self.or_expr()
        if self.is_op(","):
            raise self.fail(f"{func}() takes one argument", self.peek())
        if not self.is_op(")"):
            bad = self.peek()
            raise self.fail(f"unexpected {_describe(bad)}: expected ')' to close {func}(", bad)
        close = self.take()
        self.depth -= 1
        return Call(start=name.start, end=close.end, func=func, arg=arg)


_EXAMPLE_ARG = {
    "days_since": "signup_date",
    "days_until": "renewal_date",
    "pct_rank": "mrr",
    "is_missing": "mrr",
}


def _describe(tok: Token) -> str:
    if tok.kind == "end":
        return "end of the rule"
    if tok.kind == "name":
        return f"name {tok.text!r}"
    if tok.kind == "keyword":
        return f"{tok.text!r}"
    return (
        f"{tok.kind} {tok.text!r}" if tok.kind in ("number", "string", "date") else repr(tok.text)
    )


def _day_number(day: date) -> float:
    return float((day - _EPOCH).days)


def parse(text: str) -> Node:
    """The syntax tree of a rule (names not yet resolved); raises RuleError."""
    too_long = (
        RuleError(
            f"the rule is too long ({len(text)} characters; at most {MAX_LENGTH})",
            text,
            MAX_LENGTH,
            len(text),
        )
        if len(text) > MAX_LENGTH
        else None
    )
    if too_long and len(text) > 20 * MAX_LENGTH:
        raise too_long  # not even worth reading
    tree = _Parser(text).rule()  # a syntax error (deep nesting…) says more than the length
    if too_long:
        raise too_long
    return tree


# ---------------------------------------------------------------------------- names and types


def field_types(columns: Iterable[str], frame: pd.DataFrame | None = None) -> dict[str, RuleType]:
    """The type a rule sees for each column: known ones by name, others by dtype (text is flex)."""
    types: dict[str, RuleType] = {}
    for name in columns:
        if not isinstance(name, str) or name in OUTPUT_COLUMNS:
            continue
        if name in KNOWN_TYPES:
            types[name] = KNOWN_TYPES[name]
        elif frame is not None:
            types[name] = _dtype_type(_column(frame, name))
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
                f"{name} is a function: write {name}({_EXAMPLE_ARG[name]})",
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
                    f"{func}() needs a date (a field such as {_EXAMPLE_ARG[func]}), "
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
        return Lit(start=lit.start, end=lit.end, value=_day_number(day), type="date")

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


# ---------------------------------------------------------------------------- evaluation


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    col = frame[name]
    if isinstance(col, pd.DataFrame):  # duplicated header: the first one counts
        col = col.iloc[:, 0]
    return col


def _as_float(col: pd.Series) -> Array:
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype="float64", na_value=np.nan)
    if pd.api.types.is_numeric_dtype(col.dtype):
        return np.asarray(col.to_numpy(dtype="float64", na_value=np.nan), dtype="float64")
    numbers = pd.to_numeric(col.astype("string").str.strip(), errors="coerce")
    return np.asarray(pd.Series(numbers).to_numpy(dtype="float64", na_value=np.nan))


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


def pct_rank(values: Array) -> Array:
    """Percentile rank 0–1: share of (non-missing) values below, ties counting half.

    The middle customer is 0.5, so `pct_rank(mrr) >= 0.5` is the upper half; NaN stays NaN.
    """
    out = np.full(values.shape, np.nan)
    valid = ~np.isnan(values)
    present = values[valid]
    m = present.size
    if m:
        order = np.argsort(present)
        ordered = present[order]
        # runs of equal values: each member sits halfway between the run's start and end
        first_of_run = np.empty(m, dtype=bool)
        first_of_run[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first_of_run[1:])
        starts = np.flatnonzero(first_of_run)
        ends = np.append(starts[1:], m)
        run = np.cumsum(first_of_run) - 1
        ranks = np.empty(m)
        ranks[order] = (starts[run] + ends[run]) / (2.0 * m)
        out[valid] = ranks
    return out


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
        self.today = _day_number(as_of)
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
            col = _column(self.frame, name)
            if kind == "number":
                self.cache[key] = _as_float(col)
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


# ---------------------------------------------------------------------------- explaining


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
        return date.fromordinal(_EPOCH.toordinal() + int(number))
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
