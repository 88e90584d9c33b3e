"""`cstool segment` through Typer's CliRunner, end to end on real files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cstool.cli import app
from cstool.segments import DEFAULT_SEGMENTS, UNSEGMENTED
from tests.conftest import DATA, EXAMPLE

runner = CliRunner()
AS_OF = ["--as-of", "2026-11-23"]
NAMES = [r.name for r in DEFAULT_SEGMENTS]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_config(folder: Path, segments_toml: str) -> Path:
    path = folder / "cstool.toml"
    path.write_text(segments_toml, encoding="utf-8")
    return path


def small_csv(folder: Path) -> Path:
    path = folder / "customers.csv"
    path.write_text(
        "Customer_ID,Name,MRR,Region,Seats,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
        "A1,Ann,900,EU,12,9,9,9\n"
        "B2,Bob,50,US,3,2,2,2\n"
        "C3,Cid,,EU,,8,8,8\n",
        encoding="utf-8",
    )
    return path


def test_segment_table_lists_customers_and_the_summary() -> None:
    code, out, err = run("segment", str(EXAMPLE), *AS_OF)
    assert code == 0, err
    lines = [line.strip() for line in out.splitlines()]
    assert any(line.startswith("C1001 ") for line in lines)
    assert "200 customers in 5 segments" in lines
    for rule in DEFAULT_SEGMENTS:  # each segment's play, once, under the summary
        assert lines.count(f"{rule.name}: {rule.play}") == 1
    # customers are grouped by segment in rule order
    assert out.index("Onboarding") < out.index("Champions") < out.index("Nurture")


def test_segment_summary_only() -> None:
    code, out, err = run("segment", str(EXAMPLE), "--summary", *AS_OF)
    assert code == 0, err
    assert "C1001" not in out
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0] == "customer_data.csv · as of 2026-11-23"
    rows = {words[0]: words[1:] for words in map(str.split, lines) if words and words[0] in NAMES}
    # customers, share, MRR, satisfaction, health, red yellow green, cadence
    assert rows == {
        "Onboarding": ["23", "11.5%", "5,877", "65.5", "71.4", "5", "4", "14", "7", "d"],
        "Champions": ["33", "16.5%", "15,698", "81.9", "85.2", "0", "0", "33", "30", "d"],
        "Grow": ["31", "15.5%", "1,001", "80.2", "82.8", "0", "0", "31", "45", "d"],
        "Rescue": ["53", "26.5%", "22,717", "55.2", "51.8", "22", "31", "0", "7", "d"],
        "Nurture": ["60", "30.0%", "1,799", "55.0", "51.8", "27", "33", "0", "30", "d"],
    }
    assert "200 customers in 5 segments" in lines
    assert f"{DEFAULT_SEGMENTS[3].name}: {DEFAULT_SEGMENTS[3].play}" in lines


def test_segment_json_per_customer() -> None:
    code, out, err = run("segment", str(EXAMPLE), "--format", "json", *AS_OF)
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 200
    assert set(rows[0]) == {
        "customer_id",
        "name",
        "mrr",
        "satisfaction",
        "health",
        "band",
        "segment",
        "cadence_days",
        "play",
    }
    assert {r["segment"] for r in rows} == set(NAMES)
    cadence = {r.name: r.cadence_days for r in DEFAULT_SEGMENTS}
    assert all(r["cadence_days"] == cadence[r["segment"]] for r in rows)
    assert err == ""


def test_segment_json_summary_adds_up() -> None:
    code, out, err = run("segment", str(EXAMPLE), "--summary", "-f", "json", *AS_OF)
    assert code == 0, err
    rows = json.loads(out)
    assert [r["segment"] for r in rows] == NAMES
    assert [r["customers"] for r in rows] == [23, 33, 31, 53, 60]
    assert [(r["red"], r["yellow"], r["green"]) for r in rows] == [
        (5, 4, 14),
        (0, 0, 33),
        (0, 0, 31),
        (22, 31, 0),
        (27, 33, 0),
    ]
    assert sum(r["customers"] for r in rows) == 200
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    for r in rows:
        assert r["red"] + r["yellow"] + r["green"] == r["customers"]
    champions = next(r for r in rows if r["segment"] == "Champions")
    assert champions["red"] == champions["yellow"] == 0


def test_segment_csv_keeps_the_input_columns_then_appends() -> None:
    code, out, _ = run("segment", str(EXAMPLE), "--format", "csv", *AS_OF)
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    with EXAMPLE.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert rows[0] == [*header, "satisfaction", "health", "band", "segment", "cadence_days", "play"]
    assert len(rows) == 201
    assert rows[1][0] == "C1001"
    assert rows[1][-3] in NAMES


def test_segment_csv_summary_and_excel_bom() -> None:
    result = runner.invoke(
        app, ["segment", str(EXAMPLE), "--summary", "-f", "csv", "--excel", *AS_OF]
    )
    assert result.exit_code == 0
    data = result.stdout_bytes
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["segment"] for r in rows] == NAMES


def test_output_is_reproducible_byte_for_byte() -> None:
    first = run("segment", str(EXAMPLE), "-f", "csv", *AS_OF)
    second = run("segment", str(EXAMPLE), "-f", "csv", *AS_OF)
    assert first == second
    other_day = run("segment", str(EXAMPLE), "-f", "csv", "--as-of", "2027-06-01")
    assert other_day[1] != first[1]  # Onboarding depends on the as-of date


def test_configured_segments_use_pass_through_columns(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        """
[[segments]]
name = "EU big"
when = 'region == "EU" and seats >= 10'
cadence_days = 14
play = "Quarterly review"

