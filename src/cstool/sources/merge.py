"""`[[sources]]` → one merged customer table: read, recognise, match, aggregate, merge.

Each source is read like the customer table (`read.read_raw`), its kind recognised from its
headers, its rows matched to customers (customer ID where the row has one that is known,
else the email, else the email's domain when `match = "domain"`), aggregated per customer
and merged onto the validated table. Precedence per field: the customer table first unless
its cell is empty (`prefer = "source"` turns that round for one source), then the sources
in the config's order. Every value keeps where it came from (`SourcesResult.provenance`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstool.config import Settings, SourceSettings
from cstool.errors import ConfigError, DataError, Problem
from cstool.sources.aggregate import AGGREGATORS, BadCells, Supplied, generic, subscriptions
from cstool.sources.kinds import Layout, layout, recognise

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from cstool.read import RawTable
    from cstool.validate import Table

# Fields a source adds that the lifecycle step reads under these names (the status, the day
# it churned, the day it will end) rather than cstool's own output columns.
LIFECYCLE_INPUTS = ("subscription_status", "churned_at", "cancel_at")
UNMATCHED_SHOWN = 5  # unmatched keys named per source
CONFLICTS_SHOWN = 3  # conflicting customers named per field
# SurveyMonkey's second header row: these cells under each question.
SECOND_HEADER_CELLS = ("response", "open-ended response", "other (please specify)")


@dataclass
class SourceReport:
    """What one source gave and what it could not place: nothing is dropped in silence."""

    file: Path
    kind: str
    rows: int
    matched: int  # rows matched to a customer
    unmatched: int  # rows whose key names no customer
    unmatched_keys: list[str]  # the first few of them, as written
    ignored: int  # rows without the value the kind reads (partial survey answers)
    duplicates: int  # rows repeating an earlier row's record ID (left out)
    customers: int  # customers it gave a value to
    matched_by: dict[str, int]  # "customer_id" / "email" / "domain" -> rows
    fields: list[str]  # the fields it supplies
    conflicts: dict[str, int]  # field -> customers whose main-table value differs
    conflict_examples: list[str]  # `C001 mrr: 100 (table) ≠ 120 (source)`
    problems: list[Problem] = field(default_factory=list)  # cells left empty (--skip-invalid)


@dataclass
class SourcesResult:
    """The merged table, a report per source, and where every value came from."""

    table: Table
    reports: list[SourceReport]
    provenance: pd.DataFrame  # per customer row: `<field>` file name, `<field>_line` its line
    main: Table  # the customer table alone, before the merge

    def origin(self, position: int) -> dict[str, str]:
        """Field -> `file line N` for one customer row (fields without a value left out)."""
        import pandas as pd

        row = self.provenance.iloc[position]
        out = {}
        for column in self.provenance.columns:
            if column.endswith("_line"):
                continue
            where = row[column]
            if pd.isna(where):
                continue
            line = row[f"{column}_line"]
            out[column] = f"{where} line {int(line)}" if pd.notna(line) else str(where)
        return out


def source_path(spec: SourceSettings, root: Path) -> Path:
    """The source's file: relative to the workspace; a glob takes the newest (mtime, name)."""
    import glob

    pattern = spec.file
    full = Path(pattern) if Path(pattern).is_absolute() else root / pattern
    if not glob.has_magic(pattern):
        if not full.is_file():
            raise ConfigError(
                f"[[sources]] file = {pattern!r}: no such file ({full})",
                hint="paths are relative to the folder of cstool.toml",
            )
        return full
    found = [Path(p) for p in glob.glob(str(full)) if Path(p).is_file()]
    if not found:
        raise ConfigError(f"[[sources]] file = {pattern!r}: no file matches ({full})")
    return max(found, key=lambda p: (p.stat().st_mtime, p.name))


