"""Regression tests from the fault-injection run: each asserts the exit code, the message and
the values (issue #11 "Hardening")."""

# Where each numbered item of issue #11 is tested (here unless a file is named;
# r: = test_read_inputs, v: = test_validate_evidence, s: = test_store_hardening):
#  1. green with no data: test_no_health_is_never_green_nor_a_champion_nor_counted_green,
#     test_scoring::test_no_measure_present_means_no_health_and_no_band,
#     test_scoring::test_a_measure_weighted_zero_does_not_count_as_present,
#     test_cli_no_health (json, table, explain: no ZeroDivisionError),
#     test_settings_are_strict_and_finite (recency = nan), test_validate_refuses_a_non_finite_config
#  2. wrapped integers: v:test_huge_counts_and_money_are_problems_never_wrapped,
#     test_huge_numbers_exit_1_and_skipped_ones_keep_json_finite
#  3. non-finite settings: test_settings_are_strict_and_finite (bool, str, inf, nan, goals),
#     test_huge_weights_do_not_overflow, test_fuzz::test_generated_configs_load_or_score_to_the_end
#  4. chmod of another file: test_a_read_only_command_leaves_a_foreign_db_alone,
#     s:test_a_text_file_is_refused_and_untouched, s:test_dev_null_is_refused,
#     s:test_existing_store_keeps_mode_bytes_and_mtime_when_read
#  5. pipes and FIFOs: r:test_stdin_and_process_substitution_give_the_file_s_own_problems,
#     r:test_a_pipe_is_read_once, r:test_fifo_is_read_not_hung,
#     r:test_endless_device_is_refused_up_front,
#     r:test_pipe_with_blank_line_and_quoted_newline_gives_exact_lines
#  6. live formulas in rejects: v:test_rejects_file_neutralises_formulas,
#     test_cli_score::test_skip_invalid_with_rejects
#  7. mathtext, year 1: test_report::test_dollar_signs_in_names_are_drawn_literally,
#     test_dollar_names_pass_report_html, test_a_snapshot_dated_year_1_is_refused
#  8. tracebacks instead of exit 2:
#     r:test_encoding_option_that_is_not_a_text_codec_is_a_usage_error (base64 … unicode_escape),
#     r:test_delimiter_that_is_not_one_printable_ascii_character_exits_2,
#     v:test_bad_date_formats_are_config_errors (%Q, %, trailing %),
#     test_dates_past_the_calendar_exit_2 (--due, --next, --date, --until, --as-of),
#     r:test_too_long_file_name_is_a_usage_error_with_the_path,
#     r:test_file_in_an_unreadable_folder_is_a_usage_error (not as root),
#     test_stdout_on_a_full_disk_is_a_clear_error, test_deeply_nested_toml_is_a_config_error,
#     s:test_writing_through_a_read_only_open_is_a_usage_error,
#     test_a_read_only_store_file_is_a_usage_error (not as root),
#     s:test_another_programs_database_with_a_touches_table_is_refused
#  9. escape sequences: test_followup_formats_carry_no_control_characters (md, ics, table),
#     test_json_escapes_control_characters, test_render_safety (terminal tables),
#     test_report_terminal_tables_show_user_text_as_it_is (report follow-ups, config play),
#     test_csv_on_stdout_carries_no_control_characters, test_csv_controls.py
# 10. smaller ones: test_write_temps::test_rejects_and_output_on_one_path_is_a_usage_error,
#     test_write_temps::test_temp_of_a_dead_writer_is_removed_on_the_next_write,
#     test_cli_report::test_kill_9_during_export_leaves_every_file_whole,
#     v:test_month_names_times_and_iso_with_t_and_z (T25:00),
#     test_a_future_last_contact_is_touched_on_the_as_of_day,
#     test_scoring::test_a_touch_after_as_of_is_touched_today_and_counted,
#     r:test_columns_mapping_to_a_header_the_file_lacks_is_an_error_naming_it ("Nope"),
#     test_a_config_that_is_not_a_file_is_named (folder, FIFO, dangling symlink),
#     r:test_log_lookup_stops_at_the_id_and_does_not_read_the_rest (2 GB file),
#     test_validate_takes_as_of
# Across all of them: tests/test_fuzz.py (reader and config) and scripts/fault_corpus.py
# (test_fault_corpus_slice, slow).

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cstool.cli import app
from cstool.config import Settings, settings_from_dict
from cstool.errors import ConfigError
from cstool.store import open_store
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