[[segments]]
name = "Unknown value"
when = "is_missing(mrr)"
cadence_days = 60
""",
    )
    code, out, err = run(
        "segment", str(small_csv(tmp_path)), "--config", str(config), "-f", "json", *AS_OF
    )
    assert code == 0, err
    rows = {r["customer_id"]: r for r in json.loads(out)}
    assert rows["A1"]["segment"] == "EU big" and rows["A1"]["play"] == "Quarterly review"
    assert rows["C3"]["segment"] == "Unknown value"
    assert rows["B2"]["segment"] == UNSEGMENTED.name
    code, out, _ = run(
        "segment", str(small_csv(tmp_path)), "--config", str(config), "--summary", *AS_OF
    )
    assert code == 0
    assert out.index("EU big") < out.index("Unknown value") < out.index(UNSEGMENTED.name)


def test_a_bad_rule_is_exit_2_with_segment_name_and_caret(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        """
[[segments]]
name = "Rescue"
when = 'band == "red" and mrrr >= 500'
cadence_days = 7
""",
    )
    code, out, err = run("segment", str(EXAMPLE), "--config", str(config), *AS_OF)
    assert code == 2
    assert out == ""
    flat = " ".join(err.split())
    assert f"{config}: segment 'Rescue', key `when`: unknown field 'mrrr'" in flat
    assert "did you mean 'mrr'" in err
    lines = err.splitlines()
    rule_line = next(i for i, line in enumerate(lines) if 'band == "red" and mrrr >= 500' in line)
    caret = lines[rule_line + 1]
    assert caret.index("^") == lines[rule_line].index("mrrr")
    assert "Traceback" not in err


def test_a_syntax_error_is_reported_before_the_file_is_read(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[[segments]]\nname = "X"\nwhen = "mrr >"\ncadence_days = 7\n')
    code, _, err = run("segment", str(tmp_path / "missing.csv"), "--config", str(config))
    assert code == 2
    assert "segment 'X'" in err and "ends too early" in err


def test_a_syntax_error_comes_before_the_problems_of_a_bad_file(tmp_path: Path) -> None:
    # The file is parsed on a thread while the rules are checked: the rule error still wins.
    config = write_config(tmp_path, '[[segments]]\nname = "X"\nwhen = "mrr >"\ncadence_days = 7\n')
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "customer_id,value_delivery,issue_resolution,growth_strategy\nA,11,x,3\nA,2,2,2\n"
    )
    code, out, err = run("score", str(bad), "--config", str(config))
    assert code == 2
    assert "segment 'X'" in err and "ends too early" in err
    assert "problem" not in err and out == ""


def test_a_date_compared_with_a_number_is_refused(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, '[[segments]]\nname = "Old"\nwhen = "signup_date > 90"\ncadence_days = 7\n'
    )
    code, _, err = run("segment", str(EXAMPLE), "--config", str(config), *AS_OF)
    assert code == 2
    assert "cannot compare a date with a number" in err and "days_since" in err


@pytest.mark.parametrize(
    "rule",
    [
        '__import__("os").system("touch x")',
        "mrr.__class__",
        "lambda: true",
        "(" * 10_000 + "true" + ")" * 10_000,
    ],
    ids=["import", "attribute", "lambda", "deep"],
)
def test_hostile_rules_in_the_config_change_nothing(
    rule: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    config = write_config(
        tmp_path,
        f"[[segments]]\nname = \"Evil\"\nwhen = '''{rule}'''\ncadence_days = 7\n",
    )
    monkeypatch.chdir(work)
    code, out, err = run("segment", str(EXAMPLE), "--config", str(config), *AS_OF)
    assert code == 2
    assert out == ""
    assert "segment 'Evil'" in err and "Traceback" not in err
    assert len(err.splitlines()) < 10
    assert list(work.iterdir()) == []


def test_plays_that_look_like_formulas_are_neutralised_in_csv(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        '[[segments]]\nname = "All"\nwhen = "true"\ncadence_days = 7\n'
        'play = "=HYPERLINK(\\"http://x\\")"\n',
    )
    code, out, _ = run("segment", str(EXAMPLE), "--config", str(config), "-f", "csv", *AS_OF)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["play"].startswith("'=")


def test_bad_data_is_exit_1_and_skip_invalid_goes_on(tmp_path: Path) -> None:
    bad = DATA / "bad_rows.csv"
    code, _, err = run("segment", str(bad), *AS_OF)
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == f"error: {bad}: 10 problems in 9 rows"
    assert lines[1] == (
        f"  {bad} line 3, column 'Value_Delivery', value 'eight', expected a number from 0 to 10"
    )
    rejects = tmp_path / "rejects.csv"
    code, out, err = run(
        "segment", str(bad), "--skip-invalid", "--rejects", str(rejects), "-f", "json", *AS_OF
    )
    assert code == 0, err
    assert err.startswith(f"left out 5 invalid rows of {bad}; written to {rejects}\n")
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 1 + 5
    assert all(r["segment"] in NAMES for r in json.loads(out))


def test_missing_file_and_bad_options_are_usage_errors(tmp_path: Path) -> None:
    code, _, err = run("segment", str(tmp_path / "nope.csv"), *AS_OF)
    assert code == 2 and "Traceback" not in err
    assert err == f"error: {tmp_path / 'nope.csv'}: file not found\n"
    code, _, err = run("segment", str(EXAMPLE), "--format", "xml")
    assert code == 2
    assert "Invalid value for '--format'" in err and "'xml' is not one of" in err
    code, _, err = run("segment", str(EXAMPLE), "--as-of", "someday")
    assert code == 2
    assert err.startswith("error: --as-of: 'someday' is not a date; accepted forms: ")


def test_the_configured_customers_file_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_csv(tmp_path)
    write_config(tmp_path, 'customers = "customers.csv"\n')
    monkeypatch.chdir(tmp_path)
    code, out, err = run("segment", "-f", "json", *AS_OF)
    assert code == 0, err
    assert [r["customer_id"] for r in json.loads(out)] == ["A1", "B2", "C3"]