def merge_sources(
    table: Table,
    settings: Settings,
    root: Path,
    *,
    skip_invalid: bool = False,
    reads: SourceReads | None = None,
    as_of: date | None = None,
) -> SourcesResult:
    """Every `[[sources]]` entry joined onto the validated table, in the config's order.

    `as_of`: the day a subscription's end is compared with (a cancelled one that ends later
    still pays until then).

    Raises DataError for a source that matches no customer, and (unless `skip_invalid`)
    for cells a source cannot read, each named by file, line, column and value. `reads`
    (from `read_ahead` with the same settings and root) holds the files already being
    read; its errors come out here, where they would have without it.
    """
    import numpy as np
    import pandas as pd

    frame = table.frame.copy(deep=False)
    raw = table.raw.copy(deep=False)
    n = len(frame)
    keys = _customer_keys(table)
    files = [table.source.name]
    origin: dict[str, np.ndarray] = {}  # field -> 0 main, k the k-th source, -1 none
    line_of: dict[str, np.ndarray] = {}
    main_lines = np.asarray(table.lines, dtype=np.float64)
    for name in table.headers:
        if name in frame.columns:
            present = frame[name].notna().to_numpy()
            origin[name] = np.where(present, 0, -1).astype(np.int16)
            line_of[name] = np.where(present, main_lines, np.nan)
    reports = []
    problems: list[Problem] = []
    paths = reads.paths() if reads is not None else [source_path(s, root) for s in settings.sources]
    prepared = _prepare_all(settings, paths, table, keys, reads, as_of)
    for k, (spec, path) in enumerate(zip(settings.sources, paths, strict=True), start=1):
        files.append(path.name)
        aligned, report = prepared[k - 1]  # the source's text is freed already
        problems.extend(report.problems)
        conflicts: dict[str, int] = {}
        examples: list[str] = []
        for name, (column, lines, have) in aligned.items():
            current = frame[name] if name in frame.columns else None
            if current is None:
                frame[name] = column
                origin[name] = np.where(have, k, -1).astype(np.int16)
                line_of[name] = np.where(have, lines, np.nan)
                continue
            was = origin.get(name, np.where(current.notna().to_numpy(), 0, -1).astype(np.int16))
            differ = _differ(current, column) & (was == 0) & have
            if differ.any():
                conflicts[name] = int(differ.sum())
                examples += _examples(frame, name, current, column, differ)
            if name in LATEST_WINS:  # a touch on record anywhere is a touch: the latest
                newer = _later(column, current)
                take = have & ((was < 0) | newer)
            else:
                take = have & ((was < 0) if spec.prefer == "main" else (was <= 0))
            if take.any():
                frame[name] = current.where(~take, column.astype(current.dtype))
                origin[name] = np.where(take, k, was).astype(np.int16)
                line_of[name] = np.where(take, lines, line_of.get(name, np.full(n, np.nan)))
        reports.append(dataclasses.replace(report, conflicts=conflicts, conflict_examples=examples))
    if problems and not skip_invalid:
        raise DataError(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the sources",
            problems=problems[:50],
            total_problems=len(problems),
            hint="fix the cells, or use --skip-invalid to leave them empty",
        )
    raw = _raw_with(raw, frame, table, origin)
    merged = dataclasses.replace(table, frame=frame, raw=raw)
    provenance = pd.DataFrame(
        {
            column: data
            for name in origin
            for column, data in (
                (name, _categorical(origin[name], files)),
                (f"{name}_line", _line_numbers(line_of[name])),
            )
        }
    )
    return SourcesResult(table=merged, reports=reports, provenance=provenance, main=table)


# Fields where the latest date wins, whichever file has it and whatever `prefer` says: the
# table's last contact of September beside a CRM's activity of November was touched in
# November, and taking September would raise a follow-up that is not due.
LATEST_WINS = frozenset({"last_contact"})


def _later(column: pd.Series, current: pd.Series) -> np.ndarray:
    """Where the source's date is after the table's (False where either is missing)."""
    import numpy as np

    theirs = np.asarray(column.to_numpy(dtype="datetime64[ns]"))
    ours = np.asarray(current.to_numpy(dtype="datetime64[ns]"))
    return np.asarray(theirs > ours, dtype=bool)  # NaT compares False


def _line_numbers(lines: np.ndarray) -> Any:
    """Float lines (NaN: none) as nullable Int32, built from data and mask: the same array as
    `pd.array(lines, dtype="Int32")` without its per-value checks (1M rows x every field)."""
    import numpy as np
    import pandas as pd

    missing = np.isnan(lines)
    return pd.arrays.IntegerArray(np.where(missing, 0, lines).astype(np.int32), missing)


def _categorical(codes: np.ndarray, files: list[str]) -> Any:
    """Source index per row (-1: none) as the file's name, stored once per file."""
    import numpy as np
    import pandas as pd

    make: Any = pd.Categorical.from_codes
    return make(np.asarray(codes, dtype=np.int64), categories=files)


@dataclass(frozen=True)
class _Keys:
    """The customer table's match keys: its IDs, emails and email domains (Arrow)."""

    ids: pa.Array
    emails: pa.Array
    id_header: str | None

    @functools.cached_property
    def emails_are_normal(self) -> bool:
        """Whether every key is its own normal form (`normal_emails` leaves it as it is)."""
        import pyarrow as pa

        return bool(normal_emails(pa.chunked_array([self.emails])).equals(self.emails))

    @functools.cached_property
    def domains(self) -> pa.Array:
        """Only a source with `match = "domain"` asks for them."""
        return email_domains(self.emails)


