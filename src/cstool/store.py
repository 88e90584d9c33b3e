"""The embedded store (SQLite): logged touches, snoozes and dated snapshots.

It holds what the customer CSV cannot. Built to survive a cron job and a person writing
at once: WAL mode, a busy timeout, `BEGIN IMMEDIATE` for every write (so a writer waits
for the lock up front instead of failing half-way), one transaction per write, the schema
versioned with `PRAGMA user_version` and migrated forward, the file readable by its owner
only. Dates are stored as ISO text (`2026-11-22`), readable with the sqlite3 shell.

It never touches a file it did not create: an existing file keeps its mode, and anything
that is not a cstool store (a text file, a device, another program's SQLite database) is
refused before a byte is written. A store opened for reading (`create=False`) is opened
read-only: reading never creates or changes anything (an older schema is migrated in a
copy in memory, not in the file).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
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
    import pyarrow as pa

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
    (  # 4: what churn, revenue and backtests need from a snapshot
        "ALTER TABLE snapshots ADD COLUMN name TEXT",
        "ALTER TABLE snapshots ADD COLUMN health_coverage REAL",
        "ALTER TABLE snapshots ADD COLUMN recency REAL",
        "ALTER TABLE snapshots ADD COLUMN support REAL",
        "ALTER TABLE snapshots ADD COLUMN status TEXT",
        "ALTER TABLE snapshots ADD COLUMN churn_date TEXT",
        "ALTER TABLE snapshots ADD COLUMN signup_date TEXT",
        "ALTER TABLE snapshots ADD COLUMN plan TEXT",
    ),
    (  # 5: each snapshot also as one Arrow IPC stream, so loading it is column-wise
        # The rows stay (touch, history and health-drop queries read them); a snapshot
        # stored before this migration has no blob and is read from its rows.
        """CREATE TABLE snapshot_blobs (
            as_of TEXT PRIMARY KEY,
            format TEXT NOT NULL,
            data BLOB NOT NULL
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

SNAPSHOT_COLUMNS = (
    "customer_id",
    "name",
    "mrr",
    "satisfaction",
    "health",
    "health_coverage",
    "band",
    "segment",
    "nps",
    "recency",
    "support",
    "status",
    "churn_date",
    "signup_date",
    "plan",
)
# Snapshot column -> the scored frame's column it is taken from (when they differ).
SNAPSHOT_SOURCES = {"recency": "recency_score", "support": "support_score"}
SNAPSHOT_NUMBERS = ("mrr", "satisfaction", "health", "health_coverage", "recency", "support")
SNAPSHOT_DATES = ("churn_date", "signup_date")
SNAPSHOT_RANGE = (date(1900, 1, 1), date(2200, 12, 31))
SQLITE_MAGIC = b"SQLite format 3\x00"
# The tables each schema version has (a file claiming a version must have them).
VERSION_TABLES = {
    1: {"touches", "snoozes"},
    2: {"touches", "snoozes", "snapshots", "snapshot_runs"},
    3: {"touches", "snoozes", "snapshots", "snapshot_runs", "snapshot_kpis"},
    4: {"touches", "snoozes", "snapshots", "snapshot_runs", "snapshot_kpis"},
    5: {"touches", "snoozes", "snapshots", "snapshot_runs", "snapshot_kpis", "snapshot_blobs"},
}
# What `snapshot_blobs.format` says: an Arrow IPC stream of the snapshot's columns
# (SNAPSHOT_COLUMNS, sorted by customer_id, no as_of), as `load_snapshot` types them.
BLOB_FORMAT = "arrow-ipc-1"
TOUCH_FIELDS = ["id", "customer_id", "touched_on", "channel", "note", "next_due"]
DEFAULT_MAX_LOSS_SHARE = 0.5


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


def open_store(
    path: Path, create: bool = True, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> Store | None:
    """Open the store at `path`: for writing (created if missing, migrated forward) or,
    with `create=False`, read-only (None when missing; nothing is created or changed).

    A file that is not a cstool store is refused with a UsageError naming it before
    anything is written; only a file this call creates is made private (0600).
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path}: is a folder, expected the cstool store (an SQLite file)")
    if not path.exists():
        if not create:
            return None
        _create_private_file(path)
    _check_file(path)
    try:
        if create:
            conn = sqlite3.connect(
                path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
            )
        else:
            uri = Path(os.path.abspath(path)).as_uri() + "?mode=ro"
            if not Path(f"{path}-wal").exists():
                # No -wal file: no connection is open and the file holds everything. A
                # read-only WAL reader would create -wal and -shm and leave them behind;
                # `immutable` reads the file alone and creates nothing.
                uri += "&immutable=1"
            conn = sqlite3.connect(
                uri,
                uri=True,
                timeout=busy_timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
    except sqlite3.Error as exc:
        raise UsageError(f"{path}: cannot open the cstool store: {exc}") from None
    store = Store(conn, path, read_only=not create, busy_timeout_ms=busy_timeout_ms)
    try:
        store._prepare()
    except BaseException:
        # A file created here is left as it is, even empty: another process may have
        # opened it meanwhile, and an empty file is taken for a store not yet written.
        conn.close()
        raise
    return store


def _create_private_file(path: Path) -> bool:
    """Create the store's file (and folder) readable by its owner only; False when another
    process created it first."""
    folder = path.parent
    try:
        if not folder.exists():
            folder.mkdir(parents=True, mode=0o700, exist_ok=True)  # another process may race
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise UsageError(f"{path}: cannot create the cstool store: {exc.strerror or exc}") from None
    with contextlib.suppress(OSError):
        # Customer notes are personal data; the umask may have kept more bits than asked.
        os.fchmod(fd, 0o600)
    os.close(fd)
    return True


def _check_file(path: Path) -> None:
    """Refuse, before any write, what cannot be a cstool store: not a regular file, or a
    file that does not start like SQLite (an empty file is a store not yet written)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(
                f"{path}: not a cstool store (not a regular file)",
                hint="point --db / CSTOOL_DB at an SQLite file, or at a path that does not exist",
            )
        if info.st_size == 0:
            return
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the cstool store: {exc.strerror or exc}") from None
    if head != SQLITE_MAGIC:
        raise UsageError(
            f"{path}: not a cstool store (not an SQLite file)",
            hint="point --db / CSTOOL_DB at another file, or move this one away",
        )


def snapshot_guard(
    previous_count: int | None,
    new_count: int,
    skipped: int,
    max_loss_share: float = DEFAULT_MAX_LOSS_SHARE,
) -> str | None:
    """Why a snapshot of `new_count` customers should be refused (None: it may be stored).

    Refused: a table where every row was skipped (or that has none), and one that lost
    more than `max_loss_share` of the previous snapshot's `previous_count` customers.
    """
    if new_count <= 0:
        if skipped > 0:
            return f"every row was skipped ({skipped}): the snapshot would hold no customers"
        return "the table has no customers"
    if previous_count:
        lost = previous_count - new_count
        if lost > 0 and lost / previous_count > max_loss_share:
            return (
                f"{lost} of the previous snapshot's {previous_count} customers are missing "
                f"({lost / previous_count:.0%}, more than {max_loss_share:.0%})"
            )
    return None


class Store:
    """A connection to the store; use as a context manager (`with open_store(p) as store:`)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        *,
        read_only: bool = False,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> None:
        self.conn = conn
        self.path = path
        self.read_only = read_only
        self.busy_timeout_ms = busy_timeout_ms
        self._depth = 0
        self._copy = False  # read-only on an older schema: migrated in memory, never saved

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
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    def _prepare(self) -> None:
        with self._errors():
            self.conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        self._check_schema()  # reads only: nothing is written to a file that is not ours
        if self.read_only:
            if self.version < SCHEMA_VERSION:
                self._migrate_in_memory()
            return
        # Switching to WAL can report "locked" at once, without waiting on the busy
        # timeout, while another process opens the same new file: so wait here ourselves.
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
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

    def _check_schema(self) -> None:
        """Refuse an SQLite file that is not a cstool store (reads only)."""
        with self._errors(), self._snapshot():
            version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {
                str(r[0])
                for r in self.conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                ).fetchall()
            }
            touch_fields = [
                str(r[1]) for r in self.conn.execute("PRAGMA table_info(touches)").fetchall()
            ]
        if version > SCHEMA_VERSION and VERSION_TABLES[SCHEMA_VERSION] <= tables:
            raise UsageError(
                f"{self.path}: this store was written by a newer cstool "
                f"(schema {version}, this cstool knows up to {SCHEMA_VERSION})",
                hint="upgrade cstool, or point --db / CSTOOL_DB at another store",
            )
        ours = (version == 0 and not tables) or (
            version in VERSION_TABLES
            and VERSION_TABLES[version] <= tables
            and touch_fields == TOUCH_FIELDS
        )
        if not ours:
            listed = ", ".join(sorted(tables)[:5]) or "none"
            raise UsageError(
                f"{self.path}: not a cstool store (an SQLite database of another program: "
                f"schema version {version}, tables {listed})",
                hint="point --db / CSTOOL_DB at another file, or move this one away",
            )

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Reads that see one state of the file: another process creating the store
        commits its tables and its version together, and these reads see both or neither
        (read one statement at a time, the version could be read before and the tables
        after, and a new store look like another program's)."""
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("COMMIT")

    def _migrate_in_memory(self) -> None:
        """Read an older store through a migrated copy in memory; the file stays as it is."""
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            with self._errors():
                self.conn.backup(memory)
        except BaseException:
            memory.close()
            raise
        self.conn.close()
        self.conn = memory
        self.migrate()
        self._copy = True

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
        """One write transaction (`BEGIN IMMEDIATE`); nested calls join the outer one.

        SQLite errors inside it (read-only file, locked, corrupt) leave as UsageErrors.
        """
        if self._copy:
            raise UsageError(
                f"{self.path}: opened read-only (an older store read through a copy); "
                "nothing was written"
            )
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
            with self._errors():
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
        except sqlite3.Error as exc:
            raise _usage_error(self.path, exc, self.busy_timeout_ms) from None

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

        Takes the `SNAPSHOT_COLUMNS` from `frame` (`recency` from `recency_score`, `support`
        from `support_score`; missing columns are stored as NULL); one transaction, one
        executemany. A date outside 1900-01-01 … 2200-12-31 is a UsageError.
        """
        day = _snapshot_day(as_of)
        rows, blob = _snapshot_payload(day, frame)
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM snapshot_runs WHERE as_of = ?", (day,)).fetchone():
                return False
            self._insert_snapshot(day, len(frame), rows, blob, source)
        return True

    def replace_snapshot(self, as_of: date, frame: pd.DataFrame, source: str | None) -> None:
        """Store the scored table for `as_of` in place of what that date held (one
        transaction), clearing the cached KPIs that depend on that date."""
        day = _snapshot_day(as_of)
        rows, blob = _snapshot_payload(day, frame)
        with self.transaction():
            self._remove_snapshot(day)
            self._insert_snapshot(day, len(frame), rows, blob, source)

    def delete_snapshot(self, as_of: date) -> int:
        """Remove the snapshot of `as_of` and the cached KPIs that depend on it; the number
        of customer rows removed (0 when there was none)."""
        day = _snapshot_day(as_of)
        with self.transaction():
            return self._remove_snapshot(day)

    def _remove_snapshot(self, day: str) -> int:
        removed = self.conn.execute("DELETE FROM snapshots WHERE as_of = ?", (day,)).rowcount
        self.conn.execute("DELETE FROM snapshot_runs WHERE as_of = ?", (day,))
        self.conn.execute("DELETE FROM snapshot_blobs WHERE as_of = ?", (day,))
        # A KPI row depends on its own date and on the snapshot it was compared with.
        self.conn.execute("DELETE FROM snapshot_kpis WHERE as_of = ? OR previous = ?", (day, day))
        return int(removed)

    def _insert_snapshot(
        self, day: str, n: int, rows: Any, blob: bytes, source: str | None
    ) -> None:
        # Rows and blob in the caller's one transaction: never one without the other.
        self.conn.execute(
            "INSERT INTO snapshot_runs (as_of, customers, source) VALUES (?, ?, ?)",
            (day, n, source),
        )
        self.conn.execute(
            "INSERT INTO snapshot_blobs (as_of, format, data) VALUES (?, ?, ?)",
            (day, BLOB_FORMAT, blob),
        )
        names = ("as_of", *SNAPSHOT_COLUMNS)
        self.conn.executemany(
            f"INSERT INTO snapshots ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            rows,
        )

    def previous_snapshot_size(self, as_of: date) -> int | None:
        """How many customers the latest snapshot dated before `as_of` holds (None: none)."""
        with self._errors():
            row = self.conn.execute(
                "SELECT customers FROM snapshot_runs WHERE as_of < ? ORDER BY as_of DESC LIMIT 1",
                (as_of.isoformat(),),
            ).fetchone()
        return None if row is None else int(row[0])

    def snapshot_before(self, as_of: date, days: int) -> pd.DataFrame:
        """The latest snapshot dated on or before `as_of` − `days` (what the health-drop
        follow-up compares with): customer_id, health, band, as_of; empty when none."""
        from datetime import timedelta

        cutoff = (as_of - timedelta(days=days)).isoformat()
        with self._errors():
            row = self.conn.execute(
                "SELECT max(as_of) FROM snapshot_runs WHERE as_of <= ?", (cutoff,)
            ).fetchone()
        names = ["customer_id", "health", "band", "as_of"]
        if row is None or row[0] is None:
            return _snapshot_frame([], ("as_of", "customer_id", "health", "band"))[names]
        # From the snapshot's Arrow blob (column-wise), not 100k rows fetched as tuples.
        frame = self.load_snapshots([date.fromisoformat(row[0])], ["customer_id", "health", "band"])
        return frame[names]

    def snapshot_dates(self) -> list[date]:
        """The as-of dates that have a snapshot, oldest first."""
        with self._errors():
            rows = self.conn.execute("SELECT as_of FROM snapshot_runs ORDER BY as_of").fetchall()
        return [date.fromisoformat(r[0]) for r in rows]

    def snapshot_sizes(self) -> dict[date, int]:
        """How many customers each stored snapshot holds, by as-of date (oldest first)."""
        with self._errors():
            rows = self.conn.execute(
                "SELECT as_of, customers FROM snapshot_runs ORDER BY as_of"
            ).fetchall()
        return {date.fromisoformat(r[0]): int(r[1]) for r in rows}

    def load_snapshot(self, as_of: date) -> pd.DataFrame:
        """One day's snapshot (empty if there is none), sorted by customer_id."""
        frame = self.load_snapshots([as_of])
        return frame.drop(columns=["as_of"])

    def load_snapshots(
        self, dates: Sequence[date] | None = None, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Snapshots (all, or those dates) with an `as_of` column, sorted by as_of, customer_id.

        Read column-wise from each snapshot's Arrow blob; a snapshot stored before
        migration 5 (no blob) is read from its rows. Both give the same frame. `columns`
        (of SNAPSHOT_COLUMNS): only those, after `as_of`; converting the rest to pandas
        (names, segments, plans) is most of the cost of a large load.
        """
        with self._errors():
            if dates is None:
                days = [
                    str(r[0])
                    for r in self.conn.execute(
                        "SELECT as_of FROM snapshot_runs ORDER BY as_of"
                    ).fetchall()
                ]
            else:
                days = sorted({d.isoformat() for d in dates})
            if not days:
                return _snapshot_frame([])
            blobs = self._snapshot_blobs(days)
        import pyarrow as pa

        parts = []
        for day in days:
            table = None
            if day in blobs:
                # A damaged blob is not the end: the rows hold the same snapshot.
                with contextlib.suppress(pa.ArrowException, OSError):  # zstd: OSError
                    table = _blob_table(day, blobs[day], columns)
            if table is None:
                table = self._snapshot_rows_table(day)
            if table is not None:
                parts.append(table)
        return _tables_frame(parts, columns)

    def _snapshot_blobs(self, days: list[str]) -> dict[str, bytes]:
        """The Arrow blobs stored for `days` (a date without one is left out)."""
        found: dict[str, bytes] = {}
        # In chunks: SQLite caps the number of parameters of one statement.
        for start in range(0, len(days), 500):
            chunk = days[start : start + 500]
            rows = self.conn.execute(
                "SELECT as_of, data FROM snapshot_blobs WHERE format = ? AND as_of IN ("
                + ", ".join("?" * len(chunk))
                + ")",
                (BLOB_FORMAT, *chunk),
            ).fetchall()
            found.update({str(r[0]): bytes(r[1]) for r in rows})
        return found

    def _snapshot_rows_table(self, day: str) -> pa.Table | None:
        """One snapshot stored before migration 5, from its rows (None: no rows)."""
        import pyarrow as pa

        with self._errors():
            rows = self.conn.execute(
                "SELECT as_of, " + ", ".join(SNAPSHOT_COLUMNS) + " FROM snapshots "
                "WHERE as_of = ? ORDER BY customer_id",
                (day,),
            ).fetchall()
        if not rows:
            return None
        frame = _snapshot_frame(rows)
        return pa.Table.from_pandas(frame, schema=_arrow_schema(), preserve_index=False)

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

    def snapshot_customer(self, text: str) -> str | None:
        """The ID of the customer whose ID, else name, is `text` (case-insensitively) in
        the newest snapshot that holds one; None when no snapshot does."""
        with self._errors():
            for sql in (
                "SELECT customer_id FROM snapshots WHERE customer_id = ? LIMIT 1",
                "SELECT customer_id FROM snapshots WHERE customer_id = ? COLLATE NOCASE"
                " ORDER BY as_of DESC LIMIT 1",
                "SELECT customer_id FROM snapshots WHERE name = ? COLLATE NOCASE"
                " ORDER BY as_of DESC LIMIT 1",
            ):
                row = self.conn.execute(sql, (text,)).fetchone()
                if row is not None:
                    return str(row[0])
        return None

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


def _usage_error(path: Path, exc: sqlite3.Error, busy_timeout_ms: int) -> UsageError:
    """An SQLite failure as a message that names the store and what to do."""
    text = str(exc)
    lowered = text.lower()
    if _is_busy(exc):
        return UsageError(
            f"{path}: the store stayed busy for {busy_timeout_ms / 1000:g} s "
            f"(another cstool is writing; {text}); try again"
        )
    if "readonly" in lowered or "read-only" in lowered:
        return UsageError(
            f"{path}: cannot write the store: {text}",
            hint="check the file's and its folder's permissions, or point --db elsewhere",
        )
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return UsageError(
            f"{path}: the store is damaged or not a cstool store ({text})",
            hint="point --db / CSTOOL_DB at another file, or move this one away",
        )
    if isinstance(exc, sqlite3.OperationalError):
        return UsageError(f"{path}: store error: {text}")
    return UsageError(
        f"{path}: not a cstool store ({text})",
        hint="point --db / CSTOOL_DB at another file, or move this one away",
    )


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


def _snapshot_frame(
    rows: list[Any], names: Sequence[str] = ("as_of", *SNAPSHOT_COLUMNS)
) -> pd.DataFrame:
    """Snapshot rows as a typed frame: numbers float64, nps Int64, dates datetime64[ns],
    text `string`."""
    import pandas as pd

    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    data: dict[str, Any] = {}
    for name, values in zip(names, columns, strict=True):
        if name == "as_of" or name in SNAPSHOT_DATES:
            data[name] = _dates(values)
        elif name == "nps":
            data[name] = pd.Series(values, dtype="Int64")
        elif name in SNAPSHOT_NUMBERS:
            data[name] = pd.Series(values, dtype="float64")
        else:
            data[name] = pd.Series(values, dtype="string")
    return pd.DataFrame(data)


def _snapshot_day(as_of: date) -> str:
    """The ISO date of a snapshot, refused outside `SNAPSHOT_RANGE`."""
    low, high = SNAPSHOT_RANGE
    if not low <= as_of <= high:
        raise UsageError(f"snapshot date {as_of.isoformat()}: expected a date from {low} to {high}")
    return as_of.isoformat()


def _snapshot_rows(day: str, frame: pd.DataFrame) -> Any:
    """The rows executemany inserts for a snapshot (as_of first), built column-wise."""
    return _snapshot_payload(day, frame)[0]


def _snapshot_payload(day: str, frame: pd.DataFrame) -> tuple[list[Any], bytes]:
    """A snapshot as the rows executemany inserts (as_of first) and as its Arrow blob.

    Both are built from the same typed columns, column-wise; the blob holds them as
    reading the rows back would type them (dates cut to the day), sorted by customer_id.
    """
    import pandas as pd

    n = len(frame)
    typed = {
        name: _typed_column(frame, SNAPSHOT_SOURCES.get(name, name), n, kind=name)
        for name in SNAPSHOT_COLUMNS
    }
    columns = [_python_values(typed[name]) for name in SNAPSHOT_COLUMNS]
    rows = list(zip([day] * n, *columns, strict=True))
    loaded = pd.DataFrame(
        {
            name: _dates(_python_values(col))
            if name in SNAPSHOT_DATES
            else col.reset_index(drop=True)
            for name, col in typed.items()
        }
    )
    # The row path reads in SQLite's ORDER BY customer_id: binary order of UTF-8, which
    # is code point order, as a stable sort of Python strings gives.
    loaded = loaded.sort_values("customer_id", kind="stable", ignore_index=True)
    return rows, _blob_bytes(loaded)


def _typed_column(frame: pd.DataFrame, name: str, n: int, *, kind: str) -> pd.Series:
    """A snapshot column typed as it is stored (dates as ISO text), missing as NA."""
    import pandas as pd

    col = frame[name] if name in frame.columns else pd.Series([None] * n, dtype="object")
    if kind == "nps":
        return col.astype("Int64")
    if kind in SNAPSHOT_NUMBERS:
        return col.astype("float64")
    if kind in SNAPSHOT_DATES:
        return pd.to_datetime(col).dt.strftime("%Y-%m-%d").astype("string")
    return col.astype("string")


def _python_values(col: pd.Series) -> list[Any]:
    """A typed column as Python values for executemany, missing as None."""
    values: list[Any] = col.astype(object).where(col.notna(), None).tolist()
    return values


def _column_values(frame: pd.DataFrame, name: str, n: int, *, kind: str | None = None) -> list[Any]:
    """A column as Python values for executemany, missing as None (column-wise); `kind`
    is the snapshot column it goes to (default: `name`)."""
    return _python_values(_typed_column(frame, name, n, kind=kind or name))


def _arrow_schema() -> pa.Schema:
    """The Arrow schema of a snapshot blob (no as_of: it is the blob's key)."""
    import pyarrow as pa

    fields = []
    for name in ("as_of", *SNAPSHOT_COLUMNS):
        if name == "as_of" or name in SNAPSHOT_DATES:
            fields.append(pa.field(name, pa.timestamp("ns")))
        elif name == "nps":
            fields.append(pa.field(name, pa.int64()))
        elif name in SNAPSHOT_NUMBERS:
            fields.append(pa.field(name, pa.float64()))
        else:
            fields.append(pa.field(name, pa.string()))
    return pa.schema(fields)


def _blob_bytes(loaded: pd.DataFrame) -> bytes:
    """A snapshot's typed columns (without as_of) as an Arrow IPC stream."""
    import pyarrow as pa

    schema = _arrow_schema().remove(0)
    table = pa.Table.from_pandas(loaded, schema=schema, preserve_index=False)
    codec = "zstd" if pa.Codec.is_available("zstd") else None
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=codec)
    with pa.ipc.new_stream(sink, schema, options=options) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _blob_table(day: str, blob: bytes, columns: Sequence[str] | None = None) -> pa.Table:
    """A stored blob as an Arrow table with its as_of column in front (only `columns`,
    when given and the blob has them all: the others are not even decompressed)."""
    import numpy as np
    import pyarrow as pa

    buffer = pa.py_buffer(blob)
    # One thread: on a shared machine the reader's threads cost more CPU than they save.
    options = pa.ipc.IpcReadOptions(use_threads=False)
    if columns is not None:
        names = pa.ipc.open_stream(buffer).schema.names
        wanted = set(columns) - {"as_of"}
        if wanted <= set(names):
            fields = [i for i, name in enumerate(names) if name in wanted]
            options = pa.ipc.IpcReadOptions(use_threads=False, included_fields=fields)
    table = pa.ipc.open_stream(buffer, options=options).read_all()
    # A damaged blob can decode into offsets past its buffers; refuse it here (ArrowInvalid,
    # so the caller reads the rows) rather than crash later in a cast (~4 ms per 100k rows).
    table.validate(full=True)
    as_of = np.full(table.num_rows, np.datetime64(day, "ns"))
    table = table.replace_schema_metadata(None)
    return table.add_column(0, pa.field("as_of", pa.timestamp("ns")), pa.array(as_of))


def _tables_frame(parts: list[pa.Table], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Snapshot tables (each with as_of) as one frame typed like `_snapshot_frame`'s
    (only as_of and `columns` when given)."""
    import pandas as pd
    import pyarrow as pa

    names = None if columns is None else ["as_of", *(c for c in columns if c != "as_of")]
    if not parts:
        empty = _snapshot_frame([])
        return empty if names is None else empty[names]
    schema = _arrow_schema()
    if names is not None:
        # Only the columns asked for (a blob may hold just those): cast only those.
        schema = pa.schema([schema.field(name) for name in names])
        parts = [part.select(names) for part in parts]
    table = pa.concat_tables(
        [part if part.schema == schema else part.cast(schema) for part in parts]
    )
    mapping = {pa.string(): pd.StringDtype(), pa.int64(): pd.Int64Dtype()}
    # One block per column: consolidating the number columns would copy 2.4M × 5 floats
    # into one 2-D block (24 × 100k: 0.38 -> 0.09 s CPU for the conversion, first call).
    frame = table.to_pandas(types_mapper=mapping.get, split_blocks=True)
    for name in ("as_of", *SNAPSHOT_DATES):
        if name not in frame.columns:
            continue
        # Some pandas/pyarrow pairs keep the unit; the frame's contract is nanoseconds.
        frame[name] = frame[name].astype("datetime64[ns]")
    return frame
