"""init from a new user's sweep: the written cstool.toml describes what auto really reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cstool.cli import app


def test_the_encoding_comment_lists_big5_which_auto_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "customers.csv").write_bytes(
        "客戶編號,客戶名稱,價值交付,問題解決,增長戰略\nB1,台北咖啡館,8,7,6\n".encode("big5")
    )
    result = CliRunner().invoke(app, ["init", "customers.csv"])
    assert result.exit_code == 0, result.output
    toml = (tmp_path / "cstool.toml").read_text(encoding="utf-8")
    line = next(x for x in toml.splitlines() if x.startswith("encoding = "))
    assert "Big5" in line and "GB18030" in line
