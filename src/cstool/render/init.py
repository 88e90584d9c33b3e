"""The commented cstool.toml that `cstool init` writes: every setting, with its default.

Generated from the settings models in config.py, so a new setting shows up here by
itself; the comments say what each one means.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from cstool.config import CONFIG_NAME, SegmentRule, Settings

HEAD = """\
# {config} — cstool settings for this folder (the workspace).
# Written by `cstool init` for {customers}. Every setting is listed with its built-in
# default: change what you need, delete the rest (a missing key keeps its default).
# A typo in a key is an error, not a silent default. Check this file: cstool validate
"""

# What each setting means, where the model has no description of its own.
COMMENTS: dict[str, str] = {
    "customers": "The customer table, relative to this folder: used when no FILE is given.",
    "input": "How the customer table is read.",
    "columns": (
        "How cstool matched your headers: field = header as written in the file.\n"
        "Headers match ignoring case and separators, through built-in aliases (English and\n"
        'Chinese); a header listed here wins. Give several as a list: name = ["A", "B"].'
    ),
    "scale": "The scale of the three satisfaction inputs (value_delivery, issue_resolution,\n"
    "growth_strategy) in the file; they are turned into 0–100.",
    "scale.min": "lowest possible input",
    "scale.max": "highest possible input",
    "weights": "satisfaction = weighted mean of the three inputs (weights ≥ 0, normalised to\n"
    "sum to 1, so 5, 3, 2 means 0.5, 0.3, 0.2).",
    "health": "health (0–100) = weighted composite of satisfaction, recency (days since the\n"
    "last touch), nps and support load (open tickets). A measure missing for a customer is\n"
    "left out and the other weights renormalised.",
    "health.weights": "Weights of the health measures (≥ 0, normalised to sum to 1).",
    "bands": "Bands by health: below red_below is red, from green_from on green, else yellow.",
    "bands.red_below": "health below this is red",
    "bands.green_from": "health from this on is green",
    "followups": "Follow-ups: a customer is due when last touch + its segment's cadence has\n"
    "come, or when one of these triggers fires.",
    "followups.renewal_window_days": "due when renewal_date is this many days away or fewer",
    "followups.red": "band red customers are due (again 7 days after each touch)",
    "followups.nps_detractor": "NPS 0–6 customers are due until a touch is logged after "
    "their last contact",
    "followups.onboarding_checkins": "check-ins this many days after signup_date",
    "kpis": "Portfolio KPIs (cstool report).",
    "segments": "Segments: ordered rules, the first whose `when` is true wins. `when` is an\n"
    "expression over fields and scores: and or not, == != < <= > >=, in, numbers,\n"
    '"strings", dates and days_since(), days_until(), pct_rank(), is_missing().\n'
    "cadence_days is the days between touches; play is what to do. Remove every\n"
    "[[segments]] table to use the built-in ones.",
    "goals": "Goals (cstool goals): a KPI, a target and a deadline, e.g.\n"
    "[[goals]]\n"
    'metric = "mean_health"    # customers, mrr, mrr_at_risk, satisfied_share,\n'
    "                          # mean_satisfaction, mean_health, nps, retention_rate,\n"
    "                          # logo_churn, gross_revenue_retention,\n"
    "                          # net_revenue_retention, green_share, red_share\n"
    "target = 75\n"
    "deadline = 2027-03-31\n"
    "# baseline = 62          # optional: where you started\n"
    '# name = "Healthier book" # optional',
    "sources": "Sources: more exports joined onto the customer table (README: Sources), e.g.\n"
    "[[sources]]\n"
    'file = "exports/stripe_subscriptions_*.csv"  # a glob takes the newest file\n'
    'kind = "auto"        # or subscriptions, tickets, surveys, crm, generic\n'
    'match = "auto"       # or customer_id, email, domain\n'
    'key = "Customer Email"  # optional: the header holding the match key\n'
    'prefer = "main"      # the customer table wins unless its cell is empty; or "source"\n'
    "sheet = 0            # a workbook's sheet\n"
    "solve_target_hours = 24  # tickets: solved within this many hours is on time\n"
    'fields = { plan = "Tier" }  # generic: field = header (the last row\'s value)\n'
    "# generic: one field computed per customer\n"
    "[[sources.aggregations]]\n"
    'field = "logins"\n'
    'op = "count_where"   # count, count_where, latest, first, sum, mean, min, max, share_where\n'
    'column = "Seconds"   # the header the op reads (sum, mean, min, max, latest, first)\n'
    'where = { Event = "login" }  # for count_where and share_where\n'
    'by = "When"          # a date header that orders latest and first',
}
EXAMPLES: dict[str, str] = {"input.date_format": '"%d/%m/%Y"'}


def config_text(customers: str, header: list[str], matched: dict[str, int]) -> str:
    """The whole file: the customer table, every section with its defaults and comments,
    the detected column mapping and the built-in segments."""
    from cstool.schema import FIELDS

    try:
        from cstool.segments import DEFAULT_SEGMENTS

        segments: list[SegmentRule] = list(DEFAULT_SEGMENTS)
    except ImportError:  # pragma: no cover - segments land with their own issue
        segments = []
    defaults = Settings()
    out = [HEAD.format(config=CONFIG_NAME, customers=customers)]
    out += _comment("customers")
    out.append(f"customers = {_value(customers)}")
    for name, info in Settings.model_fields.items():
        if name in ("customers", "segments", "goals", "sources"):
            continue
        if name == "columns":
            out += ["", "[columns]", *_comment("columns"), *_columns(header, matched, FIELDS)]
            continue
        value = getattr(defaults, name)
        if isinstance(value, BaseModel):
            out += _section(name, value, info.description)
    out += [""]
    out += _comment("segments")
    for rule in segments:
        out += ["[[segments]]"]
        for key in ("name", "description", "when", "cadence_days", "play"):
            out.append(f"{key} = {_value(getattr(rule, key))}")
        out.append("")
    out += _comment("goals")
    out += ["", *_comment("sources")]  # sources (issue 14)
    return "\n".join(out).rstrip("\n") + "\n"


def _section(path: str, model: BaseModel, description: str | None) -> list[str]:
    lines = ["", f"[{path}]", *_comment(path, description or (model.__doc__ or "").strip())]
    nested: list[tuple[str, BaseModel]] = []
    tables: list[tuple[str, Any]] = []
    for key, info in type(model).model_fields.items():
        value = getattr(model, key)
        dotted = f"{path}.{key}"
        if isinstance(value, BaseModel):
            nested.append((dotted, value))
            continue
        note = COMMENTS.get(dotted) or info.description
        if isinstance(value, dict) and _model_values(info):
            tables.append((dotted, info))  # tables by name, e.g. [outreach.templates.renewal]
            continue
        if value is None:
            example = EXAMPLES.get(dotted, '""')
            lines.append(f"# {key} = {example}" + (f"    # {note}" if note else ""))
        else:
            lines.append(f"{key} = {_value(value)}" + (f"    # {note}" if note else ""))
    for dotted, info in tables:
        lines += _named_tables(dotted, info)
    for dotted, value in nested:
        lines += _section(dotted, value, None)
    return lines


def _model_values(info: Any) -> bool:
    """Whether a setting is a `dict[str, Model]` (written as one table per name)."""
    import typing

    args = typing.get_args(info.annotation)
    inner = args[1] if len(args) == 2 else None
    return isinstance(inner, type) and issubclass(inner, BaseModel)


def _named_tables(dotted: str, info: Any) -> list[str]:
    """A `dict[str, Model]` setting, commented: one [dotted.<name>] table per entry."""
    import typing

    args = typing.get_args(info.annotation)
    inner = args[1] if len(args) == 2 else None
    keys = (
        list(inner.model_fields) if isinstance(inner, type) and issubclass(inner, BaseModel) else []
    )
    lines = ["", f"# {info.description or dotted}: one [{dotted}.<name>] table each, with"]
    lines.append(f"# the keys below (e.g. [{dotted}.renewal]).")
    lines.append(f"# [{dotted}]")
    lines += [f'# {key} = ""' for key in keys]
    return lines


def _columns(header: list[str], matched: dict[str, int], fields: tuple[str, ...]) -> list[str]:
    lines = [f"{field} = {_value(header[matched[field]])}" for field in fields if field in matched]
    from cstool.schema import REQUIRED

    missing = [field for field in fields if field not in matched]
    if missing:
        lines.append("# Not found in the file:")
        lines += [
            f'# {field} = "Your header"' + ("    # required" if field in REQUIRED else "")
            for field in missing
        ]
    others = [h for i, h in enumerate(header) if i not in matched.values()]
    if others:
        lines.append("# Kept as they are and passed through to the output:")
        lines.append("#   " + ", ".join(_value(h) for h in others))
    return lines


def _comment(key: str, fallback: str | None = None) -> list[str]:
    text = COMMENTS.get(key) or fallback or ""
    return [f"# {line}".rstrip() for line in text.splitlines()] if text else []


def _value(value: Any) -> str:
    """A TOML value: strings as basic strings (JSON escapes are valid TOML), numbers, lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table: { "On Ice" = "paused" }
        pairs = ", ".join(f"{_value(k)} = {_value(v)}" for k, v in value.items())
        return f"{{ {pairs} }}" if pairs else "{}"
    return json.dumps(str(value), ensure_ascii=False)
