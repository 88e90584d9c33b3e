"""Snapshots that cannot lie: the loss guard, --force, --replace, --delete, several files."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cstool.cli import app
from cstool.store import open_store
from tests.conftest import ROOT

runner = CliRunner()
HISTORY = ROOT / "examples" / "history"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def stored(db: Path) -> dict[date, int]:
    store = open_store(db, create=False)
    assert store is not None
    with store:
        frame = store.load_snapshots()
    counts = frame.groupby("as_of").size()
    return {pd.Timestamp(ts).date(): int(n) for ts, n in counts.items()}


@pytest.fixture
def exports(tmp_path: Path) -> list[Path]:
    paths = []
    for month in ("01", "02", "03"):
        source = HISTORY / f"customers_2026-{month}-01.csv"
        paths.append(Path(shutil.copy(source, tmp_path / source.name)))
    return paths


def test_several_exports_are_dated_from_their_names(tmp_path: Path, exports: list[Path]) -> None:
    db = tmp_path / "s.db"
    code, _, err = run("snapshot", *map(str, reversed(exports)), "--db", str(db))
    assert code == 0, err
    rows = {p: sum(1 for _ in p.open(encoding="utf-8")) - 1 for p in exports}
    assert stored(db) == {
        date(2026, 1, 1): rows[exports[0]],
        date(2026, 2, 1): rows[exports[1]],
        date(2026, 3, 1): rows[exports[2]],
    }
    # oldest first, whatever the order on the command line
    assert err.index("2026-01-01") < err.index("2026-02-01") < err.index("2026-03-01")


def test_several_files_need_dates_in_their_names(tmp_path: Path, exports: list[Path]) -> None:
    undated = Path(shutil.copy(exports[0], tmp_path / "customers.csv"))
    code, _, err = run("snapshot", str(exports[1]), str(undated), "--db", str(tmp_path / "s.db"))
    assert code == 2 and f"{undated}: no date in its name" in err
    code, _, err = run("snapshot", *map(str, exports), "--as-of", "2026-05-01")
    assert code == 2 and "--as-of dates one file" in err


def test_replace_and_delete(tmp_path: Path, exports: list[Path]) -> None:
    db = tmp_path / "s.db"
    assert run("snapshot", str(exports[0]), "--db", str(db))[0] == 0
    # the same date again: nothing changes; --replace stores the other file's table
    code, _, err = run("snapshot", str(exports[1]), "--as-of", "2026-01-01", "--db", str(db))
    assert code == 0 and "already stored" in err
    before = stored(db)
    code, _, err = run(
        "snapshot", str(exports[1]), "--as-of", "2026-01-01", "--replace", "--db", str(db)
    )
    assert code == 0 and "replaced the snapshot of 2026-01-01" in err
    rows = sum(1 for _ in exports[1].open(encoding="utf-8")) - 1
    assert stored(db) == {date(2026, 1, 1): rows} != before
    code, _, err = run("snapshot", "--delete", "2026-01-01", "--db", str(db))
    assert code == 0 and f"deleted the snapshot of 2026-01-01 ({rows} customers)" in err
    assert stored(db) == {}
    code, _, err = run("snapshot", "--delete", "2026-01-01", "--db", str(db))
    assert code == 0 and "no snapshot of 2026-01-01" in err


def _bad_dates_copy(source: Path, target: Path) -> Path:
    """The same export after a tool changed its format: every Value_Delivery is a word."""
    lines = source.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    column = header.index("Value_Delivery")
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[column] = "high"
        out.append(",".join(cells))
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return target


def test_a_table_that_lost_every_row_replaces_nothing(tmp_path: Path, exports: list[Path]) -> None:
    db = tmp_path / "s.db"
    out = tmp_path / "out"
    code, _, err = run(
        "export", str(exports[0]), "--as-of", "2026-01-01", "--db", str(db), "--out", str(out)
    )
    assert code == 0, err
    files = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    snapshots = stored(db)
    broken = _bad_dates_copy(exports[1], tmp_path / "customers_2026-02-01.csv")
    for args in (
        ("export", str(broken), "--skip-invalid", "--out", str(out)),
        ("snapshot", str(broken), "--skip-invalid"),
    ):
        code, _, err = run(*args, "--as-of", "2026-02-01", "--db", str(db))
        assert code == 1, err
        assert "not storing the snapshot of 2026-02-01: every row was skipped" in err
        assert "--force" in err
    assert stored(db) == snapshots
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == files


def test_force_stores_it_and_kpis_json_says_how_many_rows_were_skipped(
    tmp_path: Path, exports: list[Path]
) -> None:
    db = tmp_path / "s.db"
    assert run("snapshot", str(exports[0]), "--db", str(db))[0] == 0
    few = tmp_path / "few.csv"
    few.write_text("".join(exports[1].open(encoding="utf-8").readlines()[:11]), encoding="utf-8")
    code, _, err = run("snapshot", str(few), "--as-of", "2026-02-01", "--db", str(db))
    assert code == 1 and "customers are missing" in err and "more than 50%" in err
    code, _, err = run("snapshot", str(few), "--as-of", "2026-02-01", "--db", str(db), "--force")
    assert code == 0 and stored(db)[date(2026, 2, 1)] == 10
    broken = _bad_dates_copy(exports[1], tmp_path / "broken.csv")
    text = broken.read_text(encoding="utf-8").splitlines()
    mixed = tmp_path / "mixed.csv"
    good = exports[1].read_text(encoding="utf-8").splitlines()
    mixed.write_text("\n".join([good[0], *good[1:6], *text[6:9]]) + "\n", encoding="utf-8")
    code, out, err = run(
        "report",
        str(mixed),
        "--as-of",
        "2026-02-02",
        "--db",
        str(db),
        "--skip-invalid",
        "-f",
        "json",
    )
    assert code == 0, err
    assert json.loads(out)["skipped_rows"] == 3
