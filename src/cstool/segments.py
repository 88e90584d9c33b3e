"""Segments and plays: ordered rules, first match wins, each with a cadence and a play.

Every rule is checked against the frame's columns before any row is evaluated, so a bad
rule is a config error (exit 2) that names the segment and points at the bad spot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import ValidationError

from cstool.config import SegmentRule, describe_validation_error
from cstool.errors import ConfigError, UsageError
from cstool.numeric import column_floats
from cstool.rules import (
    KNOWN_TYPES,
    OUTPUT_COLUMNS,
    Evaluator,
    Rule,
    RuleError,
    RuleType,
    compile_rule,
    field_types,
    trace,
)
from cstool.schema import BANDS

DEFAULT_SEGMENTS: list[SegmentRule] = [
    SegmentRule(
        name="Onboarding",
        when="days_since(signup_date) <= 90",
        cadence_days=7,
        play="Check in weekly until they are live: confirm setup, first value and a success plan.",
        description="new customers: signed up within the last 90 days",
    ),
    SegmentRule(
        name="Champions",
        when='pct_rank(mrr) >= 0.5 and band == "green"',
        cadence_days=30,
        play="Ask for a referral, review or case study; offer the next plan or an add-on.",
        description="high value (upper half by MRR) and healthy (band green)",
    ),
    SegmentRule(
        name="Grow",
        when='band == "green"',
        cadence_days=45,
        play="Share tips and features they do not use yet; look for an upgrade path.",
        description="healthy, lower or unknown value (the high-value healthy ones are Champions)",
    ),
    SegmentRule(
        name="Rescue",
        when='pct_rank(mrr) >= 0.5 and band != "green"',
        cadence_days=7,
        play="Call this week: find the problem, agree on a fix plan, follow up until green.",
        description="high value (upper half by MRR) and not healthy (band yellow or red)",
    ),
    SegmentRule(
        name="Nurture",
        when="true",
        cadence_days=30,
        play="Light-touch check-in with something useful; watch for changes.",
        description="everyone else: lower or unknown value and not healthy",
    ),
]
"""The built-in segments, used when cstool.toml has no [[segments]]; the last one matches all."""

# Customers that no configured rule matches (a config without a catch-all) land here.
UNSEGMENTED = SegmentRule(
    name="Unsegmented",
    when="true",
    cadence_days=30,
    play='No segment rule matched: add a last [[segments]] rule with when = "true".',
    description="no configured rule matched",
)


def as_rules(rules: Sequence[SegmentRule | Mapping[str, Any]] | None) -> list[SegmentRule]:
    """The rules in force: the built-in set for None; dicts (from a notebook) are validated."""
    if rules is None:
        return list(DEFAULT_SEGMENTS)
    out: list[SegmentRule] = []
    for i, rule in enumerate(rules):
        if isinstance(rule, SegmentRule):
            out.append(rule)
            continue
        try:
            out.append(SegmentRule.model_validate(rule))
        except ValidationError as exc:
            problems = "; ".join(describe_validation_error(e) for e in exc.errors())
            raise ConfigError(f"segments[{i}]: {problems}") from None
    if not out:
        raise ConfigError(
            "segments: the list is empty",
            hint="remove `segments` from cstool.toml to use the built-in segments, "
            "or add at least one [[segments]] table",
        )
    seen: dict[str, int] = {}
    for i, rule in enumerate(out):
        key = rule.name.strip().casefold()
        if key in seen:
            raise ConfigError(
                f"segments: the name {rule.name!r} is used twice "
                f"(segments {seen[key] + 1} and {i + 1}); names must be unique"
            )
        seen[key] = i
    return out


def _context(rule: SegmentRule) -> str:
    return f"segment {rule.name!r}, key `when`"


def locate_error(exc: ConfigError, config_path: Path | None) -> ConfigError:
    """The same error with the config file's path in front (when the rules came from one)."""
    if config_path is None:
        return exc
    if isinstance(exc, RuleError):
        where = f"{config_path}: {exc.context}" if exc.context else str(config_path)
        return exc.within(where)
    return ConfigError(f"{config_path}: {exc.message}", hint=exc.hint)


def compile_segments(
    rules: Sequence[SegmentRule | Mapping[str, Any]] | None,
    types: Mapping[str, RuleType] | None,
) -> list[tuple[SegmentRule, Rule]]:
    """Check every rule before any row is evaluated; a ConfigError names the segment."""
    checked = []
    for rule in as_rules(rules):
        try:
            checked.append((rule, compile_rule(rule.when, types)))
        except RuleError as exc:
            raise exc.within(_context(rule)) from None
    return checked


