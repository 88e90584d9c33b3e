"""Real tools' headers, duplicate headers, [columns] checks, honest encodings, pipes, devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cstool.config import Settings, settings_from_dict
from cstool.errors import ConfigError, DataError, UsageError
from cstool.pipeline import ReadOptions, load_table
from cstool.read import encoding_candidates, read_raw, text_codec
from tests.conftest import DATA, EXAMPLE

SCORES = "Value_Delivery,Issue_Resolution,Growth_Strategy"


def write(tmp_path: Path, text: str, name: str = "export.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # Stripe subscriptions: the customer's ID, not the subscription's `id`
        (
            "id,Customer ID,Customer Email,Status,Plan,Created (UTC),Current Period End (UTC)",
            {
                "customer_id": "Customer ID",
                "email": "Customer Email",
                "stage": "Status",
                "plan": "Plan",
                "signup_date": "Created (UTC)",
                "renewal_date": "Current Period End (UTC)",
            },
        ),
        # Stripe customers
        (
            "id,Email,Name,Created (UTC),Delinquent",
            {"customer_id": "id", "email": "Email", "name": "Name", "signup_date": "Created (UTC)"},
        ),
        # HubSpot companies
        (
            "Record ID,Company name,Create Date,Last Activity Date,Lifecycle Stage",
            {
                "customer_id": "Record ID",
                "name": "Company name",
                "signup_date": "Create Date",
                "last_contact": "Last Activity Date",
                "stage": "Lifecycle Stage",
            },
        ),
        # Zoho CRM accounts
        (
            "Account Number,Account Name,Created Time,Last Activity Time",
            {
                "customer_id": "Account Number",
                "name": "Account Name",
                "signup_date": "Created Time",
                "last_contact": "Last Activity Time",
            },
        ),
        # Shopify customers: Total Spent is lifetime spend, not MRR
        (
            "Customer ID,First Name,Last Name,Email,Total Spent",
            {"customer_id": "Customer ID", "email": "Email"},
        ),
        # Notion: Last edited time is an edit of the row, not a touch
        (
            "ID,Name,Created,Last edited time",
            {"customer_id": "ID", "name": "Name", "signup_date": "Created"},
        ),
        # Pipedrive organisations
        ("ID,Organization - Name", {"customer_id": "ID", "name": "Organization - Name"}),
        # Traditional Chinese
        (
            "客戶編號,客戶名稱,電子郵件,價值交付,問題解決,增長策略",
            {
                "customer_id": "客戶編號",
                "name": "客戶名稱",
                "email": "電子郵件",
                "value_delivery": "價值交付",
                "issue_resolution": "問題解決",
                "growth_strategy": "增長策略",
            },
        ),
        # Japanese
        ("顧客ID,顧客名,メール", {"customer_id": "顧客ID", "name": "顧客名", "email": "メール"}),
        # German (a lexoffice/sevDesk-style customer list)
        (
            "Kundennummer,Firma,E-Mail-Adresse,Tarif,Monatsumsatz,Kunde seit,"
            "Letzter Kontakt,Vertragsende,Offene Tickets,Bemerkung",
            {
                "customer_id": "Kundennummer",
                "name": "Firma",
                "email": "E-Mail-Adresse",
                "plan": "Tarif",
                "mrr": "Monatsumsatz",
                "signup_date": "Kunde seit",
                "last_contact": "Letzter Kontakt",
                "renewal_date": "Vertragsende",
                "open_tickets": "Offene Tickets",
                "notes": "Bemerkung",
            },
        ),
        # French: `Nom` and `Prénom` are a contact's, not the customer's name
        (
            "Numéro client,Prénom,Nom,Société,Courriel,Date de création,Dernier contact",
            {
                "customer_id": "Numéro client",
                "name": "Société",
                "email": "Courriel",
                "signup_date": "Date de création",
                "last_contact": "Dernier contact",
            },
        ),
        # Spanish: `Nombre` alone is a first name
        (
            "Código de cliente,Nombre,Empresa,Correo electrónico,Fecha de alta,"
            "Último contacto,Fecha de renovación",
            {
                "customer_id": "Código de cliente",
                "name": "Empresa",
                "email": "Correo electrónico",
                "signup_date": "Fecha de alta",
                "last_contact": "Último contacto",
                "renewal_date": "Fecha de renovación",
            },
        ),
    ],
)
def test_real_tools_headers_are_built_in_aliases(
    tmp_path: Path, header: str, expected: dict[str, str]
) -> None:
    cells = ",".join("x" for _ in header.split(","))
    raw = read_raw(write(tmp_path, f"{header}\n{cells}\n"), Settings())
    assert raw.header_names == expected


def test_duplicate_headers_warn_naming_both_columns_and_the_one_used() -> None:
    raw = read_raw(DATA / "duplicate_headers.csv", Settings())
    assert raw.warnings == [
        "the header 'Notes' appears twice: column 5 ('Notes') and column 6 ('Notes'); "
        "cstool reads notes from column 5; the other is passed through"
    ]
    assert raw.table.column(raw.headers["notes"])[0].as_py() == "a"


def test_columns_mapping_to_a_header_the_file_lacks_is_an_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, f"Client Ref,{SCORES}\nA1,8,7,6\n")
    settings = settings_from_dict({"columns": {"customer_id": "Client Reference"}})
    with pytest.raises(ConfigError) as err:
        read_raw(path, settings)
    assert err.value.message == (
        f"[columns] customer_id = 'Client Reference': {path} has no such header; "
        "closest: 'Client Ref'"
    )
    assert err.value.exit_code == 2


def test_missing_id_offers_a_unique_email_column(tmp_path: Path) -> None:
    path = write(tmp_path, f"Email,{SCORES}\na@x.io,8,7,6\nb@x.io,5,5,5\n")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    (problem,) = err.value.problems
    assert problem.column == "customer_id"
    assert (
        "the column 'Email' has a different value on every row: use it as the ID with "
        '[columns] customer_id = "Email" in cstool.toml'
    ) in problem.expected
    # and the offer works
    table = load_table(path, settings_from_dict({"columns": {"customer_id": "Email"}}))
    assert table.frame["customer_id"].tolist() == ["a@x.io", "b@x.io"]


def test_missing_id_does_not_offer_a_repeated_email(tmp_path: Path) -> None:
    path = write(tmp_path, f"Email,{SCORES}\na@x.io,8,7,6\na@x.io,5,5,5\n")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert "different value on every row" not in err.value.problems[0].expected


TRADITIONAL = (
    f"客戶編號,客戶名稱,{SCORES}\nT1,陳大文有限公司,8,7,6\nT2,林美玲,5,5,5\nT3,黃志明,9,9,9\n"
)


def test_big5_traditional_chinese_is_read_as_big5(tmp_path: Path) -> None:
    path = write(tmp_path, TRADITIONAL, encoding="big5")
    table = load_table(path, Settings())
    assert table.encoding == "big5"
    assert table.frame["name"].tolist() == ["陳大文有限公司", "林美玲", "黃志明"]


def test_japanese_cp932_is_refused_with_cp932_proposed_first(tmp_path: Path) -> None:
    text = f"顧客ID,顧客名,{SCORES}\nJ1,やまだ商事,8,7,6\nJ2,さくらネット,5,5,5\n"
    path = write(tmp_path, text, encoding="cp932")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert err.value.hint == (
        "name the file's encoding; it reads as Japanese (Shift-JIS, cp932) text: --encoding cp932"
    )
    table = load_table(path, Settings(), ReadOptions(encoding="cp932"))
    assert table.frame["name"].tolist() == ["やまだ商事", "さくらネット"]


def test_candidates_never_include_an_encoding_that_leaves_control_characters() -> None:
    raw = "Name\nRenée\x81\n".encode(
        "latin-1"
    )  # 0x81 is a C1 control in latin-1, undefined in cp1252
    assert "latin-1" not in encoding_candidates(raw)
    assert "cp1252" not in encoding_candidates(raw)


@pytest.mark.parametrize(
    "name", ["base64", "rot13", "bz2", "hex", "zlib", "uu", "undefined", "unicode_escape"]
)
def test_encoding_option_that_is_not_a_text_codec_is_a_usage_error(name: str) -> None:
    with pytest.raises(UsageError) as err:
        text_codec(name)
    assert err.value.message == (
        f"--encoding {name!r}: is not a text encoding (it does not turn a file's bytes into text)"
    )


def cstool(*args: str, stdin: object = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cstool", *args],
        stdin=stdin,  # type: ignore[arg-type]
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("value", ["é", "\x00", "🙂", ";;"])
def test_delimiter_that_is_not_one_printable_ascii_character_exits_2(value: str) -> None:
    if value == "\x00":  # a NUL cannot go through argv: check the function
        from cstool.read import delimiter_option

        with pytest.raises(UsageError):
            delimiter_option(value)
        return
    result = cstool("validate", str(DATA / "bad_rows.csv"), "--delimiter", value)
    assert result.returncode == 2
    assert f"--delimiter {value!r}: expected one printable ASCII character" in result.stderr
    assert "Traceback" not in result.stderr


def test_encoding_base64_on_the_command_line_exits_2() -> None:
    result = cstool("validate", str(DATA / "bad_rows.csv"), "--encoding", "base64")
    assert result.returncode == 2
    assert "--encoding 'base64': is not a text encoding" in result.stderr


def test_stdin_and_process_substitution_give_the_file_s_own_problems() -> None:
    by_path = cstool("validate", str(DATA / "bad_rows.csv"))
    with (DATA / "bad_rows.csv").open("rb") as handle:
        by_stdin = cstool("validate", "/dev/stdin", stdin=handle)
    assert by_path.returncode == by_stdin.returncode == 1
    lines = by_path.stderr.replace(str(DATA / "bad_rows.csv"), "FILE")
    assert by_stdin.stderr.replace("/dev/stdin", "FILE") == lines
    assert "FILE line 3, column 'Value_Delivery', value 'eight'" in lines


def test_a_pipe_is_read_once(tmp_path: Path) -> None:
    reader, writer = os.pipe()
    with os.fdopen(writer, "wb") as sink:
        sink.write((DATA / "ragged_rows.csv").read_bytes())
    with os.fdopen(reader, "rb") as source:
        result = cstool("validate", "/dev/stdin", stdin=source)
    assert result.returncode == 1
    assert "/dev/stdin line" in result.stderr


def test_fifo_is_read_not_hung(tmp_path: Path) -> None:
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cstool", "validate", str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with fifo.open("wb") as sink:
        sink.write((DATA / "bad_rows.csv").read_bytes())
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert f"{fifo} line 3, column 'Value_Delivery', value 'eight'" in err


def test_endless_device_is_refused_up_front() -> None:
    result = cstool("validate", "/dev/zero")
    assert result.returncode == 2
    assert "/dev/zero: is a device, not a file" in result.stderr


def test_too_long_file_name_is_a_usage_error_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / ("a" * 300 + ".csv")
    with pytest.raises(UsageError) as err:
        load_table(path, Settings())
    assert err.value.message == (
        f"{path}: the file name is too long for this system (304 characters)"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_file_in_an_unreadable_folder_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "c.csv").write_text(f"Customer_ID,{SCORES}\nA1,8,7,6\n")
    folder.chmod(0)
    try:
        with pytest.raises(UsageError) as err:
            load_table(folder / "c.csv", Settings())
    finally:
        folder.chmod(0o755)
    assert err.value.message.startswith(f"{folder / 'c.csv'}: permission denied")


def test_path_through_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    with pytest.raises(UsageError) as err:
        load_table(tmp_path / "plain" / "c.csv", Settings())
    assert "a part of the path is a file, not a folder" in err.value.message


@pytest.mark.slow
def test_log_lookup_stops_at_the_id_and_does_not_read_the_rest(tmp_path: Path) -> None:
    from cstool.ids import find_customer

    # The ID is on line 2; the rest is 20 MB of rows and then a byte that is not UTF-8.
    # Reading the whole file would refuse it; the lookup never gets there.
    body = "".join(f"B{i},Someone,5,5,5\n" for i in range(10_000)).encode() * 100
    path = tmp_path / "big.csv"
    path.write_bytes(
        f"Customer_ID,Name,{SCORES}\nA1,Ann Early,8,7,6\n".encode() + body + b"Z9,Ren\xe9e,1,1,1\n"
    )
    found = find_customer(path, Settings(), "A1")
    assert (found.customer_id, found.name) == ("A1", "Ann Early")
    with pytest.raises(DataError):
        load_table(path, Settings())


def test_log_lookup_in_a_workbook(tmp_path: Path) -> None:
    from cstool.ids import find_customer

    found = find_customer(DATA / "customers.xlsx", Settings(), "C1002")
    assert (found.customer_id, found.name, found.line) == ("C1002", "Yara Larsen", 3)
    with pytest.raises(UsageError) as err:
        find_customer(DATA / "customers.xlsx", Settings(), "C1O02")
    assert err.value.hint == "did you mean C1002, C1102, C1012?"


def test_big5_and_gb18030_readings_are_judged_by_common_characters() -> None:
    from cstool.read.encoding import common_han_share

    big5 = "客戶名稱,陳大文".encode("big5")
    assert common_han_share(big5.decode("big5")) == 1.0
    assert common_han_share(big5.decode("gb18030", errors="replace")) < 0.3


def test_pipe_with_blank_line_and_quoted_newline_gives_exact_lines() -> None:
    text = (f'Customer_ID,{SCORES},Notes\n\nA1,8,7,6,"two\nlines"\nA2,eleven,7,6,x\n').encode()
    reader, writer = os.pipe()
    with os.fdopen(writer, "wb") as sink:
        sink.write(text)
    with os.fdopen(reader, "rb") as source:
        result = cstool("validate", "/dev/stdin", stdin=source)
    assert result.returncode == 1
    assert "/dev/stdin line 5, column 'Value_Delivery', value 'eleven'" in result.stderr


def test_shift_jis_in_kanji_only_is_proposed_as_cp932(tmp_path: Path) -> None:
    """No kana at all: the frequent kanji are the evidence, not GB18030's reading."""
    text = (
        f"顧客ID,会社名,{SCORES}\nJ1,東京商事,8,7,6\nJ2,大阪電機工業,5,5,5\nJ3,名古屋重工,9,9,9\n"
    )
    path = write(tmp_path, text, encoding="cp932")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert err.value.hint == (
        "name the file's encoding; it reads as Japanese (Shift-JIS, cp932) text: --encoding cp932"
    )
    assert encoding_candidates(path.read_bytes())[0] == "cp932"


