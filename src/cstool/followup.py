"""Follow-ups: who needs a touch by a date, why, and in which order. Column-wise throughout.

A customer's *last touch* is the later of the CSV's `last_contact` and the newest touch
logged in the store. Each trigger below is one function (`_cadence`, `_renewal`, …) that
gives a due date (or none) per customer and builds its reason text; a customer is due by
`until` when any trigger's due date is on or before it, and its follow-up carries every
such reason:

- **save**: status `cancelling`: due at once, "cancels on 2026-12-31" (or "cancelling"
  when the cancel date is unknown).
- **payment**: status `past_due`: due at once, "payment failed".
- **renewal**: `renewal_date` within `renewal_window_days`: due when the window opens,
  unless touched since it opened. Renewal dates already past do not trigger.
- **red**: band red and not touched for `RED_RECHECK_DAYS` days.
- **health_drop**: health fell by `health_drop_points` or more, or the band fell (green to
  yellow or red, yellow to red), since the earlier snapshot (the latest one dated on or
  before as-of − `health_drop_days`): due on the as-of date, or `RED_RECHECK_DAYS` after
  a touch that recent.
- **detractor**: NPS 0–6 and no touch logged since the CSV's `last_contact` (the CSV does
  not date the survey answer, so it is taken to be no older than the last contact on file).
- **onboarding**: a check-in `onboarding_checkins` days after signup, unless touched
  since that day; each check-in stays open until the next one comes due (the last one
  for `ONBOARDING_GRACE_DAYS` days).
- **cadence**: last touch + the segment's `cadence_days` (or the `--next` date the newest
  logged touch set, when that touch is the last touch). Never touched: signup + cadence,
  or the as-of date when the signup date is unknown too.

Only *live* customers get follow-ups: a `churned`, `paused` or `prospect` status (docs/FRAME.md)
silences every trigger. A frame without a `status` column is all active.

A snooze hides a follow-up for every as-of date before its date: the follow-up's due
date becomes the snooze date. Logging a touch satisfies every trigger above except save
and payment (those last while the status does), so the follow-up drops off until its
next due date.

Priority, like taskwarrior's urgency, is a sum of terms that `explain` shows:

    priority = overdue + value + band + renewal + save + payment     (0 … 18)
    overdue  = 4 × min(days overdue, 90) / 90               days past the due date
    value    = 3 × pct_rank(mrr)                            share of customers with less MRR
    band     = 3 if red, 1 if yellow, 0 if green or unknown
    renewal  = 3 × (1 − days to renewal / window)           renewals within the window
    save     = 5 if cancelling
    payment  = 5 if past due
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from cstool.config import NOT_LIVE_STATUSES, Settings
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
BAND_RANK = {"red": 0, "yellow": 1, "green": 2}
RENEWAL_WEIGHT = 3.0
SAVE_POINTS = 5.0
PAYMENT_POINTS = 5.0
SILENT_STATUSES = NOT_LIVE_STATUSES  # not live: no follow-ups at all

# Summed in this order; the terms added last are 0 for every frame without a status, so
# older inputs give the very same floats.
PRIORITY_TERMS = (
    "priority_overdue",
    "priority_value",
    "priority_band",
    "priority_renewal",
    "priority_save",
    "priority_payment",
)
# The order reasons are listed in on a follow-up.
TRIGGERS = (
    "save",
    "payment",
    "renewal",
    "red",
    "health_drop",
    "detractor",
    "onboarding",
    "cadence",
)


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
            f"--due: {text!r} is not a date; accepted: overdue, week, or {ACCEPTED_FORMS}"
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
    earlier: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Customers due on or before `until`, one row each with all its reasons.

    `frame` is the scored and segmented table (docs/FRAME.md); `logged` is
    `Store.last_logged()`, `snoozes` is `Store.snoozes()`, `earlier` is
    `Store.snapshot_before()` (customer_id, health, band, as_of: what the health-drop
    trigger compares with). Sorted by priority (highest first), ties by customer_id.
    `segments` keeps only those segments; `limit` keeps the first N (reasons are only built
    for them). `result.attrs["due_total"]` is how many were due before the limit.
    """
    import numpy as np

    plan = _plan(frame, settings, as_of, logged, snoozes, earlier)
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
    *,
    earlier: pd.DataFrame | None = None,
) -> NextFollowup | None:
    """A customer's next follow-up: when, why, and the priority terms.

    None when the customer is not in `frame` or gets no follow-ups (churned, paused or a prospect).
    """
    import numpy as np

    ids = frame["customer_id"].astype("string").to_numpy(dtype=object)
    where = np.flatnonzero(ids == customer_id)
    if where.size == 0:
        return None
    plan = _plan(frame, settings, as_of, logged, snoozes, earlier, rows=where[:1])
    earliest = plan.due_by(np.inf)
    if np.isnan(earliest[0]):
        return None
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


