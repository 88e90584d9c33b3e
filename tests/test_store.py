"""The SQLite store: schema, migrations, touches, snoozes, snapshots, concurrent writers."""

from __future__ import annotations

import multiprocessing
import sqlite3
import stat
import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import platformdirs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cstool import store as store_mod
from cstool.config import Settings, Workspace
from cstool.errors import UsageError
from cstool.store import MIGRATIONS, SCHEMA_VERSION, db_path, open_store

D = date(2026, 11, 23)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / ".cstool" / "cstool.db"


# ------------------------------------------------------------------ where it lives
def test_db_path_override_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSTOOL_DB", str(tmp_path / "env.db"))
    ws = Workspace(settings=Settings(), config_path=tmp_path / "cstool.toml")
    assert db_path(ws, tmp_path / "given.db") == tmp_path / "given.db"
    assert db_path(ws, None) == tmp_path / "env.db"


def test_db_path_workspace_then_user_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSTOOL_DB", raising=False)
    ws = Workspace(settings=Settings(), config_path=tmp_path / "cstool.toml")
    assert db_path(ws) == tmp_path / ".cstool" / "cstool.db"
    no_ws = db_path(Workspace(settings=Settings()))
    assert no_ws == platformdirs.user_data_path("cstool", appauthor=False) / "cstool.db"


# ------------------------------------------------------------------ opening
def test_read_only_open_never_creates(db: Path) -> None:
    assert open_store(db, create=False) is None
    assert not db.exists()
    assert not db.parent.exists()


def test_new_store_is_private_wal_and_current(db: Path) -> None:
    with open_store(db) as s:  # type: ignore[union-attr]
        assert s.version == SCHEMA_VERSION
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        s.log_touch("C1", D)
        for suffix in ("", "-wal"):
            mode = stat.S_IMODE((db.parent / (db.name + suffix)).stat().st_mode)
            assert mode == 0o600, (suffix, oct(mode))
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_existing_store_keeps_its_mode(db: Path) -> None:
    open_store(db).close()  # type: ignore[union-attr]
    db.chmod(0o644)  # the owner chose this; only a file cstool creates is made 0600
    open_store(db, create=False).close()  # type: ignore[union-attr]
    open_store(db).close()  # type: ignore[union-attr]
    assert stat.S_IMODE(db.stat().st_mode) == 0o644


def test_old_store_opens_and_migrates(db: Path) -> None:
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO touches (customer_id, touched_on, channel, note) "
        "VALUES ('C7', '2026-01-02', 'call', 'kept')"
    )
    conn.commit()
    conn.close()
    with open_store(db) as s:  # type: ignore[union-attr]
        assert s.version == SCHEMA_VERSION >= 2
        assert [t.note for t in s.touches("C7")] == ["kept"]
        assert s.save_snapshot(D, _snapshot_input())
        assert s.snapshot_dates() == [D]


def test_store_from_newer_cstool_is_refused(db: Path) -> None:
    open_store(db).close()  # type: ignore[union-attr]
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(UsageError, match="newer cstool"):
        open_store(db)


def test_not_a_database_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("this is not sqlite, just text\n" * 100)
    with pytest.raises(UsageError, match="not a cstool store"):
        open_store(path)


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a folder"):
        open_store(tmp_path)


def test_uncreatable_location(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="cannot create"):
        open_store(blocker / "sub" / "cstool.db")


