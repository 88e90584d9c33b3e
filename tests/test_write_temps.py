"""Temp files a killed write left behind are cleaned up; two outputs never share a file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cstool.cli import app
from cstool.errors import UsageError
from cstool.write import distinct_outputs, remove_stale_temps, write_text
from tests.conftest import EXAMPLE


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temp_of_a_dead_writer_is_removed_on_the_next_write(tmp_path: Path) -> None:
    dead = tmp_path / f".out.csv.{_dead_pid()}.abcd1234.tmp"
    dead.write_text("half a file", encoding="utf-8")
    live = tmp_path / f".out.csv.{os.getpid()}.efgh5678.tmp"  # a writer still at work
    live.write_text("being written", encoding="utf-8")
    os.utime(live, (time.time(), time.time()))  # fresh by this process's clock (faketime moves it)
    write_text(tmp_path / "other.csv", "a,b\n")
    assert not dead.exists()
    assert live.exists()
    assert (tmp_path / "other.csv").read_text(encoding="utf-8") == "a,b\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "other.csv"])


def test_old_temps_go_recent_ones_without_a_pid_stay(tmp_path: Path) -> None:
    old = tmp_path / ".report.html.k2j4h5g6.tmp"  # the older name, without a pid
    old.write_text("x", encoding="utf-8")
    ten_minutes_ago = time.time() - 600
    os.utime(old, (ten_minutes_ago, ten_minutes_ago))
    recent = tmp_path / ".report.html.a1b2c3d4.tmp"
    recent.write_text("x", encoding="utf-8")
    os.utime(recent, (time.time(), time.time()))  # fresh by this process's clock
    mine = tmp_path / ".notes.tmp"  # not one of ours: the name has no random part
    mine.write_text("x", encoding="utf-8")
    os.utime(mine, (ten_minutes_ago, ten_minutes_ago))
    assert remove_stale_temps(tmp_path) == [old]
    assert recent.exists() and mine.exists()


def test_a_slow_live_writer_keeps_its_temp_file(tmp_path: Path) -> None:
    stalled = tmp_path / f".out.csv.{os.getpid()}.abcd1234.tmp"  # alive, silent for 10 min
    stalled.write_text("still being written", encoding="utf-8")
    ten_minutes_ago = time.time() - 600
    os.utime(stalled, (ten_minutes_ago, ten_minutes_ago))
    assert remove_stale_temps(tmp_path) == []
    assert stalled.read_text(encoding="utf-8") == "still being written"
    two_days_ago = time.time() - 2 * 24 * 3600  # the pid was reused long after a crash
    os.utime(stalled, (two_days_ago, two_days_ago))
    assert remove_stale_temps(tmp_path) == [stalled]


def test_the_temp_name_carries_the_writers_pid(tmp_path: Path) -> None:
    from cstool.write import atomic

    target = tmp_path / "out.csv"
    with atomic(target) as handle:
        handle.write(b"x")
        (temp,) = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert temp.name.startswith(f".out.csv.{os.getpid()}.")
    assert target.read_bytes() == b"x"


def test_rejects_and_output_on_one_path_is_a_usage_error(tmp_path: Path) -> None:
    same = tmp_path / "out.csv"
    with pytest.raises(UsageError, match="--output and --rejects"):
        distinct_outputs({"--output": same, "--rejects": tmp_path / "." / "out.csv"})
    result = CliRunner().invoke(
        app,
        ["score", str(EXAMPLE), "--skip-invalid", "--rejects", str(same), "-o", str(same)],
    )
    assert result.exit_code == 2
    assert "both name" in result.output
    assert not same.exists()
