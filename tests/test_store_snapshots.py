"""Snapshots: migration 4's columns, the date range, replace and delete (with the KPI
cache), the guard against a table that lost its rows, and history from snapshots."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cstool.errors import UsageError
from cstool.history import last_known_name, timeline
from cstool.store import MIGRATIONS, SCHEMA_VERSION, SNAPSHOT_COLUMNS, open_store, snapshot_guard

D = date(2026, 11, 23)


def scored(ids: list[str], health: float = 70.0) -> pd.DataFrame:
    """A scored frame as the pipeline gives it (only what a snapshot takes, plus an extra)."""
    n = len(ids)
    return pd.DataFrame(
        {
            "customer_id": pd.Series(ids, dtype="string"),
            "name": pd.Series([f"Name {i}" for i in ids], dtype="string"),
            "mrr": np.arange(n, dtype="float64") * 10,
            "health": np.full(n, health),
            "health_coverage": np.full(n, 0.75),
            "recency_score": np.full(n, 40.0),
            "support_score": np.full(n, 90.0),
            "band": pd.Series(["yellow"] * n, dtype="string"),
            "status": pd.Series(["cancelling"] + [None] * (n - 1), dtype="string"),
            "churn_date": pd.Series([pd.NaT] * n, dtype="datetime64[ns]"),
            "signup_date": pd.Series([pd.Timestamp("2025-02-03")] * n, dtype="datetime64[ns]"),
            "plan": pd.Series(["Pro"] * n, dtype="string"),
            "email": pd.Series(["x@y.z"] * n, dtype="string"),  # not stored
        }
    )


def kpi_rows(store_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(store_path) as conn:
        return sorted(conn.execute("SELECT as_of, previous FROM snapshot_kpis").fetchall())


def test_new_columns_round_trip(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as s:  # type: ignore[union-attr]
        frame = scored(["A", "B"])
        frame.loc[1, "churn_date"] = pd.Timestamp("2026-11-01")
        assert s.save_snapshot(D, frame)
        got = s.load_snapshot(D)
    assert list(got.columns) == list(SNAPSHOT_COLUMNS)
    a, b = got.iloc[0], got.iloc[1]
    assert a["name"] == "Name A" and a["plan"] == "Pro" and a["status"] == "cancelling"
    assert a["recency"] == 40.0 and a["support"] == 90.0 and a["health_coverage"] == 0.75
    assert a["signup_date"] == pd.Timestamp("2025-02-03") and pd.isna(a["churn_date"])
    assert b["churn_date"] == pd.Timestamp("2026-11-01") and pd.isna(b["status"])
    assert str(got["churn_date"].dtype) == "datetime64[ns]"
    assert str(got["status"].dtype) == "string" and str(got["recency"].dtype) == "float64"


def test_migration_4_keeps_old_rows_with_null_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0] + MIGRATIONS[1] + MIGRATIONS[2]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    conn.execute("INSERT INTO snapshots (as_of, customer_id, mrr) VALUES ('2026-01-31', 'A', 5)")
    conn.execute("INSERT INTO snapshot_runs VALUES ('2026-01-31', 1, NULL)")
    conn.commit()
    conn.close()
    with open_store(path) as s:  # type: ignore[union-attr]
        assert s.version == SCHEMA_VERSION >= 4
        got = s.load_snapshots()
    assert got["mrr"].tolist() == [5.0]
    for name in ("name", "health_coverage", "recency", "support", "status", "plan"):
        assert got[name].isna().all(), name


@pytest.mark.parametrize(
    ("day", "ok"),
    [
        (date(1899, 12, 31), False),
        (date(1900, 1, 1), True),
        (date(2200, 12, 31), True),
        (date(2201, 1, 1), False),
    ],
)
def test_snapshot_dates_outside_the_range_are_refused(tmp_path: Path, day: date, ok: bool) -> None:
    with open_store(tmp_path / "s.db") as s:  # type: ignore[union-attr]
        if ok:
            assert s.save_snapshot(day, scored(["A"]))
            assert s.snapshot_dates() == [day]
        else:
            for write in (
                lambda: s.save_snapshot(day, scored(["A"])),
                lambda: s.replace_snapshot(day, scored(["A"]), None),
                lambda: s.delete_snapshot(day),
            ):
                with pytest.raises(UsageError, match="1900-01-01 to 2200-12-31"):
                    write()
            assert s.snapshot_dates() == []


def test_replace_and_delete_clear_the_kpis_of_that_date(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    d1, d2, d3 = D - timedelta(days=60), D - timedelta(days=30), D
    with open_store(path) as s:  # type: ignore[union-attr]
        for day in (d1, d2, d3):
            assert s.save_snapshot(day, scored(["A", "B", "C"]), source="old.csv")
        s.save_snapshot_kpis("v", [(d1, None, {"k": 1}), (d2, d1, {"k": 2}), (d3, d2, {"k": 3})])
        s.replace_snapshot(d2, scored(["A", "D"], health=33.0), "new.csv")
        got = s.load_snapshot(d2)
        assert list(got["customer_id"]) == ["A", "D"] and set(got["health"]) == {33.0}
        runs = s.conn.execute(
            "SELECT customers, source FROM snapshot_runs WHERE as_of = ?", (d2.isoformat(),)
        ).fetchall()
        assert runs == [(2, "new.csv")]
        assert len(s.load_snapshots([d1, d3])) == 6  # other dates untouched
    # d2's own row and d3's (compared with d2) are gone; d1's stays.
    assert kpi_rows(path) == [(d1.isoformat(), "")]
    with open_store(path) as s:  # type: ignore[union-attr]
        s.save_snapshot_kpis("v", [(d2, d1, {"k": 2}), (d3, d2, {"k": 3})])
        assert s.delete_snapshot(d2) == 2
        assert s.delete_snapshot(d2) == 0
        assert s.delete_snapshot(D + timedelta(days=1)) == 0
        assert s.snapshot_dates() == [d1, d3]
        assert s.previous_snapshot_size(d3) == 3 and s.previous_snapshot_size(d1) is None
    assert kpi_rows(path) == [(d1.isoformat(), "")]
    # replace on a date that has none simply stores it
    with open_store(path) as s:  # type: ignore[union-attr]
        s.replace_snapshot(d2, scored(["Z"]), None)
        assert s.snapshot_dates() == [d1, d2, d3]


def test_snapshot_guard() -> None:
    assert snapshot_guard(None, 200, 0) is None
    assert snapshot_guard(100, 50, 0) is None  # exactly half lost: allowed
    assert snapshot_guard(100, 120, 3) is None
    every = snapshot_guard(100, 0, 100)
    assert every is not None and "every row was skipped" in every
    assert snapshot_guard(None, 0, 5) is not None
    assert snapshot_guard(None, 0, 0) == "the table has no customers"
    lost = snapshot_guard(100, 49, 0)
    assert lost is not None and "51 of the previous snapshot's 100" in lost
    assert snapshot_guard(100, 49, 0, max_loss_share=0.6) is None


def test_history_of_a_customer_only_in_snapshots(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as s:  # type: ignore[union-attr]
        early = scored(["GONE", "STAY"], health=80.0)
        early["band"] = pd.Series(["green", "green"], dtype="string")
        early["status"] = pd.Series([None, None], dtype="string")
        s.save_snapshot(D - timedelta(days=60), early)
        late = scored(["GONE", "STAY"], health=40.0).assign(
            name=pd.Series(["Gone Ltd (renamed)", "Stay"], dtype="string"),
            band=pd.Series(["red", "red"], dtype="string"),
            status=pd.Series(["churned", None], dtype="string"),
            churn_date=pd.Series([pd.Timestamp("2026-10-20"), pd.NaT], dtype="datetime64[ns]"),
        )
        s.save_snapshot(D - timedelta(days=30), late)
        snaps = s.customer_snapshots("GONE")
    assert list(snaps["name"]) == ["Name GONE", "Gone Ltd (renamed)"]
    assert last_known_name(snaps) == "Gone Ltd (renamed)"
    assert last_known_name(snaps.iloc[:0]) is None
    events = timeline(None, [], [], snaps)
    got = [(e.day.isoformat(), e.kind, e.detail) for e in events]
    assert got == [
        (
            (D - timedelta(days=30)).isoformat(),
            "scores",
            "health 80 → 40, band green → red, status churned",
        ),
        ("2026-10-20", "churned", "from the snapshots"),
        ((D - timedelta(days=60)).isoformat(), "scores", "first snapshot: health 80, band green"),
        ("2025-02-03", "signed up", "from the snapshots"),
    ]
