"""The one home of band styles and colours (rich styles for the terminal, hexes for HTML),
and of how terminal tables share a narrow width."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table as RichTable

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


def fit_text_columns(table: RichTable, width: int, shrink: Sequence[int]) -> None:
    """Narrow the `shrink` columns (ID, name) so every other column keeps its full width.

    Called once the rows are added. Rich would otherwise squeeze every column alike on a
    narrow terminal, scores included ("Sa…"); the text columns are cut with an ellipsis
    instead, each kept at least 6 wide.
    """
    from rich.cells import cell_len

    def widths(i: int) -> list[int]:
        return [
            cell_len(c.plain) if hasattr(c, "plain") else cell_len(str(c))
            for c in table.columns[i].cells
        ]

    needed = 0
    for i, column in enumerate(table.columns):
        if i in shrink:
            continue
        widest = max([cell_len(str(column.header)), *widths(i)])
        if column.ratio:  # a wrapping column (the reasons): its minimum is enough
            widest = column.min_width or 10
        # a space of padding each side, and one for the rule between columns
        needed += max(widest, column.min_width or 0) + 3
    room = width - needed - 3 * len(shrink)
    wanted = [min(table.columns[i].max_width or 10**6, max(widths(i), default=0)) for i in shrink]
    total = sum(wanted)
    if total <= room or total == 0:
        return
    for i, want in zip(shrink, wanted, strict=True):
        table.columns[i].max_width = max(6, room * want // total)