# ------------------------------------------------------------------ 1. green with no data
NO_DATA_CONFIG = "[health.weights]\nsatisfaction = 0\nrecency = 0\nnps = 1\nsupport = 0\n"
NO_DATA_CSV = (
    "Customer_ID,Name,MRR,NPS,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
    "A,Top Payer,900,,9,9,9\n"  # the highest MRR, but no NPS: no health measure at all
    "B,Promoter,100,9,9,9,9\n"
    "C,Detractor,50,2,9,9,9\n"
)


def test_no_health_is_never_green_nor_a_champion_nor_counted_green(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cstool.toml").write_text(NO_DATA_CONFIG)
    (tmp_path / "c.csv").write_text(NO_DATA_CSV)
    monkeypatch.chdir(tmp_path)
    code, out, err = run("score", "c.csv", "--as-of", AS_OF, "-f", "json")
    assert code == 0, err
    rows = {r["customer_id"]: r for r in json.loads(out)}
    assert (rows["A"]["health"], rows["A"]["band"], rows["A"]["health_coverage"]) == (None, None, 0)
    assert rows["A"]["segment"] == "Nurture"  # not Champions (top MRR) nor Grow: both need green
    assert (rows["B"]["health"], rows["B"]["band"]) == (90.0, "green")
    assert (rows["C"]["health"], rows["C"]["band"]) == (20.0, "red")
    code, out, err = run("followups", "c.csv", "--as-of", AS_OF, "-f", "json", "--due", "week")
    assert code == 0, err
    reasons = {r["customer_id"]: r["reason"] for r in json.loads(out)}
    assert "band red" in reasons["C"] and "band" not in reasons["A"]
    code, out, err = run("report", "c.csv", "--as-of", AS_OF, "-f", "json")
    assert code == 0, err
    kpis = json.loads(out)["kpis"]
    assert kpis["mean_health"] == pytest.approx(55.0)  # (90 + 20) / 2: A is not a zero
    assert kpis["green_share"] == pytest.approx(100 / 3) and kpis["red_share"] == pytest.approx(
        100 / 3
    )
    assert kpis["mrr_at_risk_red"] == 50.0  # C only


# ------------------------------------------------------------------ 2. wrapped integers
def test_huge_numbers_exit_1_and_skipped_ones_keep_json_finite(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text(
        "Customer_ID,MRR,Open_Tickets,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
        "A,1e308,1e20,5,5,5\nB,1e308,99999999999999999999,5,5,5\nC,1200,3,5,5,5\n"
    )
    code, out, err = run("score", str(path), "--as-of", AS_OF, "-f", "json")
    assert (code, out) == (1, "")
    assert f"{path}: 4 problems in 2 rows" in err
    assert f"{path} line 2, column 'Open_Tickets', value '1e20', expected a whole number" in err
    assert f"{path} line 3, column 'MRR', value '1e308', expected a number from 0 to" in err
    db = tmp_path / "s.db"
    code, out, err = run(
        "report", str(path), "--as-of", AS_OF, "-f", "json", "--skip-invalid", "--db", str(db)
    )
    assert code == 0, err
    kpis = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))["kpis"]
    assert kpis["mrr"] == 1200.0 and kpis["customers"] == 3


