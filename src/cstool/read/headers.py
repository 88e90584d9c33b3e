"""Header cells → cstool's fields: normalising, aliases (schema's and real tools'), checks."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cstool.config import Settings
from cstool.errors import ConfigError, Problem
from cstool.schema import ALIASES as SCHEMA_ALIASES
from cstool.schema import FIELDS, REQUIRED

if TYPE_CHECKING:
    from cstool.read.raw import RawTable

# Headers of real tools' exports, beside schema.ALIASES. Deliberately absent: Shopify's
# `Total Spent` (lifetime spend, not MRR) and `First Name` (half a name), Notion's `Last
# edited time` (an edit of the row, not a touch of the customer), Stripe's `Canceled At
# (UTC)`/`Ended At (UTC)`/`Delinquent` (churn_date and status are not schema fields yet),
# Pipedrive's `Deal - …` columns (a deal export is not one row per customer).
TOOL_ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer id",  # Stripe subscriptions, Shopify
        "record id",  # HubSpot
        "account number",  # Zoho CRM accounts
        "contact id",  # Salesforce contacts
        "person - id",  # Pipedrive people
        "organization - id",  # Pipedrive organizations
        "kunden-id",
        "kundennummer",
        "kundennr",
        "kunden-nr.",
        "numéro client",  # French
        "n° client",
        "code client",
        "id client",
        "número de cliente",  # Spanish
        "nº cliente",
        "código de cliente",
        "id cliente",  # Spanish, Italian
        "codice cliente",  # Italian
        "código do cliente",  # Portuguese
        "客戶編號",
        "客戶ID",
        "客戶代號",
        "顧客ID",
        "顧客番号",
        "顧客コード",
        "取引先ID",
    ),
    "name": (
        "company name",  # HubSpot companies
        "account name",  # Zoho CRM accounts
        "organization - name",  # Pipedrive
        "person - name",  # Pipedrive people
        "customer name",
        "客戶名稱",
        "firma",  # German
        "firmenname",
        "kundenname",
        "unternehmen",
        "nom du client",  # French (not `Nom` alone: a contact's surname)
        "nom de l'entreprise",
        "société",
        "entreprise",
        "raison sociale",
        "nombre del cliente",  # Spanish (not `Nombre` alone: a first name)
        "empresa",  # Spanish, Portuguese
        "razón social",
        "ragione sociale",  # Italian
        "azienda",
        "nome do cliente",  # Portuguese
        "客戶名",
        "公司名稱",
        "顧客名",
        "会社名",
        "取引先名",
        "氏名",
        "名前",
    ),
    "email": (
        "customer email",  # Stripe subscriptions
        "email",  # Stripe customers, Shopify
        "primary email",
        "person - email",  # Pipedrive people
        "e-mail-adresse",  # German
        "courriel",  # French
        "adresse e-mail",
        "adresse email",
        "correo",  # Spanish
        "correo electrónico",
        "correo electronico",
        "電子郵件",
        "電郵",
        "郵箱",
        "メール",
        "メールアドレス",
        "eメール",
    ),
    "plan": (
        "plan",
        "product name",
        "price",
        "tarif",  # German, French
        "paket",
        "abonnement",
        "forfait",
        "方案",
        "プラン",
        "料金プラン",
    ),
    "stage": (
        "status",  # Stripe subscriptions
        "lifecycle stage",  # HubSpot
        "stage",
        "階段",
        "狀態",
        "ステータス",
        "ステージ",
    ),
    "tags": ("tags", "schlagwörter", "étiquettes", "etiquetas", "標籤", "タグ"),
    "notes": (
        "description",
        "note",
        "notiz",  # German
        "notizen",
        "bemerkung",
        "bemerkungen",
        "remarques",  # French
        "notas",  # Spanish
        "observaciones",
        "備註",
        "說明",
        "備考",
        "メモ",
    ),
    "value_delivery": ("價值交付", "價值", "価値提供"),
    "issue_resolution": ("問題解決", "課題解決"),
    "growth_strategy": ("增長策略", "增長戰略", "成長戦略"),
    "mrr": (
        "月收入",
        "月經常性收入",
        "月額",
        "月額売上",
        "mrr (usd)",
        "mrr (eur)",
        "mrr (gbp)",
        "monatsumsatz",  # German
        "monatlicher umsatz",
        "revenu mensuel",  # French
        "ingresos mensuales",  # Spanish
    ),
    "signup_date": (
        "created (utc)",  # Stripe customers and subscriptions
        "create date",  # HubSpot
        "created time",  # Zoho CRM
        "organization - add time",  # Pipedrive
        "person - add time",
        "created",  # Notion, Airtable
        "created at",
        "created date",
        "kunde seit",  # German
        "registriert am",
        "registriert",
        "erstellt am",
        "angelegt am",
        "client depuis",  # French
        "date d'inscription",
        "date de création",
        "cliente desde",  # Spanish
        "fecha de alta",
        "fecha de registro",
        "註冊日期",
        "簽約日期",
        "開始日期",
        "登録日",
        "契約日",
        "開始日",
    ),
    "last_contact": (
        "last activity date",  # HubSpot
        "last activity time",  # Zoho CRM
        "last activity",  # Salesforce contacts and accounts
        "organization - last activity date",  # Pipedrive
        "person - last activity date",
        "letzter kontakt",  # German
        "letzte aktivität",
        "dernier contact",  # French
        "dernière activité",
        "último contacto",  # Spanish
        "última actividad",
        "最後聯繫",
        "最近聯繫",
        "最後聯繫日期",
        "最終接触日",
        "最終連絡日",
    ),
    "renewal_date": (
        "current period end (utc)",  # Stripe subscriptions
        "current period end",
        "verlängerung",  # German
        "verlängerungsdatum",
        "vertragsende",
        "date de renouvellement",  # French
        "renouvellement",
        "fecha de renovación",  # Spanish
        "renovación",
        "續約日期",
        "續費日期",
        "到期日期",
        "更新日",
        "契約更新日",
    ),
    "nps": ("淨推薦值",),
    "open_tickets": (
        "offene tickets",  # German
        "tickets ouverts",  # French
        "tickets abiertos",  # Spanish
        "未結工單",
        "工單",
        "未対応チケット",
    ),
}


def _merged() -> dict[str, tuple[str, ...]]:
    merged: dict[str, tuple[str, ...]] = {}
    for name in FIELDS:
        spellings = [*SCHEMA_ALIASES.get(name, ()), *TOOL_ALIASES.get(name, ())]
        if name == "customer_id":  # Stripe subscriptions: `Customer ID` (cus_…) beats `id` (sub_…)
            spellings = [*TOOL_ALIASES[name], *SCHEMA_ALIASES.get(name, ())]
        merged[name] = tuple(dict.fromkeys(spellings))
    return merged


# schema.ALIASES first (they were there first), then the tools' headers; for the ID the
# tools' first.
ALIASES: dict[str, tuple[str, ...]] = _merged()


def normalise_header(text: str) -> str:
    """Case- and separator-insensitive form of a header: `Customer_ID` → `customerid`."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def _check_columns_fields(settings: Settings) -> None:
    unknown = sorted(set(settings.columns) - set(FIELDS))
    if unknown:
        raise ConfigError(
            f"[columns]: unknown field {unknown[0]!r}; expected one of: {', '.join(FIELDS)}"
        )


