"""The Typer app, the inputs every reading command shares, and where errors become exit codes.

A command is a function decorated with `@command(panel)` (errors → message + exit code) and,
when it reads the customer table, `@shared_inputs(...)`: that adds the shared options
(`--as-of`, `--config`, `--db`, `--encoding`, `--delimiter`, `--sheet`, `--skip-invalid`,
`--rejects`)
to its signature, defined once here, and hands the command one `Inputs` object whose
`book()` is the preamble every command used to repeat. Commands are registered in
`cstool.cli` in the order of a working day.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from cstool.errors import CstoolError, ExitCode

if TYPE_CHECKING:
    from cstool.book import Book

F = TypeVar("F", bound=Callable[..., Any])

INPUT_PANEL = "Input options"

app = typer.Typer(
    name="cstool",
    help=(
        "Customer-success management for a company of one: scores, segments, "
        "follow-ups and reports from your customer CSV."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from cstool import __version__

        typer.echo(f"cstool {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_version,
            is_eager=True,
            help="Print cstool's version and exit.",
        ),
    ] = False,
) -> None:
    """Customer-success management for a company of one: scores, segments, follow-ups
    and reports from your customer CSV."""


def command(panel: str) -> Callable[[F], F]:
    """Mark a command's help panel and turn CstoolError into a message and its exit code."""

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
            except (typer.Exit, typer.Abort, click_exceptions()):
                raise
            except Exception as exc:  # a bug in cstool: say so in one line, not a traceback
                import os

                if os.environ.get("CSTOOL_DEBUG"):
                    raise
                from cstool.render import print_error

                print_error(
                    CstoolError(
                        f"internal error: {type(exc).__name__}: {exc}",
                        hint="this is a bug in cstool, not in your files; run again with "
                        "CSTOOL_DEBUG=1 for the traceback and report it",
                    )
                )
                raise typer.Exit(int(ExitCode.DATA)) from None

        wrapper.rich_help_panel = panel  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def click_exceptions() -> type[Exception]:
    """Typer's (and its Click's) own exceptions: usage errors that Typer turns into exit 2."""
    base: type[Exception] = typer.exceptions.TyperException
    return base


def register(target: typer.Typer, name: str, func: Callable[..., Any]) -> None:
    """Add a command to the app under its help panel."""
    target.command(name, rich_help_panel=getattr(func, "rich_help_panel", None))(func)


# ---------------------------------------------------------------------- shared inputs
def _dash_is_stdin(path: Path | None) -> Path | None:
    """`-` names standard input, as for csvkit and most Unix tools (`./-` is a file)."""
    if path is not None and str(path) == "-":
        return STDIN
    return path


STDIN = Path("/dev/stdin")

FileArg = Annotated[
    Path | None,
    typer.Argument(
        help="Customer CSV or workbook (default: `customers` in cstool.toml, else "
        "./customer_data.csv); `-` reads standard input.",
        show_default=False,
        callback=_dash_is_stdin,
    ),
]
IdArg = Annotated[str, typer.Argument(help="The customer's ID.", show_default=False)]

_SHARED: dict[str, tuple[Any, Any]] = {
    "as_of": (
        Annotated[
            str | None,
            typer.Option(
                "--as-of",
                help="Compute as of this date (ISO, today, -7d, …). Default: today.",
                rich_help_panel=INPUT_PANEL,
            ),
        ],
        None,
    ),
    "config": (
        Annotated[
            Path | None,
            typer.Option(
                "--config",
                help="cstool.toml to use (default: nearest one upward).",
                rich_help_panel=INPUT_PANEL,
            ),
        ],
        None,
    ),
    "db": (
        Annotated[
            Path | None,
            typer.Option(
                "--db",
                envvar="CSTOOL_DB",
                help="SQLite store (default: .cstool/cstool.db).",
                rich_help_panel=INPUT_PANEL,
            ),
        ],
        None,
    ),
    "encoding": (
        Annotated[
            str | None,
            typer.Option(
                "--encoding",
                help="Force the file's encoding (e.g. cp1252, utf-16).",
                rich_help_panel=INPUT_PANEL,
            ),
        ],
        None,
    ),
    "delimiter": (
        Annotated[
            str | None,
            typer.Option(
                "--delimiter",
                help="Force the delimiter: , ; tab or |.",
                rich_help_panel=INPUT_PANEL,
            ),
        ],
        None,
    ),
    "sheet": (
        Annotated[
            str | None,
            typer.Option(
                "--sheet",
                metavar="NAME|N",
                help="A workbook's sheet: its name, or its position from 0. Default: "
                "\\[input] sheet, else the first sheet with a customer ID column.",
                rich_help_panel=INPUT_PANEL,
                show_default=False,
            ),
        ],
        None,
    ),
    "skip_invalid": (
        Annotated[
            bool,
            typer.Option(
                "--skip-invalid",
                help="Leave out bad rows instead of stopping.",
                rich_help_panel=INPUT_PANEL,
            ),
        ],
        False,
    ),
    "rejects": (
        Annotated[
            Path | None,
            typer.Option(
                "--rejects",
                help="With --skip-invalid: write the bad rows here, with a reason.",
                rich_help_panel=INPUT_PANEL,
            ),
        ],
        None,
    ),
}

