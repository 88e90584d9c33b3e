"""User text in every format cstool writes: one sanitiser, so control characters never pass.

Names, notes and reasons come from the user's files. In a terminal an ESC or a C1 CSI could
drive it; in Markdown, CSV and ICS (RFC 5545 forbids controls in TEXT) they are garbage at
best. Tabs and line breaks become spaces; every other C0, DEL and C1 character a visible
U+FFFD.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

_CONTROLS = {code: "\ufffd" for code in (*range(0x20), *range(0x7F, 0xA0))} | {
    0x09: " ",
    0x0A: " ",
    0x0D: " ",
}


def clean(text: object) -> str:
    """User text with its control characters replaced (ANSI escapes cannot reach the terminal)."""
    return str(text).translate(_CONTROLS)


def literal(text: object, style: str = "") -> Text:
    """User text as a rich Text: shown as it is (never read as markup), controls replaced."""
    from rich.text import Text

    return Text(clean(text), style=style)


def escaped(text: object) -> str:
    """User text for a markup string: escaped, so `[b]` or `[/x]` in a name shows as it is."""
    from rich.markup import escape

    return escape(clean(text))