def check_rules(
    rules: Sequence[SegmentRule | Mapping[str, Any]] | None,
    columns: Iterable[str] | None = None,
) -> None:
    """Check rules without data; raises ConfigError naming the segment, with a caret line.

    `columns` are the table's columns (canonical names, pass-through headers, score columns).
    With None only the syntax, the types of known fields and the functions are checked; other
    names are taken as the file's own columns and checked again when the file is read.
    """
    if columns is None:
        compile_segments(rules, None)
        return
    names = list(columns)
    types = field_types(names)
    for name in KNOWN_TYPES:
        types.setdefault(name, KNOWN_TYPES[name])  # every canonical and score column exists
    compile_segments(rules, types)


def _frame_types(frame: pd.DataFrame) -> dict[str, RuleType]:
    return field_types([c for c in frame.columns if isinstance(c, str)], frame)


def segment(
    frame: pd.DataFrame,
    rules: Sequence[SegmentRule | Mapping[str, Any]] | None,
    as_of: date,
) -> pd.DataFrame:
    """Add `segment`, `cadence_days` and `play`: the first rule that is true for a customer wins.

    `rules=None` uses DEFAULT_SEGMENTS. Customers no rule matches get "Unsegmented".
    """
    checked = compile_segments(rules, _frame_types(frame))
    evaluator = Evaluator(frame, as_of)
    n = len(frame)
    fallback = len(checked)
    choice = np.full(n, fallback, dtype=np.int64)
    open_ = np.ones(n, dtype=bool)
    for i, (_, rule) in enumerate(checked):
        if not open_.any():
            break  # everyone has a segment: later rules cannot change anything
        hit = evaluator.condition(rule) & open_
        choice[hit] = i
        open_ &= ~hit
    segments = [r for r, _ in checked] + [UNSEGMENTED]
    out = frame.copy(deep=False)
    out["segment"] = _take_text([r.name for r in segments], choice)
    out["cadence_days"] = np.asarray([r.cadence_days for r in segments], dtype=np.int64)[choice]
    out["play"] = _take_text([r.play for r in segments], choice)
    # the rule order, for segment_summary (names, cadences and plays; small)
    out.attrs["cstool.segments"] = [
        {"name": r.name, "cadence_days": r.cadence_days, "play": r.play} for r in segments
    ]
    return out


def _take_text(values: list[str], codes: np.ndarray[Any, Any]) -> pd.Categorical[str]:
    """`values[codes]` as a categorical: one small code per customer, not a string each."""
    categories = list(dict.fromkeys(values))
    remap = np.asarray([categories.index(v) for v in values], dtype=np.int64)
    return pd.Categorical.from_codes(remap[codes], categories=pd.Index(categories))


@dataclass(frozen=True)
class RuleCheck:
    """One segment rule tried for one customer, for `cstool explain`."""

    segment: str
    rule: str
    matched: bool
    values: dict[str, Any] = field(default_factory=dict)
    """Each field and function the rule used, with this customer's value (None = missing)."""
    conditions: list[tuple[str, bool]] = field(default_factory=list)
    """Each comparison in the rule as written, and whether it was true for this customer."""
    cadence_days: int = 0
    play: str = ""
    description: str = ""


def explain_segment(
    frame: pd.DataFrame,
    index: int,
    rules: Sequence[SegmentRule | Mapping[str, Any]] | None,
    as_of: date,
) -> list[RuleCheck]:
    """Each rule tried for the customer in row position `index`, in order, up to the match.

    `index` is a position (as pipeline.customer_index gives). The last check is the matching
    rule (or "Unsegmented" when none matched); functions such as pct_rank are computed over
    the whole frame, as when segmenting.
    """
    checked = compile_segments(rules, _frame_types(frame))
    if not isinstance(index, int | np.integer) or not 0 <= int(index) < len(frame):
        raise UsageError(f"explain_segment: {index!r} is not a row position of the frame")
    position = int(index)
    evaluator = Evaluator(frame, as_of, record=True)
    checks: list[RuleCheck] = []
    for seg, rule in checked:
        matched, seen = trace(rule, evaluator, position)
        checks.append(
            RuleCheck(
                segment=seg.name,
                rule=seg.when,
                matched=matched,
                values=seen.values,
                conditions=seen.conditions,
                cadence_days=seg.cadence_days,
                play=seg.play,
                description=seg.description,
            )
        )
        if matched:
            return checks
    checks.append(
        RuleCheck(
            segment=UNSEGMENTED.name,
            rule="",
            matched=True,
            cadence_days=UNSEGMENTED.cadence_days,
            play=UNSEGMENTED.play,
            description=UNSEGMENTED.description,
        )
    )
    return checks