def _customer_keys(table: Table) -> _Keys:
    import pyarrow as pa

    frame = table.frame
    ids = _arrow_text(frame["customer_id"])
    emails = normal_emails(pa.chunked_array([_arrow_text(frame["email"])]))
    return _Keys(ids, emails, table.headers.get("customer_id"))


def _arrow_text(series: pd.Series) -> pa.Array:
    """A text column as one Arrow string array, without Python objects where it is Arrow."""
    import pyarrow as pa

    from cstool.validate import text_dtype

    array = pa.array(series.astype(text_dtype()).array, type=pa.string())
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _strings(series: pd.Series) -> Any:
    return _objects(series.astype("string"))


def _objects(series: Any) -> Any:
    """A column as Python objects, missing as None (what pa.array takes)."""
    return series.to_numpy(dtype=object, na_value=None)


def normal_emails(cells: pa.ChunkedArray) -> pa.Array:
    """Each cell's first address, trimmed and lower-cased (null where there is none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cstool.validate import first_email

    # Millions of cells (a help desk's tickets): ASCII kernels where every cell is ASCII
    # (3-4x faster than the UTF-8 ones), and no copy where every cell is already an address.
    if pc.all(pc.string_is_ascii(cells)).as_py() is not False:
        lowered = pc.ascii_lower(pc.ascii_trim_whitespace(cells))
    else:
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(cells))
    several = pc.fill_null(pc.match_substring_regex(lowered, r"[;,<\s]"), False)

    if pc.any(several).as_py():  # only those few go through the slower regex
        import pandas as pd

        lowered = lowered.combine_chunks()
        several = several.combine_chunks()
        picked = first_email(pd.Series(lowered.filter(several).to_pylist(), dtype="string"))
        values = pa.array(_objects(picked), pa.string())
        lowered = pc.replace_with_mask(lowered, several, values)
    valid = pc.fill_null(pc.match_substring(lowered, "@"), False)
    if pc.all(valid).as_py():
        return _one_array(lowered)
    return _one_array(pc.if_else(valid, lowered, pa.scalar(None, pa.string())))


def _one_array(values: Any) -> pa.Array:
    """A chunked array as one array (callers take and look up by position)."""
    return values.combine_chunks() if hasattr(values, "combine_chunks") else values


# A companies export's own key: its domain or website (HubSpot's `Company Domain Name`).
DOMAIN_HEADERS = ("companydomainname", "companydomain", "domainname", "domain", "website")


def _domain_column(header: Sequence[str]) -> int | None:
    from cstool.read import normalise_header

    keys = [normalise_header(h) for h in header]
    return next((keys.index(k) for k in DOMAIN_HEADERS if k in keys), None)


def bare_domains(cells: pa.ChunkedArray) -> pa.Array:
    """A domain or website cell as the domain of an address there: `https://www.Acme.example/`
    → `acme.example` (null where the cell is no domain)."""
    import pyarrow.compute as pc

    text = pc.utf8_lower(pc.utf8_trim_whitespace(cells))
    text = pc.replace_substring_regex(text, r"^[a-z][a-z0-9+.-]*://", "")
    text = pc.replace_substring_regex(text, r"^www\.", "")
    text = pc.replace_substring_regex(text, r"[/?#:].*$", "")
    looks = pc.fill_null(pc.match_substring_regex(text, r"^[^\s@.]+(\.[^\s@.]+)+$"), False)
    return _one_array(pc.if_else(looks, text, None))


def email_domains(emails: pa.Array) -> pa.Array:
    """The part after the @ of each address (null where none)."""
    import pyarrow.compute as pc

    return pc.replace_substring_regex(emails, r"^.*@", "")


def _source_settings(settings: Settings) -> Settings:
    """The settings a source is read with: the table's [columns] and [input] sheet are the
    customer table's, not a source's."""
    plain_input = settings.input.model_copy(update={"sheet": None})
    return settings.model_copy(update={"columns": {}, "input": plain_input})


class SourceReads:
    """The `[[sources]]` files read on one thread, biggest first, while the customer table
    is read and validated (nothing a source's read needs comes from the table): the
    sources' phase then starts with its text in memory. Errors (a missing file, one that
    cannot be read) are kept and raised by `merge_sources`, after the table's own."""

    def __init__(self, settings: Settings, root: Path) -> None:
        from concurrent.futures import Future, ThreadPoolExecutor

        from cstool.read import read_raw

        self._futures: dict[int, Future[RawTable]] = {}
        self._pool: ThreadPoolExecutor | None = None
        try:
            self._paths: list[Path] | ConfigError = [
                source_path(spec, root) for spec in settings.sources
            ]
        except ConfigError as exc:
            self._paths = exc
            return
        paths = self._paths
        plain = _source_settings(settings)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="source-read")
        for k in sorted(range(len(paths)), key=lambda k: -_size(paths[k])):
            sheet = settings.sources[k].sheet
            self._futures[k] = self._pool.submit(read_raw, paths[k], plain, sheet=sheet)

    def paths(self) -> list[Path]:
        """Each source's file (raises the ConfigError of one that names none)."""
        if isinstance(self._paths, ConfigError):
            raise self._paths
        return self._paths

    def raw(self, k: int) -> RawTable:
        """The k-th source's text (waits for its read; raises its read's error)."""
        future = self._futures.pop(k)
        return future.result()

    def close(self) -> None:
        """Stop the reads not yet begun, and drop the texts not taken."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._futures.clear()


def read_ahead(settings: Settings, root: Path) -> SourceReads:
    """Begin reading the `[[sources]]` files (see `SourceReads`)."""
    return SourceReads(settings, root)


# A source's field on every customer row: the values, the file line of each (NaN: none)
# and where it has a value.
Aligned = dict[str, tuple["pd.Series", "np.ndarray", "np.ndarray"]]


def _align(supplied: Supplied, n: int) -> Aligned:
    """Each supplied field on the table's n rows (done in the source's thread: every field
    is a 1M-row column, and the merge after the threads runs on one core)."""

    out: Aligned = {}
    line_rows: dict[int, np.ndarray] = {}  # most fields share one Series of lines
    for name, values in supplied.values.items():
        column = _aligned(values, n, supplied.fill.get(name))
        given = supplied.lines[name]
        lines = line_rows.get(id(given))
        if lines is None:
            lines = _line_rows(given, n)
            line_rows[id(given)] = lines
        out[name] = (column, lines, column.notna().to_numpy())
    return out


def _line_rows(lines: pd.Series, n: int) -> np.ndarray:
    """`_on_rows(lines, n).to_numpy(dtype=np.float64)`: a line per table row, NaN where none
    (scattered into a float array where the positions are distinct rows of the table)."""
    import numpy as np

    where = _distinct_rows(lines, n)
    if where is None:
        return _on_rows(lines, n).to_numpy(dtype=np.float64)
    out = np.full(n, np.nan)
    out[where] = lines.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _distinct_rows(values: pd.Series, n: int) -> np.ndarray | None:
    """The index of `values` as positions when they are distinct rows of a table of n rows
    (else None)."""
    import numpy as np

    where = values.index.to_numpy()
    if (
        where.dtype.kind not in "iu"
        or (len(where) and (where.min() < 0 or where.max() >= n))
        or (len(where) and np.bincount(where, minlength=n).max() > 1)
    ):
        return None
    return where


def _prepare_all(
    settings: Settings,
    paths: list[Path],
    table: Table,
    keys: _Keys,
    reads: SourceReads | None = None,
    as_of: date | None = None,
) -> list[tuple[Aligned, SourceReport]]:
    """Every source read, matched, aggregated and aligned on the table's rows, side by
    side (biggest file first).

    Arrow's parser and kernels release the GIL, so the sources overlap on the cores. Errors
    come out as if the sources were read in the config's order, all of them first, then
    matched in that order: the first file that cannot be read, else the first source
    whose rows cannot be placed.
    """
    from concurrent.futures import ThreadPoolExecutor

    from cstool.read import read_raw

    plain = _source_settings(settings)
    read_failed: list[BaseException | None] = [None] * len(paths)

    def prepare(k: int) -> tuple[Aligned, SourceReport]:
        spec, path = settings.sources[k], paths[k]
        try:
            raw = reads.raw(k) if reads is not None else read_raw(path, plain, sheet=spec.sheet)
        except BaseException as exc:
            read_failed[k] = exc
            raise
        supplied, report = read_source(spec, path, settings, table, keys, raw, as_of)
        del raw
        return _align(supplied, len(table.frame)), report

    workers = min(len(paths), os.cpu_count() or 1) or 1
    order = sorted(range(len(paths)), key=lambda k: -_size(paths[k]))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {k: pool.submit(prepare, k) for k in order}
        done = [(futures[k].exception(), k) for k in range(len(paths))]
    for failure in read_failed:
        if failure is not None:
            raise failure
    for failure, _ in done:
        if failure is not None:
            raise failure
    return [futures[k].result() for k in range(len(paths))]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def read_source(
    spec: SourceSettings,
    path: Path,
    settings: Settings,
    table: Table,
    keys: _Keys,
    raw: RawTable | None = None,
    as_of: date | None = None,
) -> tuple[Supplied, SourceReport]:
    """One source: read (unless `raw` is given), recognise, match and aggregate; the report
    says what it did."""
    import numpy as np
    import pyarrow.compute as pc

    from cstool.read import read_raw

    if raw is None:
        raw = read_raw(path, _source_settings(settings), sheet=spec.sheet)
    header, data, lines = _second_header_row(raw)
    kind = spec.kind if spec.kind != "auto" else recognise(header)
    if spec.fields or spec.aggregations:
        kind = "generic"
    if kind == "generic" and not (spec.fields or spec.aggregations):
        raise ConfigError(
            f"[[sources]] file = {spec.file!r}: {path.name} is not a kind cstool recognises "
            "(subscriptions, tickets, surveys, crm)",
            hint='say which fields it gives: fields = { field = "Header" } or aggregations, '
            f"or set kind; headers: {', '.join(repr(h) for h in header)}",
        )
    if "solve_target_hours" in spec.model_fields_set and kind != "tickets":
        raise ConfigError(
            f"[[sources]] file = {spec.file!r}: solve_target_hours is for a tickets source, "
            f"and {path.name} was read as {kind}",
            hint='set kind = "tickets" if it is a help desk export',
        )
    found = layout(header, kind, keys.id_header)
    id_column, email_column = found.id_column, found.email_column
    if spec.key is not None:
        chosen = _header_position(header, spec.key)
        if chosen is None:
            raise ConfigError(f"[[sources]] key = {spec.key!r}: {path.name} has no such header")
        if spec.match == "customer_id":
            id_column, email_column = chosen, None
        else:
            id_column, email_column = None, chosen
    if spec.match in ("email", "domain") and spec.key is None:
        id_column = None
    domain_column = _domain_column(header)
    if spec.match == "domain" and spec.key is None and email_column is None:
        email_column = domain_column  # a companies export: its domain, not an email
    if spec.match == "customer_id":
        email_column = None
    if kind == "surveys" and "score" not in found.roles:
        raise ConfigError(f"{path}: no survey question column (a header with 'recommend')")
    if id_column is None and email_column is None:
        raise DataError(
            f"{path}: no column names the customer (an ID or an email)",
            hint='set key = "Header" and match in this [[sources]] entry'
            + (
                f' (its domains: match = "domain", key = {header[domain_column]!r})'
                if domain_column is not None
                else ""
            ),
        )
    n = data.num_rows
    columns = [data.column(i) for i in range(data.num_columns)]
    pos = np.full(n, -1, dtype=np.int64)
    matched_by: dict[str, int] = {}
    if id_column is not None:
        ids = pc.utf8_trim_whitespace(columns[id_column])
        # (an export's own IDs, `cus_…` beside the table's `C001`, most often match none)
        outside = _outside(ids, keys.ids)
        hit = np.full(n, -1, dtype=np.int64) if outside else _positions(ids, keys.ids)
        matched_by["customer_id"] = int((hit >= 0).sum())
        pos = hit
    if email_column is not None:
        by_email = _email_positions(columns[email_column], keys)
        fill = (pos < 0) & (by_email >= 0)
        matched_by["email"] = int(fill.sum())
        pos = np.where(fill, by_email, pos)
        if spec.match == "domain":
            emails = normal_emails(columns[email_column])
            domains = email_domains(emails)
            domains = pc.if_else(pc.is_null(domains), bare_domains(columns[email_column]), domains)
            by_domain = _positions(domains, keys.domains)
            fill = (pos < 0) & (by_domain >= 0)
            matched_by["domain"] = int(fill.sum())
            pos = np.where(fill, by_domain, pos)
    duplicates = _duplicate_records(columns, found)
    ignored = _ignored(columns, found)
    unmatched = (pos < 0) & ~duplicates & ~ignored
    key_cells = columns[email_column] if email_column is not None else columns[id_column]  # type: ignore[index]
    shown = _first_keys(key_cells, unmatched, lines)
    usable = np.where(duplicates, -1, pos)
    roles = {role: columns[i] for role, i in found.roles.items()}
    role_headers = {role: header[i] for role, i in found.roles.items()}
    by_header = {h: columns[i] for i, h in enumerate(header)}
    if kind == "generic":
        supplied, bad = generic(by_header, usable, lines, settings, spec.fields, spec.aggregations)
    else:
        try:
            if kind == "subscriptions":
                supplied, bad = subscriptions(
                    roles, role_headers, usable, lines, settings, spec, as_of=as_of
                )
            else:
                supplied, bad = AGGREGATORS[kind](
                    roles, role_headers, usable, lines, settings, spec
                )
        except DataError as err:
            raise _in_source(err, path, role_headers, raw.sheet) from None
    matched = int(((pos >= 0) & ~duplicates).sum())
    if matched == 0 and n > 0:
        raise DataError(
            f"{path}: none of its {n} rows matches a customer (by "
            + " or ".join(matched_by or ["key"])
            + ")",
            hint="likely the wrong file or key: first keys in it: "
            + ", ".join(shown[:3])
            + "; set match and key in its [[sources]] entry",
        )
    if kind == "generic":
        roles, role_headers = by_header, {h: h for h in header}
    problems = _bad_cell_problems(bad, roles, role_headers, lines, path, raw.sheet)
    fields = [f for f in supplied.values if f not in LIFECYCLE_INPUTS]
    fields += [f for f in supplied.values if f in LIFECYCLE_INPUTS]
    given = np.zeros(len(keys.ids), dtype=bool)
    for values in supplied.values.values():
        given[values.index.to_numpy()[values.notna().to_numpy()]] = True
    customers = int(given.sum())
    return supplied, SourceReport(
        file=path,
        kind=kind,
        rows=n,
        matched=matched,
        unmatched=int(unmatched.sum()),
        unmatched_keys=shown,
        ignored=int((ignored & ~duplicates).sum()),
        duplicates=int(duplicates.sum()),
        customers=customers,
        matched_by=matched_by,
        fields=fields,
        conflicts={},
        conflict_examples=[],
        problems=problems,
    )


def _in_source(
    err: DataError, path: Path, role_headers: dict[str, str], sheet: str | None
) -> DataError:
    """A column-wide error from reading a source's cells (a date column whose day/month order
    cannot be told), said with the source's file and the header as written, not the role."""
    problems = [
        dataclasses.replace(
            p, column=role_headers.get(p.column or "", p.column), file=str(path), sheet=sheet
        )
        if p.file is None
        else p
        for p in err.problems
    ]
    message = err.message
    for role, header in role_headers.items():
        if message.startswith(f"{role}: "):
            message = f"{path}: column {header!r}: {message[len(role) + 2 :]}"
            break
    else:
        message = f"{path}: {message}"
    return DataError(message, problems=problems, hint=err.hint, total_problems=err.total_problems)


