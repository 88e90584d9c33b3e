"""followups, log, snooze and history through Typer's CliRunner, on a real store file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from cstool.cli import app
from cstool.config import Settings
from cstool.errors import UsageError
from cstool.ids import find_customer
from cstool.store import open_store
from tests.conftest import DATA, EXAMPLE, start_together

runner = CliRunner()
AS_OF = "2026-06-01"  # a Monday
HEADER = (
    "Customer_ID,Name,Email,MRR,Signup_Date,Last_Contact,Renewal_Date,NPS,Open_Tickets,"
    "Value_Delivery,Issue_Resolution,Growth_Strategy"
)
ROWS = [
    # renews in 20 days, last touched 15 days ago (the window opened 10 days ago)
    "RENEW,Renewing Co,r@example.com,300,2022-01-10,2026-05-17,2026-06-21,8,0,8,8,8",
    # not touched for over a year
    "STALE,Stale Ltd,s@example.com,100,2021-03-01,2025-04-01,,9,0,9,9,9",
    # red and high MRR, touched 10 days ago
    "REDBIG,Red Big Inc,big@example.com,5000,2020-05-05,2026-05-22,,,4,2,2,2",
    # healthy, touched yesterday
    "HAPPY,Happy GmbH,h@example.com,800,2019-02-02,2026-05-31,2027-02-02,10,0,9,9,9",
]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace: cstool.toml naming customers.csv, the store in .cstool/."""
    (tmp_path / "customers.csv").write_text(HEADER + "\n" + "\n".join(ROWS) + "\n")
    (tmp_path / "cstool.toml").write_text('customers = "customers.csv"\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def log(customer_id: str, *extra: str) -> str:
    """`cstool log` as of AS_OF (never today's date), which must succeed; its message."""
    code, _, err = run("log", customer_id, *extra, "--as-of", AS_OF)
    assert code == 0, err
    return err


def due(*extra: str) -> list[str]:
    code, out, err = run("followups", "--as-of", AS_OF, "--format", "json", *extra)
    assert code == 0, err
    return [row["customer_id"] for row in json.loads(out)]


# ------------------------------------------------------------------ what it must show
def test_who_is_due_this_morning(ws: Path) -> None:
    code, out, err = run("followups", "--as-of", AS_OF, "--format", "json")
    assert code == 0, err
    rows = {r["customer_id"]: r for r in json.loads(out)}
    assert set(rows) == {"RENEW", "STALE", "REDBIG"}
    assert rows["RENEW"]["reason"].startswith("renews in 20 days (2026-06-21)")
    assert "last touch 426 days ago" in rows["STALE"]["reason"]
    assert "band red" in rows["REDBIG"]["reason"]
    for key in ("customer_id", "name", "due", "reason", "priority", "segment", "play"):
        assert key in rows["RENEW"]
    assert rows["RENEW"]["due"] == "2026-05-22"  # the window opened then
    assert isinstance(rows["REDBIG"]["priority"], float)
    assert not (ws / ".cstool").exists()  # reading never creates the store


def test_table_for_people(ws: Path) -> None:
    code, out, err = run("followups", "--as-of", AS_OF)
    assert code == 0, err
    rows = [[cell.strip() for cell in line.split("│")] for line in out.splitlines() if "│" in line]
    # ID, name, due, priority, why: the most urgent first.
    assert rows == [
        [
            "REDBIG",
            "Red Big Inc",
            "3d overdue",
            "5.8",
            "band red (health 39); last touch 10 days ago (every 7 days)",
        ],
        ["STALE", "Stale Ltd", "396d overdue", "5.4", "last touch 426 days ago (every 30 days)"],
        ["RENEW", "Renewing Co", "10d overdue", "2.6", "renews in 20 days (2026-06-21)"],
    ]
    assert err.startswith("3 follow-ups due by 2026-06-01; as of 2026-06-01")


def test_log_drops_a_customer_until_its_next_due_date(ws: Path) -> None:
    code, _, err = run(
        "log",
        "STALE",
        "--note",
        "called, all fine",
        "--channel",
        "call",
        "--date",
        AS_OF,
        "--as-of",
        AS_OF,
    )
    assert code == 0, err
    assert err == "logged call with STALE (Stale Ltd) today\n"  # today: the as-of day
    db = ws / ".cstool" / "cstool.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert due() == ["REDBIG", "RENEW"]
    # Back after its cadence (the segment's, from the same as-of).
    code, out, _ = run("followups", "--as-of", "2027-01-01", "--format", "json")
    assert "STALE" in [r["customer_id"] for r in json.loads(out)]


def test_log_next_date_plans_the_follow_up(ws: Path) -> None:
    code, _, err = run(
        "log",
        "REDBIG",
        "--note",
        "rescue call",
        "--date",
        AS_OF,
        "--next",
        "2026-06-04",
        "--as-of",
        AS_OF,
    )
    assert code == 0, err
    assert "next follow-up 2026-06-04" in err
    assert "REDBIG" not in due()
    assert "REDBIG" in due("--due", "2026-06-04")
    code, out, _ = run(
        "followups", "--as-of", AS_OF, "--due", "+3d", "--format", "json", "--segment", "rescue"
    )
    rows = json.loads(out)
    assert [r["customer_id"] for r in rows] == ["REDBIG"]
    assert rows[0]["reason"] == "follow-up planned for 2026-06-04"


def test_snooze_hides_until_then_back_after(ws: Path) -> None:
    code, _, err = run(
        "snooze", "RENEW", "--until", "2026-06-05", "--note", "on holiday", "--as-of", AS_OF
    )
    assert code == 0, err
    assert err == "snoozed RENEW (Renewing Co) until 2026-06-05 (hidden from follow-ups before)\n"
    assert "RENEW" not in due()
    code, out, _ = run("followups", "--as-of", "2026-06-04", "--format", "json")
    assert "RENEW" not in [r["customer_id"] for r in json.loads(out)]
    code, out, _ = run("followups", "--as-of", "2026-06-05", "--format", "json")
    assert "RENEW" in [r["customer_id"] for r in json.loads(out)]
    # The week view shows it on the day it comes back.
    code, out, _ = run("followups", "--as-of", AS_OF, "--due", "week", "--format", "json")
    row = {r["customer_id"]: r for r in json.loads(out)}["RENEW"]
    assert row["due"] == "2026-06-05" and "snoozed until 2026-06-05" in row["reason"]


@pytest.mark.parametrize("fmt", ["json", "csv", "ics", "md", "table"])
def test_same_input_same_bytes(ws: Path, fmt: str) -> None:
    run("log", "HAPPY", "--note", "x", "--date", "2026-05-01", "--as-of", AS_OF)
    first = run("followups", "--as-of", AS_OF, "--due", "week", "--format", fmt)
    second = run("followups", "--as-of", AS_OF, "--due", "week", "--format", fmt)
    assert first[0] == 0
    assert first[1] == second[1] and first[1]


def test_ics_is_a_calendar(ws: Path) -> None:
    result = runner.invoke(app, ["followups", "--as-of", AS_OF, "--format", "ics"])
    assert result.exit_code == 0, result.stderr
    raw = result.stdout_bytes
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded lines
    cal = Calendar.from_ical(raw)
    events = cal.walk("VEVENT")
    assert len(events) == 3
    uids = {str(e["UID"]) for e in events}
    assert len(uids) == 3
    for event in events:
        assert event.decoded("DTSTART") == date(2026, 6, 1)  # overdue ones land on the as-of day
        assert event.decoded("DTEND") == date(2026, 6, 2)
        assert event["DTSTAMP"].to_ical() == b"20260601T000000Z"
        assert str(event["SUMMARY"]).startswith("Follow up: ")
    assert cal["VERSION"] == "2.0" and "PRODID" in cal


def test_md_checklist(ws: Path) -> None:
    code, out, _ = run("followups", "--as-of", AS_OF, "--format", "md")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "# Follow-ups due by 2026-06-01 (as of 2026-06-01)"
    items = [line for line in lines if line.startswith("- [ ] ")]
    assert len(items) == 3 and "**Red Big Inc** (REDBIG)" in items[0]
    assert any(line.strip().startswith("- why: ") for line in lines)


def test_csv_and_output_file(ws: Path) -> None:
    code, out, _ = run("followups", "--as-of", AS_OF, "--format", "csv")
    assert code == 0
    assert out.splitlines()[0].startswith("customer_id,name,email,due,")
    assert len(out.splitlines()) == 4
    code, _, err = run("followups", "--as-of", AS_OF, "-f", "ics", "-o", "today.ics")
    assert code == 0 and "wrote 3 follow-ups to today.ics" in err
    assert (ws / "today.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    code, _, err = run("followups", "--as-of", AS_OF, "-o", "x.txt")
    assert code == 2 and "error: --output needs --format csv, json, ics or md" in err
    code, _, err = run("followups", "--as-of", AS_OF, "-f", "csv", "-o", "customers.csv")
    assert code == 2
    assert "error: customers.csv: refusing to write over the input file" in err


def test_due_horizons_limit_and_segments(ws: Path) -> None:
    assert set(due("--due", "overdue")) == {"RENEW", "STALE", "REDBIG"}
    assert due("--limit", "1") == [due()[0]]
    assert set(due("--due", "2027-01-01")) == {"RENEW", "STALE", "REDBIG", "HAPPY"}
    code, out, err = run("followups", "--as-of", AS_OF, "--due", "someday")
    assert code == 2 and "overdue, week" in err and "Traceback" not in out + err
    code, _, err = run("followups", "--as-of", AS_OF, "--segment", "Rescu")
    assert code == 2 and "did you mean Rescue" in err


def test_nothing_due(ws: Path) -> None:
    for cid in ("RENEW", "STALE", "REDBIG"):
        assert run("log", cid, "--note", "done", "--date", AS_OF, "--as-of", AS_OF)[0] == 0
    code, out, err = run("followups", "--as-of", AS_OF)
    assert code == 0 and "Nothing due by 2026-06-01" in err
    assert due() == []
    code, out, _ = run("followups", "--as-of", AS_OF, "--format", "csv")
    assert out.startswith("customer_id,")


def test_explain_shows_the_next_follow_up(ws: Path) -> None:
    code, out, err = run("explain", "HAPPY", "--as-of", AS_OF)
    assert code == 0, err
    lines = out.splitlines()
    # The last touch was May 31; Happy's segment has a 30-day cadence.
    assert "follow-up: next due 2026-06-30 · last touch 1 day ago (every 30 days)" in lines
    assert lines[-1] == "  priority 1.9 = value 1.9"


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["log", "STAEL", "--note", "x", "--as-of", AS_OF],
            "error: unknown customer ID 'STAEL'\nhint: did you mean STALE?",
        ),
        (
            ["snooze", "HAPY", "--until", "+3d", "--as-of", AS_OF],
            "error: unknown customer ID 'HAPY'\nhint: did you mean HAPPY?",
        ),
        (
            ["history", "REDBGI", "--as-of", AS_OF],
            "error: unknown customer ID 'REDBGI'\nhint: did you mean REDBIG?",
        ),
        (
            ["log", "STALE", "--note", "x", "--date", "2999-01-01", "--as-of", AS_OF],
            "error: --date 2999-01-01 is in the future; a touch is logged once it happened",
        ),
        (["log", "STALE", "--note", "x", "--date", "someday", "--as-of", AS_OF], "accepted forms"),
        (
            ["log", "STALE", "--note", "x", "--date", AS_OF, "--next", AS_OF, "--as-of", AS_OF],
            "error: --next 2026-06-01 must be after the touch (2026-06-01)",
        ),
        (
            [
                "log",
                "STALE",
                "--note",
                "x",
                "--channel",
                "'fax' is not one of 'email', 'call', 'meeting', 'chat', 'other'",
                "--as-of",
                AS_OF,
            ],
            "'fax' is not one of 'email', 'call', 'meeting', 'chat', 'other'",
        ),
        (["log", "STALE", "--as-of", AS_OF], "Missing option '--note'"),
        (["snooze", "STALE", "--until", "whenever", "--as-of", AS_OF], "accepted forms"),
        (["log", "", "--note", "x", "--as-of", AS_OF], "error: the customer ID is empty"),
    ],
)
def test_bad_input_exits_2_without_traceback(ws: Path, args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err
    assert not (ws / ".cstool").exists()  # nothing recorded


def test_no_customer_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("log", "X", "--note", "x", "--as-of", AS_OF)
    assert code == 2
    assert "error: no customer file given and no ./customer_data.csv here" in err


def test_broken_store_is_reported(ws: Path) -> None:
    (ws / ".cstool").mkdir()
    (ws / ".cstool" / "cstool.db").write_text("not a database at all\n" * 50)
    code, out, err = run("followups", "--as-of", AS_OF)
    message = f"error: {ws / '.cstool' / 'cstool.db'}: not a cstool store (not an SQLite file)"
    assert code == 2 and message in err and "Traceback" not in out + err
    code, _, err = run("log", "STALE", "--note", "x", "--as-of", AS_OF)
    assert code == 2 and message in err


def test_db_option_and_env(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = ws / "elsewhere.db"
    assert (
        run("log", "STALE", "--note", "x", "--date", AS_OF, "--as-of", AS_OF, "--db", str(other))[0]
        == 0
    )
    assert other.exists() and not (ws / ".cstool").exists()
    assert "STALE" not in due("--db", str(other))
    monkeypatch.setenv("CSTOOL_DB", str(other))
    assert "STALE" not in due()


# ------------------------------------------------------------------ history
def test_history_timeline(ws: Path) -> None:
    log("REDBIG", "--note", "first call", "--channel", "call", "--date", "2026-05-25")
    log("REDBIG", "--note", "follow-up mail", "--channel", "email", "--date", AS_OF)
    assert (
        run(
            "snooze",
            "REDBIG",
            "--until",
            "2026-06-10",
            "--note",
            "waiting on them",
            "--as-of",
            AS_OF,
        )[0]
        == 0
    )
    with open_store(ws / ".cstool" / "cstool.db") as store:  # type: ignore[union-attr]
        import pandas as pd

        snap = pd.DataFrame(
            {
                "customer_id": pd.Series(["REDBIG"], dtype="string"),
                "health": [55.0],
                "band": pd.Series(["yellow"], dtype="string"),
            }
        )
        store.save_snapshot(date(2026, 5, 1), snap)
        store.save_snapshot(date(2026, 5, 15), snap.assign(health=[30.0], band=["red"]))
    code, out, err = run("history", "REDBIG", "--format", "json", "--as-of", AS_OF)
    assert code == 0, err
    events = json.loads(out)
    kinds = [e["kind"] for e in events]
    assert kinds.count("scores") == 2 and "snoozed" in kinds
    assert "email" in kinds and "call" in kinds and "last contact" in kinds
    dates = [e["date"] for e in events if e["kind"] != "snoozed"]
    assert dates == sorted(dates, reverse=True)  # newest first
    change = next(e for e in events if e["detail"].startswith("health 55"))
    assert change["detail"] == "health 55 → 30, band yellow → red"
    code, out, _ = run("history", "REDBIG", "--limit", "2", "--format", "json", "--as-of", AS_OF)
    assert len(json.loads(out)) == 2
    code, out, _ = run("history", "REDBIG", "--as-of", AS_OF)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].strip() == "REDBIG (Red Big Inc)"
    rows = [[cell.strip() for cell in line.split("│")] for line in lines if "│" in line]
    assert rows == [
        ["2026-06-01", "snoozed", "until 2026-06-10; waiting on them"],
        ["2026-06-01", "email", "follow-up mail"],
        ["2026-05-25", "call", "first call"],
        ["2026-05-22", "last contact", "from the customer file"],
        ["2026-05-15", "scores", "health 55 → 30, band yellow → red"],
        ["2026-05-01", "scores", "first snapshot: health 55, band yellow"],
        ["2020-05-05", "signed up", "from the customer file"],
    ]


def test_history_of_a_customer_gone_from_the_file(ws: Path) -> None:
    assert run("log", "STALE", "--note", "last words", "--date", AS_OF, "--as-of", AS_OF)[0] == 0
    (ws / "customers.csv").write_text(HEADER + "\n" + ROWS[0] + "\n")
    code, out, err = run("history", "STALE", "--as-of", AS_OF)
    assert code == 0 and "not in the customer file" in err and "last words" in out


# ------------------------------------------------------------------ finding the ID fast
def test_find_customer_in_other_encodings(tmp_path: Path) -> None:
    s = Settings()
    gbk = DATA / "gbk_chinese_headers.csv"
    assert find_customer(gbk, s, "K002").name == "李雷"
    utf16 = DATA / "excel_unicode_text.txt"
    assert find_customer(utf16, s, "U2").name == "王芳"
    semi = DATA / "excel_bom_semicolon_crlf.csv"
    assert find_customer(semi, s, "E1").name == "Müller, Hans"
    chinese = tmp_path / "zh.csv"
    chinese.write_bytes(
        "客户ID,客户名称,价值交付,问题解决,增长战略\n客户七,王,1,2,3\n".encode("gb18030")
    )
    assert find_customer(chinese, s, "客户七").customer_id == "客户七"


def test_find_customer_only_matches_whole_id_cells(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "Customer_ID,Name,Notes,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
        'C10,Ten,"mentions C1 here",1,2,3\n'
        "C100,Hundred,C1,1,2,3\n"
    )
    s = Settings()
    assert find_customer(path, s, "C10").name == "Ten"
    with pytest.raises(UsageError, match="unknown customer ID 'C1'"):
        find_customer(path, s, "C1")
    found = find_customer(path, s, "c100")  # case folded on the careful path
    assert found.customer_id == "C100" and found.line == 3


def test_log_loads_no_table_library(ws: Path) -> None:
    """Recording a touch must stay as quick as --help: no pandas, numpy or pyarrow."""
    script = textwrap.dedent(
        f"""
        import sys
        from cstool.cli import app
        try:
            app(
                ["log", "HAPPY", "--note", "quick", "--date", "{AS_OF}", "--as-of", "{AS_OF}"],
                standalone_mode=False,
            )
        finally:
            print(sorted(m for m in ("pandas", "numpy", "pyarrow") if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ws, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stderr
    assert "logged other with HAPPY" in done.stderr


@pytest.mark.slow
def test_two_processes_logging_at_once(ws: Path) -> None:
    """Two processes run `log` 100 times each, starting at the same moment: nothing lost.

    The start is a barrier, not a clock: each child says "ready" once imported and waits on
    its stdin; the parent says "go" to both when both are ready.
    """
    script = textwrap.dedent(
        """
        import sys
        import typer
        from cstool.cli import app
        command = typer.main.get_command(app)  # built once: time goes to the store, not Typer
        print("ready", flush=True)
        sys.stdin.readline()
        for i in range(100):
            command.main(
                ["log", sys.argv[1], "--note", f"{sys.argv[1]} {i}", "--date", "2026-06-01",
                 "--as-of", "2026-06-01"],
                standalone_mode=False,
            )
        """
    )
    env = {**os.environ, "NO_COLOR": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, cid],
            cwd=ws,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cid in ("STALE", "RENEW")
    ]
    try:
        start_together(procs, timeout=60)
        errors = [p.communicate(timeout=120)[1] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0], errors
    with open_store(ws / ".cstool" / "cstool.db") as store:  # type: ignore[union-attr]
        notes = {t.note for t in store.touches()}
    assert notes == {f"{c} {i}" for c in ("STALE", "RENEW") for i in range(100)}


def test_example_file_end_to_end(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    code, out, err = run(
        "followups", str(EXAMPLE), "--as-of", "2026-11-23", "-f", "json", "--db", str(db)
    )
    assert code == 0, err
    rows = json.loads(out)
    assert rows and rows == sorted(rows, key=lambda r: (-r["priority"], r["customer_id"]))
    first = rows[0]["customer_id"]
    assert (
        run(
            "log",
            first,
            str(EXAMPLE),
            "--note",
            "x",
            "--date",
            "2026-11-23",
            "--as-of",
            "2026-11-23",
            "--db",
            str(db),
        )[0]
        == 0
    )
    code, out, _ = run(
        "followups", str(EXAMPLE), "--as-of", "2026-11-23", "-f", "json", "--db", str(db)
    )
    assert first not in [r["customer_id"] for r in json.loads(out)]