# ------------------------------------------------------------------ touches
def test_touches_and_last_logged(db: Path) -> None:
    with open_store(db) as s:  # type: ignore[union-attr]
        s.log_touch("C1", date(2026, 11, 1), channel="email", note="hi")
        s.log_touch("C1", date(2026, 11, 20), channel="call", next_due=date(2026, 12, 5))
        s.log_touch("C1", date(2026, 11, 10), channel="chat")  # back-dated: not the newest
        s.log_touch("C2", date(2026, 11, 20), note="first")
        s.log_touch("C2", date(2026, 11, 20), note="same day, later", next_due=date(2027, 1, 1))
        logged = s.last_logged()
        assert list(logged.columns) == ["customer_id", "last_logged", "next_due"]
        assert str(logged["customer_id"].dtype) == "string"
        assert str(logged["last_logged"].dtype) == "datetime64[ns]"
        assert str(logged["next_due"].dtype) == "datetime64[ns]"
        rows = logged.set_index("customer_id")
        assert rows.loc["C1", "last_logged"] == pd.Timestamp("2026-11-20")
        assert rows.loc["C1", "next_due"] == pd.Timestamp("2026-12-05")
        assert rows.loc["C2", "next_due"] == pd.Timestamp("2027-01-01")  # ties: logged last
        # A past as-of date sees the store as it was.
        past = s.last_logged(as_of=date(2026, 11, 15)).set_index("customer_id")
        assert list(past.index) == ["C1"]
        assert past.loc["C1", "last_logged"] == pd.Timestamp("2026-11-10")
        assert pd.isna(past.loc["C1", "next_due"])
        assert [t.touched_on.day for t in s.touches("C1")] == [1, 10, 20]
        assert len(s.touches()) == 5


def test_empty_store_frames_are_typed(db: Path) -> None:
    with open_store(db) as s:  # type: ignore[union-attr]
        logged = s.last_logged()
        assert logged.empty
        assert str(logged["last_logged"].dtype) == "datetime64[ns]"
        assert str(logged["customer_id"].dtype) == "string"
        assert s.snoozes().empty
        assert s.load_snapshots().empty
        assert s.snapshot_dates() == []


def test_bad_channel_is_refused(db: Path) -> None:
    with open_store(db) as s, pytest.raises(UsageError, match="channel"):  # type: ignore[union-attr]
        s.log_touch("C1", D, channel="fax")


def test_failed_transaction_leaves_nothing(db: Path) -> None:
    with open_store(db) as s:  # type: ignore[union-attr]
        with pytest.raises(RuntimeError), s.transaction():
            s.log_touch("C1", D)
            s.log_touch("C2", D)
            raise RuntimeError("crash mid-command")
        assert len(s.touches()) == 0
        s.log_touch("C3", D)  # the connection is usable afterwards
        assert len(s.touches()) == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", "客户1"]),
            st.integers(0, 30),
            st.one_of(st.none(), st.integers(0, 60)),
        ),
        max_size=25,
    )
)
def test_last_logged_is_the_newest_touch(touches: list[tuple[str, int, int | None]]) -> None:
    start = date(2026, 1, 1)
    with tempfile.TemporaryDirectory() as folder, open_store(Path(folder) / "t.db") as s:  # type: ignore[union-attr]
        for cid, day, nxt in touches:
            s.log_touch(
                cid,
                start + timedelta(days=day),
                next_due=None if nxt is None else start + timedelta(days=nxt),
            )
        got = s.last_logged().set_index("customer_id")
    newest: dict[str, tuple[int, int, int | None]] = {}
    for order, (cid, day, nxt) in enumerate(touches):
        if cid not in newest or (day, order) > newest[cid][:2]:
            newest[cid] = (day, order, nxt)
    assert sorted(got.index) == sorted(newest)
    for cid, (day, _, nxt) in newest.items():
        assert got.loc[cid, "last_logged"] == pd.Timestamp(start + timedelta(days=day))
        if nxt is None:
            assert pd.isna(got.loc[cid, "next_due"])
        else:
            assert got.loc[cid, "next_due"] == pd.Timestamp(start + timedelta(days=nxt))


# ------------------------------------------------------------------ snoozes
def test_latest_snooze_wins(db: Path) -> None:
    with open_store(db) as s:  # type: ignore[union-attr]
        s.snooze("C1", date(2026, 12, 31), set_on=D)
        s.snooze("C1", date(2026, 11, 30), set_on=D, note="sooner after all")
        s.snooze("C2", date(2026, 1, 1), set_on=D)  # a past date is accepted
        current = s.snoozes().set_index("customer_id")["snoozed_until"]
        assert current["C1"] == pd.Timestamp("2026-11-30")
        assert current["C2"] == pd.Timestamp("2026-01-01")
        assert [z.until for z in s.snooze_history("C1")] == [date(2026, 12, 31), date(2026, 11, 30)]