# ------------------------------------------------------------------ 4. another program's file
def test_a_read_only_command_leaves_a_foreign_db_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared.txt"
    shared.write_text("the team's notes\n")
    shared.chmod(0o644)
    before = (shared.stat().st_mode, shared.read_bytes(), shared.stat().st_mtime_ns)
    for args in (["followups", str(EXAMPLE)], ["log", "C1001", str(EXAMPLE), "--note", "x"]):
        result = runner.invoke(app, [*args, "--as-of", AS_OF], env={"CSTOOL_DB": str(shared)})
        assert result.exit_code == 2, result.stderr
        assert f"{shared}: not a cstool store (not an SQLite file)" in result.stderr
    assert (shared.stat().st_mode, shared.read_bytes(), shared.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.txt"]  # no -wal, no -journal


# ------------------------------------------------------------------ 7. charts and year 1
@pytest.mark.slow
def test_dollar_names_pass_report_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cstool.toml").write_text(
        '[[segments]]\nname = "Cost $x_$"\nwhen = "true"\ncadence_days = 30\n'
        '[[goals]]\nmetric = "nps"\ntarget = 50\ndeadline = 2027-06-30\nname = "Deal $5-$10"\n'
    )
    monkeypatch.chdir(tmp_path)
    code, _, err = run("validate", str(EXAMPLE))
    assert code == 0, err
    page = tmp_path / "r.html"
    code, _, err = run("report", str(EXAMPLE), "--as-of", AS_OF, "--html", str(page), "--db", "s")
    assert code == 0, err
    text = page.read_text(encoding="utf-8")
    assert ">Cost $x_$</text>" in text and ">Deal $5-$10</text>" in text


def test_a_snapshot_dated_year_1_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    code, _, err = run("snapshot", str(EXAMPLE), "--as-of", "0001-01-01", "--db", str(db))
    assert code == 2
    assert "snapshot date 0001-01-01: expected a date from 1900-01-01 to 2200-12-31" in err
    store = open_store(db, create=False)
    if store is not None:
        with store:
            assert store.snapshot_dates() == []


