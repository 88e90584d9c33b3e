"""The installed `cstool` as a real process: example data, a real store file, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, EXAMPLE


def cstool_command() -> list[str]:
    script = Path(sys.executable).parent / "cstool"
    if script.exists():
        return [str(script)]
    found = shutil.which("cstool")
    return [found] if found else [sys.executable, "-m", "cstool"]


def cstool(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **(env or {})}
    return subprocess.run(
        [*cstool_command(), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=120,
        check=False,
    )


def test_help_imports_nothing_heavy() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cstool", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "cstool.cli" in imported  # the listing is real
    heavy = {"pandas", "numpy", "pyarrow", "matplotlib"} & imported
    assert not heavy, heavy
    assert "score" in result.stdout


def test_score_example_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "scored.csv"
    result = cstool("score", str(EXAMPLE), "--output", str(out), "--as-of", "2026-11-23")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == (
        f"wrote 200 customers to {out} (mean satisfaction 64.6, mean health 64.4; "
        "54 red, 68 yellow, 78 green)\n"
    )
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 201
    assert lines[0].startswith("Customer_ID,Name,Email")


def test_json_on_stdout_messages_on_stderr(tmp_path: Path) -> None:
    rejects = tmp_path / "bad.csv"
    result = cstool(
        "score",
        str(DATA / "bad_rows.csv"),
        "--format",
        "json",
        "--skip-invalid",
        "--rejects",
        str(rejects),
        "--as-of",
        "2026-11-23",
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 6  # stdout is data alone (bad optional cells blanked)
    assert result.stderr.startswith(
        f"left out 5 invalid rows of {DATA / 'bad_rows.csv'}; written to {rejects}\n"
    )
    rejected = rejects.read_text(encoding="utf-8").splitlines()
    assert rejected[0].endswith(",reason") and len(rejected) == 6  # the header and the 5 rows
    assert rejected[1] == "X1,ok@example.com,eight,7,6,100,2026-01-05,9,0," + (
        "Value_Delivery: expected a number from 0 to 10"
    )


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("bad_rows.csv", 1, "10 problems in 9 rows"),
        ("empty.csv", 1, "the file is empty (no header, no rows)"),
        ("nul_byte.csv", 1, "line 3 contains a NUL byte"),
        ("latin1.csv", 1, "byte 71 (line 2, byte 0xe9) is neither UTF-8 nor GB18030 nor Big5"),
    ],
)
def test_exit_codes_and_no_traceback(name: str, code: int, message: str) -> None:
    result = cstool("validate", str(DATA / name))
    assert result.returncode == code
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert result.stderr.startswith(f"error: {DATA / name}: {message}"), result.stderr


def test_python_m_cstool_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cstool", "validate", str(EXAMPLE), "--as-of", "2026-11-23"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"ok: {EXAMPLE}: 200 customers, 15 columns (utf-8, comma-separated); "
        "config: built-in defaults (no cstool.toml)\n"
    )


def test_workspace_config_and_store_file(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "customer_data.csv")
    (tmp_path / "cstool.toml").write_text('customers = "customer_data.csv"\n')
    logged = cstool(
        "log",
        "C1001",
        "--note",
        "called",
        "--date",
        "2026-11-22",
        "--as-of",
        "2026-11-23",
        cwd=tmp_path,
    )
    assert logged.returncode == 0, logged.stderr
    assert logged.stderr == "logged other with C1001 (Zack Moreau) on 2026-11-22\n"
    db = tmp_path / ".cstool" / "cstool.db"
    assert db.exists()
    assert (db.stat().st_mode & 0o777) == 0o600
    explained = cstool("explain", "C1001", "--as-of", "2026-11-23", cwd=tmp_path)
    assert explained.returncode == 0, explained.stderr
    # The logged touch counts as the last touch (the file says 2026-07-26: 120 days ago).
    recency = next(line for line in explained.stdout.splitlines() if "│ recency " in line)
    cells = [cell.strip() for cell in recency.strip().strip("│").split("│")]
    assert cells == ["recency", "1 day ago (≤ 30 is full marks)", "100.0", "0.20", "0.20", "20.00"]