# ------------------------------------------------------------------ snapshots
def _snapshot_input() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(["C2", "C1", "C3"], dtype="string"),
            "mrr": [100.5, np.nan, 0.0],
            "satisfaction": [80.123456789, 40.0, 55.5],
            "health": [77.7, 33.3, np.nan],
            "band": pd.Series(["green", "red", None], dtype="string"),
            "segment": pd.Series(["Champions", None, "Nurture"], dtype="string"),
            "nps": pd.Series([9, None, 3], dtype="Int64"),
            "email": pd.Series(["x@y.z", None, None], dtype="string"),  # not stored
        }
    )


def test_snapshot_round_trip_and_idempotent(db: Path) -> None:
    with open_store(db) as s:  # type: ignore[union-attr]
        assert s.save_snapshot(D, _snapshot_input(), source="customers.csv") is True
        assert s.save_snapshot(D, _snapshot_input().iloc[:1]) is False  # same date: kept
        assert s.save_snapshot(D - timedelta(days=7), _snapshot_input().iloc[:2]) is True
        assert s.snapshot_dates() == [D - timedelta(days=7), D]
        one = s.load_snapshot(D)
        assert list(one.columns) == list(store_mod.SNAPSHOT_COLUMNS)
        assert list(one["customer_id"]) == ["C1", "C2", "C3"]
        c2 = one.iloc[1]
        assert c2["satisfaction"] == 80.123456789  # full precision
        assert c2["nps"] == 9 and c2["band"] == "green" and c2["segment"] == "Champions"
        c1 = one.iloc[0]
        assert pd.isna(c1["mrr"]) and pd.isna(c1["nps"]) and pd.isna(c1["segment"])
        assert str(one["nps"].dtype) == "Int64"
        every = s.load_snapshots()
        assert len(every) == 5
        assert every["as_of"].is_monotonic_increasing
        assert str(every["as_of"].dtype) == "datetime64[ns]"
        assert len(s.load_snapshots([D - timedelta(days=7)])) == 2
        assert s.load_snapshots([]).empty
        assert s.load_snapshot(D + timedelta(days=1)).empty
        runs = s.conn.execute("SELECT as_of, customers, source FROM snapshot_runs").fetchall()
        assert ("2026-11-23", 3, "customers.csv") in runs
        assert list(s.customer_snapshots("C1")["health"]) == [33.3, 33.3]


def test_snapshot_without_segments_stores_null(db: Path) -> None:
    with open_store(db) as s:  # type: ignore[union-attr]
        frame = _snapshot_input().drop(columns=["segment", "nps"])
        assert s.save_snapshot(D, frame)
        got = s.load_snapshot(D)
        assert got["segment"].isna().all() and got["nps"].isna().all()


# ------------------------------------------------------------------ concurrency
def _writer(path: str, tag: str, barrier: object, count: int) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    for i in range(count):
        # A fresh connection per touch, like one `cstool log` per touch.
        with open_store(Path(path)) as s:  # type: ignore[union-attr]
            s.log_touch(f"{tag}{i}", D, channel="call", note=f"{tag} {i}")


def test_two_processes_log_100_touches_each(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "cstool.db"  # neither process finds a store: both create it
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    workers = [ctx.Process(target=_writer, args=(str(path), t, barrier, 100)) for t in "AB"]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    with open_store(path) as s:  # type: ignore[union-attr]
        assert len(s.touches()) == 200
        ids = {t.customer_id for t in s.touches()}
        assert ids == {f"{t}{i}" for t in "AB" for i in range(100)}
        assert s.version == SCHEMA_VERSION
