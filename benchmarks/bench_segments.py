"""Benchmark what segment rules add to `cstool score`: built-in set plus ten configured rules.

    python benchmarks/bench_segments.py                 # 1M rows, 3 interleaved runs each
    python benchmarks/bench_segments.py --rows 100000 --runs 5 --no-write

Three whole-process runs of `cstool score FILE --output OUT.csv` on the same file, interleaved:
one catch-all rule (segmenting costs next to nothing), the built-in segments, and the built-in
segments after ten configured rules. Target: the last adds at most 30 % to the first.
Then, in one process, the segment step alone on the scored frame, for the same rule sets.
Writes the `## segment` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from harness import (
    DATA,
    compare,
    dataset,
    machine_line,
    markdown_table,
    ratio,
    update_results,
)

AS_OF = "2026-11-23"
TARGET_OVERHEAD = 0.30

# Ten rules of the kinds a user writes: text, lists, dates, ranks, arithmetic, missing values.
TEN_RULES = [
    ("Enterprise at risk", 'plan == "Enterprise" and band != "green"', 3),
    ("Renewal this month", "days_until(renewal_date) >= 0 and days_until(renewal_date) <= 30", 7),
    ("Detractor with tickets", "nps <= 6 and open_tickets >= 2", 5),
    ("Top 5 % by MRR", "pct_rank(mrr) >= 0.95", 14),
    ("Quiet for 90 days", "days_since(last_contact) > 90 and not is_missing(last_contact)", 10),
    ("Upsell Pro", 'plan in ["Pro"] and health >= 85 and mrr * 12 >= 1500', 21),
    ("Stage at risk", 'stage == "At risk" or (band == "red" and satisfaction < 40)', 7),
    ("Unknown value", "is_missing(mrr) or is_missing(nps)", 45),
    ("Low satisfaction rank", "pct_rank(satisfaction) < 0.05", 10),
    ("Long-time small", 'days_since(signup_date) > 1460 and plan == "Starter"', 60),
]


def cstool_argv() -> list[str]:
    """The installed `cstool` console script, else `python -m cstool`."""
    beside = Path(sys.executable).with_name("cstool")
    exe = str(beside) if beside.is_file() else shutil.which("cstool")
    return [exe] if exe else [sys.executable, "-m", "cstool"]


def toml_rules(rules: list[tuple[str, str, int, str]]) -> str:
    """[[segments]] tables for cstool.toml (strings as TOML basic strings via JSON escaping)."""
    parts = []
    for name, when, cadence, play in rules:
        parts.append(
            f"[[segments]]\nname = {json.dumps(name)}\nwhen = {json.dumps(when)}\n"
            f"cadence_days = {cadence}\nplay = {json.dumps(play)}\n"
        )
    return "\n".join(parts)


def write_configs(folder: Path) -> dict[str, Path]:
    """The three rule sets as cstool.toml files."""
    from cstool.segments import DEFAULT_SEGMENTS

    built_in = [(r.name, r.when, r.cadence_days, r.play) for r in DEFAULT_SEGMENTS]
    ten = [(name, when, cadence, f"Play for {name.lower()}.") for name, when, cadence in TEN_RULES]
    configs = {
        "catch-all": toml_rules([("All", "true", 30, "")]),
        "built-in": "",  # no [[segments]]: the built-in set
        "ten + built-in": toml_rules(ten + built_in),
    }
    paths = {}
    folder.mkdir(parents=True, exist_ok=True)
    for label, text in configs.items():
        path = folder / f"segments_{label.replace(' ', '').replace('+', '_')}.toml"
        path.write_text(text, encoding="utf-8")
        paths[label] = path
    return paths


def in_process(data: Path, configs: dict[str, Path], repeats: int) -> list[tuple[str, float]]:
    """Median seconds of load+validate, scoring and the segment step alone, in one process."""
    from cstool import pipeline
    from cstool.config import load_settings
    from cstool.scoring import score
    from cstool.segments import segment

    day = date.fromisoformat(AS_OF)
    settings = load_settings(configs["built-in"])
    t0 = time.perf_counter()
    table = pipeline.load_table(data, settings)
    t1 = time.perf_counter()
    scored = score(table.frame, settings, day)
    t2 = time.perf_counter()
    rows = [("load + validate", t1 - t0), ("score", t2 - t1)]
    for label, path in configs.items():
        rules = load_settings(path).segments
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            segment(scored, rules, day)
            times.append(time.perf_counter() - start)
        rows.append((f"segment step, {label}", statistics.median(times)))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args(argv)

    data = dataset(args.rows)
    out = DATA / "out"
    out.mkdir(parents=True, exist_ok=True)
    configs = write_configs(out / "segments")
    no_store = out / "segments" / "no-store.db"  # never created: no touches are read
    commands = {
        f"score, {label}": [
            *cstool_argv(),
            "score",
            str(data),
            "--output",
            str(out / f"segments_{i}.csv"),
            "--as-of",
            AS_OF,
            "--config",
            str(path),
            "--db",
            str(no_store),
        ]
        for i, (label, path) in enumerate(configs.items())
    }
    # every configured rule really assigns customers (the benchmark is not a no-op)
    summary = subprocess.run(
        [
            *cstool_argv(),
            "segment",
            str(data),
            "--summary",
            "--format",
            "json",
            "--as-of",
            AS_OF,
            "--config",
            str(configs["ten + built-in"]),
            "--db",
            str(no_store),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    mix = json.loads(summary)
    assert sum(row["customers"] for row in mix) == args.rows, "every customer gets one segment"

    timings = compare(commands, runs=args.runs)
    table = markdown_table(timings, baseline="score, catch-all", input_bytes=data.stat().st_size)
    overhead = ratio(timings, "score, ten + built-in", "score, catch-all") - 1
    built_in = ratio(timings, "score, built-in", "score, catch-all") - 1
    cpu = {t.name: statistics.median(t.cpu_seconds) for t in timings}
    cpu_overhead = cpu["score, ten + built-in"] / cpu["score, catch-all"] - 1
    cpu_built_in = cpu["score, built-in"] / cpu["score, catch-all"] - 1
    steps = in_process(data, configs, repeats=max(3, args.runs))
    step_lines = "\n".join(f"| {name} | {seconds:.3f} |" for name, seconds in steps)
    mix_lines = "\n".join(
        f"| {row['segment']} | {row['customers']:,} | {row['share'] * 100:.1f} % |" for row in mix
    )
    verdict = "met" if overhead <= TARGET_OVERHEAD else "MISSED"
    body = f"""`python benchmarks/bench_segments.py --rows {args.rows} --runs {args.runs}`
({args.rows:,} customers, {machine_line()})

Whole process, `cstool score FILE --output OUT.csv`, interleaved runs; only the
`[[segments]]` of the config differ (one catch-all rule / built-in set / ten rules
before the built-in five).

{table}

Segmenting with the built-in set adds **{built_in * 100:+.0f} %** and with ten configured
rules plus the built-in set **{overhead * 100:+.0f} %** of wall time to the catch-all run
(target ≤ {TARGET_OVERHEAD * 100:.0f} %: {verdict}); by CPU time, which other jobs on a shared
machine disturb less, {cpu_built_in * 100:+.0f} % and {cpu_overhead * 100:+.0f} %. The difference
includes writing the `segment` / `play` columns into the output CSV.

In one process (median seconds; the segment step alone on the scored frame):

| step | seconds |
|---|---|
{step_lines}

Where the 15 rules put the {args.rows:,} customers:

| segment | customers | share |
|---|---|---|
{mix_lines}
"""
    print(body)
    if not args.no_write:
        update_results("segment", body)


if __name__ == "__main__":
    main()
