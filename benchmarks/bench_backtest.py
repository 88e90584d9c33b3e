"""Benchmark `cstool backtest` over 24 monthly snapshots against `cstool score --output` of one.

    python benchmarks/bench_backtest.py                       # 100k customers, 24 months
    python benchmarks/bench_backtest.py --rows 20000 --runs 5 --no-write

Builds (once) a store in benchmarks/data/ holding 24 monthly snapshots of a book of
`--rows` customers (about 2 % leave each month, more of them at low health, and as many
join), then runs, interleaved:

- `cstool backtest --db STORE --as-of …` (90-day horizon, 1000 bootstrap replicates)
- `cstool score FILE --output OUT.csv` on a generated file of `--rows` customers

Target: backtest ≤ 3× score. Writes the `## backtest` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
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
    args = parser.parse_args(argv)

    data = dataset(args.rows)
    db = make_store(DATA / f"snapshots_{args.rows}x{args.months}.db", args.rows, args.months)
    out = DATA / "out"
    out.mkdir(parents=True, exist_ok=True)
    cstool = cstool_argv()
    backtest = [*cstool, "backtest", "--db", str(db), "--as-of", AS_OF]
    score = [*cstool, "score", str(data), "--output", str(out / "bt_score.csv"), "--as-of", AS_OF]
    timings = compare({"cstool score --output": score, "cstool backtest": backtest}, runs=args.runs)
    figure = ratio(timings, "cstool backtest", "cstool score --output")
    split = phases(db)
    reproduce = "python benchmarks/bench_backtest.py" + (
        f" --rows {args.rows} --months {args.months}"
        if (args.rows, args.months) != (100_000, MONTHS)
        else ""
    )
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
        ]
    )
    print(body)
    if not args.no_write:
        update_results("backtest", body)


if __name__ == "__main__":
    main()
