"""Benchmark drafting 10,000 follow-ups into an outbox vs `cstool followups -f csv` of them.

    python benchmarks/bench_drafts.py                 # 20,000 customers, 10,000 drafts, 3 runs
    python benchmarks/bench_drafts.py --rows 50000 --drafts 20000 --no-write

Both commands run in fresh processes on the same generated file and as-of date:

- `cstool followups FILE --due +60d --limit N -f csv -o OUT.csv` (the baseline);
- this script's `--outbox FILE DIR N`: the same pipeline and follow-ups (`pipeline.run`,
  `due_followups`), then `draft_messages` and `write_outbox` (one `.eml` per follow-up,
  each written atomically). `followups --drafts DIR` is wired by someone else; this is
  the work it will do. Target: ≤ 3×.

It also checks that two outbox runs give the same bytes. Writes the `## drafts` section of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from datetime import date
from pathlib import Path

AS_OF = "2026-11-23"
DUE = "+60d"  # every generated customer's cadence comes within 60 days
TARGET = 3.0


def outbox(file: Path, folder: Path, count: int) -> None:
    """Draft the first `count` follow-ups due by DUE into `folder` (what the timed run does)."""
    from cstool import pipeline
    from cstool.drafts import draft_messages
    from cstool.followup import due_until
    from cstool.render.eml import write_outbox

    day = date.fromisoformat(AS_OF)
    result = pipeline.run(file, day)
    from cstool.followup import due_followups

    due = due_followups(
        result.frame,
        result.workspace.settings,
        day,
        due_until(DUE, day),
        result.logged,
        result.snoozes,
        limit=count,
    )
    drafts = draft_messages(due, result.frame, result.workspace.settings, day)
    paths = write_outbox(drafts, folder)
    print(f"{len(paths)} drafts in {folder}", file=sys.stderr)


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
    parser.add_argument("--outbox", nargs=3, metavar=("FILE", "DIR", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.outbox:
        outbox(Path(args.outbox[0]), Path(args.outbox[1]), int(args.outbox[2]))
        return

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
    runs = compare(
        {
            "cstool followups -f csv": [
                *cstool_argv(),
                "followups",
                str(data),
                "--due",
                DUE,
                "--limit",
                n,
                "--format",
                "csv",
                "--output",
                str(csv_out),
                *common,
            ],
            "draft outbox (.eml)": [
                sys.executable,
                str(Path(__file__).resolve()),
                "--outbox",
                str(data),
                str(folders[0]),
                n,
            ],
        },
        runs=args.runs,
    )
    outbox(data, folders[1], args.drafts)
    same = digest(folders[0]) == digest(folders[1])
    count = sum(1 for _ in folders[0].iterdir())
    value = ratio(runs, "draft outbox (.eml)", "cstool followups -f csv")
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
            "after one warm-up, medians. Both processes load, score and segment the file "
            "and find the follow-ups; one writes them as CSV, the other drafts each from "
            "its template (sandboxed Jinja2) and writes one `.eml` per follow-up atomically.",
            "",
            markdown_table(runs, baseline="cstool followups -f csv"),
            "",
            f"- outbox ÷ `followups -f csv`: **{value:.2f}** (target ≤ {TARGET:g}: {verdict})",
            f"- two outbox runs: {'identical bytes' if same else '**different bytes**'}",
        ]
    )
    print(body)
    if not args.no_write:
        update_results("drafts", body)


if __name__ == "__main__":
    main()
