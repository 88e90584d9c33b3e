"""Benchmark `cstool backtest` over 24 monthly snapshots against `cstool score --output` of one.

    python benchmarks/bench_backtest.py                       # 100k customers, 24 months
    python benchmarks/bench_backtest.py --before 809cf08      # and the code before the blobs
    python benchmarks/bench_backtest.py --rows 20000 --runs 5 --no-write

Builds (once) a store in benchmarks/data/ holding 24 monthly snapshots of a book of
`--rows` customers (about 2 % leave each month, more of them at low health, and as many
join), then runs, interleaved:

- `cstool backtest --db STORE --as-of …` (90-day horizon, 1000 bootstrap replicates)
- `cstool score FILE --output OUT.csv` on a generated file of `--rows` customers
- with `--before REF`: the same backtest by the code of git commit REF (its `src/`,
  extracted with `git archive`) on a copy of the store as that code wrote it (schema 4:
  rows only, no Arrow blobs), so before and after are measured in the same run
- `cstool backtest` (rows only): this code on a copy without blobs, as a store written
  before migration 5 is read (from its rows)

Target: backtest ≤ 3× score. Writes the `## backtest` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import time
from datetime import date
from pathlib import Path

from harness import DATA, compare, dataset, machine_line, markdown_table, ratio, update_results

AS_OF = "2026-11-23"
MONTHS = 24
TARGET = 3.0


def cstool_argv() -> list[str]:
    """The installed `cstool` console script, else `python -m cstool`."""
    beside = Path(sys.executable).with_name("cstool")
    exe = str(beside) if beside.is_file() else shutil.which("cstool")
    return [exe] if exe else [sys.executable, "-m", "cstool"]


def snapshot_dates(months: int) -> list[date]:
    """The first of each month, ending with 2026-11-01."""
    end_index = 2026 * 12 + 10  # November 2026, counted from month 0
    return [
        date((end_index - k) // 12, (end_index - k) % 12 + 1, 1) for k in reversed(range(months))
    ]


def code_of(ref: str) -> Path:
    """The `src/` folder of git commit `ref`, extracted (once) into benchmarks/data/."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", f"{ref}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout.strip()
    folder = DATA / f"code_{commit}"
    if not (folder / "src" / "cstool").is_dir():
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "src"],
            check=True,
            capture_output=True,
            cwd=Path(__file__).resolve().parent.parent,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
    return folder / "src"


def run_code(src: Path) -> list[str]:
    """`python -m cstool` importing cstool from `src` (ahead of the installed one)."""
    return ["env", f"PYTHONPATH={src}", sys.executable, "-m", "cstool"]


def rows_only_copy(db: Path, *, schema4: bool) -> Path:
    """A copy of the store without its Arrow blobs (made once): as a store written before
    migration 5 holds its snapshots. `schema4`: also dropped back to schema 4, the file the
    code before the blobs wrote (it refuses a newer schema)."""
    path = db.with_name(db.stem + ("_schema4" if schema4 else "_rows") + ".db")
    if path.exists():
        return path
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(db) as source, sqlite3.connect(tmp) as target:
        source.backup(target)
    conn = sqlite3.connect(tmp, isolation_level=None)
    if schema4:
        conn.execute("DROP TABLE snapshot_blobs")
        conn.execute("PRAGMA user_version = 4")
    else:
        conn.execute("DELETE FROM snapshot_blobs")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("VACUUM")
    conn.close()
    tmp.replace(path)
    return path


