"""score, validate and explain through Typer's CliRunner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cstool.cli import app
from tests.conftest import DATA, EXAMPLE

runner = CliRunner()
AS_OF = ["--as-of", "2026-11-23"]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_score_table_has_footer_and_bands() -> None:
    code, out, err = run("score", str(EXAMPLE), *AS_OF)
    assert code == 0, err
    footer = out.rstrip().splitlines()[-1].strip()
    assert footer == (
        "200 customers · mean satisfaction 64.6, mean health 64.4; 54 red, 68 yellow, 78 green"
    )
    # The footer's counts are the table's own: the same as the JSON rows' bands and means.
    rows = json.loads(run("score", str(EXAMPLE), "--format", "json", *AS_OF)[1])
    bands = [r["band"] for r in rows]
    assert (bands.count("red"), bands.count("yellow"), bands.count("green")) == (54, 68, 78)
    satisfaction = [r["satisfaction"] for r in rows if r["satisfaction"] is not None]
    health = [r["health"] for r in rows if r["health"] is not None]
    assert round(sum(satisfaction) / len(satisfaction), 1) == 64.6
    assert round(sum(health) / len(health), 1) == 64.4


def test_score_json_shape() -> None:
    code, out, err = run("score", str(EXAMPLE), "--format", "json", *AS_OF)
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 200
    first = rows[0]
    for key in (
        "customer_id",
        "name",
        "mrr",
        "satisfaction",
        "health",
        "health_coverage",
        "band",
        "segment",
        "play",
        "last_contact",
    ):
        assert key in first
    assert isinstance(first["satisfaction"], float)
    assert first["last_contact"] is None or len(first["last_contact"]) == 10  # ISO date
    assert any(r["mrr"] is None for r in rows)  # missing as null


def test_score_csv_keeps_input_columns_then_appends(tmp_path: Path) -> None:
    code, out, _ = run("score", str(EXAMPLE), "--format", "csv", *AS_OF)
    assert code == 0
    header = out.splitlines()[0].split(",")
    original = EXAMPLE.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[: len(original)] == original
    assert header[len(original) :][:4] == ["satisfaction", "health", "health_coverage", "band"]


def test_output_is_atomic_enriched_and_input_untouched(tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    shutil.copy(DATA / "formula_injection.csv", source)
    before = source.read_bytes()
    out = tmp_path / "scored.csv"
    code, stdout, err = run("score", str(source), "--output", str(out), *AS_OF)
    assert code == 0, err
    assert stdout == ""  # no table with --output
    assert err == (
        f"wrote 4 customers to {out} (mean satisfaction 55.8, mean health 55.8; "
        "0 red, 4 yellow, 0 green)\n"
    )
    assert source.read_bytes() == before
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert scored["Name"].tolist() == ['\'=HYPERLINK("http://x")', "'@SUM(A1)", "'＝1+1", "Plain"]
    assert scored["Notes"].tolist() == ["'+1+1", "'-2+3", "-42", "'\tindent"]
    for column in scored.columns:
        for cell in scored[column]:
            assert not cell.startswith(("=", "+", "@", "＝", "＋", "＠", "\t")), (column, cell)


def test_output_refuses_to_overwrite_input(tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    shutil.copy(DATA / "seed_headers.csv", source)
    code, _, err = run("score", str(source), "--output", str(source), *AS_OF)
    assert code == 2
    assert f"error: {source}: refusing to write over the input file; choose another name" in err
    assert source.read_bytes() == (DATA / "seed_headers.csv").read_bytes()


def test_excel_flag_writes_bom(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    assert run("score", str(DATA / "seed_headers.csv"), "-o", str(out), "--excel", *AS_OF)[0] == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_sort_desc_and_top() -> None:
    code, out, _ = run(
        "score",
        str(EXAMPLE),
        "--format",
        "json",
        "--sort",
        "health",
        "--desc",
        "--top",
        "5",
        *AS_OF,
    )
    assert code == 0
    health = [r["health"] for r in json.loads(out)]
    assert len(health) == 5 and health == sorted(health, reverse=True)


def test_unknown_sort_column_is_usage_error() -> None:
    code, _, err = run("score", str(EXAMPLE), "--sort", "helth", *AS_OF)
    assert code == 2
    assert "error: --sort 'helth': no such column" in err and "did you mean health?" in err


def test_bad_rows_exit_1_naming_every_line() -> None:
    code, out, err = run("score", str(DATA / "bad_rows.csv"), *AS_OF)
    assert code == 1
    assert out == ""
    for line in range(3, 12):
        assert f"line {line}" in err
    assert "Traceback" not in err


def test_skip_invalid_with_rejects(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    code, out, err = run(
        "score",
        str(DATA / "bad_rows.csv"),
        "--skip-invalid",
        "--rejects",
        str(rejects),
        "--format",
        "json",
        *AS_OF,
    )
    assert code == 0, err
    # bad optional cells are blanked, the customer kept
    assert [r["customer_id"] for r in json.loads(out)] == ["G1", "X3", "X4", "X5", "X6", "G2"]
    bad = DATA / "bad_rows.csv"
    assert err.startswith(f"left out 5 invalid rows of {bad}; written to {rejects}\n")
    assert [line.split(",")[0] for line in rejects.read_text().splitlines()] == [
        "Customer_ID",
        "X1",
        "X2",
        "G1",
        "",
        "X7",
    ]


def test_rejects_without_skip_invalid_is_usage_error(tmp_path: Path) -> None:
    code, _, err = run("score", str(EXAMPLE), "--rejects", str(tmp_path / "r.csv"))
    assert code == 2
    assert "error: --rejects needs --skip-invalid (rejected rows are only left out then)" in err


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "the file is empty (no header, no rows)"),
        ("nul_byte.csv", "line 3 contains a NUL byte"),
        ("latin1.csv", "byte 71 (line 2, byte 0xe9) is neither UTF-8 nor GB18030 nor Big5"),
        ("ragged_rows.csv", "2 problems in 2 rows"),
        ("binary_garbage.bin", "byte 128 (line 2, byte 0x80) is neither UTF-8"),
        ("not_customer_table.csv", "missing required column customer_id"),
        (
            "unterminated_quote.csv",
            "line 2: a quoted field starts on this line and is never closed",
        ),
        ("utf16_be_no_bom.csv", "line 1 contains a NUL byte"),
    ],
)
def test_validate_never_tracebacks(name: str, message: str) -> None:
    code, _, err = run("validate", str(DATA / name))
    assert code == 1
    assert err.startswith(f"error: {DATA / name}: {message}"), err
    assert "Traceback" not in err


def test_validate_ok_file() -> None:
    code, _, err = run("validate", str(DATA / "gbk_chinese_headers.csv"), *AS_OF)
    assert code == 0, err
    assert err == (
        f"ok: {DATA / 'gbk_chinese_headers.csv'}: 3 customers, 7 columns "
        "(gb18030, comma-separated); config: built-in defaults (no cstool.toml)\n"
    )


def test_missing_file_is_exit_2(tmp_path: Path) -> None:
    code, _, err = run("validate", str(tmp_path / "nope.csv"))
    assert code == 2 and f"error: {tmp_path / 'nope.csv'}: file not found" in err


def test_no_file_no_default_explains_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("score")
    assert code == 2
    assert "error: no customer file given and no ./customer_data.csv here" in err
    assert "run `cstool init` in its folder" in err


def test_default_customers_file_from_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(EXAMPLE, tmp_path / "mine.csv")
    (tmp_path / "cstool.toml").write_text('customers = "mine.csv"\n')
    sub = tmp_path / "notes"
    sub.mkdir()
    monkeypatch.chdir(sub)
    code, out, _ = run("score", "--format", "json", *AS_OF)
    assert code == 0 and len(json.loads(out)) == 200


def test_bad_config_is_exit_2_and_validate_checks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cstool.toml").write_text("[bands]\nred_bellow = 40\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run("validate", str(EXAMPLE))
    assert code == 2
    config = tmp_path / "cstool.toml"
    assert err.splitlines()[:2] == [
        f"error: {config}: invalid config (1 problem)",
        f"  {config}: unknown key 'bands.red_bellow' (check the spelling; see `cstool init` for "
        "every setting)",
    ]


def test_bad_as_of_lists_forms() -> None:
    code, _, err = run("score", str(EXAMPLE), "--as-of", "someday")
    assert code == 2
    assert "error: --as-of: 'someday' is not a date; accepted forms: an ISO date" in err
    assert "+3d / -1d / +2w" in err


def test_explain_shows_terms_and_band() -> None:
    code, out, err = run("explain", "C1004", str(EXAMPLE), *AS_OF)
    assert code == 0, err
    lines = out.splitlines()

    def cells(label: str) -> list[str]:
        """The cells of the table row whose first cell is `label`."""
        row = next(line for line in lines if line.startswith(f"│ {label} "))
        return [cell.strip() for cell in row.strip("│").split("│")][1:]

    assert lines[0].startswith("C1004 Tidewater Studio  (line 5 of ")
    # Satisfaction: value, on 0-100, weight, contribution; they add up to 32.50.
    assert cells("Value_Delivery") == ["3", "30.0", "0.50", "15.00"]
    assert cells("Issue_Resolution") == ["3.5", "35.0", "0.30", "10.50"]
    assert cells("Growth_Strategy") == ["3.5", "35.0", "0.20", "7.00"]
    assert cells("satisfaction") == ["", "", "1.00", "32.50"]
    # Health: raw, on 0-100, weight, used, contribution.
    assert cells("recency") == ["6 days ago (≤ 30 is full marks)", "100.0", "0.20", "0.20", "20.00"]
    assert cells("health") == ["coverage 100%", "", "", "1.00", "49.75"]
    assert "band: red  (red < 50 ≤ yellow < 75 ≤ green)" in lines
    assert any(line.startswith("segment: Onboarding · every 7 days · play: ") for line in lines)
    assert any(line.startswith("follow-up: overdue by 6 days (since 2026-11-17)") for line in lines)
    assert "  priority 5.6 = overdue 0.3 + value 2.3 + band 3.0" in lines


def test_explain_unknown_id_suggests() -> None:
    code, _, err = run("explain", "C10O4", str(EXAMPLE), *AS_OF)
    assert code == 2
    assert "error: unknown customer ID 'C10O4'" in err
    assert "did you mean C1004, C1014, C1024?" in err


def test_same_input_same_output_byte_for_byte() -> None:
    a = run("score", str(EXAMPLE), "--format", "csv", *AS_OF)[1]
    b = run("score", str(EXAMPLE), "--format", "csv", *AS_OF)[1]
    assert a == b


def test_help_lists_commands() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for name in ("score", "validate", "explain"):
        assert name in out


def test_validate_checks_segment_rules_and_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cstool.toml"
    config.write_text('[[segments]]\nname = "Big"\nwhen = "mrrr >= 500"\ncadence_days = 7\n')
    monkeypatch.chdir(tmp_path)
    code, _, err = run("validate", str(EXAMPLE))
    assert code == 2
    assert err.splitlines() == [
        f"error: {config}: segment 'Big', key `when`: unknown field 'mrrr' — did you mean 'mrr'?",
        "    mrrr >= 500",
        "    ^^^^",
    ]
    code, _, err = run("score", str(EXAMPLE))
    assert code == 2 and str(config) in err
