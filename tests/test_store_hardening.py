"""The store never touches a file it did not create: non-stores are refused before any
write, read-only opens change nothing, and every SQLite failure is a UsageError naming
the path. Each test checks the file's mode, bytes and mtime afterwards."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cstool.errors import UsageError
from cstool.store import MIGRATIONS, SCHEMA_VERSION, open_store

D = date(2026, 11, 23)


def fingerprint(path: Path) -> tuple[int, bytes, int]:
    info = path.stat()
    return stat.S_IMODE(info.st_mode), path.read_bytes(), info.st_mtime_ns


def sidecars(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


def make_store(path: Path) -> Path:
    with open_store(path) as s:  # type: ignore[union-attr]
        s.log_touch("C1", D, channel="call", note="kept")
        s.snooze("C1", date(2026, 12, 1), set_on=D)
    return path


@pytest.mark.parametrize("create", [True, False])
def test_a_text_file_is_refused_and_untouched(tmp_path: Path, create: bool) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("customer notes, not a database\n")
    path.chmod(0o644)
    before = fingerprint(path)
    with pytest.raises(UsageError, match="not a cstool store") as info:
        open_store(path, create=create)
    assert str(path) in str(info.value)
    assert info.value.exit_code == 2
    assert fingerprint(path) == before
    assert sidecars(path) == []


def test_dev_null_is_refused(tmp_path: Path) -> None:
    null = Path("/dev/null")
    mode = null.stat().st_mode
    for create in (True, False):
        with pytest.raises(UsageError, match="not a regular file") as info:
            open_store(null, create=create)
        assert "/dev/null" in str(info.value)
    assert null.stat().st_mode == mode


@pytest.mark.parametrize("create", [True, False])
def test_another_programs_database_with_a_touches_table_is_refused(
    tmp_path: Path, create: bool
) -> None:
    path = tmp_path / "crm.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE touches (who TEXT, at TEXT)")
    conn.execute("INSERT INTO touches VALUES ('x', 'y')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    path.chmod(0o664)
    before = fingerprint(path)
    with pytest.raises(UsageError, match="another program") as info:
        open_store(path, create=create)
    assert str(path) in str(info.value)
    assert fingerprint(path) == before
    assert sidecars(path) == []  # no -wal or -shm: journal mode was never switched


def test_existing_store_keeps_mode_bytes_and_mtime_when_read(tmp_path: Path) -> None:
    path = make_store(tmp_path / "cstool.db")
    path.chmod(0o640)
    before, files = fingerprint(path), sidecars(path)
    with open_store(path, create=False) as s:  # type: ignore[union-attr]
        assert [t.note for t in s.touches()] == ["kept"]
        assert list(s.last_logged()["customer_id"]) == ["C1"]
        assert list(s.snoozes()["customer_id"]) == ["C1"]
        assert s.load_snapshots().empty and s.snapshot_dates() == []
        assert s.snapshot_before(D, 30).empty
    assert fingerprint(path) == before
    assert sidecars(path) == files
    with open_store(path) as s:  # type: ignore[union-attr]
        s.log_touch("C2", D)  # a write changes the bytes, never the mode
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_an_older_store_is_read_without_migrating_the_file(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0] + MIGRATIONS[1]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute(
        "INSERT INTO snapshots (as_of, customer_id, health) VALUES ('2026-10-01', 'C9', 61.5)"
    )
    conn.execute("INSERT INTO snapshot_runs VALUES ('2026-10-01', 1, NULL)")
    conn.commit()
    conn.close()
    before = fingerprint(path)
    with open_store(path, create=False) as s:  # type: ignore[union-attr]
        snaps = s.load_snapshots()
        assert list(snaps["customer_id"]) == ["C9"] and snaps["health"].iloc[0] == 61.5
        assert snaps["name"].isna().all() and snaps["recency"].isna().all()
        with pytest.raises(UsageError, match="read-only") as info:
            s.log_touch("C9", D)
        assert str(path) in str(info.value)
    assert fingerprint(path) == before
    check = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert check.execute("PRAGMA user_version").fetchone()[0] == 2
    check.close()
    with open_store(path) as s:  # type: ignore[union-attr]
        assert s.version == SCHEMA_VERSION  # a write open migrates the file itself


def test_writing_through_a_read_only_open_is_a_usage_error(tmp_path: Path) -> None:
    path = make_store(tmp_path / "cstool.db")
    before = fingerprint(path)
    with open_store(path, create=False) as s:  # type: ignore[union-attr]
        with pytest.raises(UsageError, match="readonly database") as info:
            s.log_touch("C1", D)
        assert str(path) in str(info.value) and info.value.exit_code == 2
        with pytest.raises(UsageError, match="readonly database"):
            s.save_snapshot(D, pd.DataFrame({"customer_id": ["C1"]}))
    assert fingerprint(path) == before


def test_a_locked_store_is_a_usage_error(tmp_path: Path) -> None:
    path = make_store(tmp_path / "cstool.db")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        before = fingerprint(path)
        with open_store(path, busy_timeout_ms=50) as s:  # type: ignore[union-attr]
            with pytest.raises(UsageError, match="busy") as info:
                s.log_touch("C2", D)
            assert str(path) in str(info.value)
        assert fingerprint(path) == before
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("create", [True, False])
def test_a_corrupt_store_is_a_usage_error(tmp_path: Path, create: bool) -> None:
    path = make_store(tmp_path / "cstool.db")
    data = bytearray(path.read_bytes())
    assert len(data) > 4096
    data[100:] = b"\xa5" * (len(data) - 100)  # the header survives, the pages do not
    path.write_bytes(bytes(data))
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    before = fingerprint(path)
    with (
        pytest.raises(UsageError) as info,
        open_store(path, create=create) as s,  # type: ignore[union-attr]
    ):
        s.touches()
    assert str(path) in str(info.value)
    assert "damaged" in str(info.value) or "not a cstool store" in str(info.value)
    assert fingerprint(path) == before


def test_a_new_store_alone_is_made_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        path = make_store(tmp_path / "fresh" / "cstool.db")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_an_empty_file_becomes_a_store_keeping_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    path.chmod(0o640)
    before = fingerprint(path)
    with open_store(path, create=False) as s:  # type: ignore[union-attr]
        assert s.touches() == []  # read through a migrated copy in memory
    assert fingerprint(path) == before
    with open_store(path) as s:  # type: ignore[union-attr]
        s.log_touch("C1", D)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
