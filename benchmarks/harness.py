"""Benchmark helpers: time commands in fresh processes, pair them, write ratio tables.

Use from a script in benchmarks/ (run as `python benchmarks/xxx.py`, so this folder is on
sys.path):

    from harness import compare, dataset, markdown_table, update_results
    data = dataset(1_000_000)                       # generated once into benchmarks/data/
    timings = compare({"duckdb": [...], "cstool": [...]}, runs=3)
    print(markdown_table(timings, baseline="duckdb", input_bytes=data.stat().st_size))

Wall time is measured around each process; peak memory is its maximum resident set
size from `os.wait4` (its largest waited-for descendant counts too), so each run is
measured on its own, with no extra tool and no new dependency. Machines are shared and noisy:
commands are interleaved (A B C, A B C, …) and compared by ratios of medians from one run.
"""

from __future__ import annotations

import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "RESULTS.md"

Command = str | Sequence[str]


class CommandFailed(RuntimeError):
    """A benchmarked command exited with a non-zero code."""


@dataclass
class Timing:
    """Every run of one command: wall seconds, CPU seconds and peak resident memory in bytes."""

    name: str
    argv: list[str]
    seconds: list[float] = field(default_factory=list)
    peak_bytes: list[int] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        """Median wall time in seconds."""
        return statistics.median(self.seconds)

    @property
    def median_cpu_s(self) -> float:
        """Median CPU time (user + system, all threads) in seconds."""
        return statistics.median(self.cpu_seconds)

    @property
    def peak_mib(self) -> float:
        """Largest peak RSS over the runs, in MiB."""
        return max(self.peak_bytes) / 2**20

    @property
    def command_line(self) -> str:
        """The command as a shell would show it."""
        return shlex.join(self.argv)


def _argv(command: Command) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def _maxrss_bytes(ru_maxrss: int) -> int:
    # Linux reports kilobytes, macOS bytes.
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


# Linux carries a process's peak RSS across fork and exec: a child forked straight from
# this (numpy-laden) process would report at least our own size. So each command is
# started from a small interpreter that does nothing else; its ~10 MiB is the floor of
# what can be measured. Wall time is taken inside it, so its start-up is not counted.
_WRAPPER = r"""
import os, sys, time
result, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        print(f"cannot run {argv[0]}: {exc}", file=sys.stderr)
    os._exit(127)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - start
with open(result, "w") as handle:
    handle.write(f"{elapsed} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(
    command: Command,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[float, int, float]:
    """Run a command once in a fresh process; return (wall s, peak RSS bytes, CPU s).

    stdout is discarded; stderr is kept and shown if the command fails.
    """
    argv = _argv(command)
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result"
        with (Path(tmp) / "stderr").open("w+b") as stderr:
            code = subprocess.call(
                [sys.executable, "-I", "-S", "-c", _WRAPPER, str(result), *argv],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=full_env,
                cwd=cwd,
            )
            if code != 0:
                stderr.seek(0)
                tail = stderr.read().decode("utf-8", "replace")[-2000:]
                raise CommandFailed(f"{shlex.join(argv)} exited {code}:\n{tail}")
        elapsed, maxrss, cpu = result.read_text().split()
    return float(elapsed), _maxrss_bytes(int(maxrss)), float(cpu)


def run_once(
    command: Command,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[float, int]:
    """Run a command once in a fresh process; return (wall seconds, peak RSS bytes)."""
    seconds, peak, _ = run_measured(command, env=env, cwd=cwd)
    return seconds, peak


def time_command(
    command: Command,
    *,
    runs: int = 3,
    warmup: int = 1,
    name: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Timing:
    """Run one command `warmup` + `runs` times, each in a fresh process."""
    return compare({name or shlex.join(_argv(command)): command}, runs=runs, warmup=warmup,
                   env=env, cwd=cwd)[0]  # fmt: skip


def compile_bytecode(package: str = "cstool") -> Path | None:
    """Byte-compile the package the commands import (its folder), once, before timing.

    An install compiles it (pip writes the .pyc files of a regular install; Python writes
    them on the first run of an editable one). With PYTHONDONTWRITEBYTECODE set, as on
    these machines, an editable install would compile every module on every run instead:
    ~0.1 s that no user pays. Returns the folder compiled (None: not found).
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    compileall.compile_dir(folder, quiet=1)
    return folder


