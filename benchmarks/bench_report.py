"""Benchmark `cstool report` over 24 monthly snapshots against `cstool score --output` of one.

    python benchmarks/bench_report.py                         # 100k customers, 24 months
    python benchmarks/bench_report.py --before 809cf08        # and the code before the blobs
    python benchmarks/bench_report.py --rows 20000 --runs 5 --no-write

Uses the store of bench_backtest.py (24 monthly snapshots of `--rows` customers, made once
in benchmarks/data/) and a generated customer file of `--rows` rows, then runs, interleaved:

- `cstool report FILE --db STORE --as-of … --format json` (the store is opened read-only,
  so the KPI cache stays empty and every run computes the KPIs of all 24 snapshots, loaded
  once, column-wise)
- the same report for the terminal (rich tables, written to a file), which also lists the
  segments and the top follow-ups
- `cstool score FILE --output OUT.csv`
- with `--before REF`: the same report by the code of git commit REF on a schema-4 copy
  of the store (rows only), so before and after are measured in the same run
- with `--rows-only`: this code on a copy without blobs (how an older store is read)

Target: report ≤ 3× score. Writes the `## report` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from bench_backtest import AS_OF, MONTHS, code_of, cstool_argv, make_store, rows_only_copy, run_code
from harness import DATA, compare, dataset, machine_line, markdown_table, ratio, update_results

TARGET = 3.0


def phases(db: Path) -> dict[str, float]:
    """CPU seconds of loading what the report loads from the store, in this process."""
    from cstool.store import open_store

    spent: dict[str, float] = {}
    store = open_store(db, create=False)
    assert store is not None
    with store:
        days = [d for d in store.snapshot_dates() if d < date.fromisoformat(AS_OF)]
        # As the report reads them: all at once, only the columns the trend and the
        # movements read (names, segments and plans are most of a full load's cost).
        from cstool.kpis.cache import TREND_COLUMNS
        from cstool.kpis.movements import REVENUE_COLUMNS

        columns = [*TREND_COLUMNS, *(c for c in REVENUE_COLUMNS[1:] if c not in TREND_COLUMNS)]
        start = time.process_time()
        store.load_snapshots(days, columns)
        spent[f"Store.load_snapshots × {len(days)}, the report's columns"] = (
            time.process_time() - start
        )
        start = time.process_time()
        store.load_snapshots(days)
        spent["Store.load_snapshots (every column)"] = time.process_time() - start
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
    db = make_store(DATA / f"snapshots_{args.rows}x{args.months}_blobs.db", args.rows, args.months)
    out = DATA / "out"
    out.mkdir(parents=True, exist_ok=True)
    cstool = cstool_argv()
    tail = ["--as-of", AS_OF]
    report = ["report", str(data), "--format", "json", *tail]
    commands = {
        "cstool score --output": [
            *cstool,
            "score",
            str(data),
            "--output",
            str(out / "report_score.csv"),
            *tail,
        ],
        "cstool report": [*cstool, *report, "--db", str(db)],
        # The terminal report (rich tables into a file) also lists segments and follow-ups.
        "cstool report (terminal)": [*cstool, "report", str(data), *tail, "--db", str(db)],
    }
    if args.rows_only:
        commands["cstool report (rows only)"] = [
            *cstool,
            *report,
            "--db",
            str(rows_only_copy(db, schema4=False)),
        ]
    if args.before:
        commands[f"report before ({args.before})"] = [
            *run_code(code_of(args.before)),
            *report,
            "--db",
            str(rows_only_copy(db, schema4=True)),
        ]
    timings = compare(commands, runs=args.runs)
    figure = ratio(timings, "cstool report", "cstool score --output")
    base = timings[0]
    split = phases(db)
    reproduce = "python benchmarks/bench_report.py" + (
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
            f"({args.months * args.rows:,} rows); `report` and `score` on a generated file of "
            f"{args.rows:,} rows; {args.runs} interleaved runs after one warm-up, medians.",
            "",
            markdown_table(timings, baseline="cstool score --output"),
            "",
            f"- `report` ÷ `score --output`: **{figure:.2f}** "
            f"(target ≤ {TARGET:g}: {'meets' if figure <= TARGET else '**misses**'})",
            *[
                f"- `{t.name}` ÷ `score --output`: {t.median_s / base.median_s:.2f} "
                f"(CPU {t.median_cpu_s / base.median_cpu_s:.2f})"
                for t in timings[1:]
            ],
            "- loading the snapshots (CPU, in one process): "
            + "; ".join(f"{name} {seconds:.2f} s" for name, seconds in split.items()),
        ]
    )
    print(body)
    if not args.no_write:
        update_results("report", body)


if __name__ == "__main__":
    main()
