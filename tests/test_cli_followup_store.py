"""followups and history through the CLI with snapshots in a real store: the health-drop
warning and the timeline of a customer gone from the file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cstool.store import open_store
from tests.test_cli_followups import AS_OF, HEADER, ROWS, run


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace: cstool.toml naming customers.csv, the store in .cstool/."""
    (tmp_path / "customers.csv").write_text(HEADER + "\n" + "\n".join(ROWS) + "\n")
    (tmp_path / "cstool.toml").write_text('customers = "customers.csv"\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def store_snapshot(ws: Path, day: date, rows: dict[str, tuple[str, float, str]]) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(list(rows), dtype="string"),
            "name": pd.Series([r[0] for r in rows.values()], dtype="string"),
            "health": [r[1] for r in rows.values()],
            "band": pd.Series([r[2] for r in rows.values()], dtype="string"),
        }
    )
    with open_store(ws / ".cstool" / "cstool.db") as store:  # type: ignore[union-attr]
        assert store.save_snapshot(day, frame)


def test_followups_warn_when_health_fell_since_a_month_ago(ws: Path) -> None:
    code, out, err = run("followups", "--as-of", AS_OF, "--format", "json")
    assert code == 0, err
    before = {r["customer_id"]: r for r in json.loads(out)}
    assert "HAPPY" not in before  # touched yesterday, healthy
    code, out, _ = run("score", "--as-of", AS_OF, "--format", "json")
    health = {r["customer_id"]: r["health"] for r in json.loads(out)}
    store_snapshot(
        ws,
        date(2026, 4, 25),  # the latest on or before 2026-06-01 − 30 days
        {"HAPPY": ("Happy GmbH", health["HAPPY"] + 20, "green")},
    )
    store_snapshot(ws, date(2026, 5, 20), {"HAPPY": ("Happy GmbH", 10.0, "red")})
    code, out, err = run("followups", "--as-of", AS_OF, "--due", "+7d", "--format", "json")
    assert code == 0, err
    after = {r["customer_id"]: r for r in json.loads(out)}
    assert after["HAPPY"]["reason"] == "health fell 20 points since 2026-04-25"
    # Touched yesterday: the warning waits a week after that touch, like a red recheck.
    assert after["HAPPY"]["due"] == "2026-06-07"
    # A fall of 5 points does not fire.
    store_snapshot(ws, date(2026, 4, 28), {"HAPPY": ("Happy GmbH", health["HAPPY"] + 5, "green")})
    code, out, _ = run("followups", "--as-of", AS_OF, "--due", "+7d", "--format", "json")
    assert "HAPPY" not in {r["customer_id"] for r in json.loads(out)}


def test_history_of_a_customer_only_in_snapshots(ws: Path) -> None:
    store_snapshot(ws, date(2026, 3, 1), {"GONE": ("Gone Ltd", 70.0, "yellow")})
    store_snapshot(ws, date(2026, 4, 1), {"GONE": ("Gone Ltd (new name)", 40.0, "red")})
    code, out, err = run("history", "GONE", "--as-of", AS_OF, "--format", "json")
    assert code == 0, err
    assert "not in the customer file" in err
    events = json.loads(out)
    assert [(e["date"], e["detail"]) for e in events] == [
        # Churned: absent from the file of the as-of day (no later snapshot lacks it).
        ("2026-06-01", "last seen in the snapshot of 2026-04-01: health 40, band red"),
        ("2026-04-01", "health 70 → 40, band yellow → red"),
        ("2026-03-01", "first snapshot: health 70, band yellow"),
    ]
    code, out, err = run("history", "GONE", "--as-of", AS_OF)
    assert code == 0, err
    assert "Gone Ltd (new name)" in out
    code, _, err = run("history", "NEVER", "--as-of", AS_OF)
    assert code == 2  # in neither the file nor the store
