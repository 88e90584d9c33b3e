"""Same inputs, same bytes, across processes: each run is a fresh `python -m cstool` with its own
hash seed, so nothing may depend on set or dict order, object ids, the clock or the process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cstool.cli.report import EXPORT_FILES
from tests.conftest import EXAMPLE

AS_OF = "2026-11-23"


def twice(*args: str, cwd: list[Path]) -> list[subprocess.CompletedProcess[bytes]]:
    """Run `cstool ARGS` in two processes at once, in two folders, with different hash seeds."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cstool", *args],
            cwd=folder,
            env={**os.environ, "PYTHONHASHSEED": str(seed), "NO_COLOR": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed, folder in zip((1, 2), cwd, strict=True)
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


@pytest.fixture
def folders(tmp_path: Path) -> list[Path]:
    """Two workspaces with the same customer file and config, each with its own store."""
    made = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(EXAMPLE, folder / "customer_data.csv")
        (folder / "cstool.toml").write_text('customers = "customer_data.csv"\n')
        made.append(folder)
    return made


@pytest.mark.slow
def test_score_json_is_the_same_bytes_in_two_processes(folders: list[Path]) -> None:
    first, second = twice("score", "--format", "json", "--as-of", AS_OF, cwd=folders)
    assert first.stdout.startswith(b'[{"customer_id":') and len(first.stdout) > 10_000
    assert first.stdout == second.stdout


@pytest.mark.slow
def test_followups_ics_is_the_same_bytes_in_two_processes(folders: list[Path]) -> None:
    # A logged touch and a snooze, so the store takes part in the plan.
    twice("log", "C1004", "--note", "call", "--date", "2026-11-20", "--as-of", AS_OF, cwd=folders)
    twice("snooze", "C1017", "--until", "2026-11-30", "--as-of", AS_OF, cwd=folders)
    first, second = twice(
        "followups", "--as-of", AS_OF, "--due", "week", "--format", "ics", cwd=folders
    )
    assert first.stdout.startswith(b"BEGIN:VCALENDAR\r\n")
    assert first.stdout.count(b"BEGIN:VEVENT") > 10
    assert first.stdout == second.stdout


@pytest.mark.slow
def test_export_is_the_same_bytes_in_two_processes(folders: list[Path]) -> None:
    twice("snapshot", "--as-of", "2026-10-31", cwd=folders)  # something to compare with
    twice("export", "--out", "out", "--as-of", AS_OF, cwd=folders)
    a, b = (folder / "out" for folder in folders)
    assert sorted(p.name for p in a.iterdir()) == sorted([*EXPORT_FILES, "drafts"])
    for name in EXPORT_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
        assert (a / name).stat().st_size > 0, name
    drafts = sorted(p.name for p in (a / "drafts").iterdir())
    assert drafts and drafts == sorted(p.name for p in (b / "drafts").iterdir())
    for name in drafts:
        assert (a / "drafts" / name).read_bytes() == (b / "drafts" / name).read_bytes(), name
