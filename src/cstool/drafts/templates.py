"""Which templates there are, where they come from, and compiling them all once.

Built-in templates live in `templates/<language>/reasons/<reason>.txt` and
`templates/<language>/plays/<segment>.txt` inside this package. A file is a `Subject:` line,
a blank line, then the body. Overrides, each replacing the built-in one field by field:

1. `templates_dir` (relative to the workspace): the same layout, `reasons/<reason>.txt` and
   `plays/<segment>.txt` (the segment's name in any case);
2. `[outreach.templates.<reason or segment>]` in cstool.toml, with `subject` and/or `body`.
   Reasons are spelled in lower case (`onboarding` is the check-in); segments as the
   segment rules spell them (`Onboarding` is the segment).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cstool.drafts.sandbox import compile_template
from cstool.errors import ConfigError

if TYPE_CHECKING:
    from jinja2 import Template

    from cstool.config import OutreachSettings, TemplateOverride

# Follow-up reasons, highest priority first: the first one a follow-up has picks its template.
REASONS = (
    "cancelling",
    "payment",
    "renewal",
    "red",
    "health_drop",
    "detractor",
    "onboarding",
    "cadence",
)
PLAYS = ("Onboarding", "Champions", "Grow", "Rescue", "Nurture")
VARIABLES = (
    "name",
    "greeting_name",
    "customer_id",
    "plan",
    "mrr",
    "renewal_date",
    "days_to_renewal",
    "nps",
    "nps_comment",
    "open_tickets",
    "last_touch",
    "days_since_touch",
    "reasons",
    "reason",
    "play",
    "segment",
    "health",
    "band",
    "status",
    "cancel_date",
    "owner_name",
    "signature",
    "as_of",
)


@dataclass(frozen=True)
class MessageTemplate:
    """A compiled subject and body, and the key they are for (`renewal`, `play:Rescue`)."""

    key: str
    subject: Template
    body: Template


@dataclass(frozen=True)
class TemplateSet:
    """Every template a run can use, compiled once: per reason, and per segment's play."""

    language: str
    reasons: dict[str, MessageTemplate]
    plays: dict[str, MessageTemplate]  # keyed by segment name as the segment rules spell it


@dataclass
class _Source:
    subject: str
    body: str
    subject_name: str
    body_name: str
    body_line: int  # the body's first line in its file (errors name file lines)


def load_templates(
    outreach: OutreachSettings,
    segments: Sequence[str] = PLAYS,
    *,
    root: Path | None = None,
    config_path: Path | None = None,
) -> TemplateSet:
    """Built-in templates in the configured language, overridden by the folder and the config.

    `segments` are the segment names in force (a play template exists for each built-in one
    and for each segment an override names). Every template is compiled here; a hostile or
    broken one is a ConfigError naming it and its line.
    """
    language = outreach.language
    reasons: dict[str, _Source] = {key: _builtin(language, "reasons", key) for key in REASONS}
    plays: dict[str, _Source] = {
        name: _builtin(language, "plays", name.lower()) for name in segments if name in PLAYS
    }
    if outreach.templates_dir:
        _from_folder(outreach.templates_dir, root, segments, reasons, plays)
    config = str(config_path) if config_path else "cstool.toml"
    for key, override in outreach.templates.items():
        _from_config(config, key, override, segments, reasons, plays)
    return TemplateSet(
        language=language,
        reasons={key: _compiled(key, source) for key, source in reasons.items()},
        plays={name: _compiled(f"play:{name}", source) for name, source in plays.items()},
    )


def _compiled(key: str, source: _Source) -> MessageTemplate:
    subject = compile_template(source.subject, source.subject_name, VARIABLES, first_line=1)
    body = compile_template(source.body, source.body_name, VARIABLES, first_line=source.body_line)
    return MessageTemplate(key=key, subject=subject, body=body)


def _builtin(language: str, kind: str, key: str) -> _Source:
    from importlib.resources import files

    name = f"{language}/{kind}/{key}.txt"
    text = (
        files("cstool.drafts")
        .joinpath("templates", language, kind, f"{key}.txt")
        .read_text(encoding="utf-8")
    )
    return parse_template_file(text, f"built-in template {name}")


def parse_template_file(text: str, name: str) -> _Source:
    """`Subject: …` on the first line, an optional blank line, then the body."""
    lines = text.removeprefix("\ufeff").split("\n")
    first = lines[0].rstrip("\r")
    if not first.lower().startswith("subject:"):
        raise ConfigError(
            f"{name}: line 1: expected 'Subject: …' on the first line, then the body",
            hint="for example: Subject: Your renewal on {{ renewal_date }}",
        )
    skip = 2 if len(lines) > 1 and not lines[1].strip() else 1
    return _Source(
        subject=first[len("subject:") :].strip(),
        body="\n".join(line.rstrip("\r") for line in lines[skip:]),
        subject_name=name,
        body_name=name,
        body_line=skip + 1,
    )


def _from_folder(
    folder_text: str,
    root: Path | None,
    segments: Sequence[str],
    reasons: dict[str, _Source],
    plays: dict[str, _Source],
) -> None:
    folder = Path(folder_text)
    if not folder.is_absolute() and root is not None:
        folder = root / folder
    if not folder.is_dir():
        raise ConfigError(
            f"[outreach] templates_dir: {folder} is not a folder",
            hint="it holds reasons/<reason>.txt and plays/<segment>.txt",
        )
    by_fold = {name.casefold(): name for name in segments}
    for kind in ("reasons", "plays"):
        sub = folder / kind
        if not sub.is_dir():
            continue
        for path in sorted(sub.glob("*.txt")):
            key = path.stem
            if kind == "reasons":
                if key not in REASONS:
                    raise ConfigError(
                        f"{path}: no follow-up reason {key!r}" + _did_you_mean(key, REASONS),
                        hint=f"reasons: {', '.join(REASONS)}",
                    )
                reasons[key] = _read_template(path)
            else:
                segment = by_fold.get(key.casefold())
                if segment is None:
                    raise ConfigError(
                        f"{path}: no segment {key!r}" + _did_you_mean(key, segments),
                        hint=f"segments: {', '.join(segments)}",
                    )
                plays[segment] = _read_template(path)


def _read_template(path: Path) -> _Source:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: a template file must be UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read template: {exc.strerror or exc}") from None
    return parse_template_file(text, str(path))


def _from_config(
    config: str,
    key: str,
    override: TemplateOverride,
    segments: Sequence[str],
    reasons: dict[str, _Source],
    plays: dict[str, _Source],
) -> None:
    where = f"{config}: [outreach.templates.{key}]"
    table: dict[str, _Source]
    if key in REASONS:
        table = reasons
    elif key in segments:
        table = plays
    else:
        known = [*REASONS, *segments]
        raise ConfigError(
            f"{where}: no follow-up reason or segment {key!r}" + _did_you_mean(key, known),
            hint=f"reasons: {', '.join(REASONS)}; segments: {', '.join(segments)}",
        )
    current = table.get(key)
    if current is None and (override.subject is None or override.body is None):
        raise ConfigError(
            f"{where}: needs both subject and body (segment {key!r} has no built-in template)"
        )
    merged = current or _Source("", "", "", "", 1)
    if override.subject is not None:
        merged.subject = " ".join(override.subject.splitlines())
        merged.subject_name = f"{where} subject"
    if override.body is not None:
        merged.body = override.body
        merged.body_name = f"{where} body"
        merged.body_line = 1
    table[key] = merged


def _did_you_mean(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