def test_an_encoding_hint_that_cannot_decide_says_so_and_names_the_option() -> None:
    from cstool.read import decode

    raw = "Name\n東京\n".encode("big5")  # as much Big5 as Shift-JIS
    with pytest.raises(DataError) as err:
        decode(raw, Path("t.csv"), "utf-8")
    assert err.value.hint == (
        "name the file's encoding with --encoding; not sure which: these decode it cleanly, "
        "most likely first (check that the names read right): --encoding big5, --encoding cp932"
    )


def test_cp1252_is_ranked_by_letters_inside_words() -> None:
    raw = "Name\nRenée’s Café, Zoë – “Noël”\n".encode("cp1252")
    assert encoding_candidates(raw) == ["cp1252"]  # the curly quotes rule latin-1 out
    big5 = "Name\n林美玲\n".encode("big5")  # decodes as cp1252 too, into symbols
    assert encoding_candidates(big5) == ["big5"]


def test_a_dash_reads_standard_input() -> None:
    """`cstool score - < file.csv`: the file's own scores and problems, as for /dev/stdin."""
    with (DATA / "bad_rows.csv").open("rb") as handle:
        by_dash = cstool("validate", "-", stdin=handle)
    with (DATA / "bad_rows.csv").open("rb") as handle:
        by_stdin = cstool("validate", "/dev/stdin", stdin=handle)
    assert by_dash.returncode == by_stdin.returncode == 1
    assert by_dash.stderr == by_stdin.stderr
    assert "line 3, column 'Value_Delivery', value 'eight'" in by_dash.stderr
    with EXAMPLE.open("rb") as handle:
        scored = cstool("score", "-", "--format", "json", "--as-of", "2026-11-23", stdin=handle)
    assert scored.returncode == 0, scored.stderr
    assert len(json.loads(scored.stdout)) == 200


