"""Rows of one source → values per customer, column-wise (one group-by per kind).

Every function takes the source's columns by role (Arrow text), `pos` (the customer row each
source row matched, -1 for none, already -1 for duplicates and rows left out) and the file
line of each row. It returns the fields it supplies as `Supplied` (values and the line that
gave each, indexed by customer position) and the cells it could not read as `BadCells`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cstool.config import AggregationSettings, Settings, SourceSettings
from cstool.errors import ConfigError

if TYPE_CHECKING:
    from datetime import date

    import numpy as np
    import pandas as pd
    import pyarrow as pa

# Stripe subscription statuses → a lifecycle status, and their rank when a customer has
# several subscriptions: the most alive wins, and a failing payment outranks them all.
SUBSCRIPTION_STATUS = {
    "active": "active",
    "pastdue": "past due",
    "unpaid": "past due",
    "incomplete": "past due",
    "trialing": "trial",
    "trialling": "trial",
    "trial": "trial",
    "ontrial": "trial",
    "paused": "paused",
    "canceled": "churned",
    "cancelled": "churned",
    "ended": "churned",
    "expired": "churned",
    "incompleteexpired": "churned",
    "deleted": "churned",
}
STATUS_RANK = {"churned": 1, "paused": 2, "trial": 3, "cancelling": 4, "active": 5, "past due": 6}
# Statuses whose subscriptions are paid for: MRR counts them (Stripe leaves trials out).
PAYING = ("active", "past due", "cancelling")
# Monthly value of one unit of each billing interval.
INTERVAL_PER_MONTH = {
    "month": 1.0,
    "monthly": 1.0,
    "mo": 1.0,
    "m": 1.0,
    "year": 1 / 12,
    "yearly": 1 / 12,
    "annual": 1 / 12,
    "annually": 1 / 12,
    "yr": 1 / 12,
    "y": 1 / 12,
    "week": 52 / 12,
    "weekly": 52 / 12,
    "w": 52 / 12,
    "day": 365 / 12,
    "daily": 365 / 12,
    "d": 365 / 12,
    "quarter": 1 / 3,
    "quarterly": 1 / 3,
}
# Help-desk statuses of a ticket still waiting on someone (Zendesk, Freshdesk, Help Scout,
# Intercom), in normalised form.
OPEN_TICKET = (
    "new",
    "open",
    "pending",
    "hold",
    "onhold",
    "active",
    "snoozed",
    "waiting",
    "waitingoncustomer",
    "waitingonthirdparty",
)
TRUE_WORDS = ("true", "yes", "y", "t", "1", "x")


@dataclass
class Supplied:
    """What one source gives per customer: field -> values and the file line behind each."""

    values: dict[str, pd.Series] = field(default_factory=dict)  # index: customer position
    lines: dict[str, pd.Series] = field(default_factory=dict)  # same index: file line
    fill: dict[str, Any] = field(default_factory=dict)  # field -> value for the others


@dataclass
class BadCells:
    """Cells of one role that could not be read: the mask over rows and what was expected."""

    role: str
    mask: np.ndarray
    expected: str


Columns = dict[str, "pa.ChunkedArray"]


class _Coded:
    """A text column's keys (lower case, letters and digits only: `Past-Due` → `pastdue`),
    each distinct cell normalised once: statuses and ratings have few distinct values, and
    what is asked of the keys (`map`) is computed on those few, then taken per row."""

    def __init__(self, text: pa.ChunkedArray) -> None:
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(
            text.combine_chunks() if hasattr(text, "combine_chunks") else text
        )
        words = encoded.dictionary
        self.keys = pc.replace_substring_regex(
            pc.utf8_lower(pc.utf8_trim_whitespace(words)), r"[\W_]+", ""
        )
        self.indices = encoded.indices
        self.nulls = encoded.null_count > 0

    def map(self, compute: Callable[[pa.Array], pa.Array]) -> pa.Array:
        """`compute` per row, as if applied to every row's key (null cells included)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        out = pc.take(compute(self.keys), self.indices)
        if self.nulls:
            missing = compute(pa.nulls(1, pa.string()))[0]
            if missing.is_valid:
                out = pc.fill_null(out, missing)
        return out


def _numbers(
    cells: pa.ChunkedArray, role: str, bad: list[BadCells], expected: str, money: bool = False
) -> np.ndarray:
    from cstool.validate import parse_numbers

    values, _missing, wrong = parse_numbers(cells, money=money)
    if wrong.any():
        bad.append(BadCells(role, wrong, expected))
    return values