def _header_position(header: list[str], wanted: str) -> int | None:
    from cstool.read import normalise_header

    key = normalise_header(wanted)
    return next((i for i, h in enumerate(header) if normalise_header(h) == key), None)


def _second_header_row(raw: RawTable) -> tuple[list[str], pa.Table, np.ndarray]:
    """(header, rows, lines) without SurveyMonkey's second header row when there is one."""
    header = list(raw.header)
    data = raw.table
    lines = raw.line_numbers
    if data.num_rows == 0:
        return header, data, lines
    first = [str(data.column(i)[0].as_py() or "").strip() for i in range(data.num_columns)]
    if any(cell.casefold() in SECOND_HEADER_CELLS for cell in first) and not any(
        "@" in cell for cell in first
    ):
        header = [h if h.strip() else first[i] for i, h in enumerate(header)]
        return header, data.slice(1), lines[1:]
    return header, data, lines


def _email_positions(cells: pa.ChunkedArray, keys: _Keys) -> np.ndarray:
    """Customer row of each cell by its normal email (-1: none).

    Most cells of an export are written exactly as the customer's key already is: where
    every key is its own normal form, a cell equal to a key normalises to that key, so the
    cells are looked up as written first and only the others (other letter cases, blanks,
    several addresses, unknown) are normalised and looked up again; millions of tickets
    are then not all lower-cased and copied before the lookup.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    # The second lookup hashes the keys once more: worth it where the cells outnumber the
    # keys (5M tickets among 1M customers: 0.6 s less), not for a source of their size
    # (normalising 1M cells costs less than hashing 1M keys again).
    if len(cells) < 2 * len(keys.emails) or not keys.emails_are_normal:
        return _positions(normal_emails(cells), keys.emails)
    found = np.array(_positions(cells, keys.emails), dtype=np.int64)
    missed = found < 0
    if missed.any():
        rest = pc.filter(cells, pa.array(missed))
        found[missed] = _positions(normal_emails(rest), keys.emails)
    return found


def _positions(cells: Any, value_set: pa.Array) -> np.ndarray:
    """Customer row of each cell (-1: none), by exact value."""
    import numpy as np
    import pyarrow.compute as pc

    def look_up(part: Any) -> np.ndarray:
        found = pc.index_in(part, value_set=value_set, skip_nulls=True)
        return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)

    # Arrow's lookup releases the GIL: big sources are looked up in slices side by side.
    # Each slice hashes the whole value set again, so only where the cells outnumber it
    # several times over (5M tickets among 1M customers) is that worth the extra CPU.
    workers = os.cpu_count() or 1
    if workers < 2 or len(cells) < max(1_000_000, 4 * len(value_set)):
        return look_up(cells)
    from concurrent.futures import ThreadPoolExecutor

    step = -(-len(cells) // workers)
    parts = [cells.slice(start, step) for start in range(0, len(cells), step)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return np.concatenate(list(pool.map(look_up, parts)))


def _outside(cells: Any, value_set: pa.Array) -> bool:
    """Whether no cell can equal a value: the cells all sort before the least value or all
    after the greatest. Hashing a million keys for a lookup that finds nothing costs more
    than the two scans (0.65 s vs 0.04 s CPU for 1M subscriptions)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(cells.type) and pa.types.is_string(value_set.type)):
        return False
    values, found = pc.min_max(value_set), pc.min_max(cells)
    if not (values["min"].is_valid and found["min"].is_valid):
        return False  # no value or no cell to compare: the lookup says what it finds
    before = pc.less(found["max"], values["min"]).as_py()
    after = pc.greater(found["min"], values["max"]).as_py()
    return bool(before or after)


