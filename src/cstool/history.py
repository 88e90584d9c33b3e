"""A customer's history: the file's dates, logged touches, snoozes and score changes.

A customer that is only in snapshots (gone from the current file: churned) still has a
timeline: its snapshots give its score changes, signup and churn dates, and its last
known name (`last_known_name`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from cstool.store import Snooze, Touch


@dataclass(frozen=True)
class TimelineEvent:
    """One entry of a customer's history."""

    day: date
    kind: str
    detail: str
    source: str  # "csv", "store" or "snapshot"


def timeline(
    customer: Mapping[str, Any] | None,
    touches: Sequence[Touch],
    snoozes: Sequence[Snooze],
    snapshots: pd.DataFrame | None = None,
    *,
    limit: int | None = None,
    origins: Mapping[str, str] | None = None,
) -> list[TimelineEvent]:
    """A customer's whole timeline, newest first: the CSV's dates, logged touches,
    snoozes, and score changes between snapshots. `limit` keeps the newest N.

    `origins` (field -> `file line N`, with [[sources]]) says which file a date came from.
    With no `customer` (not in the file), the snapshots' signup and churn dates stand in."""
    import pandas as pd

    events: list[tuple[date, int, int, TimelineEvent]] = []

    def add(day: date, rank: int, seq: int, kind: str, detail: str, source: str) -> None:
        events.append((day, rank, seq, TimelineEvent(day, kind, detail, source)))

    if customer is not None:
        for field, kind in (
            ("signup_date", "signed up"),
            ("last_contact", "last contact"),
            ("renewal_date", "renewal date"),
        ):
            value = customer.get(field)
            if value is not None and not pd.isna(value):
                where = (origins or {}).get(field)
                detail = f"from {where}" if where else "from the customer file"
                add(pd.Timestamp(value).date(), 0, 0, kind, detail, "csv")
    for touch in touches:
        detail = touch.note
        if touch.next_due:
            detail += ("; " if detail else "") + f"next follow-up {touch.next_due.isoformat()}"
        add(touch.touched_on, 1, touch.id, f"{touch.channel}", detail, "store")
    for snooze in snoozes:
        detail = f"until {snooze.until.isoformat()}" + (f"; {snooze.note}" if snooze.note else "")
        add(snooze.set_on, 2, snooze.id, "snoozed", detail, "store")
    if snapshots is not None and not snapshots.empty:
        for seq, (day, text) in enumerate(_score_changes(snapshots)):
            add(day, 3, seq, "scores", text, "snapshot")
        if customer is None:
            for field, kind in (("signup_date", "signed up"), ("churn_date", "churned")):
                value = _newest(snapshots, field)
                if value is not None:
                    add(pd.Timestamp(value).date(), 0, 0, kind, "from the snapshots", "snapshot")
    events.sort(key=lambda e: (e[0], e[1], e[2]), reverse=True)
    kept = events if limit is None else events[: max(limit, 0)]
    return [e[3] for e in kept]


def last_known_name(snapshots: pd.DataFrame | None) -> str | None:
    """The name in the newest snapshot that has one (None: no snapshot names it)."""
    value = _newest(snapshots, "name") if snapshots is not None else None
    return None if value is None else str(value)


def _newest(snapshots: pd.DataFrame, field: str) -> Any:
    """The value of `field` in the newest snapshot that has one (None: none has)."""
    if snapshots.empty or field not in snapshots.columns:
        return None
    known = snapshots.loc[snapshots[field].notna(), ["as_of", field]]
    if known.empty:
        return None
    return known.sort_values("as_of", kind="stable")[field].iloc[-1]


def _score_changes(snapshots: pd.DataFrame) -> list[tuple[date, str]]:
    """The first snapshot, then each one where health moved a point or band/segment changed."""
    import pandas as pd

    out: list[tuple[date, str]] = []
    previous: dict[str, Any] | None = None
    for row in snapshots.sort_values("as_of").to_dict("records"):
        day = pd.Timestamp(row["as_of"]).date()
        health = row.get("health")
        shown = {
            "health": None if health is None or pd.isna(health) else round(float(health)),
            "band": None if pd.isna(row.get("band")) else str(row.get("band")),
            "segment": None if pd.isna(row.get("segment")) else str(row.get("segment")),
            "status": None if pd.isna(row.get("status")) else str(row.get("status")),
        }
        if previous is None:
            parts = [f"{k} {v}" for k, v in shown.items() if v is not None]
            out.append((day, "first snapshot: " + (", ".join(parts) or "no scores")))
        else:
            changes = [
                # A status first known now reads "status churned" (older snapshots lack it).
                f"{k} {v}" if k == "status" and previous[k] is None else f"{k} {previous[k]} → {v}"
                for k, v in shown.items()
                if v != previous[k] and not (v is None and previous[k] is None)
            ]
            if changes:
                out.append((day, ", ".join(changes)))
        previous = shown
    return out
