"""Shared fixtures: the test data folder, the example file, default settings."""

from __future__ import annotations

import select
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from cstool.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
EXAMPLE = ROOT / "examples" / "customer_data.csv"
AS_OF = date(2026, 11, 23)


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own cstool.toml or store."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.chdir(home)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.delenv("CSTOOL_DB", raising=False)
    monkeypatch.delenv("CSTOOL_CONFIG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")


def start_together(procs: list[subprocess.Popen[str]], *, timeout: float) -> None:
    """A barrier for child processes: wait (with `select`, at most `timeout` seconds) until each
    has printed "ready" on its stdout, then write "go" to every stdin at once (`communicate()`
    closes them later)."""
    deadline = time.monotonic() + timeout
    for proc in procs:
        assert proc.stdout is not None and proc.stdin is not None
        left = deadline - time.monotonic()
        readable, _, _ = select.select([proc.stdout], [], [], max(left, 0))
        assert readable, f"child {proc.args!r} not ready after {timeout} s"
        line = proc.stdout.readline()
        assert line == "ready\n", (line, proc.stderr.read() if proc.stderr else "")
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