# --------------------------------------------------------------------------- the facts
@dataclass
class _Facts:
    """What the triggers read, per planned customer: days since 1970-01-01 as float
    (NaN = none), aligned with `frame`."""

    today: int
    frame: pd.DataFrame
    ids: Any  # customer_id as an Arrow string array
    contact: np.ndarray[Any, Any]  # the CSV's last_contact
    logged: np.ndarray[Any, Any]  # the newest logged touch
    next_due: np.ndarray[Any, Any]  # the --next date that touch set
    last_touch: np.ndarray[Any, Any]
    signup: np.ndarray[Any, Any]
    health: np.ndarray[Any, Any]
    earlier: pd.DataFrame | None = None

    @property
    def never(self) -> np.ndarray[Any, Any]:
        """Never touched (neither the CSV nor the store has a touch)."""
        import numpy as np

        return np.isnan(self.last_touch)

    @property
    def logged_is_last(self) -> np.ndarray[Any, Any]:
        """The newest logged touch is the last touch (the CSV has nothing later)."""
        import numpy as np

        return ~np.isnan(self.logged) & (np.isnan(self.contact) | (self.logged >= self.contact))

    def status_is(self, *values: str) -> np.ndarray[Any, Any]:
        """Customers whose lifecycle status is one of `values` (none without the column)."""
        import numpy as np

        if "status" not in self.frame.columns:
            return np.zeros(len(self.frame), dtype=bool)
        match: np.ndarray[Any, Any] = (
            self.frame["status"].isin(list(values)).to_numpy(dtype=bool, na_value=False)
        )
        return match

    def band_is(self, name: str) -> np.ndarray[Any, Any]:
        """Customers in band `name` (none without the column; a missing band is no band)."""
        import numpy as np

        if "band" not in self.frame.columns:
            return np.zeros(len(self.frame), dtype=bool)
        match: np.ndarray[Any, Any] = (self.frame["band"] == name).to_numpy(
            dtype=bool, na_value=False
        )
        return match


@dataclass(frozen=True)
class _Trigger:
    """One trigger's due date per customer (NaN: not due) and its reason text, built only
    for the rows shown (positions -> Arrow string array)."""

    due: np.ndarray[Any, Any]
    reason: Callable[[np.ndarray[Any, Any]], Any]


# --------------------------------------------------------------------------- the triggers
def _save(facts: _Facts, settings: Settings) -> _Trigger:
    """Cancelling: due at once, "cancels on DATE" (or "cancelling" when the date is unknown)."""
    import numpy as np
    import pyarrow as pa

    cancelling = facts.status_is("cancelling")
    cancel = _days(facts.frame, "cancel_date")

    def reason(order: np.ndarray[Any, Any]) -> Any:
        day = cancel[order]
        return _pick(np.isnan(day), pa.scalar("cancelling"), _join("cancels on ", _iso(day)))

    return _Trigger(np.where(cancelling, float(facts.today), np.nan), reason)