# ------------------------------------------------------------------ 8. dates past year 9999
@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["followups", str(EXAMPLE), "--due", "+99999999d"], "--due"),
        (["log", "C1001", str(EXAMPLE), "--note", "x", "--next", "+99999999d"], "--next"),
        (["log", "C1001", str(EXAMPLE), "--note", "x", "--date", "+99999999d"], "--date"),
        (["snooze", "C1001", "--until", "+99999999d"], "--until"),
        (["score", str(EXAMPLE), "--as-of", "+99999999d"], "--as-of"),
    ],
)
def test_dates_past_the_calendar_exit_2(tmp_path: Path, args: list[str], option: str) -> None:
    db = tmp_path / "s.db"
    code, out, err = run(*args, "--db", str(db))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {option}: '+99999999d' is ")
    assert "accepted" in err and "+3d" in err
    store = open_store(db, create=False)
    if store is not None:
        with store:
            assert store.touches() == [] and store.snoozes().empty


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_a_read_only_store_file_is_a_usage_error(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    code, _, err = run("log", "C1001", str(EXAMPLE), "--note", "first", "--db", str(db))
    assert code == 0, err
    db.chmod(0o444)
    before = db.read_bytes()
    code, _, err = run("log", "C1001", str(EXAMPLE), "--note", "second", "--db", str(db))
    assert code == 2
    assert str(db) in err and "read" in err and "Traceback" not in err
    assert db.read_bytes() == before


# ------------------------------------------------------------------ 9. the terminal report
def test_report_terminal_tables_show_user_text_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A `[/x]` made rich raise MarkupError (a traceback); ESC and U+009B reached the terminal.
    (tmp_path / "cstool.toml").write_text(
        '[[segments]]\nname = "[/oops] Seg"\nwhen = "true"\ncadence_days = 7\n'
        'play = "Call \\u001b[31m now \\u009b2J"\n'
        '[[goals]]\nmetric = "nps"\ntarget = 50\ndeadline = 2027-06-30\nname = "[b]Goal"\n'
    )
    (tmp_path / "c.csv").write_text(
        f'Customer_ID,Name,Value_Delivery,Issue_Resolution,Growth_Strategy\nH1,"{HOSTILE}",2,2,2\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run("report", "c.csv", "--as-of", AS_OF, "--db", "s.db")
    assert code == 0, err
    assert _controls(out) == []
    assert "[/oops] Seg" in out and "[b]Goal" in out
    row = next(line for line in out.splitlines() if line.startswith(" H1") or "H1 " in line)
    assert "Evil\ufffd[31mCo" in row and "Call \ufffd[31m now \ufffd2J" in row


@pytest.mark.parametrize("command", ["score", "segment", "followups"])
def test_csv_on_stdout_carries_no_control_characters(hostile_file: Path, command: str) -> None:
    code, out, err = run(command, str(hostile_file), "--as-of", AS_OF, "-f", "csv")
    assert code == 0, err
    assert "H1" in out and "Evil" in out
    assert _controls(out) == []  # ESC, BEL, BS, U+009B and U+0090 become U+FFFD


# ------------------------------------------------------------------ 10. smaller ones
def test_a_future_last_contact_is_touched_on_the_as_of_day(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "Customer_ID,NPS,Last_Contact\nA,8,2027-06-01\nB,8,2026-10-24\n", encoding="utf-8"
    )
    code, out, err = run("score", str(path), "--as-of", AS_OF, "-f", "json")
    assert code == 0, err
    assert "note: 1 customer last touched after 2026-11-23 (the as-of day)" in err
    rows = {r["customer_id"]: r for r in json.loads(out)}
    assert rows["A"]["days_since_touch"] == 0.0  # never negative
    assert rows["B"]["days_since_touch"] == 30.0
    assert rows["A"]["health"] >= rows["B"]["health"]


def test_validate_takes_as_of() -> None:
    code, _, err = run("validate", str(EXAMPLE), "--as-of", AS_OF)
    assert code == 0 and err.startswith(f"ok: {EXAMPLE}: 200 customers")
    code, _, err = run("validate", str(EXAMPLE), "--as-of", "someday")
    assert code == 2 and "--as-of: 'someday' is not a date" in err


# ------------------------------------------------------------------ the fault corpus, a slice
def _fault_corpus() -> Any:
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "scripts" / "fault_corpus.py"
    spec = importlib.util.spec_from_file_location("fault_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fault_corpus"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_fault_corpus_slice() -> None:
    corpus = _fault_corpus()
    prefixes = (
        "mutant",
        "config3:",
        "config-mutant",
        "store-corrupt:log",
        "store-foreign:followups",
        "store-/dev/null",
        "input-fifo-bad",
        "input-stdin-bad",
        "input-dev-zero",
        "payload:score c.csv -f json",
        "payload:followups c.csv -f md",
        "output-dev-full",
        "output-over-input",
    )
    every = corpus.corpus(11, 10)
    cases = [next(c for c in every if c.name.startswith(p)) for p in prefixes]
    for case in cases:
        if case.needs_non_root and os.geteuid() == 0:
            continue
        outcome = corpus.run_case(case, 11, timeout=120)
        assert outcome.code in (0, 1, 2), outcome
        assert [p for p in outcome.problems if not p.startswith("csv escapes")] == [], outcome


# ------------------------------------------------------------------ a damaged snapshot blob
def test_a_damaged_snapshot_blob_falls_back_to_its_rows(tmp_path: Path) -> None:
    # Found by scripts/fault_corpus.py: zstd reports corruption as OSError, not ArrowException,
    # so `report` and `backtest` died with a traceback instead of reading the snapshot's rows.
    import sqlite3

    db = tmp_path / "s.db"
    code, _, err = run("snapshot", str(EXAMPLE), "--as-of", "2026-11-01", "--db", str(db))
    assert code == 0, err
    with sqlite3.connect(db) as con:
        (blob,) = con.execute("SELECT data FROM snapshot_blobs").fetchone()
        half = len(blob) // 2
        con.execute(
            "UPDATE snapshot_blobs SET data = ?", (blob[:half] + bytes(64) + blob[half + 64 :],)
        )
    code, out, err = run("report", str(EXAMPLE), "--as-of", AS_OF, "-f", "json", "--db", str(db))
    assert code == 0, err
    trend = {t["as_of"]: t["customers"] for t in json.loads(out)["trend"]}
    assert trend["2026-11-01"] == 200


@pytest.mark.slow
def test_a_store_with_random_damage_is_read_or_refused_never_a_traceback() -> None:
    # The seeded damage the fault corpus found: a blob that decodes into offsets past its
    # buffers (ArrowInvalid at the cast, a traceback) now falls back to the rows.
    corpus = _fault_corpus()
    for command in ("report", "backtest", "history"):
        case = next(c for c in corpus.corpus(11, 1) if c.name == f"store-corrupt:{command}")
        outcome = corpus.run_case(case, 11, timeout=120)
        assert outcome.code in (0, 1, 2) and outcome.problems == [], outcome
