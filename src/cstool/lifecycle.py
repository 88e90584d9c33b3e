"""Lifecycle status per customer: from the file's stage/status columns and churn dates.

Adds the shared-contract columns `status` (pandas "string": one of STATUSES, or <NA> when
the file says nothing, which counts as active), `churn_date` and `cancel_date`
(datetime64[ns]), column-wise. Billing exports (Stripe, Chargebee) arrive as the file's own
columns under their original headers, so they are found by their normalised header.

How the evidence combines, per customer:
- a `status` column (e.g. Stripe's, beside a CRM `Stage`) wins where it names a status;
  the `stage` column fills in where it does not;
- an end date on or before `as_of` makes a customer the file says nothing about churned;
  a scheduled end (Stripe's `Cancel At`, or `Current Period End` with `Cancel At Period End`)
  that has come makes an active or cancelling customer churned;
- an end still to come (or `Cancel At Period End` without a date) makes an active customer,
  or one the file says nothing about, cancelling;
- `Delinquent` = true makes such a customer past_due (cancelling and churned win over it).
A value that is none of the known ones is left <NA> and listed in
`frame.attrs[UNKNOWN_ATTR]`, so `validate` can ask for it to be mapped under [lifecycle].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, get_args

from cstool.config import NOT_LIVE_STATUSES, LifecycleStatus, lifecycle_key

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from cstool.config import Settings

STATUSES: tuple[str, ...] = get_args(LifecycleStatus)
# Live customers count in the live KPIs and get follow-ups: all but churned, paused, prospect.
LIVE_STATUSES: tuple[str, ...] = ("active", "trial", "past_due", "cancelling")
UNKNOWN_ATTR = "lifecycle_unknown"
BAD_DATES_ATTR = "lifecycle_bad_dates"

_CODE = {name: i for i, name in enumerate(STATUSES)}
_NOTHING = -1  # the file says nothing: <NA>
_UNKNOWN = -2  # a value cstool does not understand: <NA>, and reported

_BUILTIN_SPELLINGS: dict[str, tuple[str, ...]] = {
    "active": (
        "active",
        "live",
        "customer",
        "paying",
        "paid",
        "subscribed",
        "won",
        "closed won",
        "current",
        # customer-success stages of a paying customer
        "onboarding",
        "adoption",
        "expansion",
        "renewal",
        "renewing",
        "at risk",
        "healthy",
        "advocate",
        "evangelist",
        "客户",
        "活跃",
        "活躍",
        "正常",
        "付费",
        "已付费",
        "续约",
        "aktiv",  # German
        "kunde",
        "bestandskunde",
        "actif",  # French
        "activo",  # Spanish
        "ativo",  # Portuguese
        "attivo",  # Italian
    ),
    "trial": (
        "trial",
        "trialing",
        "trialling",
        "in trial",
        "free trial",
        "evaluation",
        "试用",
        "testphase",  # German
        "testzeitraum",
        "essai",  # French
        "période d'essai",
        "en essai",
        "prueba",  # Spanish
        "periodo de prueba",
        "en prueba",
        "em teste",  # Portuguese
        "in prova",  # Italian
    ),
    "paused": (
        "paused",
        "on hold",
        "hold",
        "suspended",
        "暂停",
        "已暂停",
        "pausiert",  # German
        "ruhend",
        "en pause",  # French
        "suspendu",
        "pausado",  # Spanish, Portuguese
        "suspendido",
        "sospeso",  # Italian
    ),
    "past_due": (
        "past due",
        "unpaid",
        "delinquent",
        "overdue",
        "payment failed",
        "failed payment",
        "incomplete",  # Stripe: the first payment failed
        "逾期",
        "欠费",
        "付款失败",
        "zahlungsverzug",  # German
        "überfällig",
        "impayé",  # French
        "impagado",  # Spanish
    ),
    "cancelling": (
        "cancelling",
        "canceling",
        "cancels at period end",
        "cancelling at period end",
        "canceling at period end",
        "cancel at period end",
        "non renewing",
        "not renewing",
        "取消中",
        "待取消",
    ),
    "churned": (
        "churned",
        "churn",
        "cancelled",
        "canceled",
        "ended",
        "lost",
        "closed lost",
        "inactive",
        "former",
        "former customer",
        "incomplete expired",  # Stripe: never paid, the subscription ended
        "流失",
        "已流失",
        "已取消",
        "已结束",
        "停用",
        "已停用",
        "gekündigt",  # German
        "ehemalig",
        "ehemaliger kunde",
        "inaktiv",
        "verloren",
        "résilié",  # French
        "inactif",
        "ancien client",
        "perdu",
        "cancelado",  # Spanish, Portuguese
        "dado de baja",
        "baja",
        "inactivo",
        "perdido",
        "inativo",  # Portuguese
        "disdetto",  # Italian
        "cancellato",
        "inattivo",
    ),
    # Not a customer yet: the pre-customer stages of a CRM's contacts (HubSpot's lifecycle
    # stages, Pipedrive's and Salesforce's leads).
    "prospect": (
        "prospect",
        "prospective",
        "potential",
        "lead",
        "new lead",
        "open lead",
        "qualified lead",
        "subscriber",
        "marketing qualified lead",
        "mql",
        "sales qualified lead",
        "sql",
        "opportunity",
        "interessent",  # German
        "potenzieller kunde",
        "prospecto",  # Spanish, Portuguese
        "cliente potencial",
        "potentiel",  # French
        "潜在客户",
        "潛在客戶",
        "线索",
        "見込み客",
        "リード",
    ),
}
BUILTIN_VALUES: dict[str, str] = {
    lifecycle_key(spelling): status
    for status, spellings in _BUILTIN_SPELLINGS.items()
    for spelling in spellings
}

# The file's own columns that carry lifecycle facts, by normalised header.
_STATUS_HEADERS = frozenset(
    {
        "status",
        "subscriptionstatus",
        "customerstatus",
        "accountstatus",
        "lifecyclestatus",
        "billingstatus",
        "状态",
        "订阅状态",
        "客户状态",
    }
)
_ENDED_HEADERS = (  # the day it ended, in order of trust
    frozenset({"endedatutc", "endedat", "endedon", "enddateutc", "endeddate"}),
    frozenset({"churndate", "churnedat", "churnedatutc", "churnedon", "churneddate", "流失日期"}),
)
_CANCELED_HEADERS = frozenset(  # when it was cancelled: the end, unless at period end
    {
        "canceledatutc",
        "canceledat",
        "cancelledatutc",
        "cancelledat",
        "canceledon",
        "cancelledon",
        "canceleddate",
        "cancelleddate",
        "cancellationdate",
        "canceldate",
        "取消日期",
    }
)
_CANCEL_AT_HEADERS = frozenset({"cancelatutc", "cancelat", "cancelson", "cancelsat"})
_PERIOD_END_HEADERS = frozenset({"currentperiodendutc", "currentperiodend"})
_AT_PERIOD_END_HEADERS = frozenset({"cancelatperiodend"})
_DELINQUENT_HEADERS = frozenset({"delinquent"})
_TRUE = frozenset({"true", "yes", "y", "t", "1", "x", "是", "对"})


@dataclass(frozen=True)
class UnknownValue:
    """A stage/status value cstool did not understand, and on how many rows."""

    column: str
    value: str
    rows: int


def apply_lifecycle(frame: pd.DataFrame, settings: Settings, as_of: date) -> pd.DataFrame:
    """A copy of `frame` with `status`, `churn_date` and `cancel_date` added (see module doc).

    Values not understood are in `attrs[UNKNOWN_ATTR]` (a list of UnknownValue), date cells
    that are not dates in `attrs[BAD_DATES_ATTR]` (header -> count).
    """
    import numpy as np
    import pandas as pd

    n = len(frame)
    table = _value_table(settings)
    unknown: list[UnknownValue] = []
    bad_dates: dict[str, int] = {}
    roles = _columns_by_role(frame)

    stage = np.full(n, _NOTHING, dtype=np.int8)
    if "stage" in frame.columns:
        stage = _status_codes(frame["stage"], "stage", table, unknown)
    explicit = np.full(n, _NOTHING, dtype=np.int8)
    for column in roles["status"]:
        codes = _status_codes(frame[column], column, table, unknown)
        explicit = np.where(explicit >= 0, explicit, codes)
    base = np.where(explicit >= 0, explicit, stage).astype(np.int8)

    at_period_end = _any_flag(frame, roles["at_period_end"])
    delinquent = _any_flag(frame, roles["delinquent"])
    ended = _first_date(frame, roles["ended"], n, bad_dates)
    canceled = _first_date(frame, roles["canceled"], n, bad_dates)
    # Stripe: with cancel-at-period-end, Canceled At is when it was asked for, not the end.
    ended = np.where(np.isnat(ended) & ~at_period_end, canceled, ended)
    period_end = _first_date(frame, roles["period_end"], n, bad_dates)
    scheduled = _first_date(frame, roles["cancel_at"], n, bad_dates)
    scheduled = np.where(np.isnat(scheduled) & at_period_end, period_end, scheduled)
    end = np.where(np.isnat(ended), scheduled, ended)

    day = np.datetime64(as_of, "ns")
    came = ~np.isnat(end) & (end <= day)
    to_come = ~np.isnat(end) & (end > day)
    nothing = base < 0
    open_ = nothing | (base == _CODE["active"])  # what dates and flags may refine
    cancelling = base == _CODE["cancelling"]
    # An active customer with a past end date of its own (not a scheduled one) stays active:
    # the status is the newer fact (a customer who came back), the date history.
    scheduled_came = np.isnat(ended) & ~np.isnat(scheduled) & (scheduled <= day)
    status = base.copy()
    status[delinquent & open_] = _CODE["past_due"]
    status[open_ & (to_come | (at_period_end & np.isnat(end)))] = _CODE["cancelling"]
    status[(nothing & came) | ((open_ | cancelling) & scheduled_came) | (cancelling & came)] = (
        _CODE["churned"]
    )

    nat = np.datetime64("NaT", "ns")
    out = frame.copy(deep=False)
    out["status"] = _status_series(status, frame.index)
    out["churn_date"] = pd.Series(
        np.where(status == _CODE["churned"], end, nat), index=frame.index, dtype="datetime64[ns]"
    )
    out["cancel_date"] = pd.Series(
        np.where(status == _CODE["cancelling"], end, nat), index=frame.index, dtype="datetime64[ns]"
    )
    out.attrs[UNKNOWN_ATTR] = unknown
    out.attrs[BAD_DATES_ATTR] = bad_dates
    return out


def is_live(frame: pd.DataFrame) -> np.ndarray:
    """True for customers that are neither churned nor paused (no `status` column: all)."""
    import numpy as np

    if "status" not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    gone = frame["status"].isin(NOT_LIVE_STATUSES)
    return ~np.asarray(gone.to_numpy(dtype=bool, na_value=False), dtype=bool)


def unknown_values(frame: pd.DataFrame) -> list[UnknownValue]:
    """The stage/status values `apply_lifecycle` did not understand (most rows first)."""
    found = frame.attrs.get(UNKNOWN_ATTR, [])
    return list(found) if isinstance(found, list) else []


def unknown_values_message(frame: pd.DataFrame, limit: int = 5) -> str | None:
    """`stage values not understood: X (3 rows); map them under [lifecycle]`, or None."""
    found = unknown_values(frame)
    if not found:
        return None
    parts = []
    for column in dict.fromkeys(u.column for u in found):
        mine = [u for u in found if u.column == column]
        shown = ", ".join(
            f"{u.value} ({u.rows} row{'s' if u.rows != 1 else ''})" for u in mine[:limit]
        )
        more = f" and {len(mine) - limit} more" if len(mine) > limit else ""
        parts.append(f"{column} values not understood: {shown}{more}")
    example = found[0].value.replace('"', '\\"')
    return (
        "; ".join(parts)
        + f'; map them under [lifecycle] in cstool.toml, e.g. values = {{ "{example}" = "active" }}'
        + f" (one of {', '.join(STATUSES)}, or none for a value that is not a status)"
    )


def _value_table(settings: Settings) -> dict[str, int]:
    """Normalised value -> status code: the built-in spellings, then the user's [lifecycle]."""
    table = {key: _CODE[status] for key, status in BUILTIN_VALUES.items()}
    for value, status in settings.lifecycle.values.items():
        table[lifecycle_key(value)] = _NOTHING if status == "none" else _CODE[status]
    return table


