"""The Typer app, the options every command shares, and the one place errors become exit codes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from cstool.errors import CstoolError, ExitCode

if TYPE_CHECKING:
    from cstool.pipeline import ReadOptions

app = typer.Typer(
    name="cstool",
    help=(
        "Customer-success management for a company of one: scores, segments, "
        "follow-ups and reports from your customer CSV."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

F = TypeVar("F", bound=Callable[..., Any])


def command(*args: Any, **kwargs: Any) -> Callable[[F], F]:
    """`app.command` that turns CstoolError into a message on stderr and its exit code."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*a: Any, **kw: Any) -> Any:
            try:
                return func(*a, **kw)
            except CstoolError as exc:
                from cstool.render import print_error

                print_error(exc)
                raise typer.Exit(int(exc.exit_code)) from None
            except BrokenPipeError:
                raise typer.Exit(int(ExitCode.OK)) from None

        app.command(*args, **kwargs)(wrapper)
        return func

    return decorate


# Options shared by every command that reads the customer table (learn them once).
FileArg = Annotated[
    Path | None,
    typer.Argument(
        help="Customer CSV (default: `customers` in cstool.toml, else ./customer_data.csv).",
        show_default=False,
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Compute as of this date (ISO, today, -7d, …). Default: today."),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="cstool.toml to use (default: nearest one upward)."),
]
DbOpt = Annotated[
    Path | None,
    typer.Option("--db", envvar="CSTOOL_DB", help="SQLite store (default: .cstool/cstool.db)."),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help="Force the file's encoding (e.g. latin-1, utf-16)."),
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option("--delimiter", help="Force the delimiter: , ; tab or |."),
]
SkipInvalidOpt = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Leave out bad rows instead of stopping."),
]
RejectsOpt = Annotated[
    Path | None,
    typer.Option("--rejects", help="With --skip-invalid: write the bad rows here, with a reason."),
]


def today() -> date:
    """The wall-clock date: read here, in the CLI only, and passed down as `as_of`."""
    return date.today()


def resolve_as_of(text: str | None) -> date:
    """`--as-of` as a date (default: today)."""
    from cstool.dates import parse_date

    return today() if text is None else parse_date(text, today(), option="--as-of")


def read_options(
    encoding: str | None, delimiter: str | None, skip_invalid: bool, rejects: Path | None
) -> ReadOptions:
    """The shared input options as the pipeline's ReadOptions."""
    from cstool.errors import UsageError
    from cstool.pipeline import ReadOptions

    if rejects is not None and not skip_invalid:
        raise UsageError("--rejects needs --skip-invalid (rejected rows are only left out then)")
    return ReadOptions(
        encoding=encoding, delimiter=delimiter, skip_invalid=skip_invalid, rejects=rejects
    )
