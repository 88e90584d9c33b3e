"""Bytes or workbook → raw text table: encoding, delimiter, header matching, workbooks.

`read_raw` is the entry point; the rest is what other modules (ids, validate, pipeline,
init) use of the pieces.
"""

from cstool.read.encoding import decode, encoding_candidates, text_codec
from cstool.read.files import read_bytes, stat_input
from cstool.read.headers import (
    ALIASES,
    TOOL_ALIASES,
    check_column_mapping,
    duplicate_header_warnings,
    match_headers,
    missing_required,
    normalise_header,
)
from cstool.read.parse import (
    DELIMITERS,
    TITLE_LINES,
    delimiter_option,
    find_header,
    read_header,
    sniff_delimiter,
)
from cstool.read.raw import RawTable, in_sheet, ragged_records, read_raw
from cstool.read.workbook import WORKBOOK_SUFFIXES, workbook_kind

__all__ = [
    "ALIASES",
    "DELIMITERS",
    "TITLE_LINES",
    "TOOL_ALIASES",
    "WORKBOOK_SUFFIXES",
    "RawTable",
    "check_column_mapping",
    "decode",
    "delimiter_option",
    "duplicate_header_warnings",
    "encoding_candidates",
    "find_header",
    "in_sheet",
    "match_headers",
    "missing_required",
    "normalise_header",
    "ragged_records",
    "read_bytes",
    "read_header",
    "read_raw",
    "sniff_delimiter",
    "stat_input",
    "text_codec",
    "workbook_kind",
]