def _payment(facts: _Facts, settings: Settings) -> _Trigger:
    """Past due: due at once, "payment failed"."""
    import numpy as np
    import pyarrow as pa

    past_due = facts.status_is("past_due")

    def reason(order: np.ndarray[Any, Any]) -> Any:
        return pa.array(np.full(len(order), "payment failed", dtype=object), pa.string())

    return _Trigger(np.where(past_due, float(facts.today), np.nan), reason)


def _renewal(facts: _Facts, settings: Settings) -> _Trigger:
    """A renewal within the window: due when the window opens, unless touched since then."""
    import numpy as np
    import pyarrow as pa

    today = facts.today
    window = int(settings.followups.renewal_window_days)
    renewal = _days(facts.frame, "renewal_date")
    opens = renewal - window
    pending = (renewal >= today) & ~(facts.last_touch >= opens)

    def reason(order: np.ndarray[Any, Any]) -> Any:
        day = renewal[order]
        to_renewal = day - today
        return _pick(
            to_renewal == 0,
            pa.scalar("renews today"),
            _join("renews in ", _n_days(to_renewal), " (", _iso(day), ")"),
        )

    return _Trigger(np.where(pending, opens, np.nan), reason)


def _red(facts: _Facts, settings: Settings) -> _Trigger:
    """Band red and not touched for `RED_RECHECK_DAYS` days."""
    import numpy as np
    import pyarrow as pa

    n = len(facts.frame)
    health = facts.health
    due = np.full(n, np.nan)
    if settings.followups.red:
        recheck = np.where(facts.never, float(facts.today), facts.last_touch + RED_RECHECK_DAYS)
        due = np.where(facts.band_is("red"), recheck, np.nan)

    def reason(order: np.ndarray[Any, Any]) -> Any:
        value = health[order]
        return _pick(
            np.isnan(value),
            pa.scalar("band red"),
            _join("band red (health ", _num(np.round(value)), ")"),
        )

    return _Trigger(due, reason)


def _health_drop(facts: _Facts, settings: Settings) -> _Trigger:
    """Health fell `health_drop_points` or more, or the band fell, since the earlier
    snapshot: due on the as-of date (a touch in the last `RED_RECHECK_DAYS` days holds it
    off until that many days after the touch)."""
    import numpy as np
    import pyarrow as pa

    n = len(facts.frame)
    rules = settings.followups
    earlier = facts.earlier
    if earlier is None or earlier.empty or not rules.health_drop:
        return _Trigger(np.full(n, np.nan), lambda order: pa.nulls(len(order), pa.string()))
    found, where = _align(facts.ids, earlier)
    before = np.full(n, np.nan)
    before[found] = _numbers(earlier, "health")[where]
    since = np.full(n, np.nan)
    since[found] = _days(earlier, "as_of")[where]
    rank_before = np.full(n, -1)
    if "band" in earlier.columns:
        ranks = _band_rank(earlier["band"])
        rank_before[found] = ranks[where]
    rank_now = _band_rank(facts.frame["band"]) if "band" in facts.frame.columns else np.full(n, -1)
    fell = before - facts.health
    health_fell = fell >= float(rules.health_drop_points)
    band_fell = (rank_now >= 0) & (rank_before > rank_now)
    fires = health_fell | band_fell
    today = float(facts.today)
    recently = facts.last_touch + RED_RECHECK_DAYS
    due = np.where(fires, np.where(recently > today, recently, today), np.nan)
    names = np.array(["red", "yellow", "green"], dtype=object)

    def reason(order: np.ndarray[Any, Any]) -> Any:
        when = _iso(since[order])
        health_text = _join("health fell ", _num(np.round(fell[order])), " points since ", when)
        was = pa.array(names[np.clip(rank_before[order], 0, 2)], pa.string())
        now = pa.array(names[np.clip(rank_now[order], 0, 2)], pa.string())
        band_text = _join("band fell from ", was, " to ", now, " since ", when)
        # if_else, not a join skipping nulls: Arrow 26 drops rows where every part is null.
        both = _join(health_text, "; ", band_text)
        return _pick(
            health_fell[order] & band_fell[order],
            both,
            _pick(health_fell[order], health_text, band_text),
        )

    return _Trigger(due, reason)


