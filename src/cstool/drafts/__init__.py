"""Drafted outreach messages: a template per follow-up reason and per play, rendered sandboxed.

Which template a follow-up gets: its highest-priority reason (cancelling, payment, renewal,
red, health_drop, detractor, onboarding, in that order). A follow-up due only by its
cadence gets its segment's play template (the play is what a routine touch is for), or the
`cadence` template when the segment has none (a custom segment without an override). A
customer with nothing due gets its play's template the same way.

Templates are Jinja2 text, rendered in a sandbox (cstool.drafts.sandbox). Every value is
data, never template text: a name containing `{{ }}` is printed as it is. A missing value
is the empty text "", so `{% if plan %}…{% endif %}` leaves out a sentence without it
(for a number that may be 0 use `{% if nps is number %}`). An unknown name is an error.

| variable | value |
|---|---|
| name, customer_id, plan | text from the customer table |
| greeting_name | who to greet: a person's first name, "" for a company (drafts.greeting) |
| mrr | number (2 decimals at most; whole amounts without decimals) |
| renewal_date, last_touch, cancel_date, as_of | ISO dates, `2026-12-19` |
| days_to_renewal | whole days from as_of to renewal_date (0: today) |
| nps, open_tickets | whole numbers |
| nps_comment | the survey's comment, when a source provides one |
| days_since_touch | whole days since the last touch |
| reasons | the follow-up's reasons, a list of texts (`renews in 9 days (2026-12-02)`) |
| reason | the text of the reason that picked the template ("" for a play's) |
| play, segment | the segment's recommended action, and its name |
| health | 0–100, rounded |
| band | red, yellow or green |
| status | active, trial, paused, past_due, cancelling, churned or prospect (none: active) |
| owner_name, signature | `[outreach]` settings (signature defaults to owner_name) |
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstool.drafts.templates import PLAYS, REASONS, VARIABLES, TemplateSet, load_templates

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cstool.config import Settings

__all__ = [
    "PLAYS",
    "REASONS",
    "VARIABLES",
    "Draft",
    "TemplateSet",
    "customer_draft",
    "draft_messages",
    "load_templates",
    "outbox_name",
    "settings_templates",
]

MAX_SUBJECT_CHARS = 200
_RENDERED_KEPT = 20_000  # distinct rendered texts kept per run (each at most 20,000 chars)


@dataclass(frozen=True)
class Draft:
    """One drafted message: to whom, subject, body, and which template made it."""

    customer_id: str
    name: str | None
    to: str | None  # the customer's first email address (None: no valid address)
    subject: str
    body: str
    template: str  # a reason (`renewal`) or `play:<segment>`
    as_of: date
    language: str
    from_address: str | None = None
    from_name: str | None = None


def settings_templates(
    settings: Settings, *, root: Path | None = None, config_path: Path | None = None
) -> TemplateSet:
    """The templates for these settings (segment names from the rules in force), compiled."""
    from cstool.segments import DEFAULT_SEGMENTS

    rules = settings.segments if settings.segments is not None else DEFAULT_SEGMENTS
    names = [rule.name for rule in rules]
    return load_templates(settings.outreach, names, root=root, config_path=config_path)


def draft_messages(
    followups: pd.DataFrame,
    customers: pd.DataFrame,
    settings: Settings,
    as_of: date,
    *,
    templates: TemplateSet | None = None,
    root: Path | None = None,
    config_path: Path | None = None,
) -> list[Draft]:
    """A draft per follow-up (rows of `due_followups`, in their order).

    `customers` is the scored, segmented frame the follow-ups came from (it supplies plan,
    renewal date, NPS, tickets, status, …). Templates are compiled once (pass `templates`
    to reuse them); each row is a plain dict built from column lists.
    """
    import numpy as np
    import pyarrow.compute as pc

    from cstool.followup import _arrow_text

    ids = _arrow_text(followups["customer_id"])
    positions = pc.index_in(ids, value_set=_arrow_text(customers["customer_id"]))
    missing = positions.null_count
    if missing:
        raise ValueError(f"{missing} follow-ups are for customers not in the frame")
    where = np.asarray(positions.to_numpy(zero_copy_only=False), dtype=np.int64)
    reasons = _texts(followups, "reason")
    triggers = _texts(followups, "triggers")
    return _drafts(
        customers, where, reasons, triggers, settings, as_of, templates, root, config_path
    )


def customer_draft(
    frame: pd.DataFrame,
    settings: Settings,
    as_of: date,
    customer_id: str,
    logged: pd.DataFrame | None = None,
    snoozes: pd.DataFrame | None = None,
    *,
    earlier: pd.DataFrame | None = None,
    templates: TemplateSet | None = None,
    root: Path | None = None,
    config_path: Path | None = None,
) -> Draft:
    """One customer's draft: for its follow-up due by `as_of`, else for its play.

    An unknown ID is a UsageError with "did you mean".
    """
    import numpy as np

    from cstool.followup import due_followups
    from cstool.pipeline import customer_index

    index = customer_index(frame, customer_id)
    one = frame.iloc[[index]]
    due = due_followups(one, settings, as_of, as_of, logged, snoozes, earlier=earlier)
    if len(due):
        reasons, triggers = _texts(due, "reason"), _texts(due, "triggers")
    else:
        reasons, triggers = [""], [""]
    where = np.array([index], dtype=np.int64)
    (draft,) = _drafts(
        frame, where, reasons, triggers, settings, as_of, templates, root, config_path
    )
    return draft


def _drafts(
    customers: pd.DataFrame,
    where: np.ndarray[Any, Any],
    reasons: list[str],
    triggers: list[str],
    settings: Settings,
    as_of: date,
    templates: TemplateSet | None,
    root: Path | None,
    config_path: Path | None,
) -> list[Draft]:
    from cstool.drafts.sandbox import render, render_key, template_globals

    outreach = settings.outreach
    if templates is None:
        templates = settings_templates(settings, root=root, config_path=config_path)
    columns = _columns(customers, where, as_of)
    signature = outreach.signature or outreach.owner_name
    constants = {
        **template_globals(),
        "owner_name": outreach.owner_name,
        "signature": signature,
        "as_of": str(as_of),
    }
    ids: list[str] = columns["customer_id"]
    names: list[str] = columns["name"]
    emails = columns.pop("email")
    keys = list(columns)
    lists = [columns[k] for k in keys]
    from_address = outreach.from_address or None
    from_name = outreach.owner_name or None
    out: list[Draft] = []
    rendered: dict[tuple[Any, ...], str] = {}  # finished subject or body by render_key
    for i, row in enumerate(zip(*lists, strict=True)):  # rows as tuples, transposed in C
        values: dict[str, Any] = dict(zip(keys, row, strict=True))
        values.update(constants)
        texts = reasons[i].split("; ") if reasons[i] else []
        names_due = triggers[i].split(",") if triggers[i] else []
        chosen, reason = _choose(names_due, texts, values["segment"], templates)
        values["reasons"] = texts
        values["reason"] = reason
        template = templates.reasons.get(chosen)
        if template is None:
            template = templates.plays[chosen.removeprefix("play:")]
        # Many follow-ups share the few values a template reads (a subject often reads none):
        # each distinct one is rendered once (sandbox.render_key says why that is exact).
        subject_key = render_key(template.subject, values)
        subject = rendered.get(subject_key) if subject_key is not None else None
        if subject is None:
            subject = _one_line(render(template.subject, values))
            if subject_key is not None and len(rendered) < _RENDERED_KEPT:
                rendered[subject_key] = subject
        body_key = render_key(template.body, values)
        body = rendered.get(body_key) if body_key is not None else None
        if body is None:
            body = _tidy(render(template.body, values))
            if body_key is not None and len(rendered) < _RENDERED_KEPT:
                rendered[body_key] = body
        out.append(
            Draft(
                customer_id=ids[i],
                name=names[i] or None,
                to=emails[i],
                subject=subject,
                body=body,
                template=chosen,
                as_of=as_of,
                language=templates.language,
                from_address=from_address,
                from_name=from_name,
            )
        )
    return out


def _choose(
    due: Sequence[str], texts: Sequence[str], segment: str, templates: TemplateSet
) -> tuple[str, str]:
    """(template key, the reason text that picked it) for one follow-up."""
    aligned = len(texts) >= len(due)
    for key in REASONS:
        if key == "cadence" or key not in due:
            continue
        if key in templates.reasons:
            return key, texts[due.index(key)] if aligned else (texts[0] if texts else "")
    cadence = texts[due.index("cadence")] if "cadence" in due and aligned else ""
    if segment in templates.plays:
        return f"play:{segment}", cadence
    return "cadence", cadence


def _texts(frame: pd.DataFrame, name: str) -> list[str]:
    """A text column as a list of str ("" where missing or absent)."""
    if name not in frame.columns:
        return [""] * len(frame)
    return [v if isinstance(v, str) else "" for v in frame[name].astype("string").tolist()]


def _columns(customers: pd.DataFrame, where: np.ndarray[Any, Any], as_of: date) -> dict[str, Any]:
    """Each template variable taken from the frame at rows `where`, as plain Python lists."""
    import numpy as np
    import pyarrow as pa

    from cstool.drafts.greeting import greeting_names

    picked = customers.iloc[where]
    n = len(where)

    def text(name: str) -> list[str]:
        return _texts(picked, name)

    def days(name: str) -> np.ndarray[Any, Any]:
        from cstool.followup import _days

        return _days(picked, name)

    def iso(name: str) -> list[str]:
        values = days(name)
        out = np.full(n, "", dtype=object)
        known = ~np.isnan(values)
        out[known] = np.datetime_as_string(values[known].astype("datetime64[D]"), unit="D")
        return list(out.tolist())

    def whole(values: np.ndarray[Any, Any]) -> list[Any]:
        out = np.full(n, "", dtype=object)
        known = ~np.isnan(values)
        out[known] = np.round(values[known]).astype(np.int64)
        return [int(v) if v != "" else "" for v in out.tolist()]

    def number(name: str) -> np.ndarray[Any, Any]:
        from cstool.followup import _numbers

        return _numbers(picked, name)

    today = float((as_of - date(1970, 1, 1)).days)
    mrr = np.round(number("mrr"), 2)
    money = np.full(n, "", dtype=object)
    known = ~np.isnan(mrr)
    is_whole = known & (mrr == np.trunc(np.nan_to_num(mrr)))
    money[known] = mrr[known]
    money[is_whole] = mrr[is_whole].astype(np.int64)
    status = text("status")
    columns: dict[str, Any] = {
        "customer_id": text("customer_id"),
        "name": text("name"),
        "greeting_name": greeting_names(picked),
        "email": first_addresses(pa.array(text("email"), pa.string())),
        "plan": text("plan"),
        "mrr": [v.item() if hasattr(v, "item") else v for v in money.tolist()],
        "renewal_date": iso("renewal_date"),
        "days_to_renewal": whole(days("renewal_date") - today),
        "nps": whole(number("nps")),
        "nps_comment": text("nps_comment"),
        "open_tickets": whole(number("open_tickets")),
        "last_touch": iso("last_touch"),
        "days_since_touch": whole(today - days("last_touch")),
        "play": text("play"),
        "segment": text("segment"),
        "health": whole(number("health")),
        "band": text("band"),
        "status": [s or "active" for s in status],
        "cancel_date": iso("cancel_date"),
    }
    return columns


# An address as `.eml` headers can carry it unencoded: ASCII local part and domain.
_ADDRESS = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def first_addresses(cells: Any) -> list[str | None]:
    """The first address of each email cell (`a@x.com; Ann <b@y.com>`), column-wise.

    None where the cell is empty or its first entry is not a plain address.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from cstool.followup import _arrow_text

    text = cells if isinstance(cells, pa.Array) else _arrow_text(cells)
    first = pc.replace_substring_regex(text, r"(?s)[,;].*$", "")
    inside = pc.replace_substring_regex(first, r"(?s)^.*<([^<>]*)>.*$", r"\1")
    address = pc.utf8_trim_whitespace(inside)
    valid = pc.fill_null(pc.match_substring_regex(address, _ADDRESS), False)
    chosen = pc.if_else(valid, address, pa.scalar(None, pa.string()))
    return list(chosen.to_pylist())


