"""Which kind of export a source is, and which of its columns plays which role, from headers.

Headers are compared in `normalise_header` form (case, spaces and punctuation ignored), so
`Current Period End (UTC)` is `currentperiodendutc`. Each role lists the spellings of the
real tools' exports, most specific first; the first header that matches wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cstool.read import normalise_header

KINDS = ("subscriptions", "tickets", "surveys", "crm", "generic")

# Where a row names the customer. A source column with the main table's own ID header
# counts too (see `key_columns`). Deliberately absent: a record's own ID (Stripe's `id` of a
# subscription, Zendesk's ticket `Id`, HubSpot's `Record ID`), which names the row.
ID_HEADERS = (
    "customerid",
    "customer",  # Stripe charges and invoices
    "requesterexternalid",  # Zendesk
    "externalid",
    "customerexternalid",
    "客户id",
    "客户编号",
)
EMAIL_HEADERS = (
    "customeremail",  # Stripe subscriptions
    "requesteremail",  # Zendesk
    "requester",  # Help Scout / Freshdesk: an address in the requester column
    "contactemail",
    "customer",
    "email",
    "emailaddress",  # SurveyMonkey, Google Forms
    "personemail",  # Pipedrive
    "primaryemail",
    "useremail",
    "电子邮件",
    "邮箱",
    "メールアドレス",
)
# Email-like headers that are never the customer's (the agent's, the owner's).
NOT_CUSTOMER_EMAIL = ("assignee", "submitter", "agent", "owner", "cc", "follower")

ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "subscriptions": {
        "record": ("id", "subscriptionid"),
        "status": ("status", "subscriptionstatus"),
        "plan": ("plan", "planname", "product", "productname", "price", "variantname"),
        "quantity": ("quantity", "qty", "seats"),
        "interval": (
            "interval",
            "planinterval",
            "billinginterval",
            "billingperiod",
            "billingcycle",
        ),
        "interval_count": ("intervalcount", "planintervalcount"),
        "amount": (
            "amount",
            "planamount",
            "unitamount",
            "amountincents",
            "unitprice",
            "price",
            "recurringprice",
            "total",
        ),
        "period_end": (
            "currentperiodendutc",
            "currentperiodend",
            "nextbilldate",  # Paddle
            "nextbillingdate",
            "renewsat",  # Lemon Squeezy
            "renewaldate",
        ),
        "start": ("startutc", "startdateutc", "start", "startdate", "createdutc", "createdat"),
        "canceled": (
            "endedatutc",
            "endedat",
            "canceledatutc",
            "canceledat",
            "cancelledatutc",
            "cancelledat",
            "cancellationdate",
            "endsat",
        ),
        "at_period_end": ("cancelatperiodend",),
    },
    "tickets": {
        "record": ("id", "ticketid", "ticket", "conversationid", "number"),
        "status": ("status", "ticketstatus", "state", "conversationstate"),
        "created": (
            "createdat",
            "created",
            "createdtime",  # Freshdesk
            "createddate",
            "datecreated",
            "createdutc",
            "conversationcreatedat",  # Intercom
            "conversationstartedat",
        ),
        "solved": (
            "solvedat",  # Zendesk
            "resolvedtime",  # Freshdesk (its `Closed time` comes later)
            "resolvedat",
            "closedat",  # Help Scout
            "closedtime",
            "conversationclosedat",  # Intercom
            "lastclosedat",
            "conversationlastclosedat",
            "solveddate",
            "resolveddate",
            "closeddate",
        ),
        "rating": (
            "satisfactionscore",  # Zendesk
            "satisfactionrating",
            "satisfaction",
            "customersatisfaction",
            "rating",
            "csat",
            "conversationrating",  # Intercom
        ),
    },
    "surveys": {
        "record": ("#", "respondentid", "responseid", "id", "token"),
        "date": (
            "submitdateutc",  # Typeform
            "submitdate",
            "submittedat",
            "enddate",  # SurveyMonkey
            "responsetimestamp",  # Delighted
            "timestamp",  # Google Forms
            "date",
            "createdat",
            "responsedate",
        ),
        "comment": ("comment", "comments", "reason", "why", "feedback"),
    },
    "crm": {
        "name": (
            "companyname",  # HubSpot companies
            "accountname",  # Zoho accounts
            "organizationname",  # Pipedrive
            "name",
            "fullname",
            "personname",
            "contactname",
        ),
        "first_name": ("firstname",),
        "last_name": ("lastname",),
        "stage": ("lifecyclestage", "stage", "leadstatus", "status", "contactstage"),
        "owner": (
            "contactowner",  # HubSpot, Zoho contacts
            "companyowner",  # HubSpot companies
            "accountowner",  # Zoho accounts
            "owner",  # Pipedrive
            "personowner",
            "organizationowner",
            "leadowner",
        ),
        "last_activity": (
            "lastactivitydate",  # HubSpot, Pipedrive
            "lastactivitytime",  # Zoho
            "lastactivity",
            "lastcontacted",
            "lastcontact",
        ),
    },
}

# Intercom's conversations export: a conversation is its ticket.
INTERCOM = {"conversationid", "conversationstate", "conversationcreatedat", "conversationstartedat"}
# A header that asks the NPS question (normalised; Chinese and Japanese spellings too).
NPS_WORDS = ("recommend", "推荐", "推薦", "おすすめ", "すすめ", "npsscore")


@dataclass(frozen=True)
class Layout:
    """A source's kind and, per role, the position of its column (roles absent: not there)."""

    kind: str
    roles: dict[str, int]
    id_column: int | None
    email_column: int | None