def _duplicate_records(columns: list[pa.ChunkedArray], found: Layout) -> np.ndarray:
    """Rows repeating an earlier row's record ID (a subscription, ticket or response)."""
    import numpy as np
    import pyarrow.compute as pc

    record = found.roles.get("record")
    n = len(columns[0]) if columns else 0
    if record is None:
        return np.zeros(n, dtype=bool)
    import pyarrow as pa

    cells = columns[record]
    try:  # numeric IDs (Zendesk's, Typeform's #) rising in file order cannot repeat
        numbers = pc.cast(cells, pa.int64()).to_numpy(zero_copy_only=False)
        if len(numbers) < 2 or bool(np.all(numbers[1:] > numbers[:-1])):
            return np.zeros(n, dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError, ValueError):
        pass
    cells = pc.utf8_trim_whitespace(cells)
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    # Codes number the distinct IDs in the order they first appear: a row repeats an earlier
    # one exactly when its code is not above every code before it.
    encoded = pc.dictionary_encode(cells)
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False))
    codes = codes.astype(np.int64)
    blank = pc.index(encoded.dictionary, "").as_py()
    if blank >= 0:
        codes[codes == blank] = -1  # empty IDs repeat nothing
    seen = np.maximum.accumulate(codes)
    repeated = np.zeros(n, dtype=bool)
    repeated[1:] = codes[1:] <= seen[:-1]
    return repeated & (codes >= 0)


