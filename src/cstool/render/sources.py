"""The per-source report of `cstool validate`: what each export gave, what it could not place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cstool.render import message, stdout
from cstool.render.text import clean

if TYPE_CHECKING:
    from cstool.sources import SourceReport

# The lifecycle inputs a subscriptions source adds, as a person reads them.
_SHOWN_AS = {
    "subscription_status": "status",
    "churned_at": "churn date",
    "cancel_at": "cancel date",
}


def source_lines(report: SourceReport) -> list[str]:
    """The lines for one source: kind, rows, matches, what is unmatched, fields, conflicts."""
    plural = "s" if report.rows != 1 else ""
    how = ", ".join(f"{n} by {key.replace('_', ' ')}" for key, n in report.matched_by.items() if n)
    head = (
        f"{clean(report.file.name)}: {report.kind} · {report.rows} row{plural}, "
        f"{report.matched} matched"
        + (f" ({how})" if how else "")
        + f" → {report.customers} customer{'s' if report.customers != 1 else ''}"
    )
    lines = [head]
    if report.unmatched:
        keys = ", ".join(clean(k) for k in report.unmatched_keys)
        more = ", …" if report.unmatched > len(report.unmatched_keys) else ""
        lines.append(f"  {report.unmatched} not matched to a customer: {keys}{more}")
    if report.ignored:
        lines.append(f"  {report.ignored} without a score (partial answers), left out")
    if report.duplicates:
        lines.append(f"  {report.duplicates} repeating an earlier row's ID, left out")
    fields = [_SHOWN_AS.get(f, f) for f in report.fields]
    lines.append(f"  gives: {', '.join(fields) if fields else 'nothing'}")
    for name, count in report.conflicts.items():
        lines.append(
            f"  {name}: differs from the customer table on {count} customer"
            f"{'s' if count != 1 else ''}"
        )
    lines += [f"    {clean(example)}" for example in report.conflict_examples]
    lines += [f"  emptied: {clean(p.describe())}" for p in report.problems[:5]]
    return lines


def sources_report(reports: list[SourceReport]) -> None:
    """Every source's lines on stderr, under a `sources:` heading."""
    if not reports:
        return
    message("sources:")
    for report in reports:
        for line in source_lines(report):
            message(f"  {line}")


def origins(where: dict[str, str]) -> None:
    """`explain`'s last lines: each field and the file and line its value came from (stdout)."""
    if not where:
        return
    console = stdout()
    console.print("where the values came from:", markup=False)
    width = max(len(name) for name in where)
    for name, origin in where.items():
        console.print(f"  {_SHOWN_AS.get(name, name):<{width}}  {clean(origin)}", markup=False)
