"""Sources: the exports a company already has (billing, help desk, surveys, CRM) joined onto
the customer table, each value traceable to its file and line.

`merge_sources(table, settings, root)` is the entry point; `recognise(header)` tells a
source's kind from its headers.
"""

from cstool.sources.kinds import KINDS, layout, recognise
from cstool.sources.merge import (
    SourceReport,
    SourcesResult,
    merge_sources,
    normal_emails,
    source_path,
)

__all__ = [
    "KINDS",
    "SourceReport",
    "SourcesResult",
    "layout",
    "merge_sources",
    "normal_emails",
    "recognise",
    "source_path",
]