def match_headers(header: list[str], settings: Settings) -> dict[str, int]:
    """Canonical field -> column position, through exact names, the user's and built-in aliases.

    For a header that appears twice, the first (leftmost) column is used.
    """
    _check_columns_fields(settings)
    first: dict[str, int] = {}
    for i, h in enumerate(header):
        first.setdefault(normalise_header(h), i)
    taken: set[int] = set()
    found: dict[str, int] = {}
    # The user's own aliases and the fields' own names win over built-in aliases.
    for own in (True, False):
        for name in FIELDS:
            if name in found:
                continue
            candidates = (
                [*settings.columns.get(name, []), name] if own else list(ALIASES.get(name, ()))
            )
            for candidate in candidates:
                pos = first.get(normalise_header(candidate))
                if pos is not None and pos not in taken:
                    found[name] = pos
                    taken.add(pos)
                    break
    return found


def check_column_mapping(header: list[str], settings: Settings, where: str) -> None:
    """A `[columns]` entry none of whose headers the file has is a ConfigError naming it."""
    present = {normalise_header(h) for h in header}
    for name, spellings in settings.columns.items():
        if any(normalise_header(s) in present for s in spellings):
            continue
        wanted = spellings[0]
        close = difflib.get_close_matches(wanted, [h for h in header if h], n=3, cutoff=0.5)
        near = f"; closest: {', '.join(repr(c) for c in close)}" if close else ""
        raise ConfigError(
            f"[columns] {name} = {wanted!r}: {where} has no such header{near}",
            hint=f"headers in the file: {', '.join(repr(h) for h in header if h)}",
        )