def compare(
    commands: Mapping[str, Command],
    *,
    runs: int = 3,
    warmup: int = 1,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    progress: bool = True,
) -> list[Timing]:
    """Run the commands interleaved (A B C, A B C, …) so that noise hits them alike.

    `warmup` rounds are run first and not counted (page cache, .pyc files).
    Progress goes to stderr. Returns one Timing per command, in the given order.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    compile_bytecode()
    timings = [Timing(name, _argv(cmd)) for name, cmd in commands.items()]
    for round_no in range(warmup + runs):
        counted = round_no >= warmup
        for timing in timings:
            seconds, peak, cpu = run_measured(timing.argv, env=env, cwd=cwd)
            if counted:
                timing.seconds.append(seconds)
                timing.peak_bytes.append(peak)
                timing.cpu_seconds.append(cpu)
            if progress:
                label = f"run {round_no - warmup + 1}/{runs}" if counted else "warm-up"
                print(
                    f"  {label:<10} {timing.name:<28} {seconds:8.3f} s  "
                    f"(CPU {cpu:7.3f} s) {peak / 2**20:7.0f} MiB",
                    file=sys.stderr,
                )
    return timings


def markdown_table(
    timings: Sequence[Timing],
    *,
    baseline: str,
    input_bytes: int | None = None,
) -> str:
    """A markdown table: median wall and CPU seconds, ratio of wall medians to `baseline`,
    peak MiB (and peak ÷ input size)."""
    base = next((t for t in timings if t.name == baseline), None)
    if base is None:
        raise ValueError(f"baseline {baseline!r} is not among {[t.name for t in timings]}")
    header = f"| command | median s | ÷ {baseline} | CPU s | peak MiB |"
    rule = "|---|---:|---:|---:|---:|"
    if input_bytes:
        header += " peak ÷ file size |"
        rule += "---:|"
    lines = [header, rule]
    for t in timings:
        row = (
            f"| {t.name} | {t.median_s:.3f} | {t.median_s / base.median_s:.2f} "
            f"| {t.median_cpu_s:.3f} | {t.peak_mib:.0f} |"
        )
        if input_bytes:
            row += f" {max(t.peak_bytes) / input_bytes:.2f} |"
        lines.append(row)
    return "\n".join(lines)


def ratio(timings: Sequence[Timing], name: str, baseline: str) -> float:
    """Median of `name` divided by median of `baseline`."""
    by_name = {t.name: t for t in timings}
    return by_name[name].median_s / by_name[baseline].median_s


def machine_line() -> str:
    """One line describing where the figures were measured (no date: keep diffs quiet)."""
    import importlib.metadata as md

    versions = []
    for package in ("pandas", "pyarrow", "duckdb", "typer"):
        try:
            versions.append(f"{package} {md.version(package)}")
        except md.PackageNotFoundError:
            continue
    cores = os.cpu_count() or 0
    return (
        f"{platform.system()} {platform.machine()}, {cores} cores, "
        f"Python {platform.python_version()}, " + ", ".join(versions)
    )


def dataset(rows: int, seed: int = 1) -> Path:
    """A generated customer file with `rows` rows in benchmarks/data/ (made once, reused)."""
    from generate import write_customers

    path = DATA / f"customers_{rows}_seed{seed}.csv"
    if not path.exists():
        print(f"generating {path} …", file=sys.stderr)
        write_customers(rows, path, seed)
    return path


def update_results(section: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or append) the `## <section>` part of RESULTS.md, leaving other sections alone."""
    heading = f"## {section}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    new_part = [heading, "", *body.strip("\n").splitlines(), ""]
    if start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += ["", *new_part]
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        lines[start:end] = new_part
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    tmp.replace(path)
