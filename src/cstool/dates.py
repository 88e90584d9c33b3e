"""Dates as people type them: ISO, today, +3d, fri, eow, eom."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from cstool.errors import UsageError

ACCEPTED_FORMS = (
    "an ISO date (2026-11-22), 2026/11/22, today, tomorrow, yesterday, "
    "+3d / -1d / +2w, a weekday name (mon…sun: the next one), eow or eom"
)
_WEEKDAYS = {
    name: i
    for i, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
_OFFSET = re.compile(r"^([+-]?)(\d+)([dw])$")
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


def parse_date(text: str, today: date, *, option: str = "date") -> date:
    """Turn a command-line date into a date, relative to `today` (never the clock)."""
    raw = text.strip().lower()
    if raw == "today":
        return today
    if raw == "tomorrow":
        return today + timedelta(days=1)
    if raw == "yesterday":
        return today - timedelta(days=1)
    if raw == "eow":
        return today + timedelta(days=6 - today.weekday())
    if raw == "eom":
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if raw in _WEEKDAYS:
        ahead = (_WEEKDAYS[raw] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    m = _OFFSET.match(raw)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        n = int(m.group(2)) * (7 if m.group(3) == "w" else 1)
        try:
            return today + timedelta(days=sign * n)
        except OverflowError:
            raise UsageError(
                f"{option}: {text!r} is past the calendar's end (year 9999); "
                f"accepted forms: {ACCEPTED_FORMS}"
            ) from None
    m = _ISO.match(raw)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    raise UsageError(f"{option}: {text!r} is not a date; accepted forms: {ACCEPTED_FORMS}")


# A date in a file name: 2026-03-01, 2026_03_01, 20260301, or a month 2026-03 (its first day).
_NAME_DAY = re.compile(r"(?<!\d)(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)")
_NAME_MONTH = re.compile(r"(?<!\d)(\d{4})[-_.](\d{2})(?![-_.]?\d)")


def date_from_name(name: str) -> date | None:
    """The date a file's name gives (`customers_2026-03-01.csv`, `2026-03.xlsx`,
    `export_20260301.csv`), or None. A month means its first day; the last date in the name
    counts (`2025-12-31_to_2026-01-31.csv` is the 31st of January)."""
    stem = name.rsplit("/", 1)[-1]
    found: list[tuple[int, date]] = []
    for pattern, has_day in ((_NAME_DAY, True), (_NAME_MONTH, False)):
        for m in pattern.finditer(stem):
            try:
                day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)) if has_day else 1)
            except ValueError:
                continue
            found.append((m.start(), day))
    return max(found)[1] if found else None
