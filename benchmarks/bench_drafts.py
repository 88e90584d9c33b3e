"""Benchmark drafting 10,000 follow-ups into an outbox vs `cstool followups -f csv` of them.

    python benchmarks/bench_drafts.py                 # 20,000 customers, 10,000 drafts, 3 runs
    python benchmarks/bench_drafts.py --rows 5000 --drafts 2000 --runs 1 --no-write

Both commands run in fresh processes on the same generated file and as-of date:

- `cstool followups FILE --due +60d --limit N -f csv -o OUT.csv` (the baseline);
- the same command with `--drafts DIR`: the same follow-ups and CSV, plus one `.eml` per
  follow-up drafted from its template (sandboxed Jinja2). Each run drafts into a new,
  empty folder (an unchanged file is left alone on a rerun, which would flatter us).
  Target: <= 3x.

It also checks that two outbox runs give the same bytes.

On a file system without a journal (ext4 here), creating a file skips every inode freed in
the last 1-6 minutes, one by one: creating 10,000 files took 0.33 s of CPU, 3.2 s two seconds
after deleting 40,000 files, 1.7 s a minute after. So a run soon after a mass delete (this
script's own clean-up of the last run's 40,000 files, another suite's tmp folders) measures
the disk, not cstool: compare CPU seconds and rerun after a quiet few minutes.

Writes the `## drafts` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
import shutil
import subprocess
from pathlib import Path

AS_OF = "2026-11-23"
DUE = "+60d"  # every generated customer's cadence comes within 60 days
TARGET = 3.0


def digest(folder: Path) -> str:
    """One hash over every file name and its bytes."""
    h = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and (unless --no-write) update RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--drafts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)

    from bench_followups import cstool_argv
    from harness import DATA, compare, dataset, machine_line, markdown_table, ratio, update_results

    data = dataset(args.rows)
    out = DATA / "out" / "drafts"
    out.mkdir(parents=True, exist_ok=True)
    csv_out = out / "followups.csv"
    folders = [out / "outbox_a", out / "outbox_b"]
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    common = ["--as-of", AS_OF, "--db", str(out / "none.db")]
    n = str(args.drafts)
    followups = [*cstool_argv(), "followups", str(data), "--due", DUE, "--limit", n]
    followups += ["--format", "csv", *common]
    runs_folder = out / "runs"
    shutil.rmtree(runs_folder, ignore_errors=True)
    runs_folder.mkdir()
    # a new empty outbox per run: mktemp -d, then the real command
    fresh = shlex.join([*followups, "--output", str(out / "with_drafts.csv"), "--drafts"])
    drafting = ["sh", "-c", f'exec {fresh} "$(mktemp -d {shlex.quote(str(runs_folder))}/o.XXXXXX)"']
    runs = compare(
        {
            "cstool followups -f csv": [*followups, "--output", str(csv_out)],
            "followups -f csv --drafts DIR": drafting,
        },
        runs=args.runs,
    )
    shutil.rmtree(runs_folder, ignore_errors=True)
    for folder in folders:
        subprocess.run([*followups, "--output", str(csv_out), "--drafts", str(folder)], check=True)
    same = digest(folders[0]) == digest(folders[1])
    count = sum(1 for _ in folders[0].iterdir())
    value = ratio(runs, "followups -f csv --drafts DIR", "cstool followups -f csv")
    reproduce = "python benchmarks/bench_drafts.py" + (
        f" --rows {args.rows} --drafts {args.drafts}"
        if (args.rows, args.drafts) != (20_000, 10_000)
        else ""
    )
    verdict = "meets" if value <= TARGET else "**misses**"
    body = "\n".join(
        [
            f"`{reproduce}` — {machine_line()}.",
            f"Input: {args.rows:,} generated customers; the first {args.drafts:,} follow-ups "
            f"due by {DUE} ({count:,} files in the outbox); {args.runs} interleaved runs "
            "after one warm-up, medians. Both commands load, score and segment the file, "
            "find the follow-ups and write them as CSV; the second also drafts each from "
            "its template (sandboxed Jinja2) and writes one `.eml` per follow-up into a new "
            "folder (staged beside it, synced, swapped in with one rename).",
            "",
            markdown_table(runs, baseline="cstool followups -f csv"),
            "",
            f"- `--drafts` ÷ `followups -f csv`: **{value:.2f}** (target ≤ {TARGET:g}: {verdict})",
            f"- two outbox runs: {'identical bytes' if same else '**different bytes**'}",
        ]
    )
    print(body)
    if not args.no_write:
        update_results("drafts", body)


if __name__ == "__main__":
    main()
