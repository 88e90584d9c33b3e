"""A customer with no health measure present, end to end through the CLI (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cstool.cli import app

runner = CliRunner()
AS_OF = ["--as-of", "2026-11-23"]
CSV = """\
Customer_ID,Name,MRR,Signup_Date,Last_Contact,NPS,Open_Tickets,Value_Delivery,Issue_Resolution,Growth_Strategy
C1,Nobody,100,,,,,5,5,5
C2,Timed From Signup,300,2026-09-24,,7,1,7,7,7
"""
# satisfaction weighted 0: C1 has nothing else, so no measure is present for it
CONFIG = """\
[health.weights]
satisfaction = 0
recency = 0.4
nps = 0.3
support = 0.3
"""


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "c.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "cstool.toml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_json_gives_no_health_and_no_band(workspace: Path) -> None:
    result = runner.invoke(app, ["score", "c.csv", "--format", "json", *AS_OF])
    assert result.exit_code == 0, result.stderr
    rows = {r["customer_id"]: r for r in json.loads(result.stdout)}
    assert rows["C1"]["health"] is None
    assert rows["C1"]["health_coverage"] == 0
    assert rows["C1"]["band"] is None
    # C2: 60 days since signup → recency 100·(1 − 30/60) = 50; nps 70; support 80
    assert rows["C2"]["health"] == pytest.approx(0.4 * 50 + 0.3 * 70 + 0.3 * 80)
    assert rows["C2"]["band"] == "yellow"


def test_the_table_and_explain_show_no_band(workspace: Path) -> None:
    table = runner.invoke(app, ["score", "c.csv", *AS_OF])
    assert table.exit_code == 0, table.stderr
    nobody = next(line for line in table.stdout.splitlines() if "Nobody" in line)
    assert nobody.split()[3:6] == ["50.0", "—", "—"]  # satisfaction, health, band
    assert "nan" not in table.stdout
    explain = runner.invoke(app, ["explain", "C1", "c.csv", *AS_OF])
    assert explain.exit_code == 0, explain.stderr
    assert "band: none (no health measure present)" in explain.stdout
    assert "coverage 0%" in explain.stdout
    signup = runner.invoke(app, ["explain", "C2", "c.csv", *AS_OF])
    assert signup.exit_code == 0, signup.stderr
    assert "no touch on record: days since signup" in signup.stdout