def _dates(cells: pa.ChunkedArray, role: str, settings: Settings, bad: list[BadCells]) -> Any:
    import pyarrow.compute as pc

    from cstool.validate import read_dates

    # Exports stamp dates with a time (`2026-11-01 10:00:00`): when every stamp starts with an
    # ISO date, the day is its first ten characters, which the fast ISO path reads.
    stamped = pc.match_substring_regex(cells, r"^\d{4}-\d{2}-\d{2}(?:[ T]\d|$)")
    empty = pc.equal(cells, "")
    if pc.all(pc.or_(pc.fill_null(stamped, False), pc.fill_null(empty, True))).as_py():
        cells = pc.utf8_slice_codeunits(cells, 0, 10)
    read = read_dates(cells, settings.input.date_formats(), label=role)
    if read.bad.any():
        bad.append(BadCells(role, read.bad, read.expected))
    return read.dates.to_numpy(dtype="datetime64[ns]")


# The time of day and zone after a date: `2026-11-01 10:00:00`, `…T10:00:00Z`, `… 10:00 PM`,
# `… 10:00 +08:00`, `… 10:00:00 UTC`. The day itself is read by `read_dates`.
_TIME_OF_DAY = (
    r"(?:T|\s+|,\s*)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?:(?P<ampm>[AaPp])\.?[Mm]\.?)?\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
)
_ISO_HEAD = (
    r"^(?:\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


@dataclass
class Stamps:
    """One timestamp column read once: the day as written, the instant, and whether it was
    zoned, per row (NaT where missing or unreadable)."""

    instant: np.ndarray  # datetime64[ns]: UTC where the cell has a zone, else as written
    zoned: np.ndarray  # bool: the cell carried a zone (Z, +08:00, UTC)
    timed: bool  # some cell carries a time of day (else the column holds dates only)
    written_day: np.ndarray | None = None  # the day as written, where not the instant's

    @property
    def day(self) -> np.ndarray:
        """datetime64[ns] at midnight: the date as the export wrote it (made when asked:
        a solve time needs only the instant)."""
        if self.written_day is None:
            self.written_day = _midnight(self.instant)
        return self.written_day


def _midnight(instant: np.ndarray) -> np.ndarray:
    """datetime64[ns] floored to the day, NaT kept: `astype("datetime64[D]")` and back, by
    integer arithmetic (numpy's datetime casts are several times slower on 5M stamps)."""
    import numpy as np

    ticks = instant.view(np.int64)
    day = 86_400 * 10**9
    floored = ticks - ticks % day  # numpy's % floors, as the cast does before 1970 too
    return np.where(np.isnat(instant), instant, floored.view("datetime64[ns]"))


def _stamps(cells: pa.ChunkedArray, role: str, settings: Settings, bad: list[BadCells]) -> Stamps:
    """A timestamp column, column-wise: Arrow's strict ISO casts when every cell fits one
    (naive, or all with a zone), else the day by `read_dates` (its day/month evidence and
    `date_format`) plus a regex for the time of day and the zone."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from cstool.validate.arrow import empty_as_null

    n = len(cells)
    head = empty_as_null(pc.utf8_trim_whitespace(cells.slice(0, 1000)))
    trimmed: pa.ChunkedArray | None = None
    if pc.all(pc.fill_null(pc.match_substring_regex(head, _ISO_HEAD), True)).as_py():
        # Arrow's ISO cast refuses a cell with blanks around it: when the cells as written
        # cast, none has any, and trimming (a copy of millions of cells) changes nothing.
        as_written = empty_as_null(cells)
        for zone in (None, "UTC"):
            for text in (as_written, None):
                if text is None:
                    if trimmed is None:
                        trimmed = empty_as_null(pc.utf8_trim_whitespace(cells))
                    text = trimmed
                try:
                    stamped = pc.cast(text, pa.timestamp("ns", tz=zone))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    continue
                longest = pc.max(pc.utf8_length(text)).as_py() or 0
                instant = np.asarray(stamped.to_numpy(zero_copy_only=False), dtype="datetime64[ns]")
                if not instant.flags.writeable:
                    instant = instant.copy()
                day = None  # naive: the instant's own date
                if zone is not None:  # the day as written (local), not the UTC one
                    local = pc.cast(pc.utf8_slice_codeunits(text, 0, 10), pa.date32())
                    day = np.asarray(local.to_numpy(zero_copy_only=False), dtype="datetime64[ns]")
                zoned = np.full(n, zone is not None) & ~np.isnat(instant)
                return Stamps(instant, zoned, longest > 10, day)
    text = trimmed if trimmed is not None else empty_as_null(pc.utf8_trim_whitespace(cells))
    from cstool.validate import read_dates

    plain = pc.fill_null(text, "").combine_chunks()
    read = read_dates(plain, settings.input.date_formats(), label=role)
    day = read.dates.to_numpy(dtype="datetime64[ns]")
    parts = pc.extract_regex(plain, _TIME_OF_DAY)
    present = np.asarray(pc.is_valid(parts).to_numpy(zero_copy_only=False), dtype=bool)

    def number(name: str) -> np.ndarray:
        cells = parts.field(name)
        part = pc.cast(pc.if_else(pc.equal(cells, ""), None, cells), pa.int64())
        return np.asarray(pc.fill_null(part, 0).to_numpy(zero_copy_only=False), dtype=np.int64)

    hour, minute, second = number("hour"), number("minute"), number("second")
    ampm = pc.utf8_lower(pc.fill_null(parts.field("ampm"), ""))
    pm = np.asarray(pc.equal(ampm, "p").to_numpy(zero_copy_only=False), dtype=bool)
    twelve = np.asarray(pc.not_equal(ampm, "").to_numpy(zero_copy_only=False), dtype=bool)
    wrong = present & (
        (minute > 59) | (second > 59) | np.where(twelve, (hour < 1) | (hour > 12), hour > 23)
    )
    hour = np.where(twelve, hour % 12 + np.where(pm, 12, 0), hour)
    zone = pc.fill_null(parts.field("zone"), "")
    zoned = np.asarray(pc.not_equal(zone, "").to_numpy(zero_copy_only=False), dtype=bool)
    offset = pc.extract_regex(zone, r"(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})?$")
    sign = np.where(
        np.asarray(pc.equal(pc.fill_null(offset.field("sign"), "+"), "-").to_numpy(False), bool),
        -1,
        1,
    )

    def offset_part(name: str) -> np.ndarray:
        part = pc.fill_null(offset.field(name), "0")
        part = pc.if_else(pc.equal(part, ""), "0", part)
        return np.asarray(pc.cast(part, pa.int64()).to_numpy(zero_copy_only=False), np.int64)

    zone_h, zone_m = offset_part("h"), offset_part("m")
    wrong |= (zone_h > 14) | (zone_m > 59)
    seconds = hour * 3600 + minute * 60 + second - sign * (zone_h * 3600 + zone_m * 60)
    unreadable = read.bad | wrong
    if unreadable.any():
        bad.append(BadCells(role, unreadable, read.expected + ", with an optional time of day"))
    day = np.where(unreadable, np.datetime64("NaT"), day)
    instant = day + seconds.astype("timedelta64[s]").astype("timedelta64[ns]")
    return Stamps(instant, zoned & ~np.isnat(day), bool(present.any()), day)


def _text(cells: pa.ChunkedArray) -> pd.Series:
    from cstool.validate.cells import text_column, trimmed

    return text_column(trimmed(cells))


def _first_by(where: np.ndarray, lines: np.ndarray, size: int) -> np.ndarray:
    """The smallest line per customer position (inf where none)."""
    import numpy as np

    if lines.dtype.kind != "i":
        first = np.full(size, np.inf)
        np.minimum.at(first, where, lines.astype(np.float64))
        return first
    # Whole lines: the minimum over the integers (no float copy of millions of lines).
    none = np.iinfo(lines.dtype).max
    smallest = np.full(size, none, dtype=lines.dtype)
    np.minimum.at(smallest, where, lines)
    return np.where(smallest == none, np.inf, smallest.astype(np.float64))


def _frame(pos: np.ndarray, lines: np.ndarray, **columns: Any) -> pd.DataFrame:
    """The matched rows only, with their customer position and line."""
    import pandas as pd

    keep = pos >= 0
    data: dict[str, Any] = {"pos": pos[keep], "line": lines[keep]}
    for name, values in columns.items():
        data[name] = values[keep] if not isinstance(values, pd.Series) else values[keep].array
    return pd.DataFrame(data)


def _last_by(pos: pd.Series, when: pd.Series, line: pd.Series) -> np.ndarray:
    """Row of the latest `when` (then the last line) per position, in position order: what
    a stable sort by (pos, when, line), missing `when` first, then the last row of each
    position gives.

    Where the lines rise row by row (a file's order), that row is found without a sort:
    the latest `when` per position, then the last line among the rows that have it.
    """
    import numpy as np

    where = pos.to_numpy()
    # NaT is the smallest datetime64 integer: it comes first, as na_position="first".
    stamp = when.to_numpy(dtype="datetime64[ns]").view(np.int64)
    lines = line.to_numpy()
    if len(where) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(lines) > 1 and not bool(np.all(lines[1:] > lines[:-1])):
        order = np.lexsort((lines, stamp, where))
        ends = np.ones(len(order), dtype=bool)
        ends[:-1] = where[order[1:]] != where[order[:-1]]
        return order[ends]
    size = int(where.max()) + 1
    latest = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, where, stamp)
    rows = np.flatnonzero(stamp == latest[where])  # rising: the last of them is the one
    chosen = np.full(size, -1, dtype=np.int64)
    np.maximum.at(chosen, where[rows], rows)
    return chosen[chosen >= 0]


def _run_extreme(
    stamps: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    index: pd.Index,
    op: str,
    use: np.ndarray | None = None,
) -> pd.Series:
    """The earliest or latest date of each run of `order` (runs begin at `starts`), NaT
    left out as pandas' grouped min and max leave it out; `use` picks the rows counted."""
    import numpy as np
    import pandas as pd

    nat = np.iinfo(np.int64).min
    values = np.asarray(stamps, dtype="datetime64[ns]").view(np.int64)[order]
    if op == "min":  # NaT (and the rows not used) above every date: never the minimum
        skip = values == nat if use is None else (values == nat) | ~use
        found = np.minimum.reduceat(np.where(skip, np.iinfo(np.int64).max, values), starts)
        found = np.where(found == np.iinfo(np.int64).max, nat, found)
    else:  # NaT is the smallest datetime64 integer: never the maximum but of all-NaT
        found = np.maximum.reduceat(values if use is None else np.where(use, values, nat), starts)
    return pd.Series(found.view("datetime64[ns]"), index=index)


def subscriptions(
    cols: Columns,
    headers: dict[str, str],
    pos: np.ndarray,
    lines: np.ndarray,
    settings: Settings,
    spec: SourceSettings,
    *,
    as_of: date | None = None,
) -> tuple[Supplied, list[BadCells]]:
    """MRR (amount × quantity per month, paying subscriptions only), plan, renewal, status,
    churn date, signup.

    A cancelled subscription whose own end (`Ends At`, `Ended At`) is after `as_of` is
    cancelling, not churned: it pays until then (Lemon Squeezy's `cancelled`), and that end
    is its renewal and cancel date."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from cstool.read import normalise_header

    n = len(pos)
    bad: list[BadCells] = []
    amount = np.full(n, np.nan)
    if "amount" in cols:
        amount = _numbers(cols["amount"], "amount", bad, "an amount like 29.00", money=True)
        if "cents" in normalise_header(headers["amount"]):  # `Amount (in cents)`
            amount = amount / 100.0
    quantity = np.ones(n)
    if "quantity" in cols:
        q = _numbers(cols["quantity"], "quantity", bad, "a number of units like 2")
        quantity = np.where(np.isnan(q), 1.0, q)
    per_month = np.ones(n)
    if "interval" in cols:
        interval = _Coded(cols["interval"])
        known = pa.array(list(INTERVAL_PER_MONTH))
        index = interval.map(lambda k: pc.index_in(k, value_set=known))
        index = index.to_numpy(zero_copy_only=False)
        factors = np.array(list(INTERVAL_PER_MONTH.values()))
        blank = interval.map(lambda k: pc.equal(k, ""))
        empty = np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)
        unknown = np.isnan(index.astype(np.float64)) & ~empty
        if unknown.any():
            bad.append(BadCells("interval", unknown, "month, year, week or day"))
        found = np.nan_to_num(index.astype(np.float64), nan=0).astype(np.int64)
        per_month = np.where(np.isnan(index.astype(np.float64)), 1.0, factors[found])
    if "interval_count" in cols:
        count = _numbers(cols["interval_count"], "interval_count", bad, "a whole number ≥ 1")
        per_month = per_month / np.where(np.isnan(count) | (count <= 0), 1.0, count)
    active = STATUS_RANK["active"]
    rank = np.full(n, active, dtype=np.int64)
    if "status" in cols:
        statuses = pa.array(list(SUBSCRIPTION_STATUS))
        mapped = _Coded(cols["status"]).map(lambda k: pc.index_in(k, value_set=statuses))
        lut = np.array([STATUS_RANK[v] for v in SUBSCRIPTION_STATUS.values()], dtype=np.int64)
        idx = mapped.to_numpy(zero_copy_only=False).astype(np.float64)
        rank = np.where(np.isnan(idx), active, lut[np.nan_to_num(idx).astype(np.int64)])
    if "at_period_end" in cols:
        flag = pc.is_in(pc.utf8_lower(cols["at_period_end"]), value_set=pa.array(TRUE_WORDS))
        flagged = np.asarray(flag.to_numpy(zero_copy_only=False), dtype=bool)
        rank = np.where(flagged & (rank == active), STATUS_RANK["cancelling"], rank)
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    period_end = (
        _dates(cols["period_end"], "period_end", settings, bad) if "period_end" in cols else nat
    )
    start = _dates(cols["start"], "start", settings, bad) if "start" in cols else nat
    ended = _dates(cols["canceled"], "canceled", settings, bad) if "canceled" in cols else nat
    if as_of is not None:
        runs_on = (rank == STATUS_RANK["churned"]) & (ended > np.datetime64(as_of, "ns"))
        if runs_on.any():  # NaT compares False: an end on record only
            rank = np.where(runs_on, STATUS_RANK["cancelling"], rank)
            period_end = np.where(runs_on & np.isnat(period_end), ended, period_end)
    paying = np.isin(rank, [STATUS_RANK[s] for s in PAYING])
    mrr = np.where(paying, np.nan_to_num(amount) * quantity * per_month, 0.0)
    plan = _text(cols["plan"]) if "plan" in cols else pd.Series([None] * n, dtype="string")
    out = Supplied()
    keep = pos >= 0
    if not keep.any():
        return out, bad
    every = bool(keep.all())  # the matched rows' arrays, without a frame of them

    def kept(values: np.ndarray) -> np.ndarray:
        return values if every else values[keep]

    # One lexsort of the arrays by (pos, rank, mrr, line): each customer's rows are then
    # side by side, the most alive (and biggest) subscription last, and the minima and
    # maxima are reductions over those runs: no hashing of positions per field. (The
    # line makes every key distinct, so it is the order a stable frame sort gives.)
    where = kept(pos)
    line = kept(lines)
    ranks = kept(rank)
    order = np.lexsort((line, kept(mrr), ranks, where))
    ordered = where[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    last = np.r_[starts[1:], len(order)] - 1
    index = pd.Index(ordered[starts], name="pos")
    sorted_lines = line[order]
    ranks = ranks[order]
    first_line = pd.Series(np.minimum.reduceat(sorted_lines, starts), index=index, name="line")
    # MRR by pandas' grouped sum: its compensated summation is what the figures have been.
    out.values["mrr"] = (
        pd.Series(kept(mrr), name="mrr").groupby(pd.Index(where, name="pos"), sort=True).sum()
    )
    out.lines["mrr"] = first_line
    best = pd.Series(ranks[last], index=index, name="rank")
    by_rank = {v: k for k, v in STATUS_RANK.items()}
    out.values["subscription_status"] = pd.Series(
        best.map(by_rank).astype(object), index=best.index, dtype=_text_dtype()
    )
    out.lines["subscription_status"] = first_line
    churned = best == STATUS_RANK["churned"]
    out.values["churned_at"] = _run_extreme(kept(ended), order, starts, index, "max").where(churned)
    out.lines["churned_at"] = first_line
    live = ranks > STATUS_RANK["churned"]
    has_live = np.maximum.reduceat(live.astype(np.int8), starts) > 0
    live_index = index[has_live]
    renewal = _run_extreme(kept(period_end), order, starts, index, "min", live)[has_live]
    out.values["renewal_date"] = renewal
    unused = np.iinfo(line.dtype).max if line.dtype.kind in "iu" else np.inf
    live_lines = np.minimum.reduceat(np.where(live, sorted_lines, unused), starts)[has_live]
    out.lines["renewal_date"] = pd.Series(live_lines, index=live_index, name="line")
    cancelling = best == STATUS_RANK["cancelling"]
    out.values["cancel_at"] = renewal.reindex(best.index).where(cancelling)
    out.lines["cancel_at"] = first_line
    out.values["signup_date"] = _run_extreme(kept(start), order, starts, index, "min")
    out.lines["signup_date"] = first_line
    # The plan of the biggest subscription still alive, else of the newest one: the last
    # row of each customer's run.
    chosen = order[last]
    plans = plan.array if every else plan.array[keep]
    out.values["plan"] = pd.Series(plans[chosen], index=index, name="plan").astype(_text_dtype())
    out.lines["plan"] = pd.Series(line[chosen], index=index, name="line")
    return out, bad


def tickets(
    cols: Columns,
    headers: dict[str, str],
    pos: np.ndarray,
    lines: np.ndarray,
    settings: Settings,
    spec: SourceSettings,
) -> tuple[Supplied, list[BadCells]]:
    """Open tickets (new, open, pending, hold), the last ticket's date, share rated good,
    share of solved tickets solved within `solve_target_hours` of their creation."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(pos)
    bad: list[BadCells] = []
    is_open = np.zeros(n, dtype=bool)
    if "status" in cols:
        waiting = pa.array(OPEN_TICKET)
        flag = _Coded(cols["status"]).map(lambda k: pc.is_in(k, value_set=waiting))
        is_open = np.asarray(flag.to_numpy(zero_copy_only=False), dtype=bool)
    created_at = _stamps(cols["created"], "created", settings, bad) if "created" in cols else None
    good = np.zeros(n, dtype=bool)
    rated = np.zeros(n, dtype=bool)
    if "rating" in cols:
        rating = _Coded(cols["rating"])
        is_good = rating.map(lambda k: pc.or_(pc.starts_with(k, "good"), pc.equal(k, "satisfied")))
        is_bad = rating.map(lambda k: pc.or_(pc.starts_with(k, "bad"), pc.equal(k, "unsatisfied")))
        good = np.asarray(pc.fill_null(is_good, False).to_numpy(zero_copy_only=False), bool)
        # (a rating is good or bad, never both: rated counts each once)
        rated = good | np.asarray(pc.fill_null(is_bad, False).to_numpy(zero_copy_only=False), bool)
    solved = on_time = None
    if created_at is not None and "solved" in cols:
        solved_at = _stamps(cols["solved"], "solved", settings, bad)
        # Hours need times of day on both sides: dates alone would make 24 h mean "a day".
        if created_at.timed and solved_at.timed:
            both = ~np.isnat(created_at.instant) & ~np.isnat(solved_at.instant)
            # A zoned and an unzoned stamp on one ticket cannot be subtracted: the zone of
            # the unzoned one is unknown. Two unzoned ones share the export's zone.
            mixed = both & (created_at.zoned != solved_at.zoned)
            if mixed.any():
                form = "with" if bool(created_at.zoned[np.flatnonzero(mixed)[0]]) else "without"
                bad.append(
                    BadCells("solved", mixed, f"a time {form} a zone, as the ticket's creation")
                )
            taken = solved_at.instant - created_at.instant
            early = both & ~mixed & (taken < np.timedelta64(0, "s"))
            if early.any():
                bad.append(BadCells("solved", early, "a time after the ticket's creation"))
            solved_ok = both & ~mixed & ~early
            target = np.timedelta64(round(spec.solve_target_hours * 3600), "s")
            solved = solved_ok
            on_time = solved_ok & (taken <= target)
    out = Supplied(fill={"open_tickets": 0})
    keep = pos >= 0
    if not keep.any():
        return out, bad
    # Counts by np.bincount over customer positions: one pass, no hashing and no frame of
    # the matched rows (millions of tickets).
    import pandas as pd

    every = bool(keep.all())  # (then no copy of each 5M-row column for the matched rows)

    def kept(values: np.ndarray) -> np.ndarray:
        return values if every else values[keep]

    where = kept(pos)
    size = int(where.max()) + 1
    seen = np.bincount(where, minlength=size) > 0
    index = pd.Index(np.flatnonzero(seen))
    first_line = pd.Series(_first_by(where, kept(lines), size)[seen], index=index)
    # Counts of flagged rows as counts of their positions: whole numbers, as the sums of
    # 0/1 weights were, without a float copy of each 5M-row flag.
    opened = np.bincount(where[kept(is_open)], minlength=size)[seen]
    out.values["open_tickets"] = pd.Series(opened.round().astype(np.int64), index=index).astype(
        "Int64"
    )
    out.lines["open_tickets"] = first_line
    # NaT is the smallest datetime64 integer: a maximum over the integers skips it.
    newest = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
    if created_at is not None and created_at.written_day is None:
        # Naive stamps: the day is the instant's, floored; flooring keeps the order, so the
        # latest day is the latest instant's, floored per customer (not per ticket).
        np.maximum.at(newest, where, kept(created_at.instant).view(np.int64))
        newest = _midnight(newest.view("datetime64[ns]")).view(np.int64)
    elif created_at is not None:
        np.maximum.at(newest, where, kept(created_at.day).view(np.int64))
    out.values["last_ticket_date"] = pd.Series(newest[seen].view("datetime64[ns]"), index=index)
    out.lines["last_ticket_date"] = first_line

    def share(part: np.ndarray, whole: np.ndarray) -> pd.Series:
        top = np.bincount(where[kept(part)], minlength=size)[seen]
        bottom = np.bincount(where[kept(whole)], minlength=size)[seen]
        with np.errstate(invalid="ignore", divide="ignore"):
            return pd.Series(np.where(bottom > 0, top / bottom, np.nan), index=index)

    if "rating" in cols:
        out.values["tickets_rated_good"] = share(good, rated)
        out.lines["tickets_rated_good"] = first_line
    if solved is not None and on_time is not None:
        out.values["tickets_solved_on_time"] = share(on_time, solved)
        out.lines["tickets_solved_on_time"] = first_line
    return out, bad


def surveys(
    cols: Columns,
    headers: dict[str, str],
    pos: np.ndarray,
    lines: np.ndarray,
    settings: Settings,
    spec: SourceSettings,
) -> tuple[Supplied, list[BadCells]]:
    """The latest scored answer per customer: nps, nps_date, nps_comment."""
    import numpy as np
    import pandas as pd

    n = len(pos)
    bad: list[BadCells] = []
    score = _numbers(cols["score"], "score", bad, "a whole number from 0 to 10")
    wrong = ~np.isnan(score) & ((score < 0) | (score > 10) | (score != np.floor(score)))
    if wrong.any():
        bad.append(BadCells("score", wrong, "a whole number from 0 to 10"))
        score = np.where(wrong, np.nan, score)
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    when = _dates(cols["date"], "date", settings, bad) if "date" in cols else nat
    columns: dict[str, Any] = {"score": score, "when": when}
    if "comment" in cols:
        columns["comment"] = _text(cols["comment"])
    scored_pos = np.where(np.isnan(score), -1, pos)  # partial answers without a score: ignored
    rows = _frame(scored_pos, lines, **columns)
    out = Supplied()
    if rows.empty:
        return out, bad
    latest = rows.iloc[_last_by(rows["pos"], rows["when"], rows["line"])].set_index("pos")
    out.values["nps"] = latest["score"].round().astype("Int64")
    out.values["nps_date"] = latest["when"]
    if "comment" in latest.columns:
        out.values["nps_comment"] = latest["comment"].astype(_text_dtype())
    else:  # no comment column: none for everyone answered
        out.values["nps_comment"] = pd.Series(
            pd.NA, index=latest.index, dtype=_text_dtype(), name="comment"
        )
    for name in ("nps", "nps_date", "nps_comment"):
        out.lines[name] = latest["line"]
    return out, bad


def crm(
    cols: Columns,
    headers: dict[str, str],
    pos: np.ndarray,
    lines: np.ndarray,
    settings: Settings,
    spec: SourceSettings,
) -> tuple[Supplied, list[BadCells]]:
    """Name, stage, owner and last activity (as last_contact) from the newest row per customer."""
    import numpy as np
    import pyarrow.compute as pc

    n = len(pos)
    bad: list[BadCells] = []
    columns: dict[str, Any] = {}
    if "name" in cols:
        columns["name"] = _text(cols["name"])
    elif "first_name" in cols or "last_name" in cols:
        parts = [pc.utf8_trim_whitespace(cols[p]) for p in ("first_name", "last_name") if p in cols]
        joined = pc.utf8_trim_whitespace(pc.binary_join_element_wise(*parts, " "))
        columns["name"] = _text(joined)
    for role in ("stage", "owner"):
        if role in cols:
            columns[role] = _text(cols[role])
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    last = (
        _dates(cols["last_activity"], "last_activity", settings, bad)
        if "last_activity" in cols
        else nat
    )
    rows = _frame(pos, lines, last=last, **columns)
    out = Supplied()
    if rows.empty:
        return out, bad
    ordered = rows.sort_values(["pos", "last", "line"], kind="stable", na_position="first")
    newest = ordered.drop_duplicates("pos", keep="last").set_index("pos")
    for name in columns:
        out.values[name] = newest[name].astype(_text_dtype())
        out.lines[name] = newest["line"]
    if "last_activity" in cols:
        out.values["last_contact"] = newest["last"]
        out.lines["last_contact"] = newest["line"]
    return out, bad


def generic(
    columns: dict[str, pa.ChunkedArray],
    pos: np.ndarray,
    lines: np.ndarray,
    settings: Settings,
    fields: dict[str, str],
    aggregations: list[AggregationSettings],
) -> tuple[Supplied, list[BadCells]]:
    """Configured fields (the last row's value per customer) and aggregations per customer.

    `columns` holds the source's columns by header as written.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from cstool.schema import KIND
    from cstool.validate.cells import convert

    bad: list[BadCells] = []
    out = Supplied()
    keep = pos >= 0
    for name, header in fields.items():
        cells = _column(columns, header, f"fields.{name}")
        if name in KIND:
            values, checks = convert(name, cells, settings)
            for check in checks:
                if check.mask.any():
                    bad.append(BadCells(header, check.mask, check.expected))
            series = pd.Series(values)
        else:
            series = _text(cells)
        filled = keep & series.notna().to_numpy()
        rows = pd.DataFrame({"pos": pos[filled], "line": lines[filled]})
        rows["value"] = series[filled].array
        last = rows.drop_duplicates("pos", keep="last").set_index("pos")
        out.values[name] = last["value"]
        out.lines[name] = last["line"]
    for agg in aggregations:
        name = agg.field
        where = np.ones(len(pos), dtype=bool)
        for header, wanted in agg.where.items():
            cells = _Coded(_column(columns, header, f"aggregations.{name}.where"))
            allowed = pa.array([_normal(v) for v in wanted])
            chosen = cells.map(functools.partial(pc.is_in, value_set=allowed))
            where &= np.asarray(chosen.to_numpy(zero_copy_only=False), dtype=bool)
        op = agg.op
        if op in ("count", "count_where", "share_where"):
            hit = where if op != "count" else np.ones(len(pos), dtype=bool)
            rows = _frame(pos, lines, hit=hit.astype(np.float64))
            groups = rows.groupby("pos", sort=True)
            result = groups["hit"].mean() if op == "share_where" else groups["hit"].sum()
            if op != "share_where":
                result = result.round().astype("Int64")
                out.fill[name] = 0
            out.values[name] = result
            out.lines[name] = groups["line"].min()
            continue
        if agg.column is None:
            raise ConfigError(f"[[sources]] aggregations.{name}: op {op!r} needs a column")
        cells = _column(columns, agg.column, f"aggregations.{name}.column")
        if op in ("sum", "mean", "min", "max"):
            values = _numbers(cells, agg.column, bad, "a number", money=True)
        else:  # latest / first: a text value, ordered by `by` (else the file's order)
            values = _objects(_text(cells))
        order = np.zeros(len(pos), dtype="datetime64[ns]")
        if agg.by is not None:
            order = _dates(
                _column(columns, agg.by, f"aggregations.{name}.by"), agg.by, settings, bad
            )
        present = pd.notna(values)
        rows = _frame(np.where(where & present, pos, -1), lines, value=values, order=order)
        if op in ("sum", "mean", "min", "max"):
            groups = rows.groupby("pos", sort=True)
            out.values[name] = getattr(groups["value"], op)()
            out.lines[name] = groups["line"].min()
        else:
            ordered = rows.sort_values(["pos", "order", "line"], kind="stable", na_position="first")
            pick = ordered.drop_duplicates("pos", keep="last" if op == "latest" else "first")
            pick = pick.set_index("pos")
            out.values[name] = pick["value"].astype(_text_dtype())
            out.lines[name] = pick["line"]
    return out, bad


def _objects(series: Any) -> Any:
    return series.to_numpy(dtype=object, na_value=None)


def _normal(text: str) -> str:
    import re

    return re.sub(r"[\W_]+", "", text.strip().lower())


def _column(columns: dict[str, pa.ChunkedArray], header: str, setting: str) -> pa.ChunkedArray:
    """A source column by its header (case and separators ignored); ConfigError if absent."""
    from cstool.read import normalise_header

    wanted = normalise_header(header)
    for name, cells in columns.items():
        if normalise_header(name) == wanted:
            return cells
    raise ConfigError(
        f"[[sources]] {setting} = {header!r}: the source has no such header",
        hint=f"headers in the file: {', '.join(repr(h) for h in columns)}",
    )


def _text_dtype() -> Any:
    from cstool.validate import text_dtype

    return text_dtype()


AGGREGATORS: dict[
    str,
    Callable[
        [Columns, dict[str, str], np.ndarray, np.ndarray, Settings, SourceSettings],
        tuple[Supplied, list[BadCells]],
    ],
] = {"subscriptions": subscriptions, "tickets": tickets, "surveys": surveys, "crm": crm}
