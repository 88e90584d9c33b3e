"""The customer book: the one core under the CLI and the library.

`cstool.open(...)` returns a `Book`: the workspace (settings and where they came from), the
customer file, the store and the as-of date, resolved once. It answers every question a
command asks (customers, follow-ups, an explanation, the portfolio, a timeline) and makes
the writes (log, snooze, snapshot). Everything is computed on first use and kept, so a
command that asks two questions reads the file once; `log` and `snooze` never read more
of the file than the ID column.

Every CLI command is: parse options → call the book → hand the result to render.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstool.config import DEFAULT_CUSTOMERS, Settings, Workspace, load_workspace
from cstool.errors import ConfigError, DataError, UsageError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cstool.backtest import BacktestResult, ChurnCheck, TuneResult
    from cstool.drafts import Draft
    from cstool.followup import NextFollowup
    from cstool.history import TimelineEvent
    from cstool.ids import FoundCustomer
    from cstool.kpis import Portfolio
    from cstool.pipeline import ReadOptions, Table
    from cstool.segments import RuleCheck
    from cstool.sources import SourcesResult
    from cstool.sources.merge import SourceReads
    from cstool.store import Snooze, Store, Touch

# The columns a follow-up carries in csv and json (and the library's `followups()`), in order.
FOLLOWUP_FIELDS = (
    "customer_id",
    "name",
    "email",
    "due",
    "days_overdue",
    "reason",
    "priority",
    "priority_overdue",
    "priority_value",
    "priority_band",
    "priority_renewal",
    "segment",
    "play",
    "mrr",
    "band",
    "health",
    "last_touch",
)


def open_book(
    file: str | Path | None = None,
    *,
    config: str | Path | None = None,
    db: str | Path | None = None,
    as_of: date | str | None = None,
    today: date | None = None,
    options: ReadOptions | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Book:
    """Open a customer book: the workspace's settings, the customer file, the store, the day.

    `as_of` is a date, a date word (`2026-11-23`, `today`, `-7d`, …) or None for today; the
    clock is read here, once (`today` overrides it), and nowhere below.
    """
    from cstool.dates import parse_date
    from cstool.pipeline import ReadOptions

    now = today if today is not None else date.today()
    if as_of is None:
        day = now
    elif isinstance(as_of, date):
        day = as_of
    else:
        day = parse_date(as_of, now, option="--as-of")
    workspace = load_workspace(None if config is None else Path(config))
    return Book(
        workspace,
        file=None if file is None else Path(file),
        db=None if db is None else Path(db),
        as_of=day,
        options=options or ReadOptions(),
        on_step=on_step,
    )


def customers_file(file: Path | None, workspace: Workspace, cwd: Path | None = None) -> Path:
    """The customer table: FILE, else `customers` of the workspace, else ./customer_data.csv."""
    if file is not None:
        return file
    settings = workspace.settings
    if settings.customers and workspace.root is not None:
        return workspace.root / settings.customers
    candidate = (cwd or Path.cwd()) / DEFAULT_CUSTOMERS
    if candidate.is_file():
        return candidate
    raise UsageError(
        "no customer file given and no ./customer_data.csv here",
        hint="name the file (`cstool score customers.csv`) or run `cstool init` in its folder "
        'to write a cstool.toml with `customers = "…"`',
    )


@dataclass(frozen=True)
class SatisfactionTerm:
    """One input of the satisfaction formula for one customer."""

    field: str
    header: str  # the file's own column name
    value: float | None  # on the input scale
    normalised: float | None  # on 0–100
    weight: float
    contribution: float


@dataclass(frozen=True)
class HealthTerm:
    """One measure of the health composite for one customer (value None: missing)."""

    measure: str
    value: float | None  # on 0–100
    weight: float  # the configured weight, normalised
    used: float  # the weight after renormalising over the measures present
    contribution: float


@dataclass(frozen=True)
class Explanation:
    """Everything `explain` shows for one customer, computed in the core."""

    customer_id: str
    name: str | None
    line: int
    source: Path
    as_of: date
    facts: dict[str, Any]  # plan, stage, mrr (only those the file has)
    scale: tuple[float, float]
    satisfaction_terms: list[SatisfactionTerm]
    satisfaction: float | None
    health_terms: list[HealthTerm]
    health: float | None
    coverage: float
    band: str | None
    band_thresholds: tuple[float, float]  # red below, green from
    days_since_touch: float | None
    expected_interval_days: int
    nps: Any
    open_tickets: Any
    segment: str
    cadence_days: int
    play: str
    rule_checks: list[RuleCheck]
    followup: NextFollowup | None


@dataclass(frozen=True)
class GoneCustomer:
    """A customer the stored snapshots know and the customer file no longer has (churned).

    `churned_on`: the first snapshot (or the as-of day's file) that lacks it, or where its
    status turned churned (its churn date when the snapshot has one). `last` holds what its
    newest snapshot on or before the as-of day says: mrr, health, band, segment, status, plan.
    """

    customer_id: str
    name: str | None
    as_of: date
    source: Path  # the customer file it is absent from
    first_seen: date
    last_seen: date  # the newest snapshot that holds it
    churned_on: date
    snapshots: int  # how many snapshots hold it
    last: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Timeline:
    """A customer's timeline and whether the customer is still in the file."""

    customer_id: str
    name: str | None
    in_file: bool
    events: list[TimelineEvent] = field(default_factory=list)


@dataclass(frozen=True)
class SnapshotResult:
    """What `snapshot` did: stored (True) or found that date already stored (False)."""

    as_of: date
    customers: int
    stored: bool
    db: Path
    replaced: bool = False


class Book:
    """A customer book: workspace + settings + customer file + store + as-of date.

    Questions: `customers()`, `followups()`, `explain()`, `segments()`, `portfolio()`,
    `history()`. Writes: `log()`, `snooze()`, `snapshot()`.
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        file: Path | None,
        db: Path | None,
        as_of: date,
        options: ReadOptions,
        on_step: Callable[[str], None] | None = None,
    ) -> None:
        self.workspace = workspace
        self.as_of = as_of
        self.options = options
        self._file = file
        self._db = db
        self._step = on_step or (lambda _: None)
        self._sources: SourcesResult | None = None

    # ------------------------------------------------------------------ where things are
    @property
    def settings(self) -> Settings:
        """The settings in force (cstool.toml or the built-in defaults)."""
        return self.workspace.settings

    @functools.cached_property
    def path(self) -> Path:
        """The customer file."""
        return customers_file(self._file, self.workspace)

    @functools.cached_property
    def db(self) -> Path:
        """The store's path (it may not exist yet)."""
        from cstool.store import db_path

        return db_path(self.workspace, self._db)

    def _store(self) -> Store | None:
        """The store for reading, or None when there is none yet (nothing is created)."""
        from cstool.store import open_store

        return open_store(self.db, create=False)

    def _writable_store(self) -> Store:
        from cstool.store import open_store

        store = open_store(self.db, create=True)
        assert store is not None  # create=True always gives a store
        return store

    # ------------------------------------------------------------------ the customer table
    def check_rules(self, columns: Sequence[str] | None = None) -> None:
        """Check the segment rules (and, given the file's columns, the fields they use)."""
        from cstool.schema import LIFECYCLE_KIND
        from cstool.segments import check_rules, locate_error

        # The lifecycle step adds its columns to every table, so rules may always use them.
        fields = None if columns is None else [*columns, *LIFECYCLE_KIND]
        try:
            check_rules(self.settings.segments, fields)
        except ConfigError as exc:
            raise locate_error(exc, self.workspace.config_path) from None

    @functools.cached_property
    def table(self) -> Table:
        """The customer file, read and validated (raises DataError listing every problem)."""
        from cstool.pipeline import load_table

        self._step(f"reading {self.path.name}")
        if not self.settings.sources:
            # A rule with a syntax error fails before the file's problems are reported;
            # the check runs while the file is parsed on another thread.
            return load_table(self.path, self.settings, self.options, meanwhile=self.check_rules)
        from cstool.sources.merge import read_ahead

        # Sources (issue 14): the [[sources]] exports, read while the customer table is
        # read and validated, merged onto the validated table.
        reads = read_ahead(self.settings, self.workspace.root or Path.cwd())
        try:
            table = load_table(self.path, self.settings, self.options, meanwhile=self.check_rules)
            self._step("joining the sources")
            return self.sources_for(table, reads=reads).table
        finally:
            reads.close()

    def sources_for(self, table: Table, *, reads: SourceReads | None = None) -> SourcesResult:
        """The [[sources]] merged onto `table` (kept: `sources` returns it afterwards)."""
        from cstool.sources import merge_sources

        root = self.workspace.root or Path.cwd()
        self._sources = merge_sources(
            table,
            self.settings,
            root,
            skip_invalid=self.options.skip_invalid,
            reads=reads,
            as_of=self.as_of,
        )
        return self._sources

    @property
    def sources(self) -> SourcesResult | None:
        """The sources' merge: a report per source and where each value came from (or None)."""
        if not self.settings.sources:
            return None
        _ = self.table
        return self._sources

    def provenance(self, customer_id: str) -> dict[str, str]:
        """Field -> `file line N` it came from, for one customer (main table and sources);
        empty for a customer gone from the file that the snapshots hold."""
        try:
            position = self.customer_position(customer_id)
        except UsageError:
            if self.gone_customer(customer_id) is None:
                raise
            return {}
        if self.sources is None:
            line = int(self.table.lines[position])
            return {name: f"{self.table.source.name} line {line}" for name in self.table.headers}
        return self.sources.origin(position)

    @functools.cached_property
    def _store_reads(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """(newest logged touch per customer as of the day, the snooze in force)."""
        store = self._store()
        if store is None:
            return None, None
        with store:
            return store.last_logged(self.as_of), store.snoozes()

    @functools.cached_property
    def earlier(self) -> pd.DataFrame | None:
        """The stored snapshot health-drop follow-ups compare with (about a month before)."""
        store = self._store()
        if store is None:
            return None
        with store:
            return store.snapshot_before(self.as_of, self.settings.followups.health_drop_days)

    @functools.cached_property
    def scored(self) -> pd.DataFrame:
        """The validated table scored and segmented, with every explaining column."""
        from cstool.pipeline import scored_frame

        table = self.table
        logged, _ = self._store_reads
        self._step("scoring")
        try:
            return scored_frame(table, self.settings, self.as_of, logged)
        except ConfigError as exc:  # a bad segment rule: name the config file it came from
            from cstool.segments import locate_error

            raise locate_error(exc, self.workspace.config_path) from None

    def notes(self) -> list[str]:
        """What reading and scoring noticed that a person should know (not errors)."""
        from cstool.lifecycle import unknown_values_message

        frame = self.scored  # (the table's own warnings are printed when it is loaded)
        found: list[str] = []
        unknown = unknown_values_message(frame)
        if unknown:
            found.append(unknown)
        prospects = _prospects_note(frame)
        if prospects:
            found.append(prospects)
        future = int(frame.attrs.get("future_touches", 0))
        if future:
            found.append(
                f"{future} customer{'s' if future != 1 else ''} last touched after "
                f"{self.as_of} (the as-of day): counted as touched that day"
            )
        return found

    def customers(self) -> pd.DataFrame:
        """One row per customer under canonical names: the rows and values of `score -f json`."""
        from cstool.pipeline import json_frame

        return json_frame(self.table, self.scored)

    def order(
        self, sort: str | None = None, *, descending: bool = False, top: int | None = None
    ) -> np.ndarray:
        """Row positions sorted by a column (ties by customer_id), cut to `top`.

        `sort` may also be the file's own header of a field (`--sort "Record ID"`).
        """
        from cstool.pipeline import sort_order
        from cstool.read import normalise_header

        if sort is not None and sort not in self.scored.columns:
            written = {normalise_header(h): name for name, h in self.table.headers.items()}
            sort = written.get(normalise_header(sort), sort)
        return sort_order(self.scored, sort, descending=descending, top=top)

    def enriched(self, order: np.ndarray | None = None) -> pd.DataFrame:
        """The enriched CSV's frame: the file's own columns as written, then cstool's."""
        from cstool.pipeline import csv_frame

        return csv_frame(self.table, self.scored, order)

    def customer_position(self, customer_id: str) -> int:
        """Row position of a customer; unknown IDs are a UsageError with "did you mean"."""
        from cstool.pipeline import customer_index

        try:
            return customer_index(self.scored, customer_id)
        except UsageError:
            self._refuse_invalid_row(customer_id)
            raise

    def _refuse_invalid_row(self, customer_id: str) -> None:
        """A customer left out for a bad row is a DataError with that row's problems."""
        invalid = self.table.invalid
        found = [] if invalid is None else invalid.problems_of(customer_id)
        if found:
            count = f"{len(found)} problem{'s' if len(found) != 1 else ''}"
            raise DataError(
                f"{self.table.source}: customer {customer_id!r} is in the file, but its row "
                f"is invalid ({count}), so it has no scores",
                problems=found,
                hint="fix the row in the file (cstool validate lists every problem)",
            )

    # ------------------------------------------------------------------ segments
    def segments(self) -> pd.DataFrame:
        """The summary per segment of the live customers (as the KPIs count them: churned,
        paused and prospect rows are left out, `attrs["not_live"]` says how many):
        customers, MRR, mean health, band mix."""
        from cstool.lifecycle import is_live
        from cstool.segments import segment_summary

        frame = self.scored
        self._step("summarising")
        live = is_live(frame)
        left_out = int((~live).sum())
        summary = segment_summary(frame if not left_out else frame[live], self.settings.segments)
        summary.attrs["not_live"] = left_out
        return summary

    def segment_names(self, names: Sequence[str] | None) -> list[str] | None:
        """Segment names as the segments spell them; unknown ones get "did you mean"."""
        if not names:
            return None
        import difflib

        from cstool.segments import segment_names

        known = segment_names(self.settings.segments)
        by_fold = {k.casefold(): k for k in known}
        out = []
        for name in names:
            hit = by_fold.get(name.strip().casefold())
            if hit is None:
                close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
                raise UsageError(
                    f"--segment {name!r}: no such segment",
                    hint=(f"did you mean {', '.join(close)}? " if close else "")
                    + f"segments: {', '.join(known)}",
                )
            out.append(hit)
        return out

    # ------------------------------------------------------------------ follow-ups
    def due_until(self, due: str | date = "today") -> date:
        """`--due` (today, overdue, week, a date, +Nd, …) as the last due date included."""
        from cstool.followup import due_until

        return due if isinstance(due, date) else due_until(due, self.as_of)

    def due(
        self,
        due: str | date = "today",
        *,
        segments: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Follow-ups due by `due`, every column (priority terms, triggers), priority first.

        `result.attrs["due_total"]` is how many were due before `limit`.
        """
        from cstool.followup import due_followups

        until = self.due_until(due)
        frame = self.scored
        logged, snoozes = self._store_reads
        self._step("finding follow-ups")
        return due_followups(
            frame,
            self.settings,
            self.as_of,
            until,
            logged,
            snoozes,
            limit=limit,
            segments=self.segment_names(segments),
            earlier=self.earlier,
        )

    def followups(
        self,
        due: str | date = "today",
        *,
        segments: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """The follow-ups due by `due`: the rows and values of `followups -f json`."""
        return followup_fields(self.due(due, segments=segments, limit=limit))

    # ------------------------------------------------------------------ one customer
    def explain(self, customer_id: str) -> Explanation | GoneCustomer:
        """One customer's scores term by term, its segment rules and its next follow-up.

        A customer gone from the file but held by stored snapshots (ID or name) gets its
        story instead: a `GoneCustomer` with when it churned and its last known data.
        """
        import math

        from cstool.followup import next_followup
        from cstool.schema import SCORE_INPUTS
        from cstool.scoring import HEALTH_MEASURES
        from cstool.segments import explain_segment

        frame = self.scored
        try:
            index = self.customer_position(customer_id)
        except UsageError:
            gone = self.gone_customer(customer_id)
            if gone is None:
                raise
            return gone
        row = frame.iloc[index]
        settings = self.settings
        headers = self.table.headers
        scale = settings.scale
        span = scale.max - scale.min

        def number(value: Any) -> float | None:
            if value is None or _missing(value):
                return None
            result = float(value)
            return None if math.isnan(result) else result

        sat_terms = []
        for name, weight in settings.weights.normalised().items():
            if name not in SCORE_INPUTS or name not in headers:  # a file may have none
                continue
            raw = number(row.get(name))
            sat_terms.append(
                SatisfactionTerm(
                    field=name,
                    header=headers.get(name, name),
                    value=raw,
                    normalised=None if raw is None else (raw - scale.min) / span * 100.0,
                    weight=weight,
                    contribution=float(row[f"satisfaction_from_{name}"]),
                )
            )
        measure_values = {
            "satisfaction": number(row["satisfaction"]),
            "recency": number(row["recency_score"]),
            "nps": number(row["nps_score"]),
            "support": number(row["support_score"]),
        }
        weights = settings.health.weights.normalised()
        coverage = number(row["health_coverage"]) or 0.0
        health_terms = [
            HealthTerm(
                measure=measure,
                value=measure_values[measure],
                weight=weights[measure],
                used=(
                    weights[measure] / coverage
                    if measure_values[measure] is not None and coverage > 0
                    else 0.0
                ),
                contribution=float(row[f"health_from_{measure}"]),
            )
            for measure in HEALTH_MEASURES
        ]
        logged, snoozes = self._store_reads
        upcoming = next_followup(
            frame,
            settings,
            self.as_of,
            str(row["customer_id"]),
            logged,
            snoozes,
            earlier=self.earlier,
        )
        checks = explain_segment(frame, index, settings.segments, self.as_of)
        facts: dict[str, Any] = {f: row[f] for f in ("plan", "stage", "mrr") if f in headers}
        band = row["band"]
        return Explanation(
            customer_id=str(row["customer_id"]),
            name=None if _missing(row["name"]) else str(row["name"]),
            line=int(self.table.lines[index]),
            source=self.table.source,
            as_of=self.as_of,
            facts=facts,
            scale=(scale.min, scale.max),
            satisfaction_terms=sat_terms,
            satisfaction=number(row["satisfaction"]),
            health_terms=health_terms,
            health=number(row["health"]),
            coverage=coverage,
            band=None if _missing(band) else str(band),
            band_thresholds=(settings.bands.red_below, settings.bands.green_from),
            days_since_touch=number(row["days_since_touch"]),
            expected_interval_days=settings.health.expected_interval_days,
            nps=row["nps"],
            open_tickets=row["open_tickets"],
            segment=str(row["segment"]),
            cadence_days=int(row["cadence_days"]),
            play=str(row["play"]),
            rule_checks=checks,
            followup=upcoming,
        )

    def gone_customer(self, customer_id: str) -> GoneCustomer | None:
        """A customer absent from the file that snapshots up to the as-of day hold, found by
        ID or name (case-insensitively); None when no such snapshot holds one."""
        import pandas as pd

        store = self._store()
        if store is None:
            return None
        with store:
            found = store.snapshot_customer(customer_id)
            if found is None:
                return None
            rows = store.customer_snapshots(found)
            dates = store.snapshot_dates()
        rows = rows.loc[(rows["as_of"] <= pd.Timestamp(self.as_of)).to_numpy()]
        if rows.empty:  # only snapshots after the as-of day: unknown on that day
            return None
        seen = [day.date() for day in pd.DatetimeIndex(rows["as_of"])]
        last = rows.iloc[-1]
        status = rows["status"].astype("string").str.strip().str.lower()
        churned = status.eq("churned").fillna(False).to_numpy(dtype=bool)
        if churned[-1]:
            # Churned in its last snapshots: from its churn date, else the first of that run.
            start = int((~churned).nonzero()[0][-1]) + 1 if (~churned).any() else 0
            churn_date = last["churn_date"]
            churned_on = seen[start] if _missing(churn_date) else pd.Timestamp(churn_date).date()
        else:
            # Absent from the first snapshot after its last one, else from today's file.
            later = [day for day in dates if seen[-1] < day <= self.as_of]
            churned_on = later[0] if later else self.as_of
        facts = ("mrr", "health", "band", "segment", "status", "plan")
        from cstool.history import last_known_name

        return GoneCustomer(
            customer_id=found,
            name=last_known_name(rows),
            as_of=self.as_of,
            source=self.path,
            first_seen=seen[0],
            last_seen=seen[-1],
            churned_on=churned_on,
            snapshots=len(rows),
            last={f: (None if _missing(last[f]) else last[f]) for f in facts if f in rows},
        )

    def find(self, customer_id: str) -> FoundCustomer:
        """The customer as the file writes it (reads only the ID and name columns)."""
        from cstool.ids import find_customer

        settings = self.settings
        if self.options.sheet is not None:  # --sheet: a workbook is read through the settings
            sheet = settings.input.model_copy(update={"sheet": self.options.sheet})
            settings = settings.model_copy(update={"input": sheet})
        return find_customer(
            self.path,
            settings,
            customer_id,
            encoding=self.options.encoding,
            delimiter=self.options.delimiter,
        )

    def history(self, customer_id: str, *, limit: int | None = None) -> Timeline:
        """A customer's timeline as of the day: file dates, touches, snoozes, score changes.

        A customer gone from the file but known to the store (churned?) has the store's part.
        """
        import pandas as pd

        from cstool.history import timeline
        from cstool.pipeline import customer_index

        day = self.as_of
        frame = self.table.frame
        store = self._store()
        row: dict[str, Any] | None = None
        touches: list[Touch] = []
        snoozes: list[Snooze] = []
        snapshots = None
        with contextlib.ExitStack() as stack:
            if store is not None:
                stack.enter_context(store)
            try:
                index = customer_index(frame, customer_id)
                row = {str(k): v for k, v in frame.iloc[index].to_dict().items()}
                customer_id = str(row["customer_id"])
            except UsageError:
                self._refuse_invalid_row(customer_id)
                # Gone from the file (churned?) but still in the store: show what it has.
                if store is None or not (
                    store.touches(customer_id)
                    or store.snooze_history(customer_id)
                    or not store.customer_snapshots(customer_id).empty
                ):
                    raise
            if store is not None:  # the store as it was on the day: later entries left out
                touches = [t for t in store.touches(customer_id) if t.touched_on <= day]
                snoozes = [s for s in store.snooze_history(customer_id) if s.set_on <= day]
                snapshots = store.customer_snapshots(customer_id)
        if snapshots is not None:
            snapshots = snapshots[snapshots["as_of"] <= pd.Timestamp(day)]
        # with [[sources]], a date may come from an export: say which (file and line)
        origins = (
            self.provenance(customer_id) if row is not None and self.sources is not None else None
        )
        events = timeline(
            row, touches, snoozes, snapshots, limit=None if row is None else limit, origins=origins
        )
        if row is None:
            from cstool.history import last_known_name

            name = None if snapshots is None else last_known_name(snapshots)
            events = self._with_churn(customer_id, events)
            events = events if limit is None else events[: max(limit, 0)]
        else:
            name = None if _missing(row.get("name")) else str(row["name"])
        return Timeline(customer_id, name, row is not None, events)

    def _with_churn(self, customer_id: str, events: list[TimelineEvent]) -> list[TimelineEvent]:
        """A gone customer's timeline (newest first) with when it churned and its last data."""
        from cstool.history import TimelineEvent

        gone = self.gone_customer(customer_id)
        if gone is None or any(e.kind == "churned" for e in events):
            return events
        last = gone.last
        shown = [
            f"{label} {value:,.0f}" if label == "MRR" else f"{label} {value}"
            for label, value in (
                ("MRR", last.get("mrr")),
                ("health", None if last.get("health") is None else round(last["health"])),
                ("band", last.get("band")),
                ("segment", last.get("segment")),
            )
            if value is not None
        ]
        detail = f"last seen in the snapshot of {gone.last_seen}" + (
            f": {', '.join(shown)}" if shown else ""
        )
        churn = TimelineEvent(gone.churned_on, "churned", detail, "snapshot")
        # Newest first; the churn goes before the events of its own day.
        at = next((i for i, e in enumerate(events) if e.day <= churn.day), len(events))
        return [*events[:at], churn, *events[at:]]

    # ------------------------------------------------------------------ the portfolio
    def portfolio(self, since: date | str | None = None) -> Portfolio:
        """KPIs, their change since a snapshot (default: the latest before), trend, goals."""
        from cstool.kpis import SnapshotHistory, portfolio

        since_day = self.since_date(since)
        frame = self.scored
        history = None
        store = self._store()
        if store is not None:
            with store:
                history = SnapshotHistory.from_store(store, self.settings, self.as_of, since_day)
        result = portfolio(frame, self.settings, self.as_of, history, since_day)
        return dataclasses.replace(result, skipped_rows=self.table.skipped)

    def since_date(self, since: date | str | None) -> date | None:
        from cstool.dates import parse_date

        if since is None or isinstance(since, date):
            return since
        return parse_date(since, self.as_of, option="--since")

    # ------------------------------------------------------------------ outreach drafts
    def draft(self, customer_id: str) -> Draft:
        """The drafted message for a customer's follow-up due today, else for its play."""
        from cstool.drafts import customer_draft

        logged, snoozes = self._store_reads
        return customer_draft(
            self.scored,
            self.settings,
            self.as_of,
            customer_id,
            logged,
            snoozes,
            earlier=self.earlier,
            root=self.workspace.root,
            config_path=self.workspace.config_path,
        )

    def drafts(self, due: pd.DataFrame) -> list[Draft]:
        """One drafted message per follow-up of `due` (from `due()`), in its order."""
        from cstool.drafts import draft_messages

        return draft_messages(
            due,
            self.scored,
            self.settings,
            self.as_of,
            root=self.workspace.root,
            config_path=self.workspace.config_path,
        )

    # ------------------------------------------------------------------ does health predict churn?
    @functools.cached_property
    def stored_snapshots(self) -> pd.DataFrame | None:
        """Every stored snapshot dated on or before the day, loaded once (None: no store), with
        the columns the churn check, the KPI trend, the movements and the comparison read
        (not segment, plan, churn_date, health_coverage: half of a full load's cost)."""
        store = self._store()
        if store is None:
            return None
        with store:
            return _load_stored(store, self.as_of, _report_columns())

    @functools.cached_property
    def _report_snapshots(self) -> pd.DataFrame | None:
        """`stored_snapshots` without the names (unless loaded in full already): the report
        reads the names of only the snapshots it compares with, loaded on their own
        (`_snapshot_on`), not 2.4M names decompressed for 24 x 100k."""
        if "stored_snapshots" in self.__dict__:
            return self.stored_snapshots
        store = self._store()
        if store is None:
            return None
        with store:
            return _load_stored(store, self.as_of, [c for c in _report_columns() if c != "name"])

    def _snapshot_on(self, day: date, rows: pd.DataFrame) -> pd.DataFrame:
        """The snapshot of `day` as `stored_snapshots` holds it (index reset), given its
        rows in `_report_snapshots`: those rows when they have the names, else loaded."""
        if "name" in rows.columns:
            return rows
        store = self._store()
        if store is None:
            return rows
        with store:
            return store.load_snapshots([day], _report_columns())

    def churn_check(self, horizon_days: int = 90, *, tune: bool = False) -> ChurnCheck:
        """The report's "does health predict churn?": the backtest over the stored snapshots
        (and tuning, if asked), or what the store lacks; never an error for a thin store."""
        from cstool import backtest as bt

        return bt.churn_check(
            self.stored_snapshots, horizon_days, self.as_of, self.settings, tune_weights=tune
        )

    def report(
        self,
        since: date | str | None = None,
        *,
        horizon_days: int = 90,
        tune: bool = False,
        curve: bool = True,
        churn_before_day: bool = False,
    ) -> tuple[Portfolio, ChurnCheck]:
        """The portfolio (as `portfolio`) and "does health predict churn?" (as `churn_check`)
        from one load of the stored snapshots, which both read in full (without the names
        but for the snapshots compared with). `curve=False`: the churn check without its ROC
        curve (only the HTML page draws it). `churn_before_day`: the churn check reads only
        the snapshots before the as-of day, as the KPIs do (`export`, which stores the day's
        snapshot itself, so that exporting twice gives the same page)."""
        import numpy as np
        import pandas as pd

        from cstool import backtest as bt
        from cstool.kpis import SnapshotHistory, compared_date, portfolio, trend, trend_frame
        from cstool.kpis.movements import REVENUE_COLUMNS

        since_day = self.since_date(since)
        frame = self.scored
        snapshots = self._report_snapshots
        history = SnapshotHistory(trend_frame({}), {})
        coded: tuple[np.ndarray, np.ndarray] | None = None
        churn_rows, churn_ids = snapshots, coded
        if snapshots is not None:
            # Customer IDs coded once, for the trend, the movements, cohorts and churn cases.
            codes, uniques = pd.factorize(snapshots["customer_id"].astype("string"))
            coded = (codes, np.asarray(uniques, dtype=object))
            # The table itself is the as-of day's snapshot: the KPIs read the ones before it.
            days = snapshots["as_of"].to_numpy(dtype="datetime64[ns]")
            before, prefix = _rows_before(snapshots, days, pd.Timestamp(self.as_of).to_datetime64())
            churn_ids = coded
            if churn_before_day:
                churn_rows = before if len(before) else None
                churn_ids = (codes[: len(before)], coded[1]) if prefix else None
            dates = sorted({d.date() for d in pd.DatetimeIndex(before["as_of"].unique())})
            if dates:
                # Views of the latest snapshot and the one compared with, not one copy per date.
                keep = {dates[-1], compared_date(dates, self.as_of, since_day)} - {None}
                before_days = before["as_of"].to_numpy(dtype="datetime64[ns]")
                frames = {
                    day: self._snapshot_on(
                        day, _rows_on(before, before_days, pd.Timestamp(day).to_datetime64())
                    )
                    for day in keep
                    if day is not None
                }
                revenue = before[[c for c in REVENUE_COLUMNS if c in before.columns]]
                # The rows before the day are the first ones (sorted by as_of): so are their
                # codes, numbered as factorizing those rows alone would number them.
                ids = codes[: len(before)] if prefix else None
                history = SnapshotHistory(
                    trend(before, self.settings, ids=ids),
                    frames,
                    revenue,
                    (ids, coded[1]) if ids is not None else None,
                )
        result = portfolio(frame, self.settings, self.as_of, history, since_day)
        result = dataclasses.replace(result, skipped_rows=self.table.skipped)
        churn = bt.churn_check(
            churn_rows,
            horizon_days,
            self.as_of,
            self.settings,
            tune_weights=tune,
            ids=churn_ids,
            curve=curve,
        )
        return result, churn

    def backtest(
        self, horizon_days: int = 90, *, tune: bool = False
    ) -> tuple[BacktestResult, TuneResult | None]:
        """Health against churn in the stored snapshots up to the day; `tune` fits weights on
        the earlier periods and judges them on the later ones."""
        from cstool import backtest as bt

        snapshots = self.stored_snapshots
        if snapshots is None:
            raise UsageError(
                f"{self.db}: no store here, so no snapshots to check",
                hint="store a snapshot each month (`cstool snapshot FILE --as-of DATE`), "
                "or point --db at the store",
            )
        cases = bt.churn_cases(snapshots, horizon_days)
        if cases.empty:
            dates = int(snapshots["as_of"].nunique())
            raise UsageError(
                f"{self.db}: {dates} snapshot date(s) up to {self.as_of}, none with a later "
                f"snapshot at least {horizon_days} days on: nothing to check",
                hint="backtest needs snapshots spanning more than the horizon (try --horizon 30)",
            )
        result = bt.backtest(cases, horizon_days=horizon_days)
        tuned = bt.tune(cases, self.settings) if tune else None
        return result, tuned

    # ------------------------------------------------------------------ writes
    def log(
        self,
        customer_id: str,
        note: str,
        *,
        channel: str = "other",
        on: date | str | None = None,
        next_due: date | str | None = None,
    ) -> tuple[FoundCustomer, Touch]:
        """Record a touch on `on` (default: the as-of day); `next_due` replaces the cadence."""
        from cstool.dates import parse_date

        now = self.as_of
        day = (
            on
            if isinstance(on, date)
            else (now if on is None else parse_date(on, now, option="--date"))
        )
        if day > now:
            raise UsageError(
                f"--date {day.isoformat()} is in the future; a touch is logged once it happened",
                hint="to plan a follow-up, use --next",
            )
        planned = (
            next_due
            if isinstance(next_due, date) or next_due is None
            else parse_date(next_due, now, option="--next")
        )
        if planned is not None and planned <= day:
            raise UsageError(f"--next {planned.isoformat()} must be after the touch ({day})")
        found = self.find(customer_id)
        with self._writable_store() as store:
            touch = store.log_touch(
                found.customer_id, day, channel=channel, note=note, next_due=planned
            )
        return found, touch

    def snooze(
        self, customer_id: str, until: date | str, *, note: str = ""
    ) -> tuple[FoundCustomer, Snooze]:
        """Hide a customer's follow-ups for every as-of date before `until`."""
        from cstool.dates import parse_date

        day = until if isinstance(until, date) else parse_date(until, self.as_of, option="--until")
        found = self.find(customer_id)
        with self._writable_store() as store:
            snooze = store.snooze(found.customer_id, day, set_on=self.as_of, note=note)
        return found, snooze

    def snapshot_refusal(self) -> str | None:
        """Why storing this table as a snapshot would lie (None: it may be stored).

        Refused: a table in which every row was skipped, and one that lost more than
        `[lifecycle] max_snapshot_loss` of the previous snapshot's customers.
        """
        from cstool.store import snapshot_guard

        previous = None
        store = self._store()
        if store is not None:
            with store:
                previous = store.previous_snapshot_size(self.as_of)
        return snapshot_guard(
            previous,
            len(self.scored),
            self.table.skipped,
            self.settings.lifecycle.max_snapshot_loss,
        )

    def check_snapshot(self, *, force: bool = False) -> None:
        """Refuse (DataError, exit 1) a snapshot that would lie, unless forced."""
        reason = self.snapshot_refusal()
        if reason is not None and not force:
            raise DataError(
                f"{self.table.source}: not storing the snapshot of {self.as_of}: {reason}",
                hint="check the file (a changed export format? the wrong file?); "
                "--force stores it anyway",
            )

    def snapshot(
        self, result: Portfolio | None = None, *, replace: bool = False, force: bool = False
    ) -> SnapshotResult:
        """Store the scored table for the as-of date (once; `replace` replaces that date's);
        with `result`, its KPI row too. A table that would lie is refused unless `force`."""
        from cstool.kpis import cache_snapshot_kpis

        self.check_snapshot(force=force)
        frame = self.scored
        source = str(self.table.source)
        replaced = False
        with self._writable_store() as store:
            if self.as_of not in store.snapshot_dates():
                saved = store.save_snapshot(self.as_of, frame, source=source)
            elif replace:
                store.replace_snapshot(self.as_of, frame, source)
                saved = replaced = True
            else:  # stored already: skip building the rows
                saved = False
            if saved and result is not None:
                cache_snapshot_kpis(store, self.settings, result)
        return SnapshotResult(self.as_of, len(frame), saved, self.db, replaced)

    def delete_snapshot(self, day: date | str) -> tuple[date, int]:
        """Remove the snapshot of `day`: the date and how many customer rows it held (0: none)."""
        from cstool.dates import parse_date

        when = day if isinstance(day, date) else parse_date(day, self.as_of, option="--delete")
        store = self._store()
        if store is None:
            return when, 0
        store.close()
        with self._writable_store() as writable:
            return when, writable.delete_snapshot(when)


def _report_columns() -> list[str]:
    """The snapshot columns the churn check, the KPI trend, the movements and the comparison
    read, in the order `stored_snapshots` loads them."""
    from cstool import backtest as bt
    from cstool.kpis.cache import TREND_COLUMNS
    from cstool.kpis.movements import REVENUE_COLUMNS

    return list(dict.fromkeys([*bt.CASE_COLUMNS, *TREND_COLUMNS, *REVENUE_COLUMNS]))


def _load_stored(store: Store, as_of: date, columns: list[str]) -> pd.DataFrame:
    """`backtest.stored_snapshots` (the snapshots dated on or before `as_of`, `columns`)."""
    from cstool import backtest as bt

    return bt.stored_snapshots(store, as_of, columns)


def _prospects_note(frame: pd.DataFrame) -> str | None:
    """`2 prospects (Lead 1, Subscriber 1): not customers yet …`, or None."""
    if "status" not in frame.columns:
        return None
    prospect = frame["status"].eq("prospect").fillna(False).to_numpy(dtype=bool)
    count = int(prospect.sum())
    if not count:
        return None
    said, example = "", "Lead"
    if "stage" in frame.columns:
        values = frame["stage"][prospect].astype("string").str.strip().value_counts()
        if len(values):
            shown = ", ".join(f"{value} {n}" for value, n in values.head(5).items())
            said = f" ({shown}{', …' if len(values) > 5 else ''})"
            example = str(values.index[0]).replace('"', '\\"')
    return (
        f"{count} prospect{'s' if count != 1 else ''}{said}: not customers yet, so no "
        "follow-ups and not in the KPIs; to count them as customers, map them under "
        f'[lifecycle] in cstool.toml, e.g. values = {{ "{example}" = "active" }}'
    )


def _rows_before(
    frame: pd.DataFrame, days: np.ndarray, day: np.datetime64
) -> tuple[pd.DataFrame, bool]:
    """The rows of `frame` dated before `day` (`days`: its as_of column as datetime64[ns]),
    and whether they are its first rows.

    Stored snapshots come sorted by as_of, so these rows are a leading slice (no copy of
    2.4M rows); otherwise a mask picks them."""
    import numpy as np

    if len(days) < 2 or bool(np.all(days[1:] >= days[:-1])):
        return frame.iloc[: int(np.searchsorted(days, day, side="left"))], True
    return frame.loc[days < day], False


def _rows_on(frame: pd.DataFrame, days: np.ndarray, day: np.datetime64) -> pd.DataFrame:
    """The rows of `frame` dated `day`, index reset (a slice when `days` is sorted)."""
    import numpy as np

    if len(days) < 2 or bool(np.all(days[1:] >= days[:-1])):
        start, end = np.searchsorted(days, day, side="left"), np.searchsorted(days, day, "right")
        return frame.iloc[int(start) : int(end)].reset_index(drop=True)
    return frame.loc[days == day].reset_index(drop=True)


def followup_fields(due: pd.DataFrame) -> pd.DataFrame:
    """The columns a follow-up carries in csv and json, in order."""
    return due[[c for c in FOLLOWUP_FIELDS if c in due.columns]].reset_index(drop=True)


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))