def _detractor(facts: _Facts, settings: Settings) -> _Trigger:
    """NPS 0–6 with no touch logged since the CSV's last contact."""
    import numpy as np

    n = len(facts.frame)
    nps = _numbers(facts.frame, "nps")
    due = np.full(n, np.nan)
    if settings.followups.nps_detractor:
        detractor = (nps <= DETRACTOR_MAX) & ~facts.logged_is_last
        contact = facts.contact
        due = np.where(detractor, np.where(np.isnan(contact), facts.today, contact), np.nan)

    def reason(order: np.ndarray[Any, Any]) -> Any:
        return _join("NPS ", _num(nps[order]), " (detractor)")

    return _Trigger(due, reason)


def _onboarding(facts: _Facts, settings: Settings) -> _Trigger:
    """The earliest open onboarding check-in: due `k` days after signup, unless touched
    since; open until the next check-in comes due (the last for `ONBOARDING_GRACE_DAYS`)."""
    import numpy as np

    n = len(facts.frame)
    signup, today = facts.signup, facts.today
    due = np.full(n, np.nan)
    checkin_day = np.full(n, np.nan)
    checkins = sorted({int(k) for k in settings.followups.onboarding_checkins if int(k) >= 0})
    # Earliest open check-in first: walk them latest to earliest so the earliest wins.
    for i in range(len(checkins) - 1, -1, -1):
        k = checkins[i]
        closes_after = checkins[i + 1] if i + 1 < len(checkins) else k + ONBOARDING_GRACE_DAYS
        due_k = signup + k
        pending = (signup + closes_after > today) & ~(facts.last_touch >= due_k) & ~np.isnan(due_k)
        due = np.where(pending, due_k, due)
        checkin_day = np.where(pending, float(k), checkin_day)

    def reason(order: np.ndarray[Any, Any]) -> Any:
        return _join("onboarding check-in (day ", _num(checkin_day[order]), ")")

    return _Trigger(due, reason)


def _cadence(facts: _Facts, settings: Settings) -> _Trigger:
    """Last touch + the segment's cadence, or the `--next` date of the newest logged touch;
    never touched: signup + cadence, or the as-of date."""
    import numpy as np
    import pyarrow as pa

    frame, today = facts.frame, facts.today
    default_cadence = float(settings.health.expected_interval_days)
    cadence = (
        _numbers(frame, "cadence_days")
        if "cadence_days" in frame.columns
        else np.full(len(frame), default_cadence)
    )
    cadence = np.where(np.isnan(cadence) | (cadence <= 0), default_cadence, cadence)
    planned = np.where(facts.logged_is_last, facts.next_due, np.nan)
    base = np.where(facts.never, facts.signup, facts.last_touch)
    due = np.where(np.isnan(base), float(today), base + cadence)
    due = np.where(np.isnan(planned), due, planned)
    last = facts.last_touch

    def reason(order: np.ndarray[Any, Any]) -> Any:
        plan_day, touch = planned[order], last[order]
        return _pick(
            ~np.isnan(plan_day),
            _join("follow-up planned for ", _iso(plan_day)),
            _pick(
                ~np.isnan(touch),
                _join(
                    "last touch ",
                    _n_days(today - touch),
                    " ago (every ",
                    _n_days(cadence[order]),
                    ")",
                ),
                pa.scalar("no touch on record"),
            ),
        )

    return _Trigger(due, reason)


TRIGGER_RULES: dict[str, Callable[[_Facts, Settings], _Trigger]] = {
    "save": _save,
    "payment": _payment,
    "renewal": _renewal,
    "red": _red,
    "health_drop": _health_drop,
    "detractor": _detractor,
    "onboarding": _onboarding,
    "cadence": _cadence,
}