def make_store(path: Path, rows: int, months: int, seed: int = 1) -> Path:
    """A store with `months` monthly snapshots of `rows` customers, made once."""
    import numpy as np
    import pandas as pd

    from cstool.store import open_store

    if path.exists():
        return path
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    tmp = path.with_name(path.name + ".tmp")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    store = open_store(tmp)
    assert store is not None
    mood = rng.uniform(0, 1, rows)
    ids = np.arange(1, rows + 1)
    next_id = rows + 1
    with store:
        for day in snapshot_dates(months):
            mood = np.clip(mood + rng.normal(0, 0.05, rows), 0, 1)
            satisfaction = np.clip(100 * mood + rng.normal(0, 10, rows), 0, 100)
            nps = np.clip(np.round(10 * mood + rng.normal(0, 2, rows)), 0, 10)
            health = np.clip(0.7 * satisfaction + 3 * nps + rng.normal(0, 6, rows), 0, 100)
            band = np.where(health < 50, "red", np.where(health < 75, "yellow", "green"))
            frame = pd.DataFrame(
                {
                    "customer_id": [f"C{i:07d}" for i in ids],
                    "mrr": rng.choice([19.0, 49.0, 99.0, 299.0], rows),
                    "satisfaction": satisfaction,
                    "health": health,
                    "band": band,
                    "segment": "Grow",
                    "nps": nps.astype(int),
                }
            )
            store.save_snapshot(day, frame, source="bench_backtest")
            leave = rng.random(rows) < 0.005 + 0.03 * (1 - mood) ** 2
            count = int(leave.sum())
            ids[leave] = np.arange(next_id, next_id + count)
            mood[leave] = rng.uniform(0, 1, count)
            next_id += count
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.replace(path)
    print(f"built {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def phases(db: Path) -> dict[str, float]:
    """CPU seconds of each step of a backtest, in this process: where the time goes."""
    from cstool import backtest as bt
    from cstool.store import open_store

    spent: dict[str, float] = {}
    start = time.process_time()
    store = open_store(db, create=False)
    assert store is not None
    with store:
        snapshots = bt.stored_snapshots(store, date.fromisoformat(AS_OF))
    spent["Store.load_snapshots"] = time.process_time() - start
    start = time.process_time()
    cases = bt.churn_cases(snapshots, 90)
    spent["churn_cases"] = time.process_time() - start
    start = time.process_time()
    bt.backtest(cases)
    spent["backtest (AUC, 1000 bootstrap replicates, bands, lift, misses)"] = (
        time.process_time() - start
    )
    return spent


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and (unless --no-write) update RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=MONTHS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    parser.add_argument(
        "--before", metavar="REF", help="also time the code of git commit REF (rows only)"
    )
    parser.add_argument(
        "--rows-only", action="store_true", help="also time this code on a store without blobs"
    )
    args = parser.parse_args(argv)

    data = dataset(args.rows)
    # "_blobs": a store made before migration 5 under the old name holds rows only.
    db = make_store(DATA / f"snapshots_{args.rows}x{args.months}_blobs.db", args.rows, args.months)
    out = DATA / "out"
    out.mkdir(parents=True, exist_ok=True)
    cstool = cstool_argv()
    tail = ["--as-of", AS_OF]
    commands = {
        "cstool score --output": [
            *cstool,
            "score",
            str(data),
            "--output",
            str(out / "bt_score.csv"),
            *tail,
        ],
        "cstool backtest": [*cstool, "backtest", "--db", str(db), *tail],
    }
    if args.rows_only:
        rows_db = rows_only_copy(db, schema4=False)
        commands["cstool backtest (rows only)"] = [*cstool, "backtest", "--db", str(rows_db), *tail]
    if args.before:
        old_db = rows_only_copy(db, schema4=True)
        commands[f"backtest before ({args.before})"] = [
            *run_code(code_of(args.before)),
            "backtest",
            "--db",
            str(old_db),
            *tail,
        ]
    timings = compare(commands, runs=args.runs)
    figure = ratio(timings, "cstool backtest", "cstool score --output")
    split = phases(db)
    reproduce = "python benchmarks/bench_backtest.py" + (
        f" --rows {args.rows} --months {args.months}"
        if (args.rows, args.months) != (100_000, MONTHS)
        else ""
    )
    reproduce += f" --before {args.before}" if args.before else ""
    reproduce += " --rows-only" if args.rows_only else ""
    body = "\n".join(
        [
            f"`{reproduce}` — {machine_line()}.",
            f"A store of {args.months} monthly snapshots of {args.rows:,} customers "
            f"({args.months * args.rows:,} rows); `score` on a generated file of "
            f"{args.rows:,} rows; {args.runs} interleaved runs after one warm-up, medians.",
            "",
            markdown_table(timings, baseline="cstool score --output"),
            "",
            f"- `backtest` ÷ `score --output`: **{figure:.2f}** "
            f"(target ≤ {TARGET:g}: {'meets' if figure <= TARGET else '**misses**'})",
            "- where a backtest's CPU time goes (in one process): "
            + "; ".join(f"{name} {seconds:.2f} s" for name, seconds in split.items()),
            *[
                f"- `{t.name}` ÷ `score --output`: {t.median_s / timings[0].median_s:.2f} "
                f"(CPU {t.median_cpu_s / timings[0].median_cpu_s:.2f})"
                for t in timings[1:]
            ],
        ]
    )
    print(body)
    if not args.no_write:
        update_results("backtest", body)


if __name__ == "__main__":
    main()
