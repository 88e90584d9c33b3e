"""Follow-ups: who needs a touch by a date, why, and in which order. Column-wise throughout.

A customer's *last touch* is the later of the CSV's `last_contact` and the newest touch
logged in the store. Each trigger below gives a due date (or none) per customer; a
customer is due by `until` when any trigger's due date is on or before it, and its
follow-up carries every such reason:

- **cadence**: last touch + the segment's `cadence_days` (or the `--next` date the newest
  logged touch set, when that touch is the last touch). Never touched: signup + cadence,
  or the as-of date when the signup date is unknown too.
- **renewal**: `renewal_date` within `renewal_window_days`: due when the window opens,
  unless touched since it opened. Renewal dates already past do not trigger.
- **red**: band red and not touched for `RED_RECHECK_DAYS` days.
- **detractor**: NPS 0–6 and no touch logged since the CSV's `last_contact` (the CSV does
  not date the survey answer, so it is taken to be no older than the last contact on file).
- **onboarding**: a check-in `onboarding_checkins` days after signup, unless touched
  since that day; each check-in stays open until the next one comes due (the last one
  for `ONBOARDING_GRACE_DAYS` days).

A snooze hides a follow-up for every as-of date before its date: the follow-up's due
date becomes the snooze date. Logging a touch satisfies every trigger above, so the
follow-up drops off until its next due date.

Priority, like taskwarrior's urgency, is a sum of terms that `explain` shows:

    priority = overdue + value + band + renewal            (0 … 13)
    overdue  = 4 × min(days overdue, 90) / 90               days past the due date
    value    = 3 × pct_rank(mrr)                            share of customers with less MRR
    band     = 3 if red, 1 if yellow, 0 if green or unknown
    renewal  = 3 × (1 − days to renewal / window)           renewals within the window
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from cstool.config import Settings
from cstool.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

RED_RECHECK_DAYS = 7
DETRACTOR_MAX = 6
ONBOARDING_GRACE_DAYS = 30
OVERDUE_WEIGHT = 4.0
OVERDUE_FULL_DAYS = 90
VALUE_WEIGHT = 3.0
BAND_POINTS = {"red": 3.0, "yellow": 1.0, "green": 0.0}
RENEWAL_WEIGHT = 3.0

PRIORITY_TERMS = ("priority_overdue", "priority_value", "priority_band", "priority_renewal")
TRIGGERS = ("renewal", "red", "detractor", "onboarding", "cadence")
COLUMNS = (
    "customer_id",
    "name",
    "due",
    "reason",
    "priority",
    *PRIORITY_TERMS,
    "segment",
    "play",
    "days_overdue",
    "last_touch",
    "triggers",
    "email",
    "mrr",
    "band",
    "health",
)
DUE_WORDS = "today, overdue, week, an ISO date or +Nd"


def due_until(text: str, as_of: date) -> date:
    """`--due`: today, overdue (before today), week (to the end of the week), DATE or +Nd."""
    from cstool.dates import ACCEPTED_FORMS, parse_date

    word = text.strip().lower()
    if word == "overdue":
        return as_of - timedelta(days=1)
    if word == "week":
        word = "eow"
    try:
        return parse_date(word, as_of, option="--due")
    except UsageError:
        raise UsageError(
            f"--due: {text!r} is not a date; accepted: today, overdue, week, or {ACCEPTED_FORMS}"
        ) from None


@dataclass(frozen=True)
class NextFollowup:
    """One customer's next follow-up, for `cstool explain`."""

    customer_id: str
    due: date
    reason: str
    priority: float
    terms: dict[str, float]  # each priority term (priority_overdue, …) and its points
    days_overdue: int
    snoozed_until: date | None
    segment: str | None
    play: str | None


