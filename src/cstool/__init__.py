"""cstool: customer-success management for a company of one.

The same core the CLI uses, as plain functions on DataFrames, for notebooks::

    import cstool
    df = cstool.score(cstool.load("customer_data.csv"))
"""

from __future__ import annotations

from cstool.api import followups, load, score, segment

__all__ = ["followups", "load", "score", "segment"]
__version__ = "0.1.0"
