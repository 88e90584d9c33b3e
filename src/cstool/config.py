"""cstool.toml: found upward from the current folder, parsed with tomllib into pydantic settings.

Every setting has its default here, so cstool works with no config file at all.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cstool.errors import ConfigError

CONFIG_NAME = "cstool.toml"
DEFAULT_CUSTOMERS = "customer_data.csv"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSettings(_Section):
    """How the customer table is read."""

    encoding: str = Field("auto", description="auto (BOM, UTF-8, GB18030) or a codec name")
    delimiter: str = Field("auto", description="auto, or one of , ; tab |")
    date_format: str | None = Field(
        None, description="an extra strftime date format, e.g. %d/%m/%Y, tried after ISO"
    )

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        if value in ("auto", "tab", "\\t"):
            return "\t" if value != "auto" else value
        if len(value) != 1:
            raise ValueError("expected auto, tab or a single character such as , or ;")
        return value


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
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}


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
    deadline: date
    baseline: float | None = None
    name: str | None = None


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
            raise ConfigError(f"{config}: config file not found")
        path: Path | None = config.resolve()
    else:
        env = os.environ.get("CSTOOL_CONFIG")
        path = Path(env).resolve() if env else find_config(cwd or Path.cwd())
    if path is None:
        return Workspace(settings=Settings())
    return Workspace(settings=load_settings(path), config_path=path)
