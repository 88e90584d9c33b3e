"""Benchmark `cstool score FILE --output OUT.csv` against DuckDB and pandas, and `--help` start-up.

    python benchmarks/bench_score.py                 # 1M rows, 3 interleaved runs each
    python benchmarks/bench_score.py --rows 100000 --runs 5 --no-write

Generates (once) a customer file in benchmarks/data/ (gitignored), runs the three
commands interleaved, checks that cstool computed the same satisfaction as DuckDB, and
writes the `## score` section of benchmarks/RESULTS.md. Targets: cstool ≤ 2× DuckDB,
peak memory ≤ 6× the file size, `cstool --help` ≤ 1.5× a two-command Typer app.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from harness import (
    DATA,
    HERE,
    CommandFailed,
    Timing,
    compare,
    dataset,
    machine_line,
    markdown_table,
    ratio,
    run_once,
    update_results,
)

AS_OF = "2026-11-23"
TARGET_VS_DUCKDB = 2.0
TARGET_MEMORY_X_FILE = 6.0
TARGET_HELP = 1.5
TARGET_VALIDATION_SHARE = 0.5


def cstool_argv() -> list[str]:
    """The installed `cstool` console script, else `python -m cstool`."""
    beside = Path(sys.executable).with_name("cstool")
    exe = str(beside) if beside.is_file() else shutil.which("cstool")
    return [exe] if exe else [sys.executable, "-m", "cstool"]


def score_commands(data: Path, out: Path, with_cstool: bool) -> dict[str, list[str]]:
    """The commands to compare, each writing its own output file."""
    py = sys.executable
    commands = {
        "duckdb COPY": [py, str(HERE / "baseline_duckdb.py"), str(data), str(out / "duckdb.csv")],
        "pandas (C parser, to_csv)": [
            py,
            str(HERE / "baseline_pandas.py"),
            str(data),
            str(out / "pandas.csv"),
        ],
    }
    if with_cstool:
        commands["cstool score --output"] = [
            *cstool_argv(),
            "score",
            str(data),
            "--output",
            str(out / "cstool.csv"),
            "--as-of",
            AS_OF,
        ]
    return commands


def cstool_can_score() -> str | None:
    """None if `cstool score` runs on the example file, else why not."""
    example = HERE.parent / "examples" / "customer_data.csv"
    out = DATA / "out" / "probe.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        run_once([*cstool_argv(), "score", str(example), "--output", str(out), "--as-of", AS_OF])
    except (CommandFailed, OSError) as exc:
        return str(exc).splitlines()[0]
    return None


def same_satisfaction(ours: Path, reference: Path) -> float:
    """Largest absolute difference of the satisfaction column between two outputs."""
    import numpy as np
    import pyarrow.csv as pacsv

    def column(path: Path) -> np.ndarray:
        options = pacsv.ConvertOptions(include_columns=["satisfaction"])
        table = pacsv.read_csv(path, convert_options=options)
        return np.asarray(table.column("satisfaction").to_numpy(), dtype=float)

    a, b = column(ours), column(reference)
    if a.shape != b.shape:
        raise SystemExit(f"{ours}: {a.size} rows, but {reference}: {b.size}")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def step_seconds(data: Path, runs: int) -> dict[str, float]:
    """Median wall seconds of each step of `score --output`, from benchmarks/profile_score.py."""
    import statistics
    import subprocess

    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, str(HERE / "profile_score.py"), str(data)],
            capture_output=True,
            text=True,
            check=True,
        )
        for line in result.stdout.splitlines():
            fields = line.split()  # "<step> wall <s> s   cpu <s> s   page faults <n>"
            if len(fields) >= 3 and fields[1] == "wall":
                samples.setdefault(fields[0], []).append(float(fields[2]))
    return {step: statistics.median(values) for step, values in samples.items()}


def steps_report(steps: dict[str, float], runs: int) -> list[str]:
    """Where the time goes, and what validating every cell adds to the rest of the run."""
    total = sum(steps.values())
    rest = total - steps.get("validate", 0.0)
    share = steps.get("validate", 0.0) / rest if rest else 0.0
    rows = " · ".join(f"{step} {seconds:.2f}" for step, seconds in steps.items())
    return [
        "",
        f"Where the time goes, one process (`python benchmarks/profile_score.py FILE`, median "
        f"wall seconds of {runs} runs; `write` includes the fsync): {rows}; sum {total:.2f}.",
        "",
        f"- validating every cell adds **{share:.0%}** to the rest of the run "
        f"(target ≤ {TARGET_VALIDATION_SHARE:.0%}: {verdict(share, TARGET_VALIDATION_SHARE)})",
    ]


def help_commands() -> dict[str, list[str]]:
    """`--help` of a two-command Typer app and of cstool."""
    return {
        "two-command Typer app --help": [sys.executable, str(HERE / "tiny_app.py"), "--help"],
        "cstool --help": [*cstool_argv(), "--help"],
    }


def verdict(value: float, target: float) -> str:
    """Whether a value meets its ≤ target, in words."""
    return "meets" if value <= target else "**misses**"


def report(
    rows: int,
    data: Path,
    score: list[Timing],
    startup: list[Timing] | None,
    max_diff: float | None,
    reproduce: str,
    note: str | None,
    load: str = "",
    steps: dict[str, float] | None = None,
) -> str:
    """The markdown body of the `## score` section."""
    size = data.stat().st_size
    lines = [
        f"`{reproduce}` — {machine_line()}.",
        f"Input: {rows:,} generated customers, {size / 1e6:.1f} MB "
        f"(`benchmarks/generate.py {rows} OUT.csv --seed 1`); "
        f"{len(score[0].seconds)} interleaved runs per command after one warm-up, medians"
        + (f"; {load}." if load else ".")
        + " Wall-time ratios are only trustworthy when the load is below the core count;"
        " CPU s (user + system, all threads) is steadier on a busy machine.",
        "",
        markdown_table(score, baseline="duckdb COPY", input_bytes=size),
        "",
    ]
    names = {t.name: t for t in score}
    if "cstool score --output" in names:
        cstool = names["cstool score --output"]
        speed = ratio(score, "cstool score --output", "duckdb COPY")
        memory = max(cstool.peak_bytes) / size
        lines += [
            f"- cstool ÷ DuckDB: **{speed:.2f}** (target ≤ {TARGET_VS_DUCKDB:g}: "
            f"{verdict(speed, TARGET_VS_DUCKDB)})",
            f"- cstool peak memory ÷ file size: **{memory:.2f}** "
            f"(target ≤ {TARGET_MEMORY_X_FILE:g}: {verdict(memory, TARGET_MEMORY_X_FILE)})",
        ]
        if max_diff is not None:
            lines.append(f"- satisfaction, cstool vs DuckDB: largest difference {max_diff:.2g}")
    if note:
        lines.append(f"- {note}")
    if steps:
        lines += steps_report(steps, len(score[0].seconds))
    if startup is None:
        lines += ["", "Start-up: `cstool --help` failed, not measured."]
        return "\n".join(lines)
    help_ratio = ratio(startup, "cstool --help", "two-command Typer app --help")
    lines += [
        "",
        f"Start-up, {len(startup[0].seconds)} interleaved runs each:",
        "",
        markdown_table(startup, baseline="two-command Typer app --help"),
        "",
        f"- `cstool --help` ÷ two-command Typer app: **{help_ratio:.2f}** "
        f"(target ≤ {TARGET_HELP:g}: {verdict(help_ratio, TARGET_HELP)})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and (unless --no-write) update RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--help-runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-cstool", action="store_true", help="baselines only")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    data = dataset(args.rows, args.seed)
    out = DATA / "out"
    out.mkdir(parents=True, exist_ok=True)
    note = None
    with_cstool = not args.no_cstool
    if with_cstool and (why := cstool_can_score()) is not None:
        note = f"cstool score not measured: {why}"
        print(note, file=sys.stderr)
        with_cstool = False

    print(f"score: {data} ({data.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    score = compare(score_commands(data, out, with_cstool), runs=args.runs)
    max_diff = same_satisfaction(out / "cstool.csv", out / "duckdb.csv") if with_cstool else None
    steps = step_seconds(data, args.runs) if with_cstool else None
    print("start-up:", file=sys.stderr)
    try:
        startup = compare(help_commands(), runs=args.help_runs, warmup=2)
    except CommandFailed as exc:
        startup = None
        print(f"cstool --help not measured: {str(exc).splitlines()[0]}", file=sys.stderr)

    reproduce = "python benchmarks/bench_score.py" + (
        f" --rows {args.rows}" if args.rows != 1_000_000 else ""
    )
    load = f"1-minute load average {load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after"
    body = report(args.rows, data, score, startup, max_diff, reproduce, note, load, steps)
    print(body)
    if not args.no_write:
        update_results("score", body)


if __name__ == "__main__":
    main()