def duplicate_header_warnings(header: list[str], headers: dict[str, int]) -> list[str]:
    """One warning per header written twice (or more): which columns, which one is used."""
    positions: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        if h.strip():
            positions.setdefault(normalise_header(h) or h, []).append(i)
    used = {pos: name for name, pos in headers.items()}
    warnings = []
    for same in positions.values():
        if len(same) < 2:
            continue
        columns = " and ".join(f"column {i + 1} ({header[i]!r})" for i in same)
        field = used.get(same[0])
        if field is not None:
            tail = f"cstool reads {field} from column {same[0] + 1}; the other is passed through"
        else:
            tail = "both are passed through (the second under a numbered name)"
        warnings.append(f"the header {header[same[0]]!r} appears twice: {columns}; {tail}")
    return warnings


def missing_required(raw: RawTable) -> list[Problem]:
    """A problem for each required field the header lacks, with the closest header.

    A missing ID with a column whose every value is unique (an email or a name) offers it.
    """
    problems = []
    unmatched = [h for i, h in enumerate(raw.header) if i not in raw.headers.values()]
    for name in REQUIRED:
        if name in raw.headers:
            continue
        wanted = normalise_header(name)
        norm = {normalise_header(h): h for h in unmatched}
        close = difflib.get_close_matches(wanted, list(norm), n=1, cutoff=0.6)
        suggestion = f"; closest header: {norm[close[0]]!r}" if close else ""
        if name == "customer_id":
            unique = unique_key_column(raw)
            if unique is not None:
                suggestion += (
                    f"; the column {unique!r} has a different value on every row: use it as "
                    f'the ID with [columns] customer_id = "{unique}" in cstool.toml'
                )
        problems.append(
            Problem(
                line=raw.header_lines,
                column=name,
                value=None,
                expected=f"a column for {name} (found: {', '.join(raw.header)}){suggestion}",
                file=str(raw.path),
                sheet=raw.sheet,
            )
        )
    return problems


def unique_key_column(raw: RawTable) -> str | None:
    """The header of the email (else name) column when every row has a distinct value."""
    import pyarrow.compute as pc

    for name in ("email", "name"):
        pos = raw.headers.get(name)
        if pos is None:
            continue
        cells = pc.utf8_trim_whitespace(raw.table.column(pos))
        filled = pc.filter(cells, pc.not_equal(cells, ""))
        complete = len(filled) > 0 and len(filled) == len(cells)
        if complete and pc.count_distinct(filled).as_py() == len(filled):
            return str(raw.header[pos])
    return None


def looks_like_titles(above: Sequence[list[str]], header: list[str]) -> bool:
    """Whether rows above a candidate header can be title lines ("Customers — exported …").

    A title has far fewer cells than the header: a row as full as the header is a header
    itself (a Pipedrive export whose first data row says `Customer` is not a header).
    """
    width = sum(1 for cell in header if cell.strip())
    return all(2 * sum(1 for cell in row if cell.strip()) <= width for row in above)


def header_choice(rows: Sequence[list[str]], settings: Settings) -> int:
    """Which of the first non-blank rows is the header: the first with the required columns
    whose rows above are short enough to be titles, or the row below it when that one is
    the real header under a row of group titles (`Customer` merged over two columns above
    `Customer_ID, Name`). The first row when none fits."""
    fits = [
        i for i, row in enumerate(rows) if all(n in match_headers(row, settings) for n in REQUIRED)
    ]
    chosen = next((i for i in fits if looks_like_titles(rows[:i], rows[i])), None)
    if chosen is None:
        return 0
    for j in fits:
        if j > chosen and looks_like_titles(rows[chosen:j], rows[j]):
            chosen = j
    return chosen