def _ignored(columns: list[pa.ChunkedArray], found: Layout) -> np.ndarray:
    """Rows that carry nothing the kind reads: survey answers without a score."""
    import numpy as np

    from cstool.validate import missing_cells

    n = len(columns[0]) if columns else 0
    if found.kind != "surveys":
        return np.zeros(n, dtype=bool)
    return missing_cells(columns[found.roles["score"]])


def _first_keys(cells: pa.ChunkedArray, where: np.ndarray, lines: np.ndarray) -> list[str]:
    """The first few keys (as written) of the rows in `where`; a blank one by its line."""
    import numpy as np

    out = []
    for i in np.flatnonzero(where)[:UNMATCHED_SHOWN]:
        value = str(cells[int(i)].as_py() or "").strip()
        out.append(value or f"(line {int(lines[i])}: empty)")
    return out


def _bad_cell_problems(
    bad: list[BadCells],
    roles: dict[str, pa.ChunkedArray],
    headers: dict[str, str],
    lines: np.ndarray,
    path: Path,
    sheet: str | None,
) -> list[Problem]:
    import numpy as np

    out = []
    for cells in bad:
        column = roles.get(cells.role)
        for i in np.flatnonzero(cells.mask)[:20]:
            value = None if column is None else column[int(i)].as_py()
            out.append(
                Problem(
                    line=int(lines[i]),
                    column=headers.get(cells.role, cells.role),
                    value=value,
                    expected=cells.expected,
                    file=str(path),
                    sheet=sheet,
                )
            )
    return out


