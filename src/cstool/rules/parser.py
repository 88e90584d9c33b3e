"""Tokens → syntax tree, by recursive descent over the grammar in the package docstring."""

from __future__ import annotations

import difflib
from typing import Any, Literal

from cstool.rules.lexer import EXAMPLE_ARG, FUNCTIONS, RuleError, Token, tokenize
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
    day_number,
)

MAX_DEPTH = 32  # nesting of ( ), not, unary minus and function calls
MAX_LENGTH = 5000  # characters in one rule


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
            return Lit(start=start, end=tok.end, value=day_number(tok.value), type="date")
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
            return Lit(start=tok.start, end=tok.end, value=day_number(tok.value), type="date")
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
                f"{func}() needs one argument, e.g. {func}({EXAMPLE_ARG[func]})", self.peek()
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
