"""Regression tests from the fault-injection run: each asserts the exit code, the message and
the values (issue "Hardening")."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cstool.cli import app
from cstool.config import Settings, settings_from_dict
from cstool.errors import ConfigError
from tests.conftest import EXAMPLE

runner = CliRunner()
AS_OF = "2026-11-23"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


# ------------------------------------------------------------------ 3. non-finite settings
@pytest.mark.parametrize(
    ("config", "key", "expected"),
    [
        ({"scale": {"max": True}}, "scale.max", "valid number"),
        ({"scale": {"max": float("inf")}}, "scale.max", "finite number"),
        ({"weights": {"value_delivery": float("nan")}}, "weights.value_delivery", "finite"),
        ({"health": {"weights": {"recency": float("nan")}}}, "health.weights.recency", "finite"),
        ({"health": {"expected_interval_days": True}}, "health.expected_interval_days", "integer"),
        ({"weights": {"value_delivery": "0.5"}}, "weights.value_delivery", "valid number"),
        (
            {"goals": [{"metric": "nps", "target": float("inf"), "deadline": "2027-01-01"}]},
            "goals.0.target",
            "finite",
        ),
        (
            {
                "goals": [
                    {
                        "metric": "nps",
                        "target": 10,
                        "deadline": "2027-01-01",
                        "baseline": float("nan"),
                    }
                ]
            },
            "goals.0.baseline",
            "finite",
        ),
    ],
)
def test_settings_are_strict_and_finite(config: dict[str, object], key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_dict(config)
    assert f"key {key!r}" in err.value.message and expected in err.value.message


def test_a_goal_deadline_may_be_written_as_text() -> None:
    settings = settings_from_dict(
        {"goals": [{"metric": "nps", "target": 10, "deadline": "2027-06-30"}]}
    )
    assert settings.goals[0].deadline.isoformat() == "2027-06-30"


def test_huge_weights_do_not_overflow() -> None:
    settings = settings_from_dict(
        {"weights": {"value_delivery": 1e308, "issue_resolution": 1e308, "growth_strategy": 1e308}}
    )
    weights = settings.weights.normalised()
    assert weights == pytest.approx({k: 1 / 3 for k in weights})


def test_validate_refuses_a_non_finite_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cstool.toml").write_text("[health.weights]\nrecency = nan\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run("validate", str(EXAMPLE))
    assert code == 2
    assert "health.weights.recency" in err and "finite number (got nan)" in err


# ------------------------------------------------------------------ 8. configs that crashed
def test_deeply_nested_toml_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cstool.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run("score", str(EXAMPLE), "--as-of", AS_OF)
    assert code == 2 and "nested too deeply" in err and "Traceback" not in out + err


# ------------------------------------------------------------------ 10. cstool.toml not a file
@pytest.mark.parametrize("kind", ["folder", "fifo", "dangling symlink"])
def test_a_config_that_is_not_a_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    target = tmp_path / "cstool.toml"
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to(tmp_path / "gone.toml")
    monkeypatch.chdir(tmp_path)
    code, _, err = run("score", str(EXAMPLE), "--as-of", AS_OF, "-f", "json")
    assert code == 2
    assert f"{target}: is not a regular file" in err


# ------------------------------------------------------------------ 9. control characters
HOSTILE = "Evil\x1b[31mCo\x07\x08\u009b2J\x90x"


@pytest.fixture
def hostile_file(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.csv"
    path.write_text(
        "Customer_ID,Name,Email,MRR,Last_Contact,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
        f'H1,"{HOSTILE}",h@example.com,100,2025-01-01,2,2,2\n',
        encoding="utf-8",
    )
    return path


def _controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 0x20 and c not in "\n\r\t") or 0x7F <= ord(c) < 0xA0]


@pytest.mark.parametrize("fmt", ["md", "ics", "table"])
def test_followup_formats_carry_no_control_characters(hostile_file: Path, fmt: str) -> None:
    code, out, err = run("followups", str(hostile_file), "--as-of", AS_OF, "-f", fmt)
    assert code == 0, err
    assert "Evil" in out and "Co" in out
    assert _controls(out) == []
    assert "\ufffd" in out  # the controls are shown as replaced, not silently dropped


def test_json_escapes_control_characters(hostile_file: Path) -> None:
    code, out, err = run("followups", str(hostile_file), "--as-of", AS_OF, "-f", "json")
    assert code == 0, err
    assert _controls(out) == []
    assert json.loads(out)[0]["name"] == HOSTILE  # JSON keeps the value, escaped


def test_defaults_are_valid_settings() -> None:
    assert Settings().scale.max == 10.0


# ------------------------------------------------------------------ 8. a full disk on stdout
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_stdout_on_a_full_disk_is_a_clear_error() -> None:
    import subprocess
    import sys

    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "cstool", "score", str(EXAMPLE), "--as-of", AS_OF, "-f", "json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 2
    assert "cannot write to standard output: No space left on device" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_duplicate_header_is_named_once(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("Customer_ID,Name,MRR,MRR,Last_Contact\nA1,Acme,100,200,2026-11-01\n")
    code, out, err = run("score", str(path), "--as-of", AS_OF, "-f", "json")
    assert code == 0, err
    assert err.count("the header 'MRR' appears twice") == 1
    assert "cstool reads mrr from column 3" in err
    assert json.loads(out)[0]["mrr"] == 100.0
