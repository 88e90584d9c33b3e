"""snapshot, report, goals and export through Typer's CliRunner, and export as a cron job would
run it (a subprocess, killed with SIGKILL half-way)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cstool.cli import app
from cstool.cli.report import EXPORT_FILES
from cstool.store import open_store
from tests.conftest import EXAMPLE

runner = CliRunner()
AS_OF = "2026-11-23"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store" / "cstool.db"


def snapshot(db: Path, day: str, file: Path = EXAMPLE) -> tuple[int, str, str]:
    return run("snapshot", str(file), "--as-of", day, "--db", str(db))


def snapshot_dates(db: Path) -> list[str]:
    store = open_store(db, create=False)
    assert store is not None
    with store:
        return [d.isoformat() for d in store.snapshot_dates()]


# snapshot -------------------------------------------------------------------------------------


def test_snapshot_is_stored_once_per_date(db: Path) -> None:
    code, _, err = snapshot(db, "2026-10-31")
    assert code == 0, err
    assert err == f"stored the snapshot of 2026-10-31 (200 customers) in {db}\n"
    code, _, err = snapshot(db, "2026-10-31")
    assert code == 0, err
    assert err == f"a snapshot of 2026-10-31 is already stored in {db}; nothing changed\n"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 200


def test_snapshot_back_fills_past_dates(db: Path) -> None:
    for day in ("2026-10-31", "2026-08-31", "2026-09-30"):
        assert snapshot(db, day)[0] == 0
    assert snapshot_dates(db) == ["2026-08-31", "2026-09-30", "2026-10-31"]


def test_snapshot_of_a_bad_file_stores_nothing(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy\nA,x,1,1\n")
    code, _, err = snapshot(db, "2026-10-31", bad)
    assert code == 1
    assert err.splitlines()[:2] == [
        f"error: {bad}: 1 problem in 1 row",
        f"  {bad} line 2, column 'Value_Delivery', value 'x', expected a number from 0 to 10",
    ]
    assert not db.exists()


# report ---------------------------------------------------------------------------------------


def test_report_compares_with_the_latest_snapshot(db: Path) -> None:
    snapshot(db, "2026-09-30")
    snapshot(db, "2026-10-31")
    code, out, err = run("report", str(EXAMPLE), "--as-of", AS_OF, "--db", str(db))
    assert code == 0, err
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0] == "Portfolio as of 2026-11-23 · compared with the snapshot of 2026-10-31"
    rows = [" ".join(line.split()) for line in lines]
    # Key figures: now, then, change (the same file both times; only time moved on).
    for row in (
        "KPI 2026-11-23 2026-10-31 change",
        "Customers 200 200 = 0",
        "MRR 47,092 47,092 = 0",
        "MRR at risk 26,769 25,863 ▲ +906",
        "Mean health 64.4 66.2 ▼ -1.8",
        "Green 39.0 % 43.5 % ▼ -4.5 pp",
        "Customer retention 100.0 % 100.0 % = 0",
        "Net revenue retention 100.0 % 100.0 % = 0",
        "Rescue 53 26 % 22,717 51.8 22 31 0",  # the segments table
        "Top follow-ups (158 due)",
        "Band migrations since 2026-10-31",
        "green 0 9 78",  # nine went from green to yellow
        "Moved between bands (9, worse first)",
    ):
        assert row in rows, row


def test_report_json_and_since(db: Path) -> None:
    snapshot(db, "2026-09-30")
    snapshot(db, "2026-10-31")
    args = ("report", str(EXAMPLE), "--as-of", AS_OF, "--db", str(db), "--format", "json")
    code, out, err = run(*args, "--since", "2026-09-30")
    assert code == 0, err
    data = json.loads(out)
    assert data["compared_with"] == "2026-09-30"
    assert data["kpis"]["customers"] == 200
    assert data["kpis"]["retention_rate"] == 100  # the same 200 customers
    assert [row["as_of"] for row in data["trend"]] == ["2026-09-30", "2026-10-31", AS_OF]


def test_report_without_any_snapshot_still_reports(db: Path) -> None:
    code, out, err = run("report", str(EXAMPLE), "--as-of", AS_OF, "--db", str(db))
    assert code == 0, err
    assert out.splitlines()[0].strip() == (
        "Portfolio as of 2026-11-23 · no earlier snapshot to compare with — "
        "take one with `cstool snapshot`"
    )
    assert not db.exists()  # reading never creates a store


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("2026-10-15", "error: --since: no snapshot on 2026-10-15 before 2026-11-23"),
        ("someday", "error: --since: 'someday' is not a date; accepted forms: "),
    ],
)
def test_report_since_errors_are_usage_errors(db: Path, since: str, message: str) -> None:
    snapshot(db, "2026-10-31")
    code, out, err = run(
        "report", str(EXAMPLE), "--as-of", AS_OF, "--db", str(db), "--since", since
    )
    assert code == 2 and message in err
    assert "Traceback" not in err + out


def test_report_html_writes_one_page(db: Path, tmp_path: Path) -> None:
    snapshot(db, "2026-10-31")
    page = tmp_path / "report.html"
    code, out, err = run(
        "report", str(EXAMPLE), "--as-of", AS_OF, "--db", str(db), "--html", str(page)
    )
    assert code == 0, err
    assert out == ""
    assert err.startswith(f"wrote the report to {page} (") and err.endswith(" KiB)\n")
    kib = int(err.rsplit("(", 1)[1].split()[0])
    assert abs(kib - page.stat().st_size / 1024) <= 1  # the size printed is the page's
    text = page.read_text(encoding="utf-8")
    # no goals: no goal chart; the snapshot of 2026-10-31 bounds November: a movements chart
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 5
    assert "MRR movements per month" in text


def test_report_html_never_overwrites_the_input(db: Path, tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    shutil.copy(EXAMPLE, source)
    before = source.read_bytes()
    code, _, err = run("report", str(source), "--db", str(db), "--html", str(source))
    assert code == 2
    assert f"error: {source}: refusing to write over the input file; choose another name" in err
    assert source.read_bytes() == before


# goals ----------------------------------------------------------------------------------------


def workspace(tmp_path: Path, goals: str) -> Path:
    shutil.copy(EXAMPLE, tmp_path / "customer_data.csv")
    config = tmp_path / "cstool.toml"
    config.write_text(f'customers = "customer_data.csv"\n{goals}', encoding="utf-8")
    return config


GOALS = """
[[goals]]
metric = "satisfied_share"
target = 85
deadline = "2027-06-30"
baseline = 60