def _aligned(values: pd.Series, n: int, fill: Any) -> pd.Series:
    """Per-customer values on every row of the table (`fill` where the source has none)."""

    column = _on_rows(values, n)
    if fill is not None:
        column = column.fillna(fill)
    return column


def _on_rows(values: pd.Series, n: int) -> pd.Series:
    """`values.reindex(pd.RangeIndex(n))` for values indexed by distinct customer positions.

    The positions are turned into an indexer with numpy and looked up in a RangeIndex
    (arithmetic, no hash table of the labels): the same values and dtype, 1M rows x every
    field, without pandas hashing a million integers per field.
    """
    import numpy as np
    import pandas as pd

    where = _distinct_rows(values, n)
    if where is None:
        return values.reindex(pd.RangeIndex(n))
    indexer = np.full(n, -1, dtype=np.int64)
    indexer[where] = np.arange(len(where))
    # What reindex does with the indexer (take, missing as the dtype's NA: ints become
    # floats, bools objects), without looking the 1M labels up in a RangeIndex first.
    array = values.array
    taken: Any
    if isinstance(array, pd.arrays.NumpyExtensionArray):
        taken = pd.api.extensions.take(array.to_numpy(), indexer, allow_fill=True)
    else:
        taken = array.take(indexer, allow_fill=True)
    return pd.Series(taken, index=pd.RangeIndex(n), name=values.name, dtype=taken.dtype)


