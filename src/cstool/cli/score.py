"""Commands: score, validate, explain."""

from __future__ import annotations