def test_no_built_in_header_is_an_alias_of_two_fields() -> None:
    # A header that two fields claim would be read as whichever comes first in FIELDS.
    from cstool.read.headers import ALIASES, normalise_header

    owner: dict[str, str] = {}
    clashes = []
    for field, spellings in ALIASES.items():
        for spelling in spellings:
            key = normalise_header(spelling)
            if owner.setdefault(key, field) != field:
                clashes.append((spelling, owner[key], field))
    assert clashes == []
    assert owner[normalise_header("Société")] == "name"


def test_shopify_ids_lose_the_spreadsheet_apostrophe_only_when_every_id_has_it(
    tmp_path: Path,
) -> None:
    header = "Customer ID,First Name,Email,Total Spent"
    path = write(tmp_path, f"{header}\n'7318005694658,Ann,a@x.example,1\n '7318005694659,Bo,,0\n")
    table = load_table(path, Settings())
    assert table.frame["customer_id"].tolist() == ["7318005694658", "7318005694659"]
    assert (
        "every ID in column 'Customer ID' starts with an apostrophe (a spreadsheet's mark for "
        "text, as in Shopify's export): read without it"
    ) in table.warnings
    # where only some IDs have one, it may be part of them: nothing is stripped
    mixed = write(tmp_path, f"{header}\n'A1,Ann,,1\nB2,Bo,,0\n", "mixed.csv")
    assert load_table(mixed, Settings()).frame["customer_id"].tolist() == ["'A1", "B2"]
    assert not any("apostrophe" in w for w in load_table(mixed, Settings()).warnings)


