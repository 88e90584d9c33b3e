"""Benchmark `cstool followups` against `cstool score --top 20`, and `cstool log` against `--help`.

    python benchmarks/bench_followups.py                  # 1M customers, 100k touches, 3 runs
    python benchmarks/bench_followups.py --rows 100000 --touches 10000 --no-write

Generates (once) a customer file and a store holding `--touches` logged touches (and a
few snoozes) for random customers in benchmarks/data/, then runs, interleaved:

- `cstool followups FILE --due today` vs `cstool score FILE --top 20`, both on the same
  file and store (score reads the store's touches too). Target: ≤ 1.5×.
- `cstool log ID FILE --note …` vs `cstool --help`. Target: ≤ 1.5× (it checks that the
  ID exists without loading the table). Each log run writes to its own copy of the store.

It also checks that two `followups --format csv` runs give the same bytes. Writes the
`## followups` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from harness import DATA, compare, dataset, machine_line, markdown_table, ratio, update_results

AS_OF = "2026-11-23"
TARGET_FOLLOWUPS = 1.5
TARGET_LOG = 1.5


def cstool_argv() -> list[str]:
    """The installed `cstool` console script, else `python -m cstool`."""
    beside = Path(sys.executable).with_name("cstool")
    exe = str(beside) if beside.is_file() else shutil.which("cstool")
    return [exe] if exe else [sys.executable, "-m", "cstool"]


def make_store(path: Path, rows: int, touches: int, seed: int = 1) -> Path:
    """A store with `touches` touches (30 % with a --next date) and 1 000 snoozes, made once."""
    from cstool.store import open_store

    if path.exists():
        return path
    rng = random.Random(seed)
    as_of = date.fromisoformat(AS_OF)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    store = open_store(tmp)
    assert store is not None
    with store, store.transaction() as conn:
        batch = []
        for _ in range(touches):
            customer = f"C{rng.randint(1, rows):07d}"
            day = as_of - timedelta(days=rng.randint(0, 120))
            planned = day + timedelta(days=rng.randint(3, 40)) if rng.random() < 0.3 else None
            batch.append(
                (
                    customer,
                    day.isoformat(),
                    rng.choice(["email", "call", "meeting", "chat"]),
                    "benchmark touch",
                    planned.isoformat() if planned else None,
                )
            )
        conn.executemany(
            "INSERT INTO touches (customer_id, touched_on, channel, note, next_due) "
            "VALUES (?, ?, ?, ?, ?)",
            batch,
        )
        conn.executemany(
            "INSERT INTO snoozes (customer_id, snoozed_until, set_on, note) VALUES (?, ?, ?, '')",
            [
                (f"C{rng.randint(1, rows):07d}", (as_of + timedelta(days=7)).isoformat(), AS_OF)
                for _ in range(1000)
            ],
        )
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.replace(path)
    return path


def reproducible(data: Path, db: Path) -> bool:
    """Two `followups --format csv` runs give the same bytes."""
    argv = [*cstool_argv(), "followups", str(data), "--as-of", AS_OF, "--db", str(db)]
    outputs = [
        subprocess.run([*argv, "--format", "csv"], capture_output=True, check=True).stdout
        for _ in range(2)
    ]
    return outputs[0] == outputs[1] and len(outputs[0]) > 0


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and (unless --no-write) update RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--touches", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--log-runs", type=int, default=10)
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)

    data = dataset(args.rows)
    db = make_store(DATA / f"store_{args.rows}_{args.touches}.db", args.rows, args.touches)
    log_db = DATA / "out" / "log_bench.db"
    log_db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(log_db) + suffix).unlink(missing_ok=True)
    shutil.copy(db, log_db)
    cstool = cstool_argv()
    common = ["--as-of", AS_OF, "--db", str(db)]

    print(f"followups: {data} ({data.stat().st_size / 1e6:.1f} MB), {db.name}", file=sys.stderr)
    main_runs = compare(
        {
            "cstool score --top 20": [*cstool, "score", str(data), "--top", "20", *common],
            "cstool followups --due today": [
                *cstool,
                "followups",
                str(data),
                "--due",
                "today",
                *common,
            ],
        },
        runs=args.runs,
    )
    print("log:", file=sys.stderr)
    last_id = f"C{args.rows:07d}"  # the last row: the byte search reads the whole file
    log_runs = compare(
        {
            "cstool --help": [*cstool, "--help"],
            "cstool log --help": [*cstool, "log", "--help"],
            "cstool log": [
                *cstool,
                "log",
                last_id,
                str(data),
                "--note",
                "benchmark",
                "--date",
                AS_OF,
                "--db",
                str(log_db),
            ],
        },
        runs=args.log_runs,
        warmup=2,
    )
    same = reproducible(data, db)

    followups = ratio(main_runs, "cstool followups --due today", "cstool score --top 20")
    log = ratio(log_runs, "cstool log", "cstool --help")
    sub = ratio(log_runs, "cstool log --help", "cstool --help")
    size = data.stat().st_size
    reproduce = "python benchmarks/bench_followups.py" + (
        f" --rows {args.rows} --touches {args.touches}"
        if (args.rows, args.touches) != (1_000_000, 100_000)
        else ""
    )
    body = "\n".join(
        [
            f"`{reproduce}` — {machine_line()}.",
            f"Input: {args.rows:,} generated customers ({size / 1e6:.1f} MB), a store with "
            f"{args.touches:,} logged touches and 1,000 snoozes; "
            f"{args.runs} interleaved runs after one warm-up, medians.",
            "",
            markdown_table(main_runs, baseline="cstool score --top 20", input_bytes=size),
            "",
            f"- `followups --due today` ÷ `score --top 20`: **{followups:.2f}** "
            f"(target ≤ {TARGET_FOLLOWUPS:g}: {_verdict(followups, TARGET_FOLLOWUPS)})",
            f"- same file, store and --as-of, `--format csv` twice: "
            f"{'identical bytes' if same else '**different bytes**'}",
            "",
            f"Recording a touch ({args.log_runs} interleaved runs after two warm-ups; the ID is "
            "the file's last row):",
            "",
            markdown_table(log_runs, baseline="cstool --help"),
            "",
            f"- `log` ÷ `--help`: **{log:.2f}** "
            f"(target ≤ {TARGET_LOG:g}: {_verdict(log, TARGET_LOG)}); "
            f"`log --help` ÷ `--help`: {sub:.2f} is what entering any Typer sub-command costs "
            "(it imports pydantic)",
        ]
    )
    print(body)
    if not args.no_write:
        update_results("followups", body)


def _verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "**misses**"


if __name__ == "__main__":
    main()
