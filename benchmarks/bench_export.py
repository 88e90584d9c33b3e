"""Benchmark `cstool export` (100k customers, 12 stored snapshots) against `cstool score --output`.

    python benchmarks/bench_export.py                    # 100k rows, 3 interleaved runs
    python benchmarks/bench_export.py --rows 20000 --runs 2 --no-write

Generates (once) a customer file in benchmarks/data/, stores 12 monthly snapshots of it in
a fresh store (`cstool snapshot --as-of …`, timed: that is how the store grows), times the
first export after them (it fills the KPI cache), then runs `cstool score --output` and
`cstool export` interleaved. Writes the `## export` section of benchmarks/RESULTS.md.
Targets: export ≤ 3× score --output; report.html < 5 MB; the store grows by at most 2× the
CSV's size per snapshot.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from datetime import date, timedelta
from pathlib import Path

from harness import (
    DATA,
    compare,
    dataset,
    machine_line,
    markdown_table,
    ratio,
    run_measured,
    update_results,
)

AS_OF = date(2026, 11, 23)
SNAPSHOTS = 12
TARGET_VS_SCORE = 3.0
TARGET_HTML_BYTES = 5_000_000
TARGET_GROWTH_X_CSV = 2.0


def cstool_argv() -> list[str]:
    """The installed `cstool` console script, else `python -m cstool`."""
    beside = Path(sys.executable).with_name("cstool")
    exe = str(beside) if beside.is_file() else shutil.which("cstool")
    return [exe] if exe else [sys.executable, "-m", "cstool"]


def store_bytes(db: Path) -> int:
    """The store's size on disk, write-ahead log included."""
    return sum(
        Path(f"{db}{suffix}").stat().st_size
        for suffix in ("", "-wal", "-shm")
        if Path(f"{db}{suffix}").exists()
    )


def verdict(value: float, target: float) -> str:
    """Whether a value meets its ≤ target, in words."""
    return "meets" if value <= target else "**misses**"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and (unless --no-write) update RESULTS.md."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)

    data = dataset(args.rows)
    csv_size = data.stat().st_size
    work = DATA / "out" / "export"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "cstool.db"
    env = {"CSTOOL_DB": str(db), "CSTOOL_CONFIG": ""}
    os.environ.pop("CSTOOL_CONFIG", None)
    cstool = cstool_argv()

    print(f"export: {data} ({csv_size / 1e6:.1f} MB), {SNAPSHOTS} snapshots", file=sys.stderr)
    sizes = []
    snapshot_seconds = []
    for k in range(SNAPSHOTS, 0, -1):
        day = (AS_OF - timedelta(days=30 * k)).isoformat()
        seconds, _, _ = run_measured(
            [*cstool, "snapshot", str(data), "--as-of", day], env=env, cwd=work
        )
        snapshot_seconds.append(seconds)
        sizes.append(store_bytes(db))
        print(f"  snapshot {day}: {seconds:.2f} s, store {sizes[-1] / 1e6:.1f} MB", file=sys.stderr)
    growth = (sizes[-1] - sizes[0]) / (len(sizes) - 1)

    out = work / "out"
    export = [*cstool, "export", str(data), "--out", str(out), "--as-of", AS_OF.isoformat()]
    cold, cold_peak, _ = run_measured(export, env=env, cwd=work)
    print(f"  first export (fills the KPI cache): {cold:.2f} s", file=sys.stderr)

    commands = {
        "cstool score --output": [
            *cstool,
            "score",
            str(data),
            "--output",
            str(work / "scored.csv"),
            "--as-of",
            AS_OF.isoformat(),
        ],
        "cstool export": export,
    }
    timings = compare(commands, runs=args.runs, env=env, cwd=work)
    speed = ratio(timings, "cstool export", "cstool score --output")
    by_name = {t.name: t for t in timings}
    cpu_speed = (
        by_name["cstool export"].median_cpu_s / by_name["cstool score --output"].median_cpu_s
    )
    html = (out / "report.html").stat().st_size
    files = sorted(p for p in out.iterdir() if not p.name.startswith("."))

    reproduce = "python benchmarks/bench_export.py" + (
        f" --rows {args.rows}" if args.rows != 100_000 else ""
    )
    lines = [
        f"`{reproduce}` — {machine_line()}.",
        f"Input: {args.rows:,} generated customers, {csv_size / 1e6:.1f} MB; a store with "
        f"{SNAPSHOTS} monthly snapshots of it; {args.runs} interleaved runs per command after "
        "one warm-up, medians. The score command sees the same store (touches, none here).",
        "",
        markdown_table(timings, baseline="cstool score --output", input_bytes=csv_size),
        "",
        f"- export ÷ score --output: **{speed:.2f}** (target ≤ {TARGET_VS_SCORE:g}: "
        f"{verdict(speed, TARGET_VS_SCORE)}); by CPU time {cpu_speed:.2f}, less moved by "
        "other load on a shared machine",
        f"- report.html: **{html / 1e6:.2f} MB** (target < {TARGET_HTML_BYTES / 1e6:g} MB: "
        f"{verdict(html, TARGET_HTML_BYTES)})",
        f"- store growth per snapshot: **{growth / 1e6:.1f} MB = {growth / csv_size:.2f}× the "
        f"CSV** (target ≤ {TARGET_GROWTH_X_CSV:g}×: "
        f"{verdict(growth / csv_size, TARGET_GROWTH_X_CSV)}); {SNAPSHOTS} snapshots: "
        f"{sizes[-1] / 1e6:.0f} MB",
        f"- `cstool snapshot` per date: median {statistics.median(snapshot_seconds):.2f} s",
        f"- first export after the {SNAPSHOTS} snapshots, which computes their KPIs once and "
        f"caches them in the store: {cold:.2f} s, peak {cold_peak / 2**20:.0f} MiB",
        "- files written: "
        + ", ".join(f"{p.name} ({p.stat().st_size / 1e3:,.0f} kB)" for p in files),
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        update_results("export", body)


if __name__ == "__main__":
    main()