def due_followups(
    frame: pd.DataFrame,
    settings: Settings,
    as_of: date,
    until: date,
    logged: pd.DataFrame | None = None,
    snoozes: pd.DataFrame | None = None,
    *,
    limit: int | None = None,
    segments: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Customers due on or before `until`, one row each with all its reasons.

    `frame` is the scored and segmented table (docs/FRAME.md); `logged` is
    `Store.last_logged()`, `snoozes` is `Store.snoozes()`. Sorted by priority (highest
    first), ties by customer_id. `segments` keeps only those segments; `limit` keeps the
    first N (reasons are only built for them). `result.attrs["due_total"]` is how many
    were due before the limit.
    """
    import numpy as np

    plan = _plan(frame, settings, as_of, logged, snoozes)
    horizon = _day(until)
    due = plan.due_by(horizon)
    terms = _priority_terms(plan, due)
    selected = due <= horizon
    if segments is not None:
        if "segment" in plan.frame.columns:
            selected &= plan.frame["segment"].isin(list(segments)).to_numpy(dtype=bool)
        else:
            selected[:] = False
    rows = np.flatnonzero(selected)
    order = _priority_order(plan, terms, rows, limit)
    result = _result(plan, due, terms, order, horizon)
    result.attrs["due_total"] = len(rows)
    return result


def next_followup(
    frame: pd.DataFrame,
    settings: Settings,
    as_of: date,
    customer_id: str,
    logged: pd.DataFrame | None = None,
    snoozes: pd.DataFrame | None = None,
) -> NextFollowup | None:
    """A customer's next follow-up: when, why, and the priority terms (None: not in frame)."""
    import numpy as np

    ids = frame["customer_id"].astype("string").to_numpy(dtype=object)
    where = np.flatnonzero(ids == customer_id)
    if where.size == 0:
        return None
    plan = _plan(frame, settings, as_of, logged, snoozes, rows=where[:1])
    earliest = plan.due_by(np.inf)
    horizon = max(float(earliest[0]), float(plan.as_of))
    due = plan.due_by(horizon)
    out = _result(plan, due, _priority_terms(plan, due), np.array([0]), horizon)
    row = out.iloc[0]
    snoozed = plan.snoozed[0]
    return NextFollowup(
        customer_id=customer_id,
        due=row["due"].date(),
        reason=str(row["reason"]),
        priority=float(row["priority"]),
        terms={name: float(row[name]) for name in PRIORITY_TERMS},
        days_overdue=int(row["days_overdue"]),
        snoozed_until=None if np.isnan(snoozed) else _date(snoozed),
        segment=None if _missing(row["segment"]) else str(row["segment"]),
        play=None if _missing(row["play"]) else str(row["play"]),
    )


# --------------------------------------------------------------------------- the plan
@dataclass
class _Plan:
    """Per-customer arrays (days since 1970-01-01 as float, NaN = none) of every trigger."""

    as_of: int
    frame: pd.DataFrame  # the planned rows, aligned with every array below
    trigger_due: dict[str, np.ndarray[Any, Any]]
    snoozed: np.ndarray[Any, Any]
    last_touch: np.ndarray[Any, Any]
    contact: np.ndarray[Any, Any]
    cadence: np.ndarray[Any, Any]
    planned: np.ndarray[Any, Any]
    renewal: np.ndarray[Any, Any]
    signup: np.ndarray[Any, Any]
    checkin_day: np.ndarray[Any, Any]
    nps: np.ndarray[Any, Any]
    health: np.ndarray[Any, Any]
    band_points: np.ndarray[Any, Any]
    value_term: np.ndarray[Any, Any]
    window: int

    def due_by(self, horizon: float) -> np.ndarray[Any, Any]:
        """Each customer's due date counting the triggers due by `horizon` (NaN: none)."""
        import numpy as np

        due = np.full(self.as_of_shape, np.inf)
        for values in self.trigger_due.values():
            active = values <= horizon
            due = np.where(active & (values < due), values, due)
        due[np.isinf(due)] = np.nan
        # A snooze moves the due date to the snooze date (hidden for as-of dates before it).
        snoozed = self.snoozed > self.as_of
        return np.where(snoozed & ~np.isnan(due), np.fmax(due, self.snoozed), due)

    @property
    def as_of_shape(self) -> int:
        """How many customers are planned."""
        return len(self.snoozed)


def _plan(
    frame: pd.DataFrame,
    settings: Settings,
    as_of: date,
    logged: pd.DataFrame | None,
    snoozes: pd.DataFrame | None,
    rows: np.ndarray[Any, Any] | None = None,
) -> _Plan:
    import numpy as np

    from cstool.rules import pct_rank

    # MRR rank is over the whole book, even when only some rows are planned (explain).
    value_term = VALUE_WEIGHT * np.nan_to_num(pct_rank(_numbers(frame, "mrr")), nan=0.0)
    if rows is not None:
        frame = frame.iloc[rows]
        value_term = value_term[rows]
    n = len(frame)
    today = _day(as_of)
    ids = _arrow_text(frame["customer_id"])

    contact = _days(frame, "last_contact")
    logged_day, next_day = _lookup(ids, logged, ("last_logged", "next_due"))
    (snoozed,) = _lookup(ids, snoozes, ("snoozed_until",))
    last_touch = np.fmax(contact, logged_day)
    never = np.isnan(last_touch)
    # The newest logged touch is the last touch (the CSV has nothing later): its --next holds.
    logged_is_last = ~np.isnan(logged_day) & (np.isnan(contact) | (logged_day >= contact))
    planned = np.where(logged_is_last, next_day, np.nan)

    default_cadence = float(settings.health.expected_interval_days)
    cadence = (
        _numbers(frame, "cadence_days")
        if "cadence_days" in frame.columns
        else np.full(n, default_cadence)
    )
    cadence = np.where(np.isnan(cadence) | (cadence <= 0), default_cadence, cadence)
    signup = _days(frame, "signup_date")
    base = np.where(never, signup, last_touch)
    cadence_due = np.where(np.isnan(base), float(today), base + cadence)
    cadence_due = np.where(np.isnan(planned), cadence_due, planned)

    rules = settings.followups
    window = int(rules.renewal_window_days)
    renewal = _days(frame, "renewal_date")
    opens = renewal - window
    renewal_pending = (renewal >= today) & ~(last_touch >= opens)
    renewal_due = np.where(renewal_pending, opens, np.nan)

    band_points = np.zeros(n)
    is_red = np.zeros(n, dtype=bool)
    if "band" in frame.columns:
        for name, points in BAND_POINTS.items():
            match = (frame["band"] == name).to_numpy(dtype=bool, na_value=False)
            band_points[match] = points
            if name == "red":
                is_red = match
    red_due = np.full(n, np.nan)
    if rules.red:
        recheck = np.where(never, float(today), last_touch + RED_RECHECK_DAYS)
        red_due = np.where(is_red, recheck, np.nan)

    nps = _numbers(frame, "nps")
    detractor_due = np.full(n, np.nan)
    if rules.nps_detractor:
        answered = ~np.isnan(logged_day) & (np.isnan(contact) | (logged_day >= contact))
        detractor = (nps <= DETRACTOR_MAX) & ~answered
        detractor_due = np.where(detractor, np.where(np.isnan(contact), today, contact), np.nan)

    checkin_due = np.full(n, np.nan)
    checkin_day = np.full(n, np.nan)
    checkins = sorted({int(k) for k in rules.onboarding_checkins if int(k) >= 0})
    # Earliest open check-in first: walk them latest to earliest so the earliest wins.
    for i in range(len(checkins) - 1, -1, -1):
        k = checkins[i]
        closes_after = checkins[i + 1] if i + 1 < len(checkins) else k + ONBOARDING_GRACE_DAYS
        due_k = signup + k
        pending = (signup + closes_after > today) & ~(last_touch >= due_k) & ~np.isnan(due_k)
        checkin_due = np.where(pending, due_k, checkin_due)
        checkin_day = np.where(pending, float(k), checkin_day)

    return _Plan(
        as_of=today,
        frame=frame,
        trigger_due={
            "renewal": renewal_due,
            "red": red_due,
            "detractor": detractor_due,
            "onboarding": checkin_due,
            "cadence": cadence_due,
        },
        snoozed=snoozed,
        last_touch=last_touch,
        contact=contact,
        cadence=cadence,
        planned=planned,
        renewal=renewal,
        signup=signup,
        checkin_day=checkin_day,
        nps=nps,
        health=_numbers(frame, "health"),
        band_points=band_points,
        value_term=value_term,
        window=window,
    )


def _priority_terms(plan: _Plan, due: np.ndarray[Any, Any]) -> dict[str, np.ndarray[Any, Any]]:
    """Each priority term for every planned customer, given its due date."""
    import numpy as np

    overdue_days = np.clip(plan.as_of - due, 0, None)
    overdue = OVERDUE_WEIGHT * np.minimum(overdue_days, OVERDUE_FULL_DAYS) / OVERDUE_FULL_DAYS
    to_renewal = plan.renewal - plan.as_of
    within = (to_renewal >= 0) & (to_renewal <= plan.window)
    closeness = 1.0 - to_renewal / plan.window if plan.window > 0 else np.ones(len(due))
    renewal = np.where(within, RENEWAL_WEIGHT * closeness, 0.0)
    return {
        "priority_overdue": np.nan_to_num(overdue, nan=0.0),
        "priority_value": plan.value_term,
        "priority_band": plan.band_points,
        "priority_renewal": renewal,
    }


def _total(terms: dict[str, np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
    """The priority: the terms added in one fixed order (so equal inputs give equal floats)."""
    total = terms[PRIORITY_TERMS[0]]
    for name in PRIORITY_TERMS[1:]:
        total = total + terms[name]
    return total


def _priority_order(
    plan: _Plan,
    terms: dict[str, np.ndarray[Any, Any]],
    rows: np.ndarray[Any, Any],
    limit: int | None = None,
) -> np.ndarray[Any, Any]:
    """`rows` sorted by priority (highest first), ties by customer_id; the first `limit`."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    priority = _total(terms)[rows]
    if limit is not None and limit < len(rows):
        if limit <= 0:
            return rows[:0]
        # Only rows at or above the limit-th priority can make the cut (ties included).
        threshold = np.partition(priority, len(priority) - limit)[len(priority) - limit]
        keep = priority >= threshold
        rows, priority = rows[keep], priority[keep]
    ids = pc.take(_arrow_text(plan.frame["customer_id"]), pa.array(rows))
    keys = pa.table({"p": priority, "id": ids})
    ordered = pc.sort_indices(keys, sort_keys=[("p", "descending"), ("id", "ascending")])
    result: np.ndarray[Any, Any] = rows[ordered.to_numpy()]
    return result if limit is None else result[:limit]


def _result(
    plan: _Plan,
    due: np.ndarray[Any, Any],
    terms: dict[str, np.ndarray[Any, Any]],
    order: np.ndarray[Any, Any],
    horizon: float,
) -> pd.DataFrame:
    """The follow-up rows for positions `order` (in that order), reasons built for them only."""
    import numpy as np
    import pandas as pd

    due_sel = due[order]
    picked = {name: terms[name][order] for name in PRIORITY_TERMS}
    active = {name: (values[order] <= horizon) for name, values in plan.trigger_due.items()}
    reasons, triggers = _reasons(plan, order, active)
    take = plan.frame.columns

    def text(name: str) -> Any:
        if name not in take:
            return pd.array([None] * len(order), dtype="string")
        return _string_array(plan.frame[name].take(order))

    out = pd.DataFrame(
        {
            "customer_id": text("customer_id"),
            "name": text("name"),
            "due": _datetimes(due_sel),
            "reason": reasons,
            "priority": _total(picked),
            **picked,
            "segment": text("segment"),
            "play": text("play"),
            "days_overdue": np.clip(plan.as_of - due_sel, 0, None).astype("int64"),
            "last_touch": _datetimes(plan.last_touch[order]),
            "triggers": triggers,
            "email": text("email"),
            "mrr": _numbers(plan.frame, "mrr")[order],
            "band": text("band"),
            "health": plan.health[order],
        }
    )
    return out


def _reasons(
    plan: _Plan, order: np.ndarray[Any, Any], active: dict[str, np.ndarray[Any, Any]]
) -> tuple[Any, Any]:
    """Each row's reasons joined with "; " and its trigger names with ",", built by Arrow
    compute kernels column-wise (a million rows of text in well under a second)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    today = plan.as_of

    def join(*parts: Any) -> Any:
        return pc.binary_join_element_wise(*parts, "")

    def num(values: np.ndarray[Any, Any]) -> Any:
        return pc.cast(pa.array(np.nan_to_num(values, nan=0).astype("int64")), pa.string())

    def days(values: np.ndarray[Any, Any]) -> Any:
        return join(num(values), pa.array(np.where(values == 1, " day", " days")))

    def iso(values: np.ndarray[Any, Any]) -> Any:
        return pc.cast(pc.cast(pa.array(_datetimes(values)), pa.date32()), pa.string())

    def pick(mask: np.ndarray[Any, Any], yes: Any, no: Any) -> Any:
        return pc.if_else(pa.array(mask, type=pa.bool_()), yes, no)

    last = plan.last_touch[order]
    planned = plan.planned[order]
    cadence_text = pick(
        ~np.isnan(planned),
        join("follow-up planned for ", iso(planned)),
        pick(
            ~np.isnan(last),
            join("last touch ", days(today - last), " ago (every ", days(plan.cadence[order]), ")"),
            pa.scalar("no touch on record"),
        ),
    )
    renewal = plan.renewal[order]
    to_renewal = renewal - today
    renewal_text = pick(
        to_renewal == 0,
        pa.scalar("renews today"),
        join("renews in ", days(to_renewal), " (", iso(renewal), ")"),
    )
    health = plan.health[order]
    red_text = pick(
        np.isnan(health),
        pa.scalar("band red"),
        join("band red (health ", num(np.round(health)), ")"),
    )
    snoozed = plan.snoozed[order]
    texts = {
        "renewal": renewal_text,
        "red": red_text,
        "detractor": join("NPS ", num(plan.nps[order]), " (detractor)"),
        "onboarding": join("onboarding check-in (day ", num(plan.checkin_day[order]), ")"),
        "cadence": cadence_text,
        "snoozed": join("snoozed until ", iso(snoozed)),
    }
    active = {**active, "snoozed": snoozed > today}
    null = pa.scalar(None, pa.string())
    names = (*TRIGGERS, "snoozed")
    if len(order) == 0:
        empty = _string_array(pa.array([], pa.string()))
        return empty, empty
    reason = pc.binary_join_element_wise(
        *(pick(active[n], texts[n], null) for n in names), "; ", null_handling="skip"
    )
    triggers = pc.binary_join_element_wise(
        *(pick(active[n], pa.scalar(n), null) for n in TRIGGERS), ",", null_handling="skip"
    )
    return _string_array(reason), _string_array(triggers)


# --------------------------------------------------------------------------- helpers
def _day(value: date) -> int:
    return (value - date(1970, 1, 1)).days


def _date(day: float) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day))


def _days(frame: pd.DataFrame, name: str) -> np.ndarray[Any, Any]:
    """A date column as float days since 1970-01-01 (NaN when missing or absent)."""
    import numpy as np

    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    values = frame[name].to_numpy(dtype="datetime64[ns]")
    days = values.astype("datetime64[D]").astype("int64").astype("float64")
    days[np.isnat(values)] = np.nan
    return days


def _datetimes(days: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Float days (NaN = missing) as datetime64[ns]."""
    import numpy as np

    missing = np.isnan(days)
    whole = np.where(missing, 0, days).astype("int64").astype("datetime64[D]")
    out = whole.astype("datetime64[ns]")
    out[missing] = np.datetime64("NaT")
    return out


def _numbers(frame: pd.DataFrame, name: str) -> np.ndarray[Any, Any]:
    import numpy as np

    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    values: np.ndarray[Any, Any] = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
    return values


def _arrow_text(values: pd.Series) -> Any:
    """A text column as an Arrow string array (zero-copy when it is Arrow-backed already)."""
    import pyarrow as pa

    try:
        array = pa.array(values.array)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array(values.astype("string").array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.string())


def _string_array(values: Any) -> Any:
    """Arrow or pandas text as a pandas `string` array (Arrow-backed, no copy to Python)."""
    import pandas as pd
    import pyarrow as pa

    if not isinstance(values, pa.Array | pa.ChunkedArray):
        values = _arrow_text(pd.Series(values))
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pd.arrays.ArrowStringArray(values.cast(pa.large_string()))


def _lookup(
    ids: Any, table: pd.DataFrame | None, columns: tuple[str, ...]
) -> tuple[np.ndarray[Any, Any], ...]:
    """Store data (one row per customer) aligned to `ids` (Arrow), as float days (NaN: none)."""
    import numpy as np
    import pyarrow.compute as pc

    n = len(ids)
    if table is None or table.empty:
        return tuple(np.full(n, np.nan) for _ in columns)
    keys = _arrow_text(table["customer_id"])
    if pc.count_distinct(keys).as_py() != len(keys):
        raise ValueError("store data must have one row per customer")
    positions = pc.index_in(ids, value_set=keys).to_numpy(zero_copy_only=False)
    found = ~np.isnan(positions.astype("float64"))
    where = positions[found].astype("int64")
    out = []
    for name in columns:
        days = _days(table, name)
        aligned = np.full(n, np.nan)
        aligned[found] = days[where]
        out.append(aligned)
    return tuple(out)


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))
