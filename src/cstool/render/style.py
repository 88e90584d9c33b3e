"""The one home of band styles and colours: rich styles for the terminal, hexes for HTML."""

from __future__ import annotations

# Terminal (rich styles) per health band; a missing band has no style.
BAND_STYLE: dict[str, str] = {"red": "bold red", "yellow": "yellow", "green": "green"}
# HTML and charts (hex colours) per health band.
BAND_COLOURS: dict[str, str] = {"red": "#d64545", "yellow": "#d99a00", "green": "#2e9e5b"}
# Revenue movements in charts and the cohort heat map: gains green/blue, losses red/orange.
MOVEMENT_COLOURS: dict[str, str] = {
    "new": "#2e9e5b",
    "expansion": "#7cc49a",
    "reactivation": "#3b6fd6",
    "contraction": "#e8a33d",
    "churned": "#d64545",
    "net": "#1d2330",
}