[[goals]]
name = "Keep customers"
metric = "retention_rate"
target = 90
deadline = "2027-03-31"
"""


def test_goals_table_and_json(tmp_path: Path, db: Path) -> None:
    config = workspace(tmp_path, GOALS)
    common = ("--config", str(config), "--db", str(db))
    run("snapshot", "--as-of", "2026-09-30", *common)
    run("snapshot", "--as-of", "2026-10-31", *common)
    code, out, err = run("goals", "--as-of", AS_OF, *common)
    assert code == 0, err
    # baseline, now, target, deadline, progress bar, progress, projected, status
    rows = [line.split() for line in out.splitlines()]
    satisfied = next(r for r in rows if r[:5] == ["Satisfied", "→", "85", "by", "2027-06-30"])
    assert satisfied[5:12] == ["60.0", "%", "66.5", "%", "85.0", "%", "2027-06-30"]
    assert satisfied[-5:] == ["26", "%", "66.5", "%", "behind"]
    keep = next(r for r in rows if r[:2] == ["Keep", "customers"])
    assert keep[2:9] == ["100.0", "%", "100.0", "%", "90.0", "%", "2027-03-31"]
    # nobody left: retention 100 %; monthly retention has no projection (one period so far)
    assert keep[-4:] == ["100", "%", "–", "achieved"]
    code, out, err = run("goals", "--as-of", AS_OF, "--format", "json", *common)
    goals = json.loads(out)
    assert [g["metric"] for g in goals] == ["satisfied_share", "retention_rate"]
    assert goals[0]["baseline"] == 60 and goals[0]["current"] == pytest.approx(66.5)
    assert goals[1]["status"] == "achieved" and goals[1]["on_track"] is True


def test_goals_without_goals_says_how_to_add_one(tmp_path: Path, db: Path) -> None:
    config = workspace(tmp_path, "")
    code, out, err = run("goals", "--config", str(config), "--db", str(db))
    assert code == 0 and out == ""
    lines = [line.strip() for line in err.splitlines()]
    assert lines[0] == "no goals in cstool.toml yet; add one, e.g."
    assert lines[2:6] == [
        "[[goals]]",
        'metric = "satisfied_share"   # or retention_rate, nps, mrr, mrr_at_risk, …',
        "target = 85",
        'deadline = "2027-06-30"',
    ]


def test_goals_with_an_unknown_metric_is_a_config_error(tmp_path: Path, db: Path) -> None:
    config = workspace(
        tmp_path, '[[goals]]\nmetric = "happiness"\ntarget = 1\ndeadline = "2027-01-01"\n'
    )
    code, _, err = run("goals", "--config", str(config), "--db", str(db))
    assert code == 2 and "goals.0.metric" in err and "Traceback" not in err


# export ---------------------------------------------------------------------------------------


def export(out: Path, db: Path, *extra: str, file: Path = EXAMPLE) -> tuple[int, str, str]:
    return run("export", str(file), "--out", str(out), "--as-of", AS_OF, "--db", str(db), *extra)


def test_export_is_quiet_complete_and_takes_a_snapshot(tmp_path: Path, db: Path) -> None:
    snapshot(db, "2026-10-31")
    out = tmp_path / "out" / "daily"
    code, stdout, stderr = export(out, db)
    assert (code, stdout, stderr) == (0, "", "")
    assert sorted(p.name for p in out.iterdir()) == sorted([*EXPORT_FILES, "drafts"])
    scored = pd.read_csv(out / "customers_scored.csv")
    assert len(scored) == 200 and {"Customer_ID", "health", "band", "segment"} <= set(scored)
    assert set(pd.read_csv(out / "segments.csv")["segment"]) >= {"Champions", "Rescue"}
    followups = pd.read_csv(out / "followups.csv")
    assert list(followups.columns[:4]) == ["customer_id", "name", "email", "due"]
    assert (out / "followups.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    # The calendar holds the 100 most urgent (the CSV all of them), in the CSV's order.
    calendar = (out / "followups.ics").read_bytes()
    assert len(followups) > 100 and calendar.count(b"BEGIN:VEVENT") == 100
    assert f"Customer: {followups['customer_id'][0]}".encode() in calendar
    # One drafted message per follow-up in drafts/: .eml with an address, else .txt.
    drafts = sorted(p.name for p in (out / "drafts").iterdir())
    assert len(drafts) == len(followups)
    assert f"{AS_OF}-{followups['customer_id'][0]}.eml" in drafts
    kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["as_of"] == AS_OF and kpis["compared_with"] == "2026-10-31"
    assert "<svg" in (out / "report.html").read_text(encoding="utf-8")
    assert snapshot_dates(db) == ["2026-10-31", AS_OF]


def test_export_twice_gives_identical_files(tmp_path: Path, db: Path) -> None:
    snapshot(db, "2026-10-31")
    first, second = tmp_path / "a", tmp_path / "b"
    assert export(first, db)[0] == 0
    assert export(second, db)[0] == 0  # the as-of snapshot now exists: nothing may change
    for name in EXPORT_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_export_calendar_size_is_an_option(tmp_path: Path, db: Path) -> None:
    out = tmp_path / "out"
    assert export(out, db, "--calendar", "3")[0] == 0
    assert (out / "followups.ics").read_bytes().count(b"BEGIN:VEVENT") == 3


def test_export_into_a_file_is_a_usage_error(tmp_path: Path, db: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    code, _, err = export(target, db)
    assert code == 2 and f"error: --out {target}: is a file, expected a folder" in err


def test_export_of_bad_data_writes_nothing(tmp_path: Path, db: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy\nA,1,1,1\nA,2,2,2\n"
    )
    out = tmp_path / "out"
    code, stdout, err = export(out, db, file=bad)
    assert code == 1 and stdout == "" and "Traceback" not in err
    assert err.splitlines()[:2] == [
        f"error: {bad}: 1 problem in 1 row",
        f"  {bad} line 3, column 'Customer_ID', value 'A', expected a unique customer ID "
        "(the same ID is on line 2)",
    ]
    assert not any(out.glob("*"))
    assert not db.exists()


def test_export_with_a_bad_due_is_a_usage_error(tmp_path: Path, db: Path) -> None:
    code, _, err = export(tmp_path / "out", db, "--due", "whenever")
    assert code == 2
    assert err.startswith("error: --due: 'whenever' is not a date; accepted: overdue, week")


HEADER = "Customer_ID,Name,MRR,NPS,Value_Delivery,Issue_Resolution,Growth_Strategy\n"


def test_export_kpis_match_hand_computed_values(tmp_path: Path, db: Path) -> None:
    """Jan: A, B, C, D with MRR 100/200/300/400. Feb: A 150, B 200, D 300, E 50 (C left)."""
    jan, feb = tmp_path / "jan.csv", tmp_path / "feb.csv"
    jan.write_text(HEADER + "A,a,100,10,9,9,9\nB,b,200,3,2,2,2\nC,c,300,8,6,6,6\nD,d,400,9,9,9,9\n")
    feb.write_text(HEADER + "A,a,150,9,9,9,9\nB,b,200,10,8,8,8\nD,d,300,2,3,3,3\nE,e,50,,6,6,6\n")
    assert snapshot(db, "2026-01-01", jan)[0] == 0
    out = tmp_path / "out"
    code, _, err = run(
        "export", str(feb), "--out", str(out), "--as-of", "2026-02-01", "--db", str(db)
    )
    assert code == 0, err
    kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    now, then = kpis["kpis"], kpis["previous"]
    assert now["customers"] == 4 and now["mrr"] == 700
    assert now["retention_rate"] == 75 and now["logo_churn"] == 25
    assert now["gross_revenue_retention"] == pytest.approx(60)  # (100 + 200 + 300) / 1000
    assert now["net_revenue_retention"] == pytest.approx(65)  # (150 + 200 + 300) / 1000
    assert now["new_customers"] == 1 and now["churned_customers"] == 1
    assert now["nps"] == pytest.approx(100 / 3)  # 9, 10 promote; 2 detracts; E no answer
    assert then["nps"] == 25  # 10, 9 promote; 3 detracts; 8 passive
    assert [c["customer_id"] for c in kpis["churned"]] == ["C"]
    assert [c["customer_id"] for c in kpis["new"]] == ["E"]


# export as cron runs it -----------------------------------------------------------------------


def _cstool(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cstool", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _bigger_table(path: Path, copies: int) -> Path:
    """The example repeated with fresh IDs, so writing the files takes a moment."""
    base = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    parts = []
    for k in range(copies):
        part = base.copy()
        part["Customer_ID"] = part["Customer_ID"] + f"-{k}"
        parts.append(part)
    pd.concat(parts).to_csv(path, index=False)
    return path


def _copy_store(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")


@pytest.mark.slow
def test_kill_9_during_export_leaves_every_file_whole(tmp_path: Path) -> None:
    env = {**os.environ, "CSTOOL_DB": str(tmp_path / "db" / "cstool.db")}
    table = _bigger_table(tmp_path / "customers.csv", 25)  # 5,000 customers
    out = tmp_path / "out"
    old_args = ("export", str(table), "--out", str(out), "--as-of", "2026-10-31")
    first = _cstool(*old_args, env=env)
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    old = {name: (out / name).read_bytes() for name in EXPORT_FILES}

    # What a completed run for the next day writes (a separate store with the same history).
    ref_env = {**env, "CSTOOL_DB": str(tmp_path / "ref" / "cstool.db")}
    _copy_store(Path(env["CSTOOL_DB"]), Path(ref_env["CSTOOL_DB"]))
    ref = tmp_path / "ref-out"
    new_args = ("export", str(table), "--as-of", "2026-11-01", "--out")
    done = _cstool(*new_args, str(ref), env=ref_env)
    assert done.wait(timeout=120) == 0
    new = {name: (ref / name).read_bytes() for name in EXPORT_FILES}
    assert all(old[name] != new[name] for name in EXPORT_FILES)

    # The same run into `out`, killed as soon as it starts replacing files. On a busy machine
    # the run may finish before the kill lands: then put the old files back and try again.
    for _attempt in range(4):
        first_inode = (out / EXPORT_FILES[0]).stat().st_ino
        victim = _cstool(*new_args, str(out), env=env)
        # Bounded by the deadline; the pause between looks is a wait on the child itself, so the
        # loop ends the moment the run does.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            replaced = (out / EXPORT_FILES[0]).stat().st_ino != first_inode
            if replaced or any(p.name.endswith(".tmp") for p in out.iterdir()):
                victim.send_signal(signal.SIGKILL)
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                victim.wait(timeout=0.0005)
                break
        code = victim.wait(timeout=60)
        if code == -signal.SIGKILL:
            break
        assert code == 0
        for name in EXPORT_FILES:
            (out / name).write_bytes(old[name])
    assert code == -signal.SIGKILL, "the export always finished before it could be killed"

    states = {}
    for name in EXPORT_FILES:
        data = (out / name).read_bytes()
        assert data in (old[name], new[name]), f"{name} is neither the old nor the new file"
        states[name] = "new" if data == new[name] and data != old[name] else "old"
    # Each file is whole; JSON and CSV parse.
    json.loads((out / "kpis.json").read_bytes())
    assert len(pd.read_csv(out / "customers_scored.csv")) == 5000

    # A later run finishes the job.
    again = _cstool(*new_args, str(out), env=env)
    assert again.wait(timeout=120) == 0
    for name in EXPORT_FILES:
        assert (out / name).read_bytes() == new[name], name
    assert not [
        p
        for p in out.iterdir()
        if p.name not in (*EXPORT_FILES, "drafts") and not p.name.endswith(".tmp")
    ]