def segment_summary(
    frame: pd.DataFrame,
    rules: Sequence[SegmentRule | Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """One row per segment, in rule order: customers, share, MRR, mean scores, band mix.

    The order comes from `rules` if given, else from the segmenting step itself (kept on the
    frame), else the built-in order; segments nobody is in are listed with 0 customers. MRR is
    the sum of the known MRRs (missing when none is known); means skip missing values.
    """
    if "segment" not in frame.columns:
        raise ConfigError("segment_summary needs a segmented frame (run segments.segment first)")
    known = _ordered_segments(frame, rules)
    total = len(frame)
    codes, uniques = pd.factorize(frame["segment"].astype("string"), use_na_sentinel=False)
    present = [UNSEGMENTED.name if pd.isna(u) else str(u) for u in uniques]
    order = [r.name for r in known if r.name != UNSEGMENTED.name or r.name in present]
    order += sorted(set(present) - set(order))
    # codes of the file's own order → positions in the rule order
    codes = np.asarray([order.index(name) for name in present], dtype=np.int64)[codes]
    k = len(order)

    def per_segment(values: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], ...]:
        known_values = ~np.isnan(values)
        sums = np.bincount(codes[known_values], weights=values[known_values], minlength=k)
        counts = np.bincount(codes[known_values], minlength=k)
        return sums, counts

    customers = np.bincount(codes, minlength=k)
    mrr_sum, mrr_n = per_segment(column_floats(frame, "mrr"))
    sat_sum, sat_n = per_segment(column_floats(frame, "satisfaction"))
    health_sum, health_n = per_segment(column_floats(frame, "health"))
    band = frame["band"].astype("string") if "band" in frame.columns else None
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame(
            {
                "segment": pd.array(order, dtype="string"),
                "customers": customers.astype(np.int64),
                "share": customers / total if total else np.zeros(k),
                "mrr": np.where(mrr_n > 0, mrr_sum, np.nan),
                "mean_satisfaction": np.where(sat_n > 0, sat_sum / sat_n, np.nan),
                "mean_health": np.where(health_n > 0, health_sum / health_n, np.nan),
            }
        )
    for colour in BANDS:
        if band is None:
            out[colour] = np.zeros(k, dtype=np.int64)
            continue
        is_colour = np.asarray((band == colour).to_numpy(dtype=bool, na_value=False))
        out[colour] = np.bincount(codes[is_colour], minlength=k).astype(np.int64)
    by_name = {r.name: r for r in known}
    cadences, plays = [], []
    for name in order:
        rule = by_name.get(name)
        if rule is None:  # a segment the rules do not know: read it off its first customer
            first = int(np.argmax(codes == order.index(name)))
            rule = SegmentRule(
                name=name,
                when="true",
                cadence_days=int(cast(Any, frame["cadence_days"].iloc[first])),
                play=str(frame["play"].iloc[first]),
            )
        cadences.append(rule.cadence_days)
        plays.append(rule.play)
    out["cadence_days"] = np.asarray(cadences, dtype=np.int64)
    out["play"] = pd.array(plays, dtype="string")
    return out


def _ordered_segments(
    frame: pd.DataFrame, rules: Sequence[SegmentRule | Mapping[str, Any]] | None
) -> list[SegmentRule]:
    if rules is not None:
        return [*as_rules(rules), UNSEGMENTED]
    kept = frame.attrs.get("cstool.segments")
    if isinstance(kept, list) and kept:
        try:
            return [
                SegmentRule(
                    name=k["name"], when="true", cadence_days=k["cadence_days"], play=k["play"]
                )
                for k in kept
            ]
        except (KeyError, TypeError, ValidationError):
            pass  # attrs from somewhere else: fall back to the built-in order
    return [*DEFAULT_SEGMENTS, UNSEGMENTED]


def segment_names(rules: Sequence[SegmentRule | Mapping[str, Any]] | None) -> list[str]:
    """Segment names in rule order (the built-in ones for None)."""
    return [r.name for r in as_rules(rules)]


__all__ = [
    "DEFAULT_SEGMENTS",
    "OUTPUT_COLUMNS",
    "UNSEGMENTED",
    "RuleCheck",
    "check_rules",
    "compile_segments",
    "explain_segment",
    "locate_error",
    "segment",
    "segment_names",
    "segment_summary",
]
