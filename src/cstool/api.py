"""The library API (placeholder until the pipeline lands)."""

from __future__ import annotations

from typing import Any


def load(*args: Any, **kwargs: Any) -> Any:
    """Load a customer table."""
    raise NotImplementedError


score = segment = followups = load