def _columns_by_role(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The frame's columns that carry each lifecycle fact, matched by normalised header."""
    from cstool.read import normalise_header
    from cstool.schema import FIELDS

    roles: dict[str, list[str]] = {
        "status": [],
        "ended": [],
        "canceled": [],
        "cancel_at": [],
        "period_end": [],
        "at_period_end": [],
        "delinquent": [],
    }
    own = [c for c in frame.columns if isinstance(c, str) and c not in FIELDS]
    ended: list[list[str]] = [[] for _ in _ENDED_HEADERS]
    for column in own:
        if column in ("churn_date", "cancel_date"):
            # cstool's own columns from an earlier pass: churn_date is an end that came,
            # cancel_date one to come; read both as ends so a second pass changes nothing.
            ended[0].append(column)
            continue
        key = normalise_header(column)
        for tier, headers in enumerate(_ENDED_HEADERS):
            if key in headers:
                ended[tier].append(column)
        for role, headers in (
            ("status", _STATUS_HEADERS),
            ("canceled", _CANCELED_HEADERS),
            ("cancel_at", _CANCEL_AT_HEADERS),
            ("period_end", _PERIOD_END_HEADERS),
            ("at_period_end", _AT_PERIOD_END_HEADERS),
            ("delinquent", _DELINQUENT_HEADERS),
        ):
            if key in headers:
                roles[role].append(column)
    roles["ended"] = [c for tier in ended for c in tier]
    if not roles["period_end"] and "renewal_date" in frame.columns:
        # Readers map Stripe's `Current Period End (UTC)` to renewal_date: the same day.
        roles["period_end"] = ["renewal_date"]
    return roles


def _status_codes(
    values: pd.Series, column: str, table: dict[str, int], unknown: list[UnknownValue]
) -> np.ndarray:
    """Status code per row; distinct values are looked up once each, rows through numpy."""
    import numpy as np

    codes, uniques = _distinct(values)
    # the last slot answers code -1 (a missing cell): the file says nothing
    lut = np.full(len(uniques) + 1, _NOTHING, dtype=np.int8)
    misses: dict[str, list[int]] = {}  # normalised value -> its spellings' positions
    for i, value in enumerate(uniques):
        key = lifecycle_key(str(value))
        code = table.get(key, _UNKNOWN) if key else _NOTHING  # "-" or "—": nothing said
        if code == _UNKNOWN:
            misses.setdefault(key, []).append(i)
            code = _NOTHING
        lut[i] = code
    if misses:
        # `On Ice` and `on-ice` are one value to map: reported once, as most rows spell it
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        found = []
        for spellings in misses.values():
            common = min(spellings, key=lambda i: (-counts[i], str(uniques[i])))
            rows = int(counts[spellings].sum())
            found.append(UnknownValue(column, str(uniques[common]), rows))
        unknown.extend(sorted(found, key=lambda u: (-u.rows, u.value)))
    return np.asarray(lut[codes], dtype=np.int8)


def _distinct(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's position among the column's distinct cells (-1: missing), and those cells."""
    import numpy as np
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(_arrow_strings(values))
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary.to_pylist()


def _any_flag(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """True where any of the columns says true/yes/1 (distinct values looked up once)."""
    import numpy as np
    import pandas as pd

    out = np.zeros(len(frame), dtype=bool)
    for column in columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values.dtype):
            out |= values.to_numpy(dtype=bool, na_value=False)
            continue
        codes, uniques = _distinct(values)
        lut = np.zeros(len(uniques) + 1, dtype=bool)
        for i, value in enumerate(uniques):
            lut[i] = lifecycle_key(str(value)) in _TRUE
        out |= lut[codes]
    return out


def _first_date(
    frame: pd.DataFrame, columns: list[str], n: int, bad_dates: dict[str, int]
) -> np.ndarray:
    """The first date given among the columns, per row (NaT where none is)."""
    import numpy as np

    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    for column in columns:
        dates = _dates(frame[column], column, bad_dates)
        out = np.where(np.isnat(out), dates, out)
    return out


def _dates(values: pd.Series, column: str, bad_dates: dict[str, int]) -> np.ndarray:
    """A column as days: dates as cstool reads them, or Unix seconds (Stripe's API exports).

    Each distinct cell is parsed once, its time of day cut off (the written day counts, as
    in the customer table).
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from cstool.validate import parse_dates

    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        series = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
        return np.asarray(series.dt.normalize().to_numpy(dtype="datetime64[ns]"))
    encoded = pc.dictionary_encode(_arrow_strings(values))
    # the distinct cells, trimmed and without their time of day
    distinct = pc.replace_substring_regex(
        pc.utf8_trim_whitespace(encoded.dictionary),
        pattern=r"^(\d{4}-\d{1,2}-\d{1,2})[T ]\d{1,2}:\d{2}.*$",
        replacement=r"\1",
    )
    parsed, _missing, bad = parse_dates(pc.fill_null(distinct, ""))
    lut = parsed.to_numpy(dtype="datetime64[ns]", copy=True)
    if bad.any():
        cells = pd.Series(distinct.filter(pa.array(bad)).to_pylist(), dtype="string")
        epoch = cells.str.fullmatch(r"\d{9,10}").fillna(False).to_numpy(dtype=bool)
        if epoch.any():
            seconds = pd.to_numeric(cells[epoch].astype(object))
            stamps = pd.to_datetime(seconds, unit="s").dt.normalize()
            where = np.flatnonzero(bad)[epoch]
            lut[where] = stamps.to_numpy(dtype="datetime64[ns]")
            bad[where] = False
    # the last slot answers a missing cell
    lut = np.append(lut, np.datetime64("NaT", "ns"))
    indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    if bad.any():
        rows = int(np.bincount(indices[indices >= 0], minlength=len(bad))[bad].sum())
        bad_dates[column] = bad_dates.get(column, 0) + rows
    return np.asarray(lut[indices], dtype="datetime64[ns]")


def _arrow_strings(values: pd.Series) -> pa.Array:
    """A text column as one Arrow string array."""
    import pyarrow as pa

    try:
        array = pa.array(values.array, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers or mixed objects: as text
        array = pa.array(values.astype("string").array, type=pa.string(), from_pandas=True)
    # an Arrow-backed column may come in chunks (a big file is read in blocks)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _status_series(codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Status codes as a pandas "string" column (<NA> where the file said nothing)."""
    import pandas as pd
    import pyarrow as pa

    mask = codes < 0
    indices = pa.array(codes.astype("int8"), mask=mask)
    words = pa.DictionaryArray.from_arrays(indices, pa.array(STATUSES, pa.string()))
    strings = words.cast(pa.string())
    return pd.Series(pd.arrays.ArrowStringArray(strings), index=index, dtype="string[pyarrow]")