SALESFORCE_FOOTER = (
    '\n"Grand Totals (2 records)"\n\n'
    '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n'
    '"Confidential Information - Do Not Distribute"\n'
    '"Generated By:  Jane Doe  12/1/2026 9:14 AM"\n'
)


def test_a_reports_footer_after_a_blank_line_is_left_out_naming_its_lines(tmp_path: Path) -> None:
    rows = f'"Account ID","Account Name",{SCORES}\n"001A","Acme, Inc.",8,7,6\n"001B","Beta",5,5,5\n'
    table = load_table(write(tmp_path, rows + SALESFORCE_FOOTER), Settings())
    assert table.frame["customer_id"].tolist() == ["001A", "001B"]
    (warning,) = [w for w in table.warnings if "footer" in w]
    assert "left out 4 lines of one cell after a blank line at the end (lines 5–9: " in warning
    assert "'Grand Totals (2 records)'" in warning


def test_a_one_cell_line_right_under_the_rows_is_still_a_row_cut_short(tmp_path: Path) -> None:
    path = write(tmp_path, f"Customer_ID,Name,{SCORES}\nA1,Acme,8,7,6\nExported on 2026-11-30\n")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    (problem,) = err.value.problems
    assert problem.line == 3
    assert "expected 5 cells like the header, found 1" in problem.describe()


