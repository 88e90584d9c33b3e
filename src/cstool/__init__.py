"""cstool: customer-success management for a company of one.

The same core the CLI uses::

    import cstool
    book = cstool.open("customer_data.csv", as_of="2026-11-23")
    book.customers()      # = cstool score --format json
    book.followups()      # = cstool followups --format json (store included)

and conveniences over it for a frame in a notebook: load, score, segment, followups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cstool.api import followups, load, open, score, segment

__all__ = ["followups", "load", "open", "score", "segment"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Loaded on first use, so `cstool --help` does not pay for pydantic and pandas.
    if name in __all__:
        from cstool import api

        return getattr(api, name)
    raise AttributeError(f"module 'cstool' has no attribute {name!r}")
