"""`cstool init`: which customer file a new workspace is for, and where its config goes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cstool.config import CONFIG_NAME, DEFAULT_CUSTOMERS, Settings
from cstool.errors import UsageError
from cstool.ids import Header, read_headers

# What `init` will take as a customer table when no file is named.
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


@dataclass(frozen=True)
class InitPlan:
    """What `init` is about to write: the config's path, the table and its header."""

    target: Path
    table: Path
    customers: str  # the table as the config names it (relative to the folder if inside)
    header: Header


def plan_init(
    file: Path | None,
    here: Path,
    *,
    force: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> InitPlan:
    """Find the customer table and read its header; refuse to replace a config unless forced."""
    target = here / CONFIG_NAME
    if target.exists() and not force:
        raise UsageError(
            f"{target}: already exists; nothing written",
            hint="add --force to replace it (your edits in it would be lost)",
        )
    table = init_customers_file(file, here)
    header = read_headers(table, Settings(), encoding=encoding, delimiter=delimiter)
    try:
        customers = table.resolve().relative_to(here.resolve()).as_posix()
    except ValueError:
        customers = table.resolve().as_posix()
    return InitPlan(target, table, customers, header)


def init_customers_file(file: Path | None, here: Path) -> Path:
    """FILE, else ./customer_data.csv, else the one CSV in the folder (several: an error)."""
    if file is not None:
        if not file.is_file():
            raise UsageError(f"{file}: file not found")
        return file
    default = here / DEFAULT_CUSTOMERS
    if default.is_file():
        return default
    candidates = sorted(
        p for p in here.iterdir() if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES
    )
    csvs = [p for p in candidates if p.suffix.lower() == ".csv"]
    if len(csvs) == 1:
        return csvs[0]
    if not csvs:
        raise UsageError(
            f"no CSV file in {here}",
            hint="name your customer file: cstool init path/to/customers.csv",
        )
    raise UsageError(
        f"several CSV files in {here}: {', '.join(p.name for p in csvs)}",
        hint="name the customer file: cstool init customers.csv",
    )
