"""A bug in cstool reaches the user as one clear line and exit 1, never a traceback."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from cstool.cli.app import command, register


def _app() -> typer.Typer:
    app = typer.Typer()

    @command("Test")
    def broken() -> None:
        """A command with a bug in it."""
        raise ZeroDivisionError("division by zero")

    @command("Test")
    def usage(count: int = typer.Option(1, min=1)) -> None:
        """A command whose options Typer checks."""
        raise typer.Exit(3)

    register(app, "broken", broken)
    register(app, "usage", usage)
    return app


def test_an_unexpected_exception_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSTOOL_DEBUG", raising=False)
    result = CliRunner().invoke(_app(), ["broken"])
    assert result.exit_code == 1
    assert "internal error: ZeroDivisionError: division by zero" in result.stderr
    assert "CSTOOL_DEBUG=1" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cstool_debug_shows_the_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSTOOL_DEBUG", "1")
    result = CliRunner().invoke(_app(), ["broken"])
    assert isinstance(result.exception, ZeroDivisionError)


def test_typer_exits_and_usage_errors_pass_through() -> None:
    assert CliRunner().invoke(_app(), ["usage"]).exit_code == 3
    bad = CliRunner().invoke(_app(), ["usage", "--count", "0"])
    assert bad.exit_code == 2 and "internal error" not in bad.output
