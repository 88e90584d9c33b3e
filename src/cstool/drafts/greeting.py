"""Who a draft greets: `greeting_name`, decided column-wise for every follow-up at once.

In order, the first that gives a name:

1. a first-name column of the table (`First Name`, `given name`, `名`, …), as it is;
2. a contact column (`Contact`, `Contact Person`, `联系人`, …): that person's first name;
3. the customer's `name`, when it looks like a person's: two to four words of letters
   (`Ana Pérez`, `Smith, Jane`, `Dr. Jean-Luc Picard`) with no word that names a company
   or trade (`GmbH`, `Ltd`, `Books`, `Coffee`, `Studio`, …): the first name;
   a name of two to four Chinese, Japanese or Korean characters without a company word
   (`王芳`): the whole name, as one addresses them;
4. else "" — a company, a single word, initials, anything unsure: the template's
   neutral greeting (`Hi {{ greeting_name or "there" }},`). Guessing wrong the other
   way ("Hi Willow," to Willow Books) is the worse mistake.

Everything runs as pyarrow regular expressions (RE2) over whole columns.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# Headers (lower case, without spaces, `_`, `-` or `.`) of a column holding a first name.
FIRST_NAME_HEADERS = frozenset(
    {
        "firstname",
        "givenname",
        "contactfirstname",
        "forename",
        "fname",
        "vorname",
        "prenom",
        "prénom",
        "名",
        "名字",
        "联系人名",
    }
)
# … and of a column holding the contact person's full name.
CONTACT_HEADERS = frozenset(
    {
        "contact",
        "contactname",
        "contactperson",
        "contactfullname",
        "primarycontact",
        "maincontact",
        "ansprechpartner",
        "联系人",
        "联系人姓名",
        "担当者",
        "担当者名",
    }
)
# Words that make a name a company's (or a team's, or a mailbox's), not a person's.
COMPANY_WORDS = tuple(
    (  # noqa: SIM905 (a list of 200 quoted words would be harder to read)
        "inc incorporated ltd limited llc llp lp plc gmbh ag kg ug sa sas sarl srl spa bv nv oy "
        "ab aps pty pte kk co corp corporation company companies group holding holdings partners "
        "associates studio studios books bookshop bookstore coffee cafe café bakery travel tours "
        "dental clinic fitness gym yoga labs lab laboratories consulting consultants media design "
        "designs legal law solutions systems software technologies technology tech digital agency "
        "marketing services service industries international global enterprises ventures capital "
        "bank finance financial insurance realty properties foods food restaurant bar hotel shop "
        "store stores market trading logistics health healthcare medical pharmacy school academy "
        "university college institute foundation trust society club team network works factory "
        "motors auto energy electric construction builders engineering architects analytics data "
        "cloud apps games music films pictures productions records press publishing print news "
        "farm farms garden gardens salon beauty boutique fashion apparel wines brewery brewing "
        "kitchen pizza grill house home homes care vet veterinary pets sports outdoor supply "
        "supplies tools center centre hub office department dept the and und et of for via "
        "info sales support admin billing accounts hello contact"
    ).split(" ")
)
_CJK_COMPANY = "公司|集团|工作室|中心|商店|店|社|院|所|银行|科技|会社|株式|有限|事务所|团队"

_HEADER_SEPARATORS = re.compile(r"[\s_\-.]+")
_WORD = r"\pL[\pL'’.\-]*"
_PERSON = rf"^{_WORD}(?: {_WORD}){{1,3}}$"
_CONTACT = rf"^{_WORD}(?: {_WORD}){{0,3}}$"  # a contact column holds a person: one word will do
_COMPANY = "(?i)(?:^| )(?:" + "|".join(map(re.escape, COMPANY_WORDS)) + r")\.?(?: |$)"
_CJK_PERSON = r"^[\p{Han}\p{Hangul}\p{Hiragana}\p{Katakana}ー]{2,4}$"
_HONORIFIC = r"(?i)^(?:mr|mrs|ms|miss|mx|dr|prof|sir|dame|herr|frau|mme|mlle|m)\.? +"
_INITIAL = r"^\pL\.?$"


def greeting_names(customers: pd.DataFrame) -> list[str]:
    """Each row's `greeting_name` (see the module's docstring), "" where unsure."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(customers)
    chosen = pa.array([""] * n, pa.string())
    # lowest priority first: each later source overrides where it gives a name
    sources: list[tuple[Any, bool | None]] = []  # None: a first name already
    if "name" in customers.columns:
        sources.append((_text(customers["name"]), True))
    for header in customers.columns:
        key = _HEADER_SEPARATORS.sub("", str(header).casefold())
        if key in CONTACT_HEADERS:
            sources.append((_text(customers[header]), False))
    for header in customers.columns:
        key = _HEADER_SEPARATORS.sub("", str(header).casefold())
        if key in FIRST_NAME_HEADERS:
            sources.append((_first_name_cell(_text(customers[header])), None))
    for values, strict in sources:
        found = values if strict is None else _person_first_names(values, strict=strict)
        chosen = pc.if_else(pc.not_equal(found, ""), found, chosen)
    return [str(v) for v in chosen.to_pylist()]


def _text(column: pd.Series) -> Any:
    """A column as one-line, trimmed pyarrow text, "" where missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cstool.followup import _arrow_text

    values = pc.cast(_arrow_text(column), pa.string())
    values = pc.replace_substring_regex(values, r"[\s\x00-\x1f\x7f\x{85}\x{2028}\x{2029}]+", " ")
    return pc.fill_null(pc.utf8_trim_whitespace(values), "")


def _first_name_cell(values: Any) -> Any:
    """A first-name column's cells: kept when they are letters (an initial is not a name)."""
    import pyarrow.compute as pc

    ok = pc.and_(pc.match_substring_regex(values, _CONTACT), pc.invert(_initial(values)))
    return pc.if_else(ok, values, "")


def _initial(values: Any) -> Any:
    import pyarrow.compute as pc

    return pc.match_substring_regex(values, _INITIAL)


def _person_first_names(values: Any, *, strict: bool) -> Any:
    """The first name of each value that looks like a person's name, else ""."""
    import pyarrow.compute as pc

    # `Smith, Jane` → `Jane Smith`; `Dr. Jane Smith` → `Jane Smith`
    swapped = pc.replace_substring_regex(values, r"^([^,]+), *([^,]+)$", r"\2 \1")
    bare = pc.replace_substring_regex(swapped, _HONORIFIC, "")
    shaped = pc.match_substring_regex(bare, _PERSON if strict else _CONTACT)
    company = pc.match_substring_regex(bare, _COMPANY)
    first = pc.replace_substring_regex(bare, r"^(\S+).*$", r"\1")
    first = pc.replace_substring_regex(first, r"[.,]+$", "")
    person = pc.and_(pc.and_(shaped, pc.invert(company)), pc.invert(_initial(first)))
    person = pc.and_(person, pc.greater(pc.utf8_length(first), 1))
    # `JANE SMITH`, `jane smith` → `Jane`
    odd_case = pc.or_(pc.utf8_is_upper(first), pc.utf8_is_lower(first))
    first = pc.if_else(odd_case, pc.utf8_capitalize(first), first)
    cjk = pc.and_(
        pc.match_substring_regex(values, _CJK_PERSON),
        pc.invert(pc.match_substring_regex(values, _CJK_COMPANY)),
    )
    return pc.if_else(cjk, values, pc.if_else(person, first, ""))
