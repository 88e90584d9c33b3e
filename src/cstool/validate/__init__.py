"""Raw table → typed frame + every problem, column-wise: cells, the table checks, rejects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cstool.schema import DATE_FIELDS, FIELDS, Customer
from cstool.validate.arrow import MISSING_TOKENS, missing_cells
from cstool.validate.cells import (
    COUNT_MAX,
    MONEY_MAX,
    first_email,
    parse_numbers,
    text_dtype,
)
from cstool.validate.dates import parse_dates, read_dates
from cstool.validate.table import COMPUTED, Table, _duplicates, validate_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COMPUTED",
    "COUNT_MAX",
    "MISSING_TOKENS",
    "MONEY_MAX",
    "Table",
    "_duplicates",
    "customers",
    "first_email",
    "missing_cells",
    "parse_dates",
    "parse_numbers",
    "read_dates",
    "text_dtype",
    "validate_table",
]


def customers(frame: pd.DataFrame) -> list[Customer]:
    """Validated `Customer` records for library users (small tables: one pydantic call per row)."""
    import pandas as pd

    fields = [f for f in FIELDS if f in frame.columns]
    out = frame[fields].astype(object).where(frame[fields].notna(), None)
    for name in DATE_FIELDS:
        out[name] = [v.date() if isinstance(v, pd.Timestamp) else v for v in out[name]]
    return [Customer.model_validate(dict(zip(fields, row, strict=True))) for row in out.to_numpy()]