# Which shared options each kind of command takes.
READING = ("as_of", "config", "db", "encoding", "delimiter", "sheet", "skip_invalid", "rejects")
"""Commands over the whole table: score, segment, followups, snapshot, report, goals, export."""
LOOKUP = ("as_of", "config", "db", "encoding", "delimiter", "sheet")
"""Commands about one customer (explain, log, snooze, history): bad rows elsewhere never
stop them, so --skip-invalid does not apply."""
CHECKING = ("as_of", "config", "encoding", "delimiter", "sheet")
"""`validate`: reports every problem, so it skips nothing, and needs no store."""


@dataclass(frozen=True)
class Inputs:
    """The shared options of one command line, and the preamble that opens the book."""

    file: Path | None = None
    as_of: str | None = None
    config: Path | None = None
    db: Path | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    skip_invalid: bool = False
    rejects: Path | None = None

    def book(
        self, *, skip_invalid: bool | None = None, on_step: Callable[[str], None] | None = None
    ) -> Book:
        """Open the customer book these options name (as of the day they say)."""
        from cstool.book import open_book
        from cstool.errors import UsageError
        from cstool.pipeline import ReadOptions

        skip = self.skip_invalid if skip_invalid is None else skip_invalid
        if self.rejects is not None and not skip:
            raise UsageError(
                "--rejects needs --skip-invalid (rejected rows are only left out then)"
            )
        options = ReadOptions(
            encoding=self.encoding,
            delimiter=self.delimiter,
            sheet=self.sheet,
            skip_invalid=skip,
            rejects=self.rejects,
        )
        book = open_book(
            self.file,
            config=self.config,
            db=self.db,
            as_of=self.as_of,
            today=today(),
            options=options,
            on_step=on_step,
        )
        if book.settings.sources:
            from cstool.cli.memory import reuse_freed_columns

            # Merging sources makes dozens of 1M-5M-row columns in turn: kept on the heap,
            # they are not page-faulted in anew each time (`cli/memory.py`).
            reuse_freed_columns()
        return book


def shared_inputs(names: tuple[str, ...] = READING) -> Callable[[F], F]:
    """Add the shared options `names` to a command; it receives them as `inputs: Inputs`.

    The command declares `file: FileArg = None` itself (so arguments keep their order) and a
    keyword `inputs` parameter; the options are appended to its signature for Typer.
    """

    def decorate(func: F) -> F:
        signature = inspect.signature(func)
        hints = typing.get_type_hints(func, include_extras=True)
        own = [
            p.replace(annotation=hints.get(p.name, p.annotation))
            for p in signature.parameters.values()
            if p.name != "inputs"
        ]
        added = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=_SHARED[name][1],
                annotation=_SHARED[name][0],
            )
            for name in names
        ]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            shared = {name: kwargs.pop(name) for name in names if name in kwargs}
            if "file" in kwargs:
                shared["file"] = kwargs["file"]
            return func(*args, inputs=Inputs(**shared), **kwargs)

        params = own + added
        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper  # type: ignore[return-value]

    return decorate


def today() -> date:
    """The wall-clock date: read here, at the top, and passed down as `as_of`."""
    return date.today()


def as_of_date(text: str | None) -> date:
    """`--as-of` as a date (default: today), for commands that open no book."""
    from cstool.dates import parse_date

    return today() if text is None else parse_date(text, today(), option="--as-of")
