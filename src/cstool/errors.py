"""Errors that carry an exit code, and the Problem record that names a bad cell."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit path of the CLI goes through one of these."""

    OK = 0
    DATA = 1
    USAGE = 2


@dataclass(frozen=True)
class Problem:
    """One problem in the input: where it is, what was there and what was expected."""

    line: int | None
    column: str | None
    value: str | None
    expected: str
    file: str | None = None
    sheet: str | None = None  # a workbook's sheet: `line` is then the sheet's row number

    def describe(self) -> str:
        """One line for people: `file:line: column 'X': got 'v', expected ...`.

        In a workbook: `file sheet Customers, row 7, column 'X', ...`.
        """
        where = []
        if self.file:
            where.append(self.file)
        if self.sheet is not None:
            row = f", row {self.line}" if self.line is not None else ""
            where.append(f"sheet {self.sheet}{row}")
        elif self.line is not None:
            where.append(f"line {self.line}")
        head = ":".join(where[:1]) + (f" {where[1]}" if len(where) > 1 else "")
        parts = [head] if head else []
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.value is not None:
            parts.append(f"value {_short(self.value)!r}")
        parts.append(f"expected {self.expected}")
        return ": ".join(parts[:1]) + (", " if len(parts) > 1 else "") + ", ".join(parts[1:])


def _short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


class CstoolError(Exception):
    """Base error: carries the exit code the CLI should use and optional problems/hints."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(
        self,
        message: str,
        *,
        problems: list[Problem] | None = None,
        hint: str | None = None,
        total_problems: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.total_problems = total_problems if total_problems is not None else len(self.problems)
        self.hint = hint


class DataError(CstoolError):
    """The customer data has problems (bad rows, values, unreadable file content): exit 1."""

    exit_code = ExitCode.DATA


class UsageError(CstoolError):
    """Wrong arguments, unknown customer, missing file: exit 2."""

    exit_code = ExitCode.USAGE


class ConfigError(CstoolError):
    """A bad cstool.toml or a bad rule in it: exit 2."""

    exit_code = ExitCode.USAGE