# --------------------------------------------------------------------------- the plan
@dataclass
class _Plan:
    """Every trigger's due dates for the planned customers, and what priority reads."""

    as_of: int
    frame: pd.DataFrame  # the planned rows, aligned with every array below
    triggers: dict[str, _Trigger]
    snoozed: np.ndarray[Any, Any]
    last_touch: np.ndarray[Any, Any]
    renewal: np.ndarray[Any, Any]
    health: np.ndarray[Any, Any]
    band_points: np.ndarray[Any, Any]
    value_term: np.ndarray[Any, Any]
    save_term: np.ndarray[Any, Any]
    payment_term: np.ndarray[Any, Any]
    window: int
    trigger_due: dict[str, np.ndarray[Any, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.trigger_due = {name: t.due for name, t in self.triggers.items()}

    def due_by(self, horizon: float) -> np.ndarray[Any, Any]:
        """Each customer's due date counting the triggers due by `horizon` (NaN: none)."""
        import numpy as np

        due = np.full(len(self.snoozed), np.inf)
        for values in self.trigger_due.values():
            active = values <= horizon
            due = np.where(active & (values < due), values, due)
        due[np.isinf(due)] = np.nan
        # A snooze moves the due date to the snooze date (hidden for as-of dates before it).
        snoozed = self.snoozed > self.as_of
        return np.where(snoozed & ~np.isnan(due), np.fmax(due, self.snoozed), due)


def _plan(
    frame: pd.DataFrame,
    settings: Settings,
    as_of: date,
    logged: pd.DataFrame | None,
    snoozes: pd.DataFrame | None,
    earlier: pd.DataFrame | None = None,
    rows: np.ndarray[Any, Any] | None = None,
) -> _Plan:
    """The composer: the facts every trigger reads, each trigger, then the live mask."""
    import numpy as np

    from cstool.rules import pct_rank

    # MRR rank is over the whole book, even when only some rows are planned (explain).
    value_term = VALUE_WEIGHT * np.nan_to_num(pct_rank(_numbers(frame, "mrr")), nan=0.0)
    if rows is not None:
        frame = frame.iloc[rows]
        value_term = value_term[rows]
    ids = _arrow_text(frame["customer_id"])
    contact = _days(frame, "last_contact")
    logged_day, next_day = _lookup(ids, logged, ("last_logged", "next_due"))
    (snoozed,) = _lookup(ids, snoozes, ("snoozed_until",))
    facts = _Facts(
        today=_day(as_of),
        frame=frame,
        ids=ids,
        contact=contact,
        logged=logged_day,
        next_due=next_day,
        last_touch=np.fmax(contact, logged_day),
        signup=_days(frame, "signup_date"),
        health=_numbers(frame, "health"),
        earlier=earlier,
    )
    # Churned and paused customers and prospects get no follow-up from any trigger.
    live = ~facts.status_is(*SILENT_STATUSES)
    triggers = {}
    for name in TRIGGERS:
        fired = TRIGGER_RULES[name](facts, settings)
        triggers[name] = _Trigger(np.where(live, fired.due, np.nan), fired.reason)

    band_points = np.zeros(len(frame))
    for band, points in BAND_POINTS.items():
        band_points[facts.band_is(band)] = points
    return _Plan(
        as_of=facts.today,
        frame=frame,
        triggers=triggers,
        snoozed=snoozed,
        last_touch=facts.last_touch,
        renewal=_days(frame, "renewal_date"),
        health=facts.health,
        band_points=band_points,
        value_term=value_term,
        save_term=np.where(live & facts.status_is("cancelling"), SAVE_POINTS, 0.0),
        payment_term=np.where(live & facts.status_is("past_due"), PAYMENT_POINTS, 0.0),
        window=int(settings.followups.renewal_window_days),
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
        "priority_save": plan.save_term,
        "priority_payment": plan.payment_term,
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
    reasons, triggers = _reasons(plan, order, horizon)
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


def _reasons(plan: _Plan, order: np.ndarray[Any, Any], horizon: float) -> tuple[Any, Any]:
    """Each row's reasons (every trigger due by `horizon`, then the snooze) joined with "; "
    and its trigger names with ",", by Arrow compute kernels column-wise (a million rows of
    text in well under a second)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(order) == 0:
        empty = _string_array(pa.array([], pa.string()))
        return empty, empty
    null = pa.scalar(None, pa.string())
    active = {name: t.due[order] <= horizon for name, t in plan.triggers.items()}
    texts = {name: t.reason(order) for name, t in plan.triggers.items() if active[name].any()}
    snoozed = plan.snoozed[order]
    active["snoozed"] = snoozed > plan.as_of
    texts["snoozed"] = _join("snoozed until ", _iso(snoozed))
    # Only triggers due on some row take part. Every row shown has one due (that is what
    # made it due), so no row's parts are all null (Arrow 26 drops such rows in a join).
    names = [n for n in (*TRIGGERS, "snoozed") if active[n].any()]
    if not names:
        nothing = pa.nulls(len(order), pa.string())
        return _string_array(nothing), _string_array(nothing)
    reason = pc.binary_join_element_wise(
        *(_pick(active[n], texts[n], null) for n in names), "; ", null_handling="skip"
    )
    triggers = pc.binary_join_element_wise(
        *(_pick(active[n], pa.scalar(n), null) for n in names if n != "snoozed"),
        ",",
        null_handling="skip",
    )
    return _string_array(reason), _string_array(triggers)


# --------------------------------------------------------------------------- reason text
def _join(*parts: Any) -> Any:
    """Arrow strings (arrays or plain text) concatenated element-wise."""
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(*parts, "")


def _num(values: np.ndarray[Any, Any]) -> Any:
    """Whole numbers as Arrow text (NaN as 0)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.cast(pa.array(np.nan_to_num(values, nan=0).astype("int64")), pa.string())


def _n_days(values: np.ndarray[Any, Any]) -> Any:
    """`1 day`, `3 days` as Arrow text."""
    import numpy as np
    import pyarrow as pa

    return _join(_num(values), pa.array(np.where(values == 1, " day", " days")))


def _iso(values: np.ndarray[Any, Any]) -> Any:
    """Float days as ISO dates (Arrow text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.cast(pc.cast(pa.array(_datetimes(values)), pa.date32()), pa.string())


def _pick(mask: np.ndarray[Any, Any], yes: Any, no: Any) -> Any:
    """`yes` where `mask`, else `no` (Arrow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.if_else(pa.array(mask, type=pa.bool_()), yes, no)


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


def _band_rank(values: pd.Series) -> np.ndarray[Any, Any]:
    """Band as a rank (red 0, yellow 1, green 2; −1 when missing or unknown)."""
    import numpy as np

    ranks: np.ndarray[Any, Any] = (
        values.astype("string").map(BAND_RANK).to_numpy(dtype=np.float64, na_value=np.nan)
    )
    return np.nan_to_num(ranks, nan=-1).astype("int64")


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


def _align(ids: Any, table: pd.DataFrame) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Which of `ids` (Arrow) are in `table` (one row per customer), and at which rows."""
    import numpy as np
    import pyarrow.compute as pc

    keys = _arrow_text(table["customer_id"])
    if pc.count_distinct(keys).as_py() != len(keys):
        raise ValueError("store data must have one row per customer")
    positions = pc.index_in(ids, value_set=keys).to_numpy(zero_copy_only=False)
    found = ~np.isnan(positions.astype("float64"))
    return found, positions[found].astype("int64")


def _lookup(
    ids: Any, table: pd.DataFrame | None, columns: tuple[str, ...]
) -> tuple[np.ndarray[Any, Any], ...]:
    """Store data (one row per customer) aligned to `ids` (Arrow), as float days (NaN: none)."""
    import numpy as np

    n = len(ids)
    if table is None or table.empty:
        return tuple(np.full(n, np.nan) for _ in columns)
    found, where = _align(ids, table)
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
