"""`cstool init`: which customer file a new workspace is for, and where its config goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cstool.config import CONFIG_NAME, DEFAULT_CUSTOMERS, Settings
from cstool.errors import UsageError
from cstool.ids import Header, read_headers

# What `init` will take as a customer table when no file is named: CSVs and workbooks
# (not .txt: a folder's README or notes are .txt far more often than a table).
TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xlsm", ".xls", ".ods")


@dataclass(frozen=True)
class InitPlan:
    """What `init` is about to write: the config's path, the table and its header."""

    target: Path
    table: Path
    customers: str  # the table as the config names it (relative to the folder if inside)
    header: Header
    sheet: str | None = None  # the workbook's sheet read (None for a CSV)
    warnings: list[str] = field(default_factory=list)  # which sheet, and why


def plan_init(
    file: Path | None,
    here: Path,
    *,
    force: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> InitPlan:
    """Find the customer table and read its header; refuse to replace a config unless forced."""
    from cstool.read import read_bytes, read_raw, workbook_kind

    target = here / CONFIG_NAME
    if target.exists() and not force:
        raise UsageError(
            f"{target}: already exists; nothing written",
            hint="add --force to replace it (your edits in it would be lost)",
        )
    table = init_customers_file(file, here)
    content = read_bytes(table)
    chosen: str | None = None
    warnings: list[str] = []
    if workbook_kind(content, table) is not None:
        raw = read_raw(table, Settings(), content=content, sheet=sheet)
        header = Header(raw.header, raw.headers, raw.delimiter, (raw.encoding,))
        chosen, warnings = raw.sheet, raw.warnings
    else:
        del content
        header = read_headers(table, Settings(), encoding=encoding, delimiter=delimiter)
    try:
        customers = table.resolve().relative_to(here.resolve()).as_posix()
    except ValueError:
        customers = table.resolve().as_posix()
    return InitPlan(target, table, customers, header, chosen, warnings)


def init_customers_file(file: Path | None, here: Path) -> Path:
    """FILE, else the `customers` of a cstool.toml already here (`init --force` redoes it),
    else ./customer_data.csv, else the one CSV or workbook in the folder."""
    if file is not None:
        if not file.is_file():
            raise UsageError(f"{file}: file not found")
        return file
    configured = _configured_customers(here)
    if configured is not None:
        return configured
    default = here / DEFAULT_CUSTOMERS
    if default.is_file():
        return default
    candidates = sorted(
        p
        for p in here.iterdir()
        if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES and not _scratch(p.name)
    )
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise UsageError(
            f"no CSV file or workbook (.xlsx, .ods, …) in {here}",
            hint="name your customer file: cstool init path/to/customers.csv",
        )
    raise UsageError(
        f"several customer files in {here}: {', '.join(p.name for p in candidates)}",
        hint=f"name the customer file: cstool init {candidates[0].name}",
    )


def _configured_customers(here: Path) -> Path | None:
    """The existing file that ./cstool.toml names as `customers`, if it names one."""
    import tomllib

    try:
        with (here / "cstool.toml").open("rb") as handle:
            named = tomllib.load(handle).get("customers")
    except (OSError, tomllib.TOMLDecodeError):
        return None  # no config, or one init is about to replace: nothing to go by
    if not isinstance(named, str) or not named.strip():
        return None
    path = Path(named).expanduser()
    path = path if path.is_absolute() else here / path
    return path if path.is_file() else None


def _scratch(name: str) -> bool:
    """Hidden files and the lock files spreadsheets keep beside an open workbook."""
    return name.startswith((".", "~$"))
