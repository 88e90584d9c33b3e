"""How bands look: one home for their terminal styles and HTML colours."""

from __future__ import annotations

BAND_STYLE = {"red": "bold red", "yellow": "yellow", "green": "green"}
"""rich styles of the bands in terminal tables."""

BAND_COLOURS = {"red": "#d64545", "yellow": "#d99a00", "green": "#2e9e5b"}
"""Colours of the bands in the HTML report and its charts."""
