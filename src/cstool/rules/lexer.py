"""Rule text → tokens: numbers, "text", dates, names, operators; Python's words refused."""

from __future__ import annotations

import keyword
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from cstool.errors import ConfigError

FUNCTIONS = ("days_since", "days_until", "pct_rank", "is_missing")
# An example argument for each function, for messages that show how to call it.
EXAMPLE_ARG = {
    "days_since": "signup_date",
    "days_until": "renewal_date",
    "pct_rank": "mrr",
    "is_missing": "mrr",
}


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
