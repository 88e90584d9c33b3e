"""cstool.toml: found upward from the current folder, parsed with tomllib into pydantic settings.

Every setting has its default here, so cstool works with no config file at all.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cstool.errors import ConfigError

CONFIG_NAME = "cstool.toml"
DEFAULT_CUSTOMERS = "customer_data.csv"


class _Section(BaseModel):
    # Strict: `max = true` is not 1.0 and `"0.5"` is not 0.5; finite: `inf` and `nan` are not
    # numbers a score can be computed from. (Dates stay lax: TOML users write "2027-06-30".)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class InputSettings(_Section):
    """How the customer table is read."""

    encoding: str = Field("auto", description="auto (BOM, UTF-8, GB18030, Big5) or a codec name")
    delimiter: str = Field("auto", description="auto, or one of , ; tab |")
    date_format: str | list[str] | None = Field(
        None,
        description="a strftime date format (e.g. %d/%m/%Y) or a list of them, tried in order "
        "per column; without one, each column's day/month order is read from its own values",
    )
    sheet: str | int | None = Field(
        None,
        description="a workbook's sheet: its name, or its position counted from 0 (default: "
        "the first sheet with a customer ID column)",
    )

    @field_validator("sheet")
    @classmethod
    def _sheet(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, str) and not value.strip():
            raise ValueError("expected a sheet's name or its position (0 is the first)")
        if isinstance(value, int) and value < 0:
            raise ValueError("expected a position from 0 (the first sheet) up")
        return value

    @field_validator("date_format")
    @classmethod
    def _date_formats(cls, value: str | list[str] | None) -> str | list[str] | None:
        for fmt in [value] if isinstance(value, str) else value or []:
            _check_date_format(fmt)
        return value

    def date_formats(self) -> list[str]:
        """`date_format` as a list (empty when not set)."""
        value = self.date_format
        return [value] if isinstance(value, str) else list(value or [])

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        if value in ("auto", "tab", "\\t"):
            return "\t" if value != "auto" else value
        if len(value) != 1:
            raise ValueError("expected auto, tab or a single character such as , or ;")
        return value


# strftime directives a date format may use (the ones that describe a day and its time)
_DATE_DIRECTIVES = set("aAwdbBmyYHIpMSfzZjUWcxXGuV%")


def _check_date_format(fmt: str) -> None:
    """Refuse formats strptime would mis-read: unknown directives, a lone or trailing %."""
    if not fmt.strip():
        raise ValueError("expected a strftime format such as %d/%m/%Y, not an empty one")
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            if i + 1 >= len(fmt):
                raise ValueError(f"{fmt!r} ends with a lone %; write %% for a percent sign")
            if fmt[i + 1] not in _DATE_DIRECTIVES:
                raise ValueError(
                    f"{fmt!r}: %{fmt[i + 1]} is not a date directive; use %d %m %Y %y %b %B "
                    "%H %M %S %I %p, e.g. %d/%m/%Y"
                )
            i += 2
            continue
        i += 1


class ScaleSettings(_Section):
    """The scale the three satisfaction inputs are given on."""

    min: float = 0.0
    max: float = 10.0

    @model_validator(mode="after")
    def _ordered(self) -> ScaleSettings:
        if not self.max > self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        return self


def _normalised(weights: dict[str, float]) -> dict[str, float]:
    # Divided by the largest first, so weights near the float limit (1e308) cannot overflow.
    largest = max(weights.values())
    scaled = {k: v / largest for k, v in weights.items()}
    total = sum(scaled.values())
    return {k: v / total for k, v in scaled.items()}


class _Weights(_Section):
    @model_validator(mode="after")
    def _not_all_zero(self) -> _Weights:
        values = self.model_dump()
        if any(v < 0 for v in values.values()):
            raise ValueError("weights must be ≥ 0")
        if sum(values.values()) <= 0:
            raise ValueError("weights must not all be 0")
        return self

    def normalised(self) -> dict[str, float]:
        """The weights scaled to sum to 1 (so 5, 3, 2 means 0.5, 0.3, 0.2)."""
        return _normalised({k: float(v) for k, v in self.model_dump().items()})


class SatisfactionWeights(_Weights):
    """Weights of the satisfaction formula (the seed's 0.5 / 0.3 / 0.2)."""

    value_delivery: float = 0.5
    issue_resolution: float = 0.3
    growth_strategy: float = 0.2


class HealthWeights(_Weights):
    """Weights of the health composite; a measure missing for a customer is renormalised away."""

    satisfaction: float = 0.5
    recency: float = 0.2
    nps: float = 0.15
    support: float = 0.15


class HealthSettings(_Section):
    """The health composite."""

    expected_interval_days: int = Field(
        30, gt=0, description="days between touches that still count as fully in touch"
    )
    tickets_at_zero: int = Field(5, gt=0, description="open tickets at which support scores 0")
    weights: HealthWeights = HealthWeights()


class BandSettings(_Section):
    """Health thresholds: below `red_below` is red, from `green_from` on green."""

    red_below: float = 50.0
    green_from: float = 75.0

    @model_validator(mode="after")
    def _ordered(self) -> BandSettings:
        if not 0 <= self.red_below <= self.green_from <= 100:
            raise ValueError("expected 0 ≤ red_below ≤ green_from ≤ 100")
        return self


class SegmentRule(_Section):
    """One segment: the first rule whose `when` is true for a customer wins."""

    name: str = Field(min_length=1)
    when: str = Field(min_length=1)
    cadence_days: int = Field(gt=0)
    play: str = ""
    description: str = ""


class FollowupSettings(_Section):
    """Triggers that make a customer due besides its cadence."""

    renewal_window_days: int = Field(30, ge=0)
    red: bool = True
    nps_detractor: bool = True
    onboarding_checkins: list[int] = Field(default_factory=lambda: [7, 30, 90])
    health_drop: bool = True
    health_drop_points: float = Field(
        15.0, gt=0, description="health points lost since the earlier snapshot that make one due"
    )
    health_drop_days: int = Field(
        30, ge=1, description="the earlier snapshot: the latest dated this many days before as-of"
    )


class KpiSettings(_Section):
    """KPI definitions that have a threshold."""

    satisfied_threshold: float = Field(
        60.0, ge=0, le=100, description="satisfaction at or above which a customer is satisfied"
    )


GoalMetric = Literal[
    "customers",
    "mrr",
    "mrr_at_risk",
    "satisfied_share",
    "mean_satisfaction",
    "mean_health",
    "nps",
    "retention_rate",
    "logo_churn",
    "gross_revenue_retention",
    "net_revenue_retention",
    "green_share",
    "red_share",
]


class Goal(_Section):
    """A measurable goal: a KPI, a target and a deadline (baseline optional)."""

    metric: GoalMetric
    target: float
    deadline: date = Field(strict=False)
    baseline: float | None = None
    name: str | None = None


LifecycleStatus = Literal[
    "active", "trial", "paused", "past_due", "cancelling", "churned", "prospect"
]
# "none": the value says nothing about the lifecycle (an "Other"): <NA> (active), not reported.
LifecycleMapping = Literal[
    "active", "trial", "paused", "past_due", "cancelling", "churned", "prospect", "none"
]
# Not live: no follow-ups, left out of the live KPIs and the churn cases. A prospect (a lead,
# a subscriber, an opportunity of a CRM's contacts export) is not a customer yet: not churned
# either, and the day it becomes one it is a new customer.
NOT_LIVE_STATUSES: tuple[str, ...] = ("churned", "paused", "prospect")
# Not among a table's customers when tables are compared (retention, churn, movements): a
# prospect becoming active is a new customer; one that was never a customer cannot churn.
ABSENT_STATUSES: tuple[str, ...] = ("churned", "prospect")


def lifecycle_key(text: str) -> str:
    """Case- and separator-insensitive form of a stage value: `Past-Due` → `pastdue`."""
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


class LifecycleSettings(_Section):
    """Lifecycle status: the file's stage/status values mapped to cstool's statuses."""

    values: dict[str, LifecycleMapping] = Field(
        default_factory=dict,
        description='the file\'s stage/status values, e.g. { "On Ice" = "paused" }; '
        "they extend and override the built-in ones",
    )
    max_snapshot_loss: float = Field(
        0.5,
        ge=0,
        le=1,
        description="share of the book a new snapshot may lose before it is refused unless forced",
    )

    @field_validator("values", mode="before")
    @classmethod
    def _status_spellings(cls, value: Any) -> Any:
        # "Past due" and "past-due" name the status past_due, like the values they map.
        if not isinstance(value, dict):
            return value
        spelled = {lifecycle_key(s): s for s in (*get_args(LifecycleStatus), "none")}
        out: dict[str, Any] = {}
        seen: dict[str, str] = {}
        for key, target in value.items():
            norm = lifecycle_key(str(key))
            if not norm:
                raise ValueError(f"{key!r} has no letters or digits to match a value by")
            if norm in seen and seen[norm] != key:
                raise ValueError(
                    f"{seen[norm]!r} and {key!r} are the same value (case and "
                    "separators are ignored); keep one"
                )
            seen[norm] = str(key)
            out[str(key)] = (
                spelled.get(lifecycle_key(target), target) if isinstance(target, str) else target
            )
        return out


class TemplateOverride(_Section):
    """One drafted message's template: a subject line and a body (Jinja2 text, sandboxed)."""

    subject: str | None = Field(None, description="the subject line template")
    body: str | None = Field(None, description="the body template")


class OutreachSettings(_Section):
    """Drafted messages (`cstool draft`, the outbox): language, who signs, template overrides.

    `templates` is keyed by a follow-up reason (renewal, red, detractor, onboarding, cadence,
    payment, cancelling, health_drop) or a segment name as the segments spell it (Onboarding,
    Champions, …); `templates_dir` (relative to the workspace) holds `reasons/<reason>.txt`
    and `plays/<segment>.txt` files, a `Subject:` line, a blank line, then the body.
    """

    language: Literal["en", "zh"] = "en"
    owner_name: str = Field("", description="your name, for the templates' sign-off")
    signature: str = Field("", description="the lines under each message (empty: owner_name)")
    from_address: str | None = Field(None, description="From: of drafted .eml files")
    templates: dict[str, TemplateOverride] = Field(
        default_factory=dict, description="subject/body per reason or segment"
    )
    templates_dir: str | None = Field(None, description="a folder of template files")

    @field_validator("from_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        user, _, domain = value.rpartition("@")
        if not user or "." not in domain or any(c.isspace() or c in "<>,;" for c in value):
            raise ValueError("expected one email address, e.g. me@example.com")
        return value


SourceKind = Literal["auto", "subscriptions", "tickets", "surveys", "crm", "generic"]
SourceMatch = Literal["auto", "customer_id", "email", "domain"]
AggregationOp = Literal[
    "count", "count_where", "latest", "first", "sum", "mean", "min", "max", "share_where"
]


class AggregationSettings(_Section):
    """One field a generic source computes per customer: `op` over `column` (and `where`)."""

    field: str = Field(min_length=1, description="the field it gives (a new column or a known one)")
    op: AggregationOp
    column: str | None = Field(None, description="the source's header the op reads")
    where: dict[str, list[str]] = Field(
        default_factory=dict,
        description="header -> values (case-insensitive) a row must have, for *_where ops",
    )
    by: str | None = Field(None, description="a date header that orders rows for latest/first")

    @field_validator("where", mode="before")
    @classmethod
    def _where_as_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value


class SourceSettings(_Section):
    """One `[[sources]]` entry: an export joined onto the customer table."""

    file: str = Field(
        min_length=1, description="relative to the workspace; a glob takes the newest"
    )
    kind: SourceKind = "auto"
    match: SourceMatch = Field(
        "auto", description="auto: the customer ID where the row has one, else the email"
    )
    key: str | None = Field(None, description="the source's header holding the match key")
    prefer: Literal["main", "source"] = Field(
        "main", description="main: the customer table's cell wins unless it is empty"
    )
    fields: dict[str, str] = Field(
        default_factory=dict, description="field -> the source's header (the latest row's value)"
    )
    aggregations: list[AggregationSettings] = Field(default_factory=list)
    sheet: str | int | None = None
    # 24 hours: the resolution target help desks' default SLA policies give a normal-priority
    # ticket (Freshdesk, Zendesk); calendar hours, as the exports' timestamps are.
    solve_target_hours: float = Field(
        24.0,
        gt=0,
        description="tickets: a ticket solved within this many hours of its creation is "
        "solved on time (tickets_solved_on_time)",
    )

    @model_validator(mode="after")
    def _target_for_tickets(self) -> SourceSettings:
        if "solve_target_hours" in self.model_fields_set and self.kind not in ("auto", "tickets"):
            raise ValueError(f"solve_target_hours is for tickets, not kind = {self.kind!r}")
        return self


ColumnAliases = dict[str, Annotated[list[str], Field(min_length=1)]]


class Settings(_Section):
    """The whole cstool.toml."""

    customers: str | None = None
    input: InputSettings = InputSettings()
    columns: ColumnAliases = Field(default_factory=dict)
    scale: ScaleSettings = ScaleSettings()
    weights: SatisfactionWeights = SatisfactionWeights()
    health: HealthSettings = HealthSettings()
    bands: BandSettings = BandSettings()
    segments: list[SegmentRule] | None = None
    followups: FollowupSettings = FollowupSettings()
    kpis: KpiSettings = KpiSettings()
    goals: list[Goal] = Field(default_factory=list)
    lifecycle: LifecycleSettings = LifecycleSettings()
    sources: list[SourceSettings] = Field(default_factory=list)

    outreach: OutreachSettings = OutreachSettings()

    @field_validator("columns", mode="before")
    @classmethod
    def _columns_as_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value


class Workspace(BaseModel):
    """Settings plus where they came from."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    settings: Settings
    config_path: Path | None = None

    @property
    def root(self) -> Path | None:
        """The workspace folder: the config file's folder, if there is one."""
        return self.config_path.parent if self.config_path else None


def find_config(start: Path) -> Path | None:
    """The nearest cstool.toml in `start` or a parent folder, like git or ruff."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if candidate.is_symlink() or candidate.exists():  # a folder, a FIFO, a dangling link
            raise ConfigError(
                f"{candidate}: is not a regular file, so it cannot be read as cstool's config",
                hint="remove or rename it, or name a config with --config",
            )
    return None


def load_settings(path: Path) -> Settings:
    """Parse one cstool.toml; every problem names the file and the key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
    return settings_from_dict(data, source=str(path))


def settings_from_dict(data: dict[str, Any], *, source: str = CONFIG_NAME) -> Settings:
    """Validate a parsed config; unknown keys are errors (typos must not pass silently)."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: {describe_validation_error(e)}" for e in exc.errors()]
        raise ConfigError(
            f"{source}: invalid config ({len(lines)} problem{'s' if len(lines) != 1 else ''})\n"
            + "\n".join("  " + line for line in lines)
        ) from None


def describe_validation_error(error: Any) -> str:
    """`key [a.b]: what was wrong` for one pydantic error."""
    key = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"unknown key {key!r} (check the spelling; see `cstool init` for every setting)"
    value = error.get("input")
    got = "" if isinstance(value, dict | list) else f" (got {value!r})"
    return f"key {key!r}: {error['msg']}{got}"


def load_workspace(config: Path | None = None, cwd: Path | None = None) -> Workspace:
    """The settings in force: `--config` if given, else the nearest cstool.toml, else defaults."""
    if config is not None:
        if not config.is_file():
            what = "is not a regular file" if config.exists() else "config file not found"
            raise ConfigError(f"{config}: {what}")
        path: Path | None = config.resolve()
    else:
        env = os.environ.get("CSTOOL_CONFIG")
        path = Path(env).resolve() if env else find_config(cwd or Path.cwd())
    if path is None:
        return Workspace(settings=Settings())
    return Workspace(settings=load_settings(path), config_path=path)
