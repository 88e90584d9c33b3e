"""Command: draft — the drafted message for one customer's follow-up."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from cstool.cli.app import LOOKUP, FileArg, IdArg, Inputs, command, shared_inputs
from cstool.cli.followups import PANEL


class DraftFormat(StrEnum):
    """Output formats of `draft`."""

    text = "text"
    json = "json"
    eml = "eml"


@command(PANEL)
@shared_inputs(LOOKUP)
def draft_command(
    customer_id: IdArg,
    file: FileArg = None,
    fmt: Annotated[
        DraftFormat,
        typer.Option("--format", "-f", help="text, json, or eml (an .eml draft to open)."),
    ] = DraftFormat.text,
    *,
    inputs: Inputs,
) -> None:
    """The drafted message for a customer's follow-up due today (else for its play).

    Templates per reason and play, in English or Chinese ([outreach] in cstool.toml);
    cstool never sends mail.

    [dim]Example: cstool draft C1001 --format eml > C1001.eml[/]
    """
    from cstool import render
    from cstool.render import eml

    draft = inputs.book(skip_invalid=True).draft(customer_id)
    if fmt is DraftFormat.eml:
        if not draft.to:
            from cstool.errors import DataError

            raise DataError(
                f"customer {draft.customer_id!r} has no valid email address; no .eml written",
                hint="--format text shows the draft",
            )
        render.write_bytes_stdout(eml.eml_bytes(draft))
    elif fmt is DraftFormat.json:
        import json

        record = {
            "customer_id": draft.customer_id,
            "name": draft.name,
            "to": draft.to,
            "subject": draft.subject,
            "body": draft.body,
            "template": draft.template,
            "language": draft.language,
            "as_of": draft.as_of.isoformat(),
            "mailto": eml.mailto_url(draft.to, draft.subject, draft.body) if draft.to else None,
        }
        render.write_stdout(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        head = f"To: {draft.to}\n" if draft.to else "To: (no email address on file)\n"
        render.write_stdout(f"{head}Subject: {draft.subject}\n\n{draft.body}")
