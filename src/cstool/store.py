"""The embedded store (SQLite): logged touches, snoozes and dated snapshots.

It holds what the customer CSV cannot. Built to survive a cron job and a person writing
at once: WAL mode, a busy timeout, `BEGIN IMMEDIATE` for every write (so a writer waits
for the lock up front instead of failing half-way), one transaction per write, the schema
versioned with `PRAGMA user_version` and migrated forward, the file readable by its owner
only. Dates are stored as ISO text (`2026-11-22`), readable with the sqlite3 shell.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from cstool.config import Workspace
from cstool.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

DB_FOLDER = ".cstool"
DB_NAME = "cstool.db"
BUSY_TIMEOUT_MS = 30_000
CHANNELS = ("email", "call", "meeting", "chat", "other")

# Each entry moves the schema one version forward; entry i gives version i + 1.
# Append only: never edit a migration that has shipped, a store out there has run it.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: touches and snoozes
        """CREATE TABLE touches (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            customer_id TEXT NOT NULL,
            touched_on TEXT NOT NULL,
            channel TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            next_due TEXT
        )""",
        "CREATE INDEX touches_by_customer ON touches (customer_id, touched_on, id)",
        """CREATE TABLE snoozes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            customer_id TEXT NOT NULL,
            snoozed_until TEXT NOT NULL,
            set_on TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX snoozes_by_customer ON snoozes (customer_id, id)",
    ),
    (  # 2: dated snapshots of the scored table, for trends and reports
        """CREATE TABLE snapshots (
            as_of TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            mrr REAL,
            satisfaction REAL,
            health REAL,
            band TEXT,
            segment TEXT,
            nps INTEGER,
            PRIMARY KEY (as_of, customer_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE snapshot_runs (
            as_of TEXT PRIMARY KEY,
            customers INTEGER NOT NULL,
            source TEXT
        )""",
        "CREATE INDEX snapshots_by_customer ON snapshots (customer_id, as_of)",
    ),
    (  # 3: KPIs computed from stored snapshots, so trends need not reload every snapshot
        """CREATE TABLE snapshot_kpis (
            as_of TEXT NOT NULL,
            previous TEXT NOT NULL,
            variant TEXT NOT NULL,
            kpis TEXT NOT NULL,
            PRIMARY KEY (as_of, previous, variant)
        ) WITHOUT ROWID""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

SNAPSHOT_COLUMNS = ("customer_id", "mrr", "satisfaction", "health", "band", "segment", "nps")


@dataclass(frozen=True)
class Touch:
    """One logged touch: a contact with a customer on a date, and when to follow up next."""

    id: int
    customer_id: str
    touched_on: date
    channel: str
    note: str
    next_due: date | None


@dataclass(frozen=True)
class Snooze:
    """A follow-up hidden for every as-of date before `until`."""

    id: int
    customer_id: str
    until: date
    set_on: date
    note: str


def db_path(workspace: Workspace, override: Path | None = None) -> Path:
    """Where the store lives: `--db`/`CSTOOL_DB`, else `<workspace>/.cstool/cstool.db`,
    else the platform's user data folder."""
    if override is not None:
        return Path(override)
    env = os.environ.get("CSTOOL_DB")
    if env:
        return Path(env)
    if workspace.root is not None:
        return workspace.root / DB_FOLDER / DB_NAME
    import platformdirs

    return platformdirs.user_data_path("cstool", appauthor=False) / DB_NAME


def open_store(path: Path, create: bool = True) -> Store | None:
    """Open (and migrate) the store at `path`.

    With `create=False` a missing file gives None, so read-only commands never create one.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path}: is a folder, expected the cstool store (an SQLite file)")
    if not path.exists():
        if not create:
            return None
        _create_private_file(path)
    else:
        _make_private(path)
    try:
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise UsageError(f"{path}: cannot open the cstool store: {exc}") from None
    store = Store(conn, path)
    try:
        store._prepare()
    except BaseException:
        conn.close()
        raise
    return store


def _create_private_file(path: Path) -> None:
    folder = path.parent
    try:
        if not folder.exists():
            folder.mkdir(parents=True, mode=0o700, exist_ok=True)  # another process may race
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    except OSError as exc:
        raise UsageError(f"{path}: cannot create the cstool store: {exc.strerror or exc}") from None
    _make_private(path)


def _make_private(path: Path) -> None:
    """Readable by its owner only (customer notes are personal data)."""
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)


class Store:
    """A connection to the store; use as a context manager (`with open_store(p) as store:`)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._depth = 0

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def _prepare(self) -> None:
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Switching to WAL can report "locked" at once, without waiting on the busy
        # timeout, while another process opens the same new file: so wait here ourselves.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        pause = 0.005
        while True:
            try:
                mode = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    self.conn.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.Error as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    with self._errors():
                        raise
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
        with self._errors():
            # FULL: a touch that `log` reported as recorded survives a power cut too.
            self.conn.execute("PRAGMA synchronous = FULL")
        self.migrate()

    @property
    def version(self) -> int:
        """The schema version of the file (`PRAGMA user_version`)."""
        with self._errors():
            return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self, target: int = SCHEMA_VERSION) -> None:
        """Bring the schema forward to `target`, each step in the same write transaction."""
        current = self.version
        if current > SCHEMA_VERSION:
            raise UsageError(
                f"{self.path}: this store was written by a newer cstool "
                f"(schema {current}, this cstool knows up to {SCHEMA_VERSION})",
                hint="upgrade cstool, or point --db / CSTOOL_DB at another store",
            )
        if current >= target:
            return
        with self.transaction():
            # Re-read inside the lock: another process may have migrated meanwhile.
            current = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
            for version in range(current, target):
                for statement in MIGRATIONS[version]:
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {version + 1}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (`BEGIN IMMEDIATE`); nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        with self._errors():
            self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
        except BaseException:
            self._depth = 0
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        with self._errors():
            self.conn.execute("COMMIT")

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite failures as messages a person can act on (never a traceback)."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if _is_busy(exc):
                raise UsageError(
                    f"{self.path}: the store stayed busy for {BUSY_TIMEOUT_MS // 1000} s "
                    "(another cstool is writing); try again"
                ) from None
            raise UsageError(f"{self.path}: store error: {text}") from None
        except sqlite3.DatabaseError as exc:
            raise UsageError(
                f"{self.path}: not a cstool store ({exc})",
                hint="point --db / CSTOOL_DB at another file, or move this one away",
            ) from None

    # ------------------------------------------------------------------ touches
    def log_touch(
        self,
        customer_id: str,
        touched_on: date,
        *,
        channel: str = "other",
        note: str = "",
        next_due: date | None = None,
    ) -> Touch:
        """Record one touch in its own transaction (or the caller's)."""
        if channel not in CHANNELS:
            raise UsageError(f"--channel {channel!r}: expected one of {', '.join(CHANNELS)}")
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO touches (customer_id, touched_on, channel, note, next_due) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    customer_id,
                    touched_on.isoformat(),
                    channel,
                    note,
                    next_due.isoformat() if next_due else None,
                ),
            )
            touch_id = int(cursor.lastrowid or 0)
        return Touch(touch_id, customer_id, touched_on, channel, note, next_due)

    def touches(self, customer_id: str | None = None) -> list[Touch]:
        """Logged touches, oldest first (one customer's, or all)."""
        sql = "SELECT id, customer_id, touched_on, channel, note, next_due FROM touches"
        params: tuple[Any, ...] = ()
        if customer_id is not None:
            sql += " WHERE customer_id = ?"
            params = (customer_id,)
        with self._errors():
            rows = self.conn.execute(sql + " ORDER BY touched_on, id", params).fetchall()
        return [
            Touch(int(r[0]), r[1], date.fromisoformat(r[2]), r[3], r[4], _opt_date(r[5]))
            for r in rows
        ]

    def touch_count(self) -> int:
        """How many touches the store holds."""
        with self._errors():
            return int(self.conn.execute("SELECT count(*) FROM touches").fetchone()[0])

    def last_logged(self, as_of: date | None = None) -> pd.DataFrame:
        """Newest logged touch per customer and the `--next` date it set, in one query.

        Columns: customer_id (string), last_logged, next_due (datetime64[ns]), sorted by
        customer_id. With `as_of`, touches dated after it are left out, so a past as-of date
        sees the store as it was.
        """
        import numpy as np

        # One ordered scan of the (customer_id, touched_on, id) index; the newest touch is
        # the last row of each customer, picked column-wise (faster than a window function).
        sql = "SELECT customer_id, touched_on, next_due FROM touches{where} "
        sql += "ORDER BY customer_id, touched_on, id"
        params: tuple[Any, ...] = ()
        if as_of is not None:
            sql = sql.format(where=" WHERE touched_on <= ?")
            params = (as_of.isoformat(),)
        else:
            sql = sql.format(where="")
        with self._errors():
            rows = self.conn.execute(sql, params).fetchall()
        if rows:
            ids = np.array([r[0] for r in rows], dtype=object)
            newest = np.ones(len(ids), dtype=bool)
            newest[:-1] = ids[:-1] != ids[1:]
            rows = [rows[i] for i in np.flatnonzero(newest)]
        return _frame(
            rows,
            ("customer_id", "last_logged", "next_due"),
            dates=("last_logged", "next_due"),
        )

    # ------------------------------------------------------------------ snoozes
    def snooze(self, customer_id: str, until: date, *, set_on: date, note: str = "") -> Snooze:
        """Hide a customer's follow-up for every as-of date before `until` (latest snooze wins)."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO snoozes (customer_id, snoozed_until, set_on, note) "
                "VALUES (?, ?, ?, ?)",
                (customer_id, until.isoformat(), set_on.isoformat(), note),
            )
            snooze_id = int(cursor.lastrowid or 0)
        return Snooze(snooze_id, customer_id, until, set_on, note)

    def snoozes(self) -> pd.DataFrame:
        """The snooze in force per customer (the one set last), in one query.

        Columns: customer_id (string), snoozed_until (datetime64[ns]).
        """
        sql = (
            "SELECT customer_id, snoozed_until FROM ("
            " SELECT customer_id, snoozed_until, row_number() OVER ("
            "  PARTITION BY customer_id ORDER BY id DESC) AS newest FROM snoozes)"
            " WHERE newest = 1 ORDER BY customer_id"
        )
        with self._errors():
            rows = self.conn.execute(sql).fetchall()
        return _frame(rows, ("customer_id", "snoozed_until"), dates=("snoozed_until",))

    def snooze_history(self, customer_id: str) -> list[Snooze]:
        """Every snooze set for one customer, in the order they were set."""
        with self._errors():
            rows = self.conn.execute(
                "SELECT id, customer_id, snoozed_until, set_on, note FROM snoozes "
                "WHERE customer_id = ? ORDER BY id",
                (customer_id,),
            ).fetchall()
        return [
            Snooze(int(r[0]), r[1], date.fromisoformat(r[2]), date.fromisoformat(r[3]), r[4])
            for r in rows
        ]

    # ---------------------------------------------------------------- snapshots
    def save_snapshot(self, as_of: date, frame: pd.DataFrame, *, source: str | None = None) -> bool:
        """Store the scored table for `as_of`, once: False if that date is already stored.

        Takes customer_id, mrr, satisfaction, health, band, segment, nps from `frame`
        (missing columns are stored as NULL); one transaction, one executemany.
        """
        day = as_of.isoformat()
        n = len(frame)
        columns = [_column_values(frame, name, n) for name in SNAPSHOT_COLUMNS]
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM snapshot_runs WHERE as_of = ?", (day,)).fetchone():
                return False
            conn.execute(
                "INSERT INTO snapshot_runs (as_of, customers, source) VALUES (?, ?, ?)",
                (day, n, source),
            )
            conn.executemany(
                "INSERT INTO snapshots (as_of, customer_id, mrr, satisfaction, health, band, "
                "segment, nps) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                zip([day] * n, *columns, strict=True),
            )
        return True

    def snapshot_dates(self) -> list[date]:
        """The as-of dates that have a snapshot, oldest first."""
        with self._errors():
            rows = self.conn.execute("SELECT as_of FROM snapshot_runs ORDER BY as_of").fetchall()
        return [date.fromisoformat(r[0]) for r in rows]

    def load_snapshot(self, as_of: date) -> pd.DataFrame:
        """One day's snapshot (empty if there is none), sorted by customer_id."""
        frame = self.load_snapshots([as_of])
        return frame.drop(columns=["as_of"])

    def load_snapshots(self, dates: Sequence[date] | None = None) -> pd.DataFrame:
        """Snapshots (all, or those dates) with an `as_of` column, sorted by as_of, customer_id."""
        sql = "SELECT as_of, " + ", ".join(SNAPSHOT_COLUMNS) + " FROM snapshots"
        params: list[str] = []
        if dates is not None:
            params = sorted({d.isoformat() for d in dates})
            if not params:
                return _snapshot_frame([])
            sql += " WHERE as_of IN (" + ", ".join("?" * len(params)) + ")"
        with self._errors():
            rows = self.conn.execute(sql + " ORDER BY as_of, customer_id", params).fetchall()
        return _snapshot_frame(rows)

    def snapshot_kpis(self, variant: str) -> dict[tuple[date, date | None], dict[str, Any]]:
        """Cached KPI rows: (as_of, previous snapshot date or None) -> {kpi: value}.

        `variant` names the KPI definitions and settings the values were computed with;
        snapshots never change once stored, so a cached row stays right for its variant.
        """
        import json

        with self._errors():
            rows = self.conn.execute(
                "SELECT as_of, previous, kpis FROM snapshot_kpis WHERE variant = ?", (variant,)
            ).fetchall()
        return {(date.fromisoformat(r[0]), _opt_date(r[1])): dict(json.loads(r[2])) for r in rows}

    def save_snapshot_kpis(
        self, variant: str, rows: Sequence[tuple[date, date | None, dict[str, Any]]]
    ) -> None:
        """Cache KPI rows computed from stored snapshots (one transaction)."""
        import json

        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO snapshot_kpis (as_of, previous, variant, kpis) "
                "VALUES (?, ?, ?, ?)",
                [
                    (
                        day.isoformat(),
                        previous.isoformat() if previous else "",
                        variant,
                        json.dumps(values, sort_keys=True),
                    )
                    for day, previous, values in rows
                ],
            )

    def customer_snapshots(self, customer_id: str) -> pd.DataFrame:
        """One customer's snapshots, oldest first (for `history`)."""
        sql = (
            "SELECT as_of, " + ", ".join(SNAPSHOT_COLUMNS) + " FROM snapshots "
            "WHERE customer_id = ? ORDER BY as_of"
        )
        with self._errors():
            rows = self.conn.execute(sql, (customer_id,)).fetchall()
        return _snapshot_frame(rows)


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _opt_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _frame(rows: list[Any], names: tuple[str, ...], *, dates: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows from SQLite as a typed frame: ids as `string`, ISO dates as datetime64[ns]."""
    import pandas as pd

    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    data: dict[str, Any] = {}
    for name, values in zip(names, columns, strict=True):
        if name in dates:
            data[name] = _dates(values)
        else:
            data[name] = pd.Series(values, dtype="string")
    return pd.DataFrame(data)


def _dates(values: Sequence[str | None]) -> pd.Series:
    """ISO date text (None for missing) as datetime64[ns], parsed in C by numpy."""
    import numpy as np
    import pandas as pd

    parsed = np.array(values, dtype="datetime64[D]").astype("datetime64[ns]")
    return pd.Series(parsed, dtype="datetime64[ns]")


def _snapshot_frame(rows: list[Any]) -> pd.DataFrame:
    import pandas as pd

    names = ("as_of", *SNAPSHOT_COLUMNS)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    raw = dict(zip(names, columns, strict=True))
    return pd.DataFrame(
        {
            "as_of": _dates(raw["as_of"]),
            "customer_id": pd.Series(raw["customer_id"], dtype="string"),
            "mrr": pd.Series(raw["mrr"], dtype="float64"),
            "satisfaction": pd.Series(raw["satisfaction"], dtype="float64"),
            "health": pd.Series(raw["health"], dtype="float64"),
            "band": pd.Series(raw["band"], dtype="string"),
            "segment": pd.Series(raw["segment"], dtype="string"),
            "nps": pd.Series(raw["nps"], dtype="Int64"),
        }
    )


def _column_values(frame: pd.DataFrame, name: str, n: int) -> list[Any]:
    """A column as Python values for executemany, missing as None (column-wise)."""
    if name not in frame.columns:
        return [None] * n
    col = frame[name]
    if name == "nps":
        col = col.astype("Int64")
    elif name in ("mrr", "satisfaction", "health"):
        col = col.astype("float64")
    else:
        col = col.astype("string")
    values: list[Any] = col.astype(object).where(col.notna(), None).tolist()
    return values