def _differ(current: pd.Series, incoming: pd.Series) -> np.ndarray:
    """Rows where both have a value and they are not the same (numbers to a cent)."""
    import numpy as np
    import pandas as pd

    both = current.notna().to_numpy() & incoming.notna().to_numpy()
    if not both.any():
        return both
    if pd.api.types.is_numeric_dtype(current.dtype) and pd.api.types.is_numeric_dtype(
        incoming.dtype
    ):
        a = current.to_numpy(dtype=np.float64, na_value=np.nan)
        b = incoming.to_numpy(dtype=np.float64, na_value=np.nan)
        return both & ~np.isclose(a, b, atol=0.005, equal_nan=True)
    if pd.api.types.is_datetime64_any_dtype(current.dtype):
        a = current.to_numpy(dtype="datetime64[ns]")
        b = pd.to_datetime(incoming).to_numpy(dtype="datetime64[ns]")
        return both & (a.astype("datetime64[D]") != b.astype("datetime64[D]"))
    left = current.astype("string").str.strip().str.casefold()
    right = incoming.astype("string").str.strip().str.casefold()
    return both & (left != right).to_numpy(dtype=bool, na_value=False)


def _examples(
    frame: pd.DataFrame, name: str, current: pd.Series, incoming: pd.Series, differ: np.ndarray
) -> list[str]:
    import numpy as np

    out = []
    for i in np.flatnonzero(differ)[:CONFLICTS_SHOWN]:
        out.append(
            f"{frame['customer_id'].iloc[i]} {name}: {_show(current.iloc[i])} (table) ≠ "
            f"{_show(incoming.iloc[i])} (source)"
        )
    return out


def _show(value: Any) -> str:
    import pandas as pd

    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _raw_with(
    raw: pd.DataFrame, frame: pd.DataFrame, table: Table, origin: dict[str, np.ndarray]
) -> pd.DataFrame:
    """The file's own columns with the sources' values: filled into the table's own column
    where its cell was empty, else appended under the field's name (enriched CSV)."""
    import numpy as np
    import pandas as pd

    out = raw.copy(deep=False)
    taken = {str(c).casefold() for c in out.columns}
    for name, codes in origin.items():
        from_sources = codes > 0
        if not from_sources.any() or name in LIFECYCLE_INPUTS:
            continue
        text = _as_text(frame[name])
        header = table.headers.get(name)
        if header is not None and header in out.columns:
            column = out[header]
            out[header] = column.where(~from_sources, text)
        elif name.casefold() not in taken:
            kept = from_sources | (codes == 0)
            # (the cells of the rows without a value are most often empty already: then
            # the text is the column as it is, without a masked copy of 1M cells)
            if not (kept | text.isna().to_numpy()).all():
                text = text.where(pd.Series(kept), None)
            out[name] = text
            taken.add(name.casefold())
    del np
    return out


def _as_text(values: pd.Series) -> pd.Series:
    """A typed column as the text an enriched CSV holds (ISO dates, plain numbers)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from cstool.validate import text_dtype

    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        array = pa.array(values.to_numpy(dtype="datetime64[ns]"), from_pandas=True)
        return pd.Series(pc.cast(pc.cast(array, pa.date32()), pa.string()), dtype=text_dtype())
    if pd.api.types.is_integer_dtype(values.dtype):
        array = pa.array(values.astype("Int64").array, from_pandas=True)
        return pd.Series(pc.cast(array, pa.string()), dtype=text_dtype())
    if pd.api.types.is_numeric_dtype(values.dtype):
        array = pa.array(values.to_numpy(dtype=np.float64, na_value=np.nan), from_pandas=True)
        return pd.Series(pc.cast(array, pa.string()), dtype=text_dtype())
    return values.astype(text_dtype())
