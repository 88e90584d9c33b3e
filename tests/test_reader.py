"""Reading real-world exports: encodings, delimiters, line ends, headers, broken files."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from cstool.config import Settings, settings_from_dict
from cstool.errors import DataError, UsageError
from cstool.pipeline import ReadOptions, load_table
from cstool.read import decode, match_headers, normalise_header, read_raw, sniff_delimiter
from tests.conftest import DATA


def load(name: str, settings: Settings | None = None, **options: object):  # type: ignore[no-untyped-def]
    return load_table(DATA / name, settings or Settings(), ReadOptions(**options))  # type: ignore[arg-type]


def test_gbk_file_with_chinese_headers() -> None:
    table = load("gbk_chinese_headers.csv")
    assert table.encoding == "gb18030"
    assert table.headers["customer_id"] == "客户ID"
    assert table.headers["value_delivery"] == "价值交付"
    assert table.frame["name"].tolist() == ["王芳", "李雷", "张伟"]
    assert table.frame["mrr"].tolist()[:2] == [800.0, 1200.0]
    assert table.frame["notes"].iloc[0] == "老客户"


def test_excel_bom_semicolon_crlf_quoted_comma_newline_money() -> None:
    table = load("excel_bom_semicolon_crlf.csv")
    assert table.delimiter == ";"
    assert table.encoding == "utf-8-sig"
    frame = table.frame
    assert frame["customer_id"].tolist() == ["E1", "E2", "E3"]
    assert frame["name"].iloc[0] == "Müller, Hans"
    assert frame["notes"].iloc[0] == "first line\r\nsecond line"
    assert frame["mrr"].tolist() == [1200.5, 80.0, 1200.0]
    assert frame["issue_resolution"].iloc[0] == 7.5  # decimal comma
    # The quoted newline makes E2 start on line 4, not 3.
    assert table.lines.tolist() == [2, 4, 5]


def test_excel_unicode_text_utf16_tab() -> None:
    table = load("excel_unicode_text.txt")
    assert table.encoding == "utf-16"
    assert table.delimiter == "\t"
    assert table.frame["name"].tolist() == ["José", "王芳"]


def test_utf16_big_endian_with_bom() -> None:
    assert load("utf16_be_bom.csv").frame["customer_id"].tolist() == ["B1"]


def test_cr_only_line_ends() -> None:
    table = load("cr_line_endings.csv")
    assert table.frame["customer_id"].tolist() == ["R1", "R2"]
    assert table.lines.tolist() == [2, 3]


def test_header_spellings_and_semicolons() -> None:
    table = load("lowercase_spaced_headers.csv")
    assert set(table.headers) >= {"customer_id", "value_delivery", "issue_resolution", "mrr"}
    assert table.frame["growth_strategy"].tolist() == [6.0]


def test_seed_headers_work_as_they_are() -> None:
    table = load("seed_headers.csv")
    assert table.headers == {
        "customer_id": "Customer_ID",
        "value_delivery": "Value_Delivery",
        "issue_resolution": "Issue_Resolution",
        "growth_strategy": "Growth_Strategy",
    }


def test_user_aliases_from_config(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("Account #,Value,Support,Growth Plan\nX1,8,7,6\n", encoding="utf-8")
    settings = settings_from_dict(
        {
            "columns": {
                "customer_id": "Account #",
                "issue_resolution": ["Support"],
                "growth_strategy": "growth plan",
            }
        }
    )
    table = load_table(path, settings)
    assert table.headers["customer_id"] == "Account #"
    assert table.headers["value_delivery"] == "Value"  # built-in alias
    assert table.frame["issue_resolution"].tolist() == [7.0]


def test_unknown_columns_pass_through_in_order() -> None:
    table = load("excel_bom_semicolon_crlf.csv")
    assert list(table.raw.columns) == [
        "Customer ID",
        "Name",
        "Value Delivery",
        "Issue Resolution",
        "Growth Strategy",
        "MRR",
        "Notes",
    ]
    assert table.raw["MRR"].iloc[0] == "$1,200.50"  # the input's own text, unchanged


def test_money_and_date_forms() -> None:
    frame = load("money_and_dates.csv").frame
    assert frame["mrr"].tolist()[:3] == [1200.5, 800.0, 1200.0]
    assert frame["mrr"].isna().iloc[3]  # n/a means missing
    assert str(frame["last_contact"].iloc[0].date()) == "2026-11-01"
    assert str(frame["renewal_date"].iloc[0].date()) == "2026-12-01"  # time of day dropped
    assert frame["last_contact"].isna().iloc[3]


def test_date_format_setting(tmp_path: Path) -> None:
    path = tmp_path / "us.csv"
    path.write_text(
        "Customer_ID,Value_Delivery,Issue_Resolution,Growth_Strategy,Last_Contact\n"
        "A,1,1,1,11/10/2026\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as err:  # fits both orders: the setting decides
        load_table(path, Settings())
    assert "11/10/2026" in err.value.problems[0].describe()
    settings = settings_from_dict({"input": {"date_format": "%m/%d/%Y"}})
    assert str(load_table(path, settings).frame["last_contact"].iloc[0].date()) == "2026-11-10"


def test_trailing_empty_spreadsheet_rows_are_ignored() -> None:
    assert len(load("trailing_empty_rows.csv").frame) == 5


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("empty.csv", "empty"),
        ("header_only.csv", "no customer rows"),
        ("nul_byte.csv", "NUL"),
        ("latin1.csv", "Western European (Windows-1252) text: --encoding cp1252, --encoding"),
        ("cp1252_semicolon.csv", "it reads as Western European (Windows-1252) text"),
        ("binary_garbage.bin", "--encoding"),
        ("utf16_be_no_bom.csv", "NUL"),
        ("unterminated_quote.csv", "never closed"),
        ("not_customer_table.csv", "missing required"),
        ("no_header.csv", "missing required"),
    ],
)
def test_files_that_are_not_customer_tables(name: str, words: str) -> None:
    with pytest.raises(DataError) as err:
        load(name)
    text = err.value.message + " ".join(p.describe() for p in err.value.problems)
    text += err.value.hint or ""
    assert words in text
    assert name in err.value.message


def test_latin1_loads_when_named() -> None:
    table = load("latin1.csv", encoding="latin-1")
    assert table.frame["name"].tolist() == ["José", "Zoë"]


def test_cp1252_that_gb18030_would_accept_loads_when_named() -> None:
    table = load("cp1252_semicolon.csv", encoding="cp1252")
    assert table.frame["name"].tolist() == ["Renée Müller", "François Lefèvre"]


def test_missing_column_names_closest_header(tmp_path: Path) -> None:
    path = tmp_path / "typo.csv"
    path.write_text("Customer_ID,Value_Delivry,Issue_Resolution,Growth_Strategy\nA,1,1,1\n")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    (problem,) = err.value.problems
    assert problem.column == "value_delivery"
    assert "Value_Delivry" in problem.expected  # the closest header
    assert "found:" in problem.expected


def test_missing_file_and_folder_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        load_table(tmp_path / "nope.csv", Settings())
    with pytest.raises(UsageError, match="folder"):
        load_table(tmp_path, Settings())


def test_forced_delimiter_and_bad_encoding_name() -> None:
    with pytest.raises(UsageError, match="unknown encoding"):
        load("seed_headers.csv", encoding="klingon")
    with pytest.raises(DataError):
        load("seed_headers.csv", delimiter=";")  # one column: required ones missing


def test_decode_is_strict_not_guessed() -> None:
    data, used = decode("ä,ö\n".encode("gb18030"), Path("x.csv"))
    assert used == "gb18030" and data.decode() == "ä,ö\n"
    assert decode(codecs.BOM_UTF8 + b"a,b\n", Path("x"))[1] == "utf-8-sig"
    assert decode(b"plain,ascii\n", Path("x"))[1] == "utf-8"


def test_sniff_delimiter() -> None:
    assert sniff_delimiter(b"a;b;c\n1;2;3") == ";"
    assert sniff_delimiter(b"a\tb\tc\n") == "\t"
    assert sniff_delimiter(b'"x,y";b;c\n') == ";"  # commas inside quotes do not count
    assert sniff_delimiter(b"single\n") == ","


def test_header_normalisation() -> None:
    assert normalise_header("Customer_ID") == normalise_header("customer id")
    assert normalise_header("customer-id") == "customerid"
    assert normalise_header("MRR ($)") == "mrr"


def test_first_matching_header_wins_and_rest_pass_through() -> None:
    found = match_headers(["id", "Customer_ID", "Value_Delivery"], Settings())
    assert found["customer_id"] == 1  # the field's own name beats an alias


def test_read_raw_keeps_text_exactly() -> None:
    raw = read_raw(DATA / "money_and_dates.csv", Settings())
    assert raw.table.column(4).to_pylist()[0] == "$1,200.50"


def test_cells_are_trimmed(tmp_path: Path) -> None:
    path = tmp_path / "spaces.csv"
    path.write_text(
        "Customer_ID,Name,Value_Delivery,Issue_Resolution,Growth_Strategy,NPS\n"
        " A1 ,\u00a0Zoë\u3000, 8 ,7,6, 9\nA2,王芳,1,1,1,\n",
        encoding="utf-8",
    )
    frame = load_table(path, Settings()).frame
    assert frame["customer_id"].tolist() == ["A1", "A2"]
    assert frame["name"].tolist() == ["Zoë", "王芳"]
    assert frame["value_delivery"].tolist() == [8.0, 1.0]
    assert frame["nps"].tolist()[0] == 9


def test_blank_lines_before_the_header_keep_line_numbers() -> None:
    with pytest.raises(DataError) as err:
        load("leading_blank_lines.csv")
    (problem,) = err.value.problems
    assert (problem.line, problem.value) == (6, "x")


def test_trailing_delimiter_and_duplicate_headers_pass_through() -> None:
    table = load("trailing_delimiter.csv")
    # a trailing delimiter's column (no header, no value) is not part of the table
    assert len(table.frame) == 2 and list(table.raw.columns) == [
        "Customer_ID",
        "Value_Delivery",
        "Issue_Resolution",
        "Growth_Strategy",
    ]
    assert "column_5" not in table.frame.columns and table.warnings == []
    table = load("duplicate_headers.csv")
    assert list(table.raw.columns)[-2:] == ["Notes", "Notes_2"]
    assert table.frame["notes"].tolist() == ["a"] and table.frame["Notes_2"].tolist() == ["b"]


def test_day_first_dates_say_how_to_read_them() -> None:
    # 22/11/2026 can only be day first: the column's own values decide
    assert str(load("day_first_dates.csv").frame["last_contact"].iloc[0].date()) == "2026-11-22"
    settings = settings_from_dict({"input": {"date_format": "%d/%m/%Y"}})
    frame = load("day_first_dates.csv", settings).frame
    assert str(frame["last_contact"].iloc[0].date()) == "2026-11-22"


def test_title_line_above_the_header(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load("title_line_above_header.csv")
    (problem,) = err.value.problems
    assert (problem.line, problem.column, problem.value) == (5, "Value Delivery", "x")
    table = load("title_line_above_header.csv", skip_invalid=True)
    assert table.delimiter == ";"
    assert table.frame["customer_id"].tolist() == ["T1"]
    assert table.lines.tolist() == [4]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        # Portuguese in Windows-1252: "çã" is a valid (rare) GB18030 character
        (
            "Customer_ID,Name,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
            "C1,Maria da Conceição,8,7,6\nC2,Informações Ltda,5,5,5\n".encode("cp1252"),
            "Windows-1252",
        ),
        # Japanese Excel's default, Shift-JIS
        (
            "Customer_ID,Name,Value_Delivery,Issue_Resolution,Growth_Strategy\r\n"
            "C1,佐藤,8,7,6\r\nC2,鈴木,5,5,5\r\n".encode("cp932"),
            "Shift-JIS",
        ),
        # UTF-8 with one row saved by another program
        (
            "Customer_ID,Name,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
            "C1,José Núñez,8,7,6\nC2,Zoë,5,5,5\n".encode()
            + "C3,Renée Blanc,7,7,7\n".encode("cp1252"),
            "line 4",
        ),
    ],
)
def test_text_that_gb18030_would_garble_is_refused(
    tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert words in err.value.message
    assert "--encoding" in (err.value.hint or "")


def test_chinese_text_with_rarer_characters_is_still_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(
        (
            "客户ID,客户名称,价值交付,问题解决,增长战略,备注\n"
            "K1,欧阳娜娜,8,7,6,客户反馈良好，续约意向强烈；需要跟进发票问题。\n"
            "K2,司马懿,5,5,5,（重要）ＶＩＰ客户：２０２６年续费￥８００\n"
        ).encode("gbk")
    )
    table = load_table(path, Settings())
    assert table.encoding == "gb18030"
    assert table.frame["name"].tolist() == ["欧阳娜娜", "司马懿"]


def test_a_multi_select_cell_does_not_decide_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "hubspot.csv"
    path.write_text(
        "Customer_ID,Name,Tags,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
        "C1,Alpha,vip;beta;newsletter;emea;smb;upsell;q3-renewal;partner,8,7,6\n"
        "C2,Beta,smb,5,5,5\n",
        encoding="utf-8",
    )
    table = load_table(path, Settings())
    assert table.delimiter == ","
    assert table.frame["tags"].tolist()[0].startswith("vip;beta")
    assert sniff_delimiter(b"Report, 2026\nA;B;C\n1;2;3\n") == ";"  # a title line above