def _first_address(cell: str) -> str | None:
    """The first address of one email cell (see first_addresses)."""
    import pyarrow as pa

    return first_addresses(pa.array([cell], pa.string()))[0]


_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """Text as one header-safe line: every line break and control character becomes a space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _one_line(text: str) -> str:
    line = one_line(text)
    return line if len(line) <= MAX_SUBJECT_CHARS else line[: MAX_SUBJECT_CHARS - 1] + "…"


_BLANK_RUN = re.compile(r"\n{3,}")
# Control characters other than tab and line feed (an ESC in a name must not reach a terminal).
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029]")


def _tidy(body: str) -> str:
    """Trailing spaces off each line, at most one blank line in a row, one final newline."""
    body = _BODY_CONTROL.sub("", body.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in body.split("\n")]
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip("\n") + "\n"


_UNSAFE_NAME = re.compile(r"[^\w.-]+")


def outbox_name(as_of: date, customer_id: str, suffix: str) -> str:
    """`<as_of>-<customer_id sanitised><suffix>`, stable; a changed ID gets a short hash."""
    if customer_id.isascii() and customer_id.isalnum() and len(customer_id) <= 80:
        return f"{as_of.isoformat()}-{customer_id}{suffix}"  # nothing to sanitise
    safe = _UNSAFE_NAME.sub("_", customer_id).strip("._") or "customer"
    if safe != customer_id or len(safe) > 80:
        digest = hashlib.sha256(customer_id.encode("utf-8")).hexdigest()[:8]
        safe = f"{safe[:80]}-{digest}"
    return f"{as_of.isoformat()}-{safe}{suffix}"
