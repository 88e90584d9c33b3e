"""User text in tables for people is shown as it is and cannot drive the terminal;
numbers in the segment summary are never cut short on an 80-column pipe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cstool.cli import app

runner = CliRunner()
AS_OF = ["--as-of", "2026-11-23"]
HEADER = "Customer_ID,Name,Plan,Stage,MRR,Value_Delivery,Issue_Resolution,Growth_Strategy"
# Cell text that rich would read as markup, and cells with terminal control sequences.
MARKUP_NAMES = ["[/old] Globex", "[b]Beta[/b] Ltd", "[test] Acme", "[red]Red[/red] Co"]
CONTROLS = ("\x1b", "\x9b", "\x07", "\x08")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(folder: Path, rows: list[str]) -> Path:
    path = folder / "customers.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def markup_csv(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        [
            "C1,[/old] Globex,[/plan],[stage],900,8,7,6",
            "C2,[b]Beta[/b] Ltd,Pro,live,50,5,5,5",
            "C3,[link=javascript:alert(1)]x[/link],Pro,live,20,5,5,5",
            "C4,[test] Acme,Pro,live,10,9,9,9",
            "C5,[red]Red[/red] Co,Pro,live,10,2,2,2",
        ],
    )


@pytest.fixture
def control_csv(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        [
            'C1,"Evil\x1b[2J\x1b[H Co\x07",Pro\x1b[31m,live\x1b]0;owned\x07,900,8,7,6',
            'C2,"Csi\x9b31m Ltd\x08\x08",Basic,live,50,3,3,3',
            "C3,Plain,Pro,live,20,5,5,5",
        ],
    )


def assert_no_controls(text: str) -> None:
    for char in CONTROLS:
        assert char not in text, (char, text)


def test_score_shows_names_that_look_like_markup_as_they_are(markup_csv: Path) -> None:
    code, out, err = run("score", str(markup_csv), *AS_OF)
    assert code == 0, err
    for name in MARKUP_NAMES:
        assert name in out
    assert "[link=javascript" in out  # shortened to the column width, but not parsed
    assert "Traceback" not in out + err


@pytest.mark.parametrize("command", ["segment", "followups"])
def test_segment_and_followups_show_markup_names_as_they_are(
    markup_csv: Path, command: str
) -> None:
    code, out, err = run(command, str(markup_csv), *AS_OF)
    assert code == 0, err
    for name in MARKUP_NAMES:
        assert name in out


def test_explain_shows_markup_in_name_plan_and_stage_as_it_is(markup_csv: Path) -> None:
    code, out, err = run("explain", "C1", str(markup_csv), *AS_OF)
    assert code == 0, err
    assert "[/old] Globex" in out
    assert "plan [/plan]" in out and "stage [stage]" in out


@pytest.mark.parametrize(
    "args",
    [
        ["score"],
        ["segment"],
        ["segment", "--summary"],
        ["followups"],
        ["explain", "C1"],
        ["explain", "C2"],
    ],
)
def test_control_characters_from_the_file_never_reach_the_terminal(
    control_csv: Path, args: list[str]
) -> None:
    code, out, err = run(*args, str(control_csv), *AS_OF)
    assert code == 0, err
    assert_no_controls(out)
    assert_no_controls(err)


def test_control_characters_are_replaced_visibly(control_csv: Path) -> None:
    code, out, err = run("score", str(control_csv), *AS_OF)
    assert code == 0, err
    assert "Evil\ufffd[2J\ufffd[H Co" in out
    code, out, err = run("explain", "C1", str(control_csv), *AS_OF)
    assert code == 0, err
    assert "plan Pro\ufffd[31m" in out


def test_segment_names_and_plays_from_the_config_are_shown_as_they_are(
    markup_csv: Path, tmp_path: Path
) -> None:
    config = tmp_path / "cstool.toml"
    config.write_text(
        '[[segments]]\nname = "[/vip] Big"\nwhen = "mrr >= 100"\ncadence_days = 14\n'
        'play = "[bold]Call[/] \\u001b[2J now"\n',
        encoding="utf-8",
    )
    for extra in ([], ["--summary"]):
        code, out, err = run("segment", str(markup_csv), "--config", str(config), *extra, *AS_OF)
        assert code == 0, err
        assert "[/vip] Big" in out
        assert "[bold]Call[/] \ufffd[2J now" in " ".join(out.split())
        assert_no_controls(out)


def test_summary_numbers_are_whole_on_an_80_column_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # what a pipe gets; CliRunner is not a terminal
    rows = [
        f"C{i},Customer {i},Pro,live,{mrr},{score},{score},{score}"
        for i, (mrr, score) in enumerate(
            [(987_654_321, 9), (876_543_210, 9), (123_456_789, 2), (5, 5), (7, 6)]
        )
    ]
    code, out, err = run("segment", str(write(tmp_path, rows)), "--summary", *AS_OF)
    assert code == 0, err
    assert not re.search(r"\d…|…\d|\d\.…|%…", out), out
    table = out.split("customers in")[0]
    assert max(len(line) for line in table.splitlines()) <= 80
    for number in ("1,864,197,531", "123,456,789", "40.0%", "20.0%"):
        assert number in out, out
    for header in ("Segment", "Customers", "Share", "MRR", "Satisf.", "Health", "Every"):
        assert header in out