def test_a_one_column_file_has_no_footer(tmp_path: Path) -> None:
    # With a single column every row is one cell: IDs after a blank line are rows.
    path = write(tmp_path, "Customer_ID\nA1\n\nA2\n")
    table = load_table(path, Settings())
    assert table.frame["customer_id"].tolist() == ["A1", "A2"]
    assert not any("footer" in w for w in table.warnings)


def test_first_and_last_name_make_the_name_of_a_contact_export(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Record ID,First Name,Last Name,Email\n1,Ann,Lee,a@x.example\n2, Bo ,,b@x.example\n3,,,\n",
    )
    table = load_table(path, Settings())
    names = table.frame["name"]
    assert names.iloc[:2].tolist() == ["Ann Lee", "Bo"]
    assert names.isna().tolist() == [False, False, True]
    assert "name: 'First Name' + 'Last Name' (the file has no name column)" in table.notes
    # French: Prénom + Nom; a name column, when there is one, is the name
    french = write(tmp_path, "Numéro client,Prénom,Nom\nF1,Marie,Curie\n", "fr.csv")
    assert load_table(french, Settings()).frame["name"].tolist() == ["Marie Curie"]
    named = write(tmp_path, "ID,Company,First Name,Last Name\n1,Acme,Ann,Lee\n", "named.csv")
    assert load_table(named, Settings()).frame["name"].tolist() == ["Acme"]
    # a first name alone is half a name: not used
    half = write(tmp_path, "ID,First Name\n1,Ann\n", "half.csv")
    assert load_table(half, Settings()).frame["name"].isna().all()
