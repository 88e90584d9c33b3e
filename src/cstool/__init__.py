"""cstool: customer-success management for a company of one.

The same core the CLI uses, as plain functions on DataFrames, for notebooks::

    import cstool
    df = cstool.score(cstool.load("customer_data.csv"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cstool.api import followups, load, score, segment

__all__ = ["followups", "load", "score", "segment"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Loaded on first use, so `cstool --help` does not pay for pydantic and pandas.
    if name in __all__:
        from cstool import api

        return getattr(api, name)
    raise AttributeError(f"module 'cstool' has no attribute {name!r}")