def _positions(header: Sequence[str]) -> dict[str, int]:
    first: dict[str, int] = {}
    for i, h in enumerate(header):
        key = normalise_header(h) or ("#" if h.strip() == "#" else "")
        if key:
            first.setdefault(key, i)
    return first


# Words of the NPS question itself ("How *likely* … on a *scale* of 0-10"), which a yes/no
# "Would you recommend our support?" beside it lacks.
NPS_SCALE_WORDS = ("likely", "scale", "010", "nps", "可能", "どの")


def nps_column(header: Sequence[str]) -> int | None:
    """The column asking how likely one is to recommend (an NPS question), if any: of several
    questions that say "recommend", the first that asks how likely (on a scale)."""
    found = []
    for i, h in enumerate(header):
        key = normalise_header(h)
        if any(word in key for word in NPS_WORDS) or key in ("nps", "npsscore"):
            found.append((i, key))
    if len(found) > 1:
        scaled = [i for i, key in found if any(word in key for word in NPS_SCALE_WORDS)]
        if scaled:
            return scaled[0]
    return found[0][0] if found else None


def recognise(header: Sequence[str]) -> str:
    """The kind of export a header row belongs to (`generic` when none fits)."""
    keys = set(_positions(header))
    joined = " ".join(keys)
    if keys & set(ROLES["subscriptions"]["interval"]) and keys & set(
        ROLES["subscriptions"]["amount"]
    ):
        return "subscriptions"
    if nps_column(header) is not None or {"score", "comment"} <= keys:  # Delighted: Score
        return "surveys"
    if "requester" in joined or "ticket" in joined or {"subject", "priority", "status"} <= keys:
        return "tickets"
    if keys & INTERCOM:
        return "tickets"
    crm = ROLES["crm"]
    if keys & set(crm["owner"]) or keys & set(crm["last_activity"]) or "lifecyclestage" in keys:
        return "crm"
    return "generic"


def key_columns(
    header: Sequence[str], main_id_header: str | None, kind: str
) -> tuple[int | None, int | None]:
    """(ID column, email column) of a source: where its rows name the customer."""
    first = _positions(header)
    ids = list(ID_HEADERS)
    own = normalise_header(main_id_header) if main_id_header else ""
    # The table's own ID header, unless the source uses it for its rows (Stripe's `id`).
    if own and own not in ROLES.get(kind, {}).get("record", ()):
        ids.append(own)
    id_column = next((first[k] for k in ids if k in first), None)
    email_column = None
    for k in EMAIL_HEADERS:
        if k in first and first[k] != id_column:
            email_column = first[k]
            break
    if email_column is None:  # any other header about an email that is not the agent's
        for i, h in enumerate(header):
            key = normalise_header(h)
            if ("email" in key or "mail" in key) and not any(w in key for w in NOT_CUSTOMER_EMAIL):
                email_column = i
                break
    if kind == "subscriptions" and id_column is not None and id_column == email_column:
        email_column = None
    return id_column, email_column


def layout(header: Sequence[str], kind: str, main_id_header: str | None) -> Layout:
    """Where each role of `kind` sits in `header`."""
    first = _positions(header)
    roles: dict[str, int] = {}
    taken: set[int] = set()
    for role, spellings in ROLES.get(kind, {}).items():
        for key in spellings:
            pos = first.get(key)
            if pos is not None and pos not in taken:
                roles[role] = pos
                taken.add(pos)
                break
    if kind == "surveys":
        score = nps_column(header)
        if score is None and "score" in first:
            score = first["score"]
        if score is not None:
            roles["score"] = score
            if "comment" not in roles:  # the question after the score asks why (Typeform)
                for i in range(score + 1, len(header)):
                    key = normalise_header(header[i])
                    if any(w in key for w in ("why", "reason", "comment", "原因", "理由")):
                        roles["comment"] = i
                        break
    id_column, email_column = key_columns(header, main_id_header, kind)
    return Layout(kind=kind, roles=roles, id_column=id_column, email_column=email_column)
