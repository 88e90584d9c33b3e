"""Validation decided by the file's own values: bounded numbers, dates, scales, totals rows."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cstool.config import Settings, settings_from_dict
from cstool.errors import ConfigError, DataError
from cstool.pipeline import ReadOptions, load_table, scored_frame
from cstool.validate import Table, first_email

HEAD = "Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy"


def _file(tmp_path: Path, text: str, name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _days(table: Table, column: str) -> list[str | None]:
    return [None if pd.isna(d) else str(d.date()) for d in table.frame[column]]


# --- bounded numbers -------------------------------------------------------------------


def test_huge_counts_and_money_are_problems_never_wrapped(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        f"{HEAD},Open_Tickets,MRR\n"
        "A,5,5,5,1e20,1e308\nB,5,5,5,99999999999999999999,inf\nC,5,5,5,3,1200\n",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning on the way
        with pytest.raises(DataError) as err:
            load_table(path, Settings())
        found = [(p.line, p.column, p.value, p.expected) for p in err.value.problems]
        assert found == [
            (2, "Open_Tickets", "1e20", "a whole number from 0 to 1,000,000,000"),
            (2, "MRR", "1e308", "a number from 0 to 1,000,000,000,000 (e.g. 1200, $1,200.50)"),
            (3, "Open_Tickets", "99999999999999999999", "a whole number from 0 to 1,000,000,000"),
            (3, "MRR", "inf", "a number from 0 to 1,000,000,000,000 (e.g. 1200, $1,200.50)"),
        ]
        table = load_table(path, Settings(), ReadOptions(skip_invalid=True))
    assert table.frame["open_tickets"].tolist()[2] == 3
    assert table.frame["open_tickets"].isna().tolist() == [True, True, False]
    assert table.frame["mrr"].tolist()[2] == 1200.0 and table.frame["mrr"].isna().sum() == 2
    assert int(table.frame["open_tickets"].min()) >= 0  # never -2**63


# --- satisfaction inputs optional as a group ---------------------------------------------


def test_file_without_score_inputs_is_scored_on_the_other_measures(tmp_path: Path) -> None:
    path = _file(tmp_path, "Customer_ID,NPS,Last_Contact\nA,9,2026-11-20\nB,3,2026-11-01\n")
    table = load_table(path, Settings())
    assert "value_delivery" not in table.frame.columns
    assert table.notes and "value_delivery, issue_resolution, growth_strategy" in table.notes[0]
    frame = scored_frame(table, Settings(), date(2026, 11, 23))
    assert frame["satisfaction"].isna().all()
    assert frame["health"].notna().all()
    assert frame["health_coverage"].tolist() == pytest.approx([0.4 / 0.95] * 2, rel=0.2)


def test_some_but_not_all_score_inputs_name_the_missing(tmp_path: Path) -> None:
    path = _file(tmp_path, "Customer_ID,Value_Delivery\nA,5\n")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert "missing issue_resolution, growth_strategy" in err.value.message
    assert [p.column for p in err.value.problems] == ["issue_resolution", "growth_strategy"]


def test_score_inputs_stay_checked_when_present(tmp_path: Path) -> None:
    path = _file(tmp_path, f"{HEAD}\nA,5,,5\n")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert [(p.line, p.column) for p in err.value.problems] == [(2, "Issue_Resolution")]


# --- dates by evidence -------------------------------------------------------------------


def test_day_first_and_month_first_are_read_from_the_column(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "Customer_ID,Last_Contact,Renewal_Date\nA,22/11/2026,11/22/2026\nB,03/04/2026,04/03/2026\n",
    )
    table = load_table(path, Settings())
    assert _days(table, "last_contact") == ["2026-11-22", "2026-04-03"]  # day first
    assert _days(table, "renewal_date") == ["2026-11-22", "2026-04-03"]  # month first


def test_a_column_that_fits_both_orders_is_refused_with_both_settings(tmp_path: Path) -> None:
    path = _file(tmp_path, "Customer_ID,Last_Contact\nA,03/04/2026\nB,05/06/2026\n")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    (problem,) = err.value.problems
    assert problem.value == "03/04/2026" and problem.column == "Last_Contact"
    assert f"{path}: column 'Last_Contact'" in err.value.message
    assert '"%d/%m/%Y"' in problem.expected and '"%m/%d/%Y"' in problem.expected
    settings = settings_from_dict({"input": {"date_format": "%d/%m/%Y"}})
    assert _days(load_table(path, settings), "last_contact") == ["2026-04-03", "2026-06-05"]


def test_date_format_list_is_tried_in_order_per_column(tmp_path: Path) -> None:
    path = _file(
        tmp_path, "Customer_ID,Last_Contact,Signup_Date\nA,2026.11.22,22 11 2026\nB,,01 02 2026\n"
    )
    settings = settings_from_dict({"input": {"date_format": ["%Y.%m.%d", "%d %m %Y"]}})
    table = load_table(path, settings)
    assert _days(table, "last_contact") == ["2026-11-22", None]
    assert _days(table, "signup_date") == ["2026-11-22", "2026-02-01"]


@pytest.mark.parametrize("fmt", ["%Q", "%", "%d/%m/%"])
def test_bad_date_formats_are_config_errors(tmp_path: Path, fmt: str) -> None:
    config = tmp_path / "cstool.toml"
    config.write_text(f'[input]\ndate_format = "{fmt}"\n', encoding="utf-8")
    from cstool.config import load_workspace

    with pytest.raises(ConfigError) as err:
        load_workspace(config)
    assert "date_format" in str(err.value.message) + str(err.value.problems)


def test_month_names_times_and_iso_with_t_and_z(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "Customer_ID,Last_Contact\n"
        'A,"Nov 22, 2026"\nB,22-Nov-2026\nC,"November 22, 2026 1:00 PM"\n'
        "D,2026-11-22T14:22:11Z\nE,2026-11-22 11:59 pm\nF,2026-11-23T25:00\nG,13:00 PM\n",
    )
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    (problem,) = err.value.problems  # one message for the column, lines counted
    assert (problem.line, problem.value) == (7, "2026-11-23T25:00")
    assert problem.expected.endswith("(2 lines: 7, 8)")
    table = load_table(path, Settings(), ReadOptions(skip_invalid=True))
    assert _days(table, "last_contact") == ["2026-11-22"] * 5 + [None, None]
    assert [(p.line, p.value) for p in table.blanked] == [(7, "2026-11-23T25:00"), (8, "13:00 PM")]


def test_excel_serials_only_for_a_numeric_column_within_1990_to_2100(tmp_path: Path) -> None:
    path = _file(
        tmp_path, "Customer_ID,Signup_Date,Renewal_Date\nA,46348,46348\nB,46000,2026-01-01\n"
    )
    table = load_table(path, Settings(), ReadOptions(skip_invalid=True))
    assert _days(table, "signup_date") == ["2026-11-22", "2025-12-09"]
    assert _days(table, "renewal_date") == [None, "2026-01-01"]  # not a numeric column
    path = _file(tmp_path, "Customer_ID,Signup_Date\nA,46348\nB,12\n", "old.csv")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert [(p.line, p.value) for p in err.value.problems] == [(3, "12")]


def test_hint_never_proposes_an_order_the_column_contradicts(tmp_path: Path) -> None:
    path = _file(tmp_path, "Customer_ID,Last_Contact\nA,22/11/2026\nB,11/23/2026\nC,x\n")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    (problem,) = err.value.problems
    assert "mixes day-first and month-first" in problem.expected
    assert "set [input]" not in problem.expected
    settings = settings_from_dict({"input": {"date_format": "%m/%d/%Y"}})
    path = _file(tmp_path, "Customer_ID,Last_Contact\nA,22/11/2026\n", "dmy.csv")
    with pytest.raises(DataError) as err:
        load_table(path, settings)
    assert 'add "%d/%m/%Y"' in err.value.problems[0].expected
    assert 'add "%m/%d/%Y"' not in err.value.problems[0].expected


def test_many_bad_dates_are_one_message(tmp_path: Path) -> None:
    rows = "".join(f"C{i},not a date\n" for i in range(50))
    path = _file(tmp_path, "Customer_ID,Last_Contact\n" + rows)
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    (problem,) = err.value.problems
    assert "(50 lines: 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, …)" in problem.expected


# --- scales by evidence -----------------------------------------------------------------


def test_whole_numbers_one_to_five_on_a_zero_to_ten_scale_warn(tmp_path: Path) -> None:
    path = _file(tmp_path, f"{HEAD}\nA,5,4,3\nB,1,2,5\n")
    table = load_table(path, Settings())
    (warning,) = table.warnings
    assert "1 to 5" in warning and "[scale] min = 1, max = 5" in warning
    five = settings_from_dict({"scale": {"min": 1, "max": 5}})
    assert load_table(path, five).warnings == []
    assert load_table(_file(tmp_path, f"{HEAD}\nA,7,4,3\n", "ten.csv"), Settings()).warnings == []


def test_values_above_the_scale_name_the_setting_once_per_column(tmp_path: Path) -> None:
    path = _file(tmp_path, f"{HEAD}\nA,80,5,5\nB,95,5,5\nC,5,5,5\n")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    (problem,) = err.value.problems
    assert (problem.line, problem.column, problem.value) == (2, "Value_Delivery", "80")
    assert "values up to 95" in problem.expected and "[scale] max = 100" in problem.expected
    assert problem.expected.endswith("(2 lines: 2, 3)")


def test_percent_means_a_share_of_the_scale(tmp_path: Path) -> None:
    path = _file(tmp_path, f"{HEAD}\nA,85%,50 %,100%\n")
    frame = load_table(path, Settings()).frame
    assert frame.loc[0, ["value_delivery", "issue_resolution", "growth_strategy"]].tolist() == [
        pytest.approx(8.5),
        pytest.approx(5.0),
        pytest.approx(10.0),
    ]
    five = settings_from_dict({"scale": {"min": 1, "max": 5}})
    assert load_table(path, five).frame["value_delivery"].iloc[0] == pytest.approx(4.4)


# --- optional cells, emails ---------------------------------------------------------------


def test_emails_with_display_names_and_several_addresses(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "Customer_ID,Email\nA,Jane <jane@x.example>\nB,a@x.example; b@x.example\n"
        "C,plain@y.example\nD,not an email\n",
    )
    table = load_table(path, Settings(), ReadOptions(skip_invalid=True))
    assert table.frame["email"].tolist()[:3] == [
        "Jane <jane@x.example>",
        "a@x.example; b@x.example",
        "plain@y.example",
    ]
    assert [(p.line, p.column) for p in table.blanked] == [(5, "Email")]
    assert first_email(table.frame["email"]).tolist() == [
        "jane@x.example",
        "a@x.example",
        "plain@y.example",
        pd.NA,
    ]


# --- totals rows ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word",
    [
        "Total",
        "Grand total",
        "Avg",
        "合计",
        "總計",
        "平均",
        "小计",
        "TOTAL:",
        "  total  ",
        "\u3000合计：",  # an ideographic space before, a full-width colon after
        "\u00a0Mean",  # a no-break space before
        "SUM",
    ],
)
def test_totals_rows_are_left_out_with_a_warning(tmp_path: Path, word: str) -> None:
    path = _file(tmp_path, f"Customer_ID,Name,MRR\nA,Acme,100\nB,Beta,50\n,{word},150\n")
    table = load_table(path, Settings())
    assert table.frame["customer_id"].tolist() == ["A", "B"]
    assert table.skipped == 0
    assert table.warnings == [f"{path}: left out a totals row (line 4), not customers"]
    id_total = _file(tmp_path, f"Customer_ID,MRR\nA,1\n{word},1\n", "ids.csv")
    assert load_table(id_total, Settings()).frame["customer_id"].tolist() == ["A"]


@pytest.mark.parametrize("name", ["Totally Fine Ltd", "Summit", "Average Joe", "Meanwhile"])
def test_names_that_start_like_a_totals_word_are_customers(tmp_path: Path, name: str) -> None:
    path = _file(tmp_path, f"Customer_ID,Name,MRR\nA,{name},100\nB,Beta,50\n")
    table = load_table(path, Settings())
    assert table.frame["name"].tolist() == [name, "Beta"]
    assert table.warnings == []


def test_empty_text_cells_are_missing_and_share_the_files_text(tmp_path: Path) -> None:
    path = _file(tmp_path, "Customer_ID,Name,Email,MRR\nA,Ann,,100\nB,,b@x.example,50\nC,Cy,,7\n")
    table = load_table(path, Settings())
    assert table.frame["email"].tolist() == [pd.NA, "b@x.example", pd.NA]
    assert table.frame["name"].tolist() == ["Ann", pd.NA, "Cy"]
    assert table.frame["email"].isna().tolist() == [True, False, True]


# --- rejects ----------------------------------------------------------------------------------


def test_rejects_file_neutralises_formulas(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        f"{HEAD},Notes\n"
        'A,x,5,5,"=HYPERLINK(""http://evil.example"",""hi"")"\nB,x,5,5,+cmd|calc\n'
        "C,x,5,5,＝1+1\nD,5,5,5,fine\n",
    )
    rejects = tmp_path / "rejects.csv"
    table = load_table(path, Settings(), ReadOptions(skip_invalid=True, rejects=rejects))
    assert table.frame["customer_id"].tolist() == ["D"]
    written = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert written["Notes"].tolist() == [
        '\'=HYPERLINK("http://evil.example","hi")',
        "'+cmd|calc",
        "'＝1+1",
    ]
    assert written["reason"].tolist() == ["Value_Delivery: expected a number from 0 to 10"] * 3
    assert table.rejected is not None
    assert table.rejected["Notes"].iloc[0].startswith("=HYPERLINK")  # the frame keeps the cells


def test_validation_writes_nothing_and_rejects_are_always_fresh(tmp_path: Path) -> None:
    from cstool.read import read_raw
    from cstool.validate import validate_table

    path = _file(tmp_path, f"{HEAD}\nA,5,5,5\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    table = validate_table(read_raw(path, Settings()), Settings(), skip_invalid=True)
    assert table.rejected is not None and table.rejected.empty
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    rejects = tmp_path / "rejects.csv"
    rejects.write_text("yesterday's rejects\n", encoding="utf-8")
    load_table(path, Settings(), ReadOptions(skip_invalid=True, rejects=rejects))
    assert rejects.read_text(encoding="utf-8") == f"{HEAD},reason\n"
    assert np.array_equal(table.lines, [2])


def test_an_ambiguous_date_column_takes_the_order_another_column_of_the_file_shows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "us.csv"
    path.write_text(
        "Customer_ID,Signup_Date,Last_Contact\n"
        "A1,5/13/2026,11/04/2026\nA2,1/2/2026,11/02/2026\nA3,,10/11/2026\n",
        encoding="utf-8",
    )
    table = load_table(path, Settings())
    assert table.frame["signup_date"].tolist()[:2] == [
        pd.Timestamp("2026-05-13"),
        pd.Timestamp("2026-01-02"),
    ]
    assert table.frame["last_contact"].tolist() == [
        pd.Timestamp("2026-11-04"),
        pd.Timestamp("2026-11-02"),
        pd.Timestamp("2026-10-11"),
    ]
    assert (
        f"{path}: column 'Last_Contact': dates like '11/04/2026' fit both orders; read month "
        "first (%m/%d/%Y), as column 'Signup_Date' is, whose dates can only be month first "
        '(if that is wrong: [input] date_format = "%d/%m/%Y")'
    ) in table.warnings


def test_columns_that_disagree_on_the_order_decide_nothing(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "Customer_ID,Signup_Date,Renewal_Date,Last_Contact\n"
        "A1,5/13/2026,13/5/2027,11/04/2026\nA2,1/2/2026,1/2/2027,11/02/2026\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert "column 'Last_Contact': dates like '11/04/2026' could be day first or month first" in (
        err.value.message
    )


def test_rows_that_repeat_the_header_are_left_out_naming_their_lines(tmp_path: Path) -> None:
    # Two monthly exports joined one after the other: the second brings its header along.
    header = "Customer_ID,Name,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
    path = tmp_path / "joined.csv"
    path.write_text(
        header + "A1,Acme,8,8,8\n" + header + "A2,Beta,6,6,6\n" + header.replace("Name", ""),
        encoding="utf-8",
    )
    table = load_table(path, Settings())
    assert table.frame["customer_id"].tolist() == ["A1", "A2"]
    assert table.skipped == 0
    assert (
        f"{path}: left out 2 rows that repeat the header (lines 3, 5), as where exports were joined"
    ) in table.warnings
    # a customer whose ID happens to be the header's is a customer
    kept = tmp_path / "kept.csv"
    kept.write_text(header + "Customer_ID,Acme,8,8,8\n", encoding="utf-8")
    assert load_table(kept, Settings()).frame["customer_id"].tolist() == ["Customer_ID"]
