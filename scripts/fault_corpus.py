"""Fault injection: hostile inputs through every command, as real subprocesses (issue #11).

    python scripts/fault_corpus.py                 # the whole corpus (seed 11), a few hundred runs
    python scripts/fault_corpus.py --seed 5 --mutants 40 --json out.json
    python scripts/fault_corpus.py --slice 25      # a small deterministic slice (the slow test)

Seeded, so a run is reproducible. It builds mutated customer files, broken configs, corrupted,
locked and foreign stores, pipes, FIFOs, devices and folders as inputs, injection payloads
in every text column and impossible outputs (/dev/full, a folder, the input itself), and runs
each command with a timeout in a fresh sandbox folder (HOME, XDG_DATA_HOME and the store
inside it). Each run is checked for:
  - a traceback (or a rich traceback box) on stderr,
  - a hang (the timeout),
  - an exit code outside SPEC.md's set (0, 1, 2),
  - a file outside cstool's store and the run's declared outputs that changed mode, content
    or mtime, or appeared (the sandbox is hashed and stat-ed before and after),
  - control characters (ESC, C1, …) on stdout of a format meant for people (table, md, ics),
    reported apart as `escapes`, with `-f csv` listed separately (known: the writer's fix).
Read-only folders and files cannot be simulated when running as root (root writes them), so
those cases are skipped then and counted as `skipped`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "customer_data.csv"
AS_OF = "2026-11-23"
EXITS = {0, 1, 2}
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0
PAYLOADS = [
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "＝1+1",
    "@SUM(1)",
    "-2+3",
    "\x1b[31mred\x1b[0m",
    "\x1b]0;title\x07",
    "\x90qDCS\x9c",
    "\u009b2J",
    "a\x08\x08b",
    "[bold]x[/bold] [/oops]",
    "<script>alert(1)</script>",
    "Cost $x_$",
    "{{ 7*7 }} {% for x in y %}",
    "../../etc/passwd",
    "line\nbreak",
    "tab\there",
    "\u202eevil",
    "😀" * 50,
    "x" * 5000,
]


@dataclass
class Case:
    """One run: a name, the argv after `cstool`, how to prepare its sandbox."""

    name: str
    args: list[str]
    setup: Callable[[Path, random.Random], object] = lambda folder, rnd: None
    outputs: tuple[str, ...] = ()  # sandbox paths (or prefixes) the run may create or change
    stdin_file: str | None = None  # a sandbox file fed on stdin
    fifo_file: str | None = None  # a sandbox file written into the FIFO `input.fifo`
    human: bool = False  # stdout is for people: no control characters may pass
    csv_out: bool = False  # stdout is CSV (control characters counted apart)
    lock_store: bool = False  # hold an exclusive lock on store.db while it runs
    needs_non_root: bool = False


@dataclass
class Outcome:
    """What one run did."""

    name: str
    code: int | None
    seconds: float
    problems: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- inputs
def _example_lines() -> list[str]:
    return EXAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)


def mutate(data: bytes, rnd: random.Random) -> bytes:
    """A few seeded byte-level mutations: what spreadsheets, pipes and attackers do."""
    inserts = [
        b"\x00",
        b'"',
        b",",
        b";",
        b"\t",
        b"\r",
        b"\n",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"9" * 400,
        b"1e309",
        b"-1",
        b"NaN",
        b"2026-02-30",
        b"0001-01-01",
        b"2026-11-23T25:00",
        b"\x1b[31m",
        b"\xc2\x9b",
        b"=1+1",
    ]
    out = bytearray(data)
    for _ in range(rnd.randint(1, 6)):
        at = rnd.randrange(len(out) + 1)
        kind = rnd.choice(["insert", "insert", "delete", "duplicate", "flip", "truncate"])
        if kind == "insert":
            out[at:at] = rnd.choice(inserts)
        elif kind == "delete":
            del out[at : at + rnd.randint(1, 40)]
        elif kind == "duplicate":
            end = out.find(b"\n", at)
            out[at:at] = out[at : end + 1 if end >= 0 else len(out)]
        elif kind == "flip" and at < len(out):
            out[at] = rnd.randrange(256)
        elif kind == "truncate" and rnd.random() < 0.3:
            del out[at:]
    return bytes(out)


def encoded(text: str, rnd: random.Random) -> bytes:
    """The table in one of the encodings a user's tools write."""
    choice = rnd.choice(["utf-8"] * 4 + ["utf-8-sig", "utf-16", "gb18030", "cp1252"])
    return text.encode(choice, errors="replace")


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def payload_table(rnd: random.Random) -> str:
    """The example with injection payloads in its text columns (name, plan, stage, notes)."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"))))
    header = rows[0]
    text_columns = [header.index(c) for c in ("Name", "Plan", "Stage", "Notes")]
    for row in rows[1:]:
        for j in text_columns:
            if rnd.random() < 0.3:
                row[j] = rnd.choice(PAYLOADS)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


BROKEN_CONFIGS = [
    "[weights\nvalue_delivery = 1\n",
    "wieghts = 1\n",
    "[weights]\nvalue_delivery = nan\n",
    "[weights]\nvalue_delivery = inf\nissue_resolution = 1\n",
    "[weights]\nvalue_delivery = -1\n",
    "[weights]\nvalue_delivery = 0\nissue_resolution = 0\ngrowth_strategy = 0\n",
    "[weights]\nvalue_delivery = 1e308\nissue_resolution = 1e308\ngrowth_strategy = 1e308\n",
    "[scale]\nmax = true\n",
    "[scale]\nmin = 10\nmax = 0\n",
    "[scale]\nmax = 5\n",  # makes the example's data invalid: exit 1
    "[health]\nexpected_interval_days = 0\n",
    "[health]\nexpected_interval_days = 9223372036854775807\n",
    "[health.weights]\nsatisfaction = 0\nrecency = 0\nnps = 1\nsupport = 0\n",
    "[health.weights]\nrecency = nan\n",
    "[bands]\nred_below = 80\ngreen_from = 20\n",
    "[followups]\nrenewal_window_days = 9223372036854775807\n",
    "[followups]\nonboarding_checkins = [-5, 0, 9223372036854775807]\n",
    "[followups]\nhealth_drop_days = 9223372036854775807\n",
    '[input]\ndate_format = "%Q"\n',
    '[input]\ndate_format = "%"\n',
    '[input]\nencoding = "base64"\n',
    '[input]\ndelimiter = "é"\n',
    '[columns]\ncustomer_id = "Nope"\n',
    '[[segments]]\nname = "X"\nwhen = "health >"\ncadence_days = 7\n',
    '[[segments]]\nname = "X"\nwhen = "nosuch > 1"\ncadence_days = 7\n',
    '[[segments]]\nname = "X"\nwhen = "signup_date > 5"\ncadence_days = 7\n',
    '[[segments]]\nname = "X"\nwhen = "__import__(\'os\')"\ncadence_days = 7\n',
    '[[segments]]\nname = "[/oops] $x_$"\nwhen = "true"\ncadence_days = 9223372036854775807\n'
    'play = "\\u001b[31m\\u009b2J"\n',
    '[[goals]]\nmetric = "nps"\ntarget = nan\ndeadline = 2027-01-01\n',
    '[[goals]]\nmetric = "nope"\ntarget = 1\ndeadline = 2027-01-01\n',
    '[[goals]]\nmetric = "mrr"\ntarget = 1\ndeadline = 0001-01-01\nname = "$x_$"\n',
    "[lifecycle]\nmax_snapshot_loss = 2\n",
    '[lifecycle.values]\n"" = "active"\n',
    '[outreach]\nfrom_address = "not an address"\n',
    '[outreach]\ntemplates_dir = "/etc"\n',
    '[[sources]]\nfile = "/dev/zero"\n',
    '[[sources]]\nfile = "../../../etc/passwd"\n',
    "a = " + "[" * 5000 + "]" * 5000 + "\n",
    "\xff\xfe not utf-8",
]


def _store(folder: Path) -> None:
    """A real cstool store (one touch, one snapshot) made by cstool itself."""
    env = _env(folder)
    for args in (
        ["log", "C1001", str(EXAMPLE), "--note", "kept", "--date", "2026-11-01"],
        ["snapshot", str(EXAMPLE), "--as-of", "2026-11-01"],
    ):
        subprocess.run(
            [sys.executable, "-m", "cstool", *args],
            env=env,
            cwd=folder,
            capture_output=True,
            timeout=120,
            check=True,
        )


def _corrupt_store(folder: Path, rnd: random.Random) -> None:
    _store(folder)
    db = folder / "store.db"
    data = bytearray(db.read_bytes())
    for _ in range(rnd.randint(1, 20)):
        at = rnd.randrange(len(data))
        data[at : at + 16] = bytes(rnd.randrange(256) for _ in range(16))
    db.write_bytes(bytes(data))


def _truncated_store(folder: Path, rnd: random.Random) -> None:
    _store(folder)
    db = folder / "store.db"
    db.write_bytes(db.read_bytes()[: rnd.randrange(100, 8192)])


def _foreign_store(folder: Path, rnd: random.Random) -> None:
    with sqlite3.connect(folder / "store.db") as con:
        con.execute("create table touches (x)")
        con.execute("insert into touches values (1)")


def _text_store(folder: Path, rnd: random.Random) -> None:
    write(folder, "store.db", "shared team notes\n").chmod(0o644)


def _readonly_store(folder: Path, rnd: random.Random) -> None:
    _store(folder)
    (folder / "store.db").chmod(0o444)


def _copy_example(folder: Path, rnd: random.Random) -> None:
    write(folder, "c.csv", EXAMPLE.read_bytes())


def _unreadable_folder(folder: Path, rnd: random.Random) -> None:
    write(folder, "locked/c.csv", EXAMPLE.read_bytes())
    (folder / "locked").chmod(0)


def _read_only_out(folder: Path, rnd: random.Random) -> None:
    _copy_example(folder, rnd)
    (folder / "ro").mkdir()
    (folder / "ro").chmod(0o555)


# ----------------------------------------------------------------------------- the corpus
STORE_COMMANDS = [
    ["followups", str(EXAMPLE), "--as-of", AS_OF, "-f", "json"],
    ["log", "C1001", str(EXAMPLE), "--note", "x"],
    ["snooze", "C1001", "--until", "+7d"],
    ["history", "C1001"],
    ["snapshot", str(EXAMPLE), "--as-of", AS_OF],
    ["report", str(EXAMPLE), "--as-of", AS_OF, "-f", "json"],
    ["backtest"],
]
FILE_COMMANDS: list[tuple[list[str], bool, bool]] = [  # args after FILE, human, csv
    (["validate"], False, False),
    (["score", "-f", "json"], False, False),
    (["score"], True, False),
    (["segment", "-f", "csv"], False, True),
    (["followups", "-f", "md", "--due", "week"], True, False),
    (["followups", "-f", "ics", "--due", "week"], True, False),
]


def corpus(seed: int, mutants: int) -> list[Case]:
    """Every case, in a fixed order for a seed."""
    rnd = random.Random(seed)
    cases: list[Case] = []
    base = EXAMPLE.read_bytes()

    # 1. mutated customer files, each through a few commands
    for i in range(mutants):
        data = mutate(encoded(EXAMPLE.read_text(encoding="utf-8"), rnd), rnd)
        for args, human, csv_out in rnd.sample(FILE_COMMANDS, 2):
            cases.append(
                Case(
                    f"mutant{i}:{' '.join(args)}",
                    [args[0], "c.csv", *args[1:], "--as-of", AS_OF],
                    setup=lambda f, r, d=data: write(f, "c.csv", d) and None,
                    human=human,
                    csv_out=csv_out,
                )
            )

    # 2. broken (and odd) configs through validate and score
    for i, text in enumerate(BROKEN_CONFIGS):
        for args in (["validate", str(EXAMPLE)], ["score", str(EXAMPLE), "-f", "json"]):
            cases.append(
                Case(
                    f"config{i}:{args[0]}",
                    [*args, "--as-of", AS_OF],
                    setup=lambda f, r, t=text: write(f, "cstool.toml", t) and None,
                )
            )
    for i in range(mutants // 2):  # mutated bytes of a valid config
        good = "[weights]\nvalue_delivery = 5\nissue_resolution = 3\ngrowth_strategy = 2\n"
        good += '[[segments]]\nname = "Risk"\nwhen = "band == \\"red\\""\ncadence_days = 7\n'
        data = mutate(good.encode(), rnd)
        cases.append(
            Case(
                f"config-mutant{i}:score",
                ["score", str(EXAMPLE), "--as-of", AS_OF, "-f", "json"],
                setup=lambda f, r, d=data: write(f, "cstool.toml", d) and None,
            )
        )

    # 3. stores: corrupt, truncated, foreign, a text file, locked, read-only, devices, folders
    stores: list[tuple[str, Callable[[Path, random.Random], object], bool, bool]] = [
        ("corrupt", _corrupt_store, False, False),
        ("truncated", _truncated_store, False, False),
        ("foreign", _foreign_store, False, False),
        ("text", _text_store, False, False),
        ("locked", lambda f, r: _store(f), True, False),
        ("read-only", _readonly_store, False, True),
    ]
    for kind, setup, lock, non_root in stores:
        # a locked store waits out the busy timeout (30 s) per run: three commands are enough
        for args in STORE_COMMANDS[:3] if lock else STORE_COMMANDS:
            changes = kind in ("corrupt", "truncated", "locked", "read-only")
            cases.append(
                Case(
                    f"store-{kind}:{args[0]}",
                    args,
                    setup=setup,
                    outputs=("store.db",) if changes else (),
                    lock_store=lock,
                    needs_non_root=non_root,
                )
            )
    for target in ("/dev/null", "/dev/zero", "folder"):
        for args in STORE_COMMANDS[:2]:
            cases.append(
                Case(
                    f"store-{target}:{args[0]}",
                    [*args, "--db", target],
                    setup=lambda f, r: (f / "folder").mkdir() or None,
                )
            )

    # 4. inputs that are not files
    for args, human, csv_out in FILE_COMMANDS[:3]:
        rest = [*args[1:], "--as-of", AS_OF]
        for name, source, setup, stdin, fifo in (
            ("folder", "folder", lambda f, r: (f / "folder").mkdir() or None, None, None),
            ("dev-zero", "/dev/zero", lambda f, r: None, None, None),
            ("dev-urandom", "/dev/urandom", lambda f, r: None, None, None),
            ("dev-null", "/dev/null", lambda f, r: None, None, None),
            ("missing", "nope.csv", lambda f, r: None, None, None),
            ("long-name", "n" * 300 + ".csv", lambda f, r: None, None, None),
            (
                "through-a-file",
                "c.csv/x.csv",
                lambda f, r: write(f, "c.csv", base) and None,
                None,
                None,
            ),
            (
                "dangling-link",
                "link.csv",
                lambda f, r: (f / "link.csv").symlink_to(f / "gone.csv"),
                None,
                None,
            ),
            (
                "stdin-bad",
                "/dev/stdin",
                lambda f, r: (
                    write(f, "in.csv", (ROOT / "tests/data/bad_rows.csv").read_bytes()) and None
                ),
                "in.csv",
                None,
            ),
            (
                "fifo-bad",
                "input.fifo",
                lambda f, r: (
                    write(f, "in.csv", (ROOT / "tests/data/bad_rows.csv").read_bytes()) and None
                ),
                None,
                "in.csv",
            ),
        ):
            cases.append(
                Case(
                    f"input-{name}:{args[0]}",
                    [args[0], source, *rest],
                    setup=setup,
                    stdin_file=stdin,
                    fifo_file=fifo,
                    human=human,
                    csv_out=csv_out,
                )
            )
    cases.append(
        Case(
            "input-unreadable-folder:score",
            ["score", "locked/c.csv"],
            setup=_unreadable_folder,
            needs_non_root=True,
        )
    )

    # 5. injection payloads in every text column, through every format
    table = payload_table(rnd)
    payload_runs: list[tuple[list[str], bool, bool, tuple[str, ...]]] = [
        (["score", "c.csv", "-f", "csv"], False, True, ()),
        (["score", "c.csv", "-f", "json"], False, False, ()),
        (["score", "c.csv"], True, False, ()),
        (["score", "c.csv", "--output", "out.csv"], False, False, ("out.csv",)),
        (["segment", "c.csv"], True, False, ()),
        (["segment", "c.csv", "-f", "csv"], False, True, ()),
        (["followups", "c.csv", "--due", "week"], True, False, ()),
        (["followups", "c.csv", "-f", "md", "--due", "week"], True, False, ()),
        (["followups", "c.csv", "-f", "ics", "--due", "week"], True, False, ()),
        (["followups", "c.csv", "-f", "csv", "--due", "week"], False, True, ()),
        (["explain", "C1001", "c.csv"], True, False, ()),
        (["explain", "C1002", "c.csv"], True, False, ()),
        (["report", "c.csv"], True, False, ()),
        (["report", "c.csv", "--html", "r.html"], False, False, ("r.html",)),
        (["export", "c.csv", "--out", "out"], False, False, ("out",)),
        (["draft", "C1001", "c.csv"], True, False, ()),
        (["history", "C1001", "c.csv"], True, False, ()),
    ]
    for args, human, csv_out, outputs in payload_runs:
        cases.append(
            Case(
                f"payload:{' '.join(args)}",
                [*args, "--as-of", AS_OF],
                setup=lambda f, r: write(f, "c.csv", table) and None,
                outputs=outputs,
                human=human,
                csv_out=csv_out,
            )
        )

    # 6. outputs that cannot be written (or must not be)
    for name, args, outputs, non_root in (
        ("dev-full", ["score", "c.csv", "--output", "/dev/full"], (), False),
        ("over-input", ["score", "c.csv", "--output", "c.csv"], (), False),
        ("into-folder", ["score", "c.csv", "--output", "."], (), False),
        (
            "rejects-is-output",
            ["score", "c.csv", "--skip-invalid", "--rejects", "x.csv", "--output", "x.csv"],
            (),
            False,
        ),
        ("export-into-file", ["export", "c.csv", "--out", "c.csv"], (), False),
        ("html-over-input", ["report", "c.csv", "--html", "c.csv"], (), False),
        ("read-only-folder", ["export", "c.csv", "--out", "ro"], (), True),
    ):
        cases.append(
            Case(
                f"output-{name}",
                [*args, "--as-of", AS_OF],
                setup=_read_only_out if name == "read-only-folder" else _copy_example,
                outputs=outputs,
                needs_non_root=non_root,
            )
        )
    return cases


# ----------------------------------------------------------------------------- running
def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSTOOL_")}
    env.update(
        HOME=str(folder / ".home"),
        XDG_DATA_HOME=str(folder / ".home" / "data"),
        CSTOOL_DB=str(folder / "store.db"),
        NO_COLOR="1",
        COLUMNS="120",
        PYTHONPATH=str(ROOT / "src"),
    )
    return env


def fingerprint(folder: Path) -> dict[str, tuple[int, int, int, str]]:
    """Every path under `folder`: mode, size, mtime and a hash of its bytes."""
    out: dict[str, tuple[int, int, int, str]] = {}
    for path in sorted(folder.rglob("*")):
        try:
            info = path.lstat()
        except OSError:
            continue
        digest = ""
        if stat.S_ISREG(info.st_mode):
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                digest = "unreadable"
        out[str(path.relative_to(folder))] = (
            stat.S_IMODE(info.st_mode) | stat.S_IFMT(info.st_mode),
            info.st_size,
            info.st_mtime_ns,
            digest,
        )
    return out


def _allowed(path: str, outputs: tuple[str, ...]) -> bool:
    own = ("store.db", ".home", ".cstool")  # cstool's store (and its -wal, -shm, -journal)
    return any(path == p or path.startswith((p + "/", p + "-")) for p in (*own, *outputs))


def _controls(text: str) -> set[str]:
    return {
        f"U+{ord(c):04X}"
        for c in text
        if (ord(c) < 0x20 and c not in "\n\r\t") or 0x7F <= ord(c) < 0xA0
    }


def run_case(case: Case, seed: int, timeout: float) -> Outcome:
    """Run one case in a fresh sandbox and check it."""
    rnd = random.Random(f"{seed}:{case.name}")
    with tempfile.TemporaryDirectory(prefix="cstool-fault-") as name:
        folder = Path(name)
        (folder / ".home").mkdir()
        case.setup(folder, rnd)
        before = fingerprint(folder)
        example_before = fingerprint(EXAMPLE.parent)
        lock = None
        if case.lock_store:
            lock = sqlite3.connect(folder / "store.db", isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")
        if case.fifo_file:
            os.mkfifo(folder / "input.fifo")
            data = (folder / case.fifo_file).read_bytes()

            def feed() -> None:
                try:
                    with (folder / "input.fifo").open("wb") as sink:
                        sink.write(data)
                except OSError:
                    pass

            threading.Thread(target=feed, daemon=True).start()
        stdin = (folder / case.stdin_file).open("rb") if case.stdin_file else subprocess.DEVNULL
        start = time.monotonic()
        problems: list[str] = []
        code: int | None = None
        out, err = "", ""
        try:
            done = subprocess.run(
                [sys.executable, "-m", "cstool", *case.args],
                cwd=folder,
                env=_env(folder),
                stdin=stdin,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
            code = done.returncode
            out = done.stdout.decode("utf-8", errors="replace")
            err = done.stderr.decode("utf-8", errors="replace")
        except subprocess.TimeoutExpired:
            problems.append(f"hang: no exit after {timeout:.0f} s")
        finally:
            if hasattr(stdin, "close"):
                stdin.close()
            if lock is not None:
                lock.rollback() if lock.in_transaction else None
                lock.close()
        seconds = time.monotonic() - start
        if "Traceback (most recent call last)" in err or "─ Traceback " in err:
            problems.append("traceback: " + err.strip().splitlines()[-1][:200])
        if code is not None and code not in EXITS:
            problems.append(f"wrong exit: {code}: {err.strip()[-200:]}")
        if case.human and _controls(out):
            problems.append(f"escapes: {sorted(_controls(out))} on stdout")
        if case.csv_out and _controls(out):
            problems.append(f"csv escapes: {sorted(_controls(out))} on stdout")
        if (folder / "input.fifo").exists():
            before.setdefault("input.fifo", fingerprint(folder).get("input.fifo", (0, 0, 0, "")))
        after = fingerprint(folder)
        for path in sorted(set(before) | set(after)):
            if _allowed(path, case.outputs) or path == "input.fifo":
                continue
            if before.get(path) != after.get(path):
                what = (
                    "appeared"
                    if path not in before
                    else "vanished"
                    if path not in after
                    else ("changed")
                )
                problems.append(f"file {what}: {path}")
        if fingerprint(EXAMPLE.parent) != example_before:
            problems.append("file changed: examples/")
        for sub in folder.rglob("*"):  # let TemporaryDirectory clean read-only folders
            if sub.is_dir() and not sub.is_symlink():
                sub.chmod(0o755)
        return Outcome(case.name, code, seconds, problems)


def main(argv: list[str] | None = None) -> int:
    """Run the corpus, print the counts (and every failing run); exit 1 when any failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--mutants", type=int, default=60, help="mutated customer files")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run")
    parser.add_argument("--slice", type=int, default=0, help="only every Nth case (0: all)")
    parser.add_argument("--only", default="", help="only cases whose name starts with this")
    parser.add_argument("--json", type=Path, help="write every outcome here")
    args = parser.parse_args(argv)
    cases = corpus(args.seed, args.mutants)
    cases = [c for c in cases if c.name.startswith(args.only)]
    if args.slice:
        cases = cases[:: args.slice]
    outcomes: list[Outcome] = []
    skipped = 0
    for i, case in enumerate(cases, 1):
        if case.needs_non_root and ROOT_USER:
            skipped += 1
            continue
        outcome = run_case(case, args.seed, args.timeout)
        outcomes.append(outcome)
        mark = "FAIL " + "; ".join(outcome.problems) if outcome.problems else "ok"
        print(
            f"[{i}/{len(cases)}] {case.name} exit {outcome.code} {outcome.seconds:.1f}s {mark}",
            file=sys.stderr,
        )
    kinds = ("traceback", "hang", "wrong exit", "file", "escapes", "csv escapes")
    counts = {
        k: sum(
            any(p.startswith(k + ":") or p.startswith(k + " ") for p in o.problems)
            for o in outcomes
        )
        for k in kinds
    }
    summary = {
        "runs": len(outcomes),
        "skipped": skipped,
        **counts,
        "exits": {str(c): sum(o.code == c for o in outcomes) for c in (0, 1, 2)},
    }
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps([o.__dict__ for o in outcomes], indent=1))
    failing = [o for o in outcomes if any(not p.startswith("csv escapes") for p in o.problems)]
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
