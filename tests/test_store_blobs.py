"""Snapshots as Arrow blobs (migration 5): the blob path and the row path give the same
frame, replace and delete keep rows and blob together, a killed save leaves nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from cstool import store as store_mod
from cstool.store import MIGRATIONS, SCHEMA_VERSION, SNAPSHOT_COLUMNS, open_store

OLD_DAYS = [date(2026, 1, 1), date(2026, 2, 1)]
NEW_DAYS = [date(2026, 3, 1), date(2026, 4, 1)]


def scored(seed: int, n: int = 40) -> pd.DataFrame:
    """A scored frame with every kind of awkward value a snapshot column may hold."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:03d}" for i in rng.permutation(n)]  # unsorted, as a CSV may give them
    ids[0] = "Zoë-ünï"  # non-ASCII: sorted by code point on both paths
    ids[1] = "a lower"
    health = rng.uniform(0, 100, n)
    health[2] = np.nan
    nps = pd.Series(rng.integers(0, 11, n), dtype="Int64")
    nps[3] = pd.NA
    churn = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    churn[4] = pd.Timestamp("2026-02-03 17:45")  # a time of day is cut to the day
    return pd.DataFrame(
        {
            "customer_id": pd.Series(ids, dtype="string"),
            "name": pd.Series([f"Name {i}" if i != ids[5] else None for i in ids], dtype="string"),
            "mrr": rng.choice([0.0, 19.5, 99.0, 1e9], n),
            "satisfaction": rng.uniform(0, 100, n),
            "health": health,
            "band": pd.Series(np.where(health < 50, "red", "green"), dtype="string"),
            "nps": nps,
            "recency_score": rng.uniform(0, 100, n),
            "status": pd.Series(["cancelling"] + [None] * (n - 1), dtype="string"),
            "churn_date": churn,
            "signup_date": pd.Series(pd.Timestamp("1999-12-31"), index=range(n)),
            "plan": pd.Series(["Pro", "日本"] * (n // 2), dtype="string"),
            # no segment, health_coverage, support: stored as NULL
        }
    )


def old_style_store(path: Path, frames: dict[date, pd.DataFrame]) -> None:
    """A schema-4 store holding `frames` as rows only, as cstool wrote it before blobs."""
    conn = sqlite3.connect(path)
    for version in range(4):
        for statement in MIGRATIONS[version]:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    names = ("as_of", *SNAPSHOT_COLUMNS)
    for day, frame in frames.items():
        conn.execute(
            "INSERT INTO snapshot_runs (as_of, customers, source) VALUES (?, ?, 'old')",
            (day.isoformat(), len(frame)),
        )
        conn.executemany(
            f"INSERT INTO snapshots ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            store_mod._snapshot_rows(day.isoformat(), frame),
        )
    conn.commit()
    conn.close()


def rows_frame(path: Path, days: list[date] | None = None) -> pd.DataFrame:
    """What `load_snapshots` gave before migration 5: the rows, typed by `_snapshot_frame`."""
    sql = "SELECT as_of, " + ", ".join(SNAPSHOT_COLUMNS) + " FROM snapshots"
    params: list[str] = []
    if days is not None:
        params = sorted(d.isoformat() for d in days)
        sql += " WHERE as_of IN (" + ", ".join("?" * len(params)) + ")"
    with sqlite3.connect(path) as conn:
        rows = conn.execute(sql + " ORDER BY as_of, customer_id", params).fetchall()
    return store_mod._snapshot_frame(rows)


def table_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {
            name: int(conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
            for name in ("snapshots", "snapshot_runs", "snapshot_blobs")
        }


def consistent(path: Path) -> None:
    """Every stored date has its rows (as many as its run says) and a blob; nothing else."""
    with sqlite3.connect(path) as conn:
        runs = dict(conn.execute("SELECT as_of, customers FROM snapshot_runs").fetchall())
        rows = dict(conn.execute("SELECT as_of, count(*) FROM snapshots GROUP BY as_of").fetchall())
        blobs = {r[0] for r in conn.execute("SELECT as_of FROM snapshot_blobs").fetchall()}
    assert rows == runs
    assert blobs == set(runs)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A store with two snapshots from before migration 5 and two saved after it."""
    path = tmp_path / "mixed.db"
    old_style_store(path, {day: scored(i) for i, day in enumerate(OLD_DAYS)})
    with open_store(path) as store:  # type: ignore[union-attr]
        assert store.version == SCHEMA_VERSION == 5
        for i, day in enumerate(NEW_DAYS):
            assert store.save_snapshot(day, scored(10 + i, n=30 + i), source="new")
    return path


def test_migration_5_adds_the_blob_table_and_keeps_old_snapshots_as_rows(mixed: Path) -> None:
    with sqlite3.connect(mixed) as conn:
        blob_days = [r[0] for r in conn.execute("SELECT as_of FROM snapshot_blobs ORDER BY 1")]
    assert blob_days == [d.isoformat() for d in NEW_DAYS]
    assert table_counts(mixed) == {
        "snapshots": 40 + 40 + 30 + 31,
        "snapshot_runs": 4,
        "snapshot_blobs": 2,
    }


@pytest.mark.parametrize(
    "days",
    [None, OLD_DAYS + NEW_DAYS, NEW_DAYS, OLD_DAYS, [NEW_DAYS[1], OLD_DAYS[0]], [NEW_DAYS[0]]],
)
def test_blob_and_row_paths_give_identical_frames(mixed: Path, days: list[date] | None) -> None:
    with open_store(mixed, create=False) as store:  # type: ignore[union-attr]
        got = store.load_snapshots(days)
    expected = rows_frame(mixed, days)
    assert_frame_equal(got, expected)
    assert list(got.columns) == ["as_of", *SNAPSHOT_COLUMNS]
    assert len(got) == len(expected) > 0


def test_load_snapshot_of_a_blob_matches_its_rows(mixed: Path) -> None:
    with open_store(mixed, create=False) as store:  # type: ignore[union-attr]
        got = store.load_snapshot(NEW_DAYS[0])
    expected = rows_frame(mixed, [NEW_DAYS[0]]).drop(columns=["as_of"])
    assert_frame_equal(got, expected)
    # Values, not only types: the cut date, the missing cells, the non-ASCII id.
    row = got.set_index("customer_id").loc["Zoë-ünï"]
    assert row["plan"] in {"Pro", "日本"}
    assert got["churn_date"].dropna().tolist() == [pd.Timestamp("2026-02-03")]
    assert got["segment"].isna().all() and got["support"].isna().all()
    assert got["customer_id"].tolist() == sorted(got["customer_id"].tolist())


def test_blob_dates_missing_and_unknown_dates_give_an_empty_typed_frame(mixed: Path) -> None:
    with open_store(mixed, create=False) as store:  # type: ignore[union-attr]
        none = store.load_snapshots([date(2020, 1, 1)])
        empty = store.load_snapshots([])
        some = store.load_snapshots([date(2020, 1, 1), NEW_DAYS[1]])
    assert_frame_equal(none, store_mod._snapshot_frame([]))
    assert_frame_equal(empty, store_mod._snapshot_frame([]))
    assert_frame_equal(some, rows_frame(mixed, [NEW_DAYS[1]]))


def test_an_old_store_read_only_loads_from_rows_without_migrating_the_file(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    frames = {day: scored(i) for i, day in enumerate(OLD_DAYS)}
    old_style_store(path, frames)
    with open_store(path, create=False) as store:  # type: ignore[union-attr]
        got = store.load_snapshots()
    assert_frame_equal(got, rows_frame(path))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 4


def test_replace_keeps_rows_and_blob_the_same_snapshot(mixed: Path) -> None:
    replacement = scored(99, n=12)
    with open_store(mixed) as store:  # type: ignore[union-attr]
        store.replace_snapshot(NEW_DAYS[0], replacement, "again")
        store.replace_snapshot(OLD_DAYS[0], replacement, "again")  # an old one gains a blob
        got = store.load_snapshots()
    consistent_except_old(mixed, old=[OLD_DAYS[1]])
    assert_frame_equal(got, rows_frame(mixed))
    assert got.loc[got["as_of"] == pd.Timestamp(NEW_DAYS[0]), "customer_id"].tolist() == sorted(
        replacement["customer_id"].tolist()
    )


def consistent_except_old(path: Path, old: list[date]) -> None:
    """Like `consistent`, for a store whose `old` dates were stored before blobs."""
    with sqlite3.connect(path) as conn:
        runs = dict(conn.execute("SELECT as_of, customers FROM snapshot_runs").fetchall())
        rows = dict(conn.execute("SELECT as_of, count(*) FROM snapshots GROUP BY as_of").fetchall())
        blobs = {r[0] for r in conn.execute("SELECT as_of FROM snapshot_blobs").fetchall()}
    assert rows == runs
    assert blobs == set(runs) - {d.isoformat() for d in old}


def test_delete_removes_rows_and_blob(mixed: Path) -> None:
    with open_store(mixed) as store:  # type: ignore[union-attr]
        assert store.delete_snapshot(NEW_DAYS[1]) == 31
        assert store.delete_snapshot(OLD_DAYS[0]) == 40
        assert store.snapshot_dates() == [OLD_DAYS[1], NEW_DAYS[0]]
        got = store.load_snapshots()
        assert store.load_snapshots([NEW_DAYS[1]]).empty
    assert table_counts(mixed) == {"snapshots": 70, "snapshot_runs": 2, "snapshot_blobs": 1}
    assert_frame_equal(got, rows_frame(mixed))


def test_a_frame_with_any_index_is_stored_in_its_rows_order(tmp_path: Path) -> None:
    frame = scored(3)
    frame.index = np.arange(len(frame))[::-1] * 2 + 5  # not a RangeIndex, not in order
    path = tmp_path / "s.db"
    with open_store(path) as store:  # type: ignore[union-attr]
        store.save_snapshot(NEW_DAYS[0], frame)
        got = store.load_snapshot(NEW_DAYS[0])
    assert_frame_equal(got, rows_frame(path).drop(columns=["as_of"]))
    by_id = got.set_index("customer_id")
    for cid, mrr in zip(frame["customer_id"], frame["mrr"], strict=True):
        assert by_id.loc[cid, "mrr"] == mrr


def test_a_damaged_blob_is_read_from_the_rows(mixed: Path) -> None:
    with sqlite3.connect(mixed) as conn:
        conn.execute("UPDATE snapshot_blobs SET data = x'00ff00' WHERE as_of = ?", ("2026-03-01",))
    with open_store(mixed, create=False) as store:  # type: ignore[union-attr]
        got = store.load_snapshots()
    assert_frame_equal(got, rows_frame(mixed))


def test_a_failed_save_stores_neither_rows_nor_blob(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    frame = scored(1)
    frame.loc[7, "customer_id"] = frame.loc[8, "customer_id"]  # a duplicate id: PK fails
    with open_store(path) as store:  # type: ignore[union-attr]
        with pytest.raises(Exception):  # noqa: B017 - the store's UsageError for SQLite
            store.save_snapshot(NEW_DAYS[0], frame)
        assert store.snapshot_dates() == []
    assert table_counts(path) == {"snapshots": 0, "snapshot_runs": 0, "snapshot_blobs": 0}


SAVER = textwrap.dedent(
    """
    import sys
    from datetime import date, timedelta

    import numpy as np
    import pandas as pd

    from cstool.store import open_store

    path, mode = sys.argv[1], sys.argv[2]
    n = 20_000
    frame = pd.DataFrame({
        "customer_id": pd.Series([f"C{i:06d}" for i in range(n)], dtype="string"),
        "mrr": np.arange(n, dtype="float64"),
        "health": np.linspace(0, 100, n),
    })
    store = open_store(path)
    if mode == "hold":
        # Inside one outer transaction: save_snapshot has written rows and blob, the
        # commit has not happened; the parent kills us here.
        with store.transaction():
            store.save_snapshot(date(2026, 1, 1), frame)
            print("saved", flush=True)
            sys.stdin.read()
    else:
        print("saving", flush=True)
        for k in range(10_000):
            store.save_snapshot(date(2000, 1, 1) + timedelta(days=k), frame)
    """
)


def run_saver(path: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SAVER, str(path), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_kill_9_inside_the_save_transaction_leaves_no_half_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    child = run_saver(path, "hold")
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "saved"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    with open_store(path) as store:  # type: ignore[union-attr]
        assert store.snapshot_dates() == []
        assert store.load_snapshots().empty
    assert table_counts(path) == {"snapshots": 0, "snapshot_runs": 0, "snapshot_blobs": 0}


def test_kill_9_while_saving_leaves_only_whole_snapshots(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    child = run_saver(path, "loop")
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "saving"
    with sqlite3.connect(path, timeout=30) as conn:  # wait for a first whole snapshot
        while not conn.execute("SELECT count(*) FROM snapshot_blobs").fetchone()[0]:
            pass
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    consistent(path)
    with open_store(path, create=False) as store:  # type: ignore[union-attr]
        days = store.snapshot_dates()
        got = store.load_snapshots()
    assert days and len(got) == 20_000 * len(days)
    assert_frame_equal(got, rows_frame(path))
