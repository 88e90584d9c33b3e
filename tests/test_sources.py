"""Sources: exports joined onto the customer table (issue 14), on real files in tmp_path."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cstool import followup
from cstool.book import Book, open_book
from cstool.cli import app
from cstool.errors import ConfigError, DataError
from cstool.sources import recognise
from tests.conftest import AS_OF, DATA

SOURCES = DATA / "sources"
THREE = ("exports/stripe_subscriptions_*.csv", "zendesk_tickets.csv", "typeform_nps.csv")


def workspace(
    tmp_path: Path,
    sources: list[str | dict[str, str]],
    customers: str = "customers.csv",
    files: tuple[str, ...] = (),
) -> Path:
    """A folder with the customer table, the three exports (Stripe's in exports/) and a
    cstool.toml naming `sources` (a file, or a [[sources]] table as key -> TOML value)."""
    (tmp_path / "exports").mkdir()
    shutil.copy(
        SOURCES / "stripe_subscriptions.csv", tmp_path / "exports/stripe_subscriptions_2026-11.csv"
    )
    for name in ("customers.csv", "zendesk_tickets.csv", "typeform_nps.csv", *files):
        shutil.copy(SOURCES / name, tmp_path / name)
    lines = [f'customers = "{customers}"']
    for source in sources:
        entry = {"file": f'"{source}"'} if isinstance(source, str) else source
        lines.append("[[sources]]")
        lines += [f"{key} = {value}" for key, value in entry.items()]
    (tmp_path / "cstool.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def book_in(folder: Path) -> Book:
    return open_book(config=folder / "cstool.toml", as_of=AS_OF)


def by_id(frame: pd.DataFrame, column: str) -> dict[str, object]:
    values = frame.set_index("customer_id")[column]
    return {str(k): (None if pd.isna(v) else v) for k, v in values.items()}


# ---------------------------------------------------------------- the scenario
def test_three_exports_give_the_hand_computed_values(tmp_path: Path) -> None:
    book = book_in(workspace(tmp_path, list(THREE)))
    frame = book.scored
    # C001: Pro 99 × 1 monthly + Seats 15 × 2 monthly; C002: 1,200 a year; C003 canceled;
    # C004: 20 × 3 past due; the unknown email's subscription goes nowhere.
    assert by_id(frame, "mrr") == {
        "C001": 129.0,
        "C002": 100.0,
        "C003": 0.0,
        "C004": 60.0,
        "C005": None,
    }
    # open, pending, hold and new count; solved and closed do not; no tickets is 0 open.
    assert by_id(frame, "open_tickets") == {"C001": 2, "C002": 1, "C003": 0, "C004": 1, "C005": 0}
    # the latest scored answer: C001 answered 6, then 9; C004's partial answer is ignored
    assert by_id(frame, "nps") == {"C001": 9, "C002": 10, "C003": 2, "C004": None, "C005": None}
    assert by_id(frame, "nps_comment")["C001"] == "Much better now"
    assert by_id(frame, "nps_date")["C001"] == pd.Timestamp("2026-11-01")
    assert by_id(frame, "status") == {
        "C001": "active",
        "C002": "active",
        "C003": "churned",
        "C004": "past_due",
        "C005": None,
    }
    assert by_id(frame, "churn_date")["C003"] == pd.Timestamp("2026-10-31")
    # the biggest live subscription's plan; the earliest period end of the live ones
    assert by_id(frame, "plan") == {
        "C001": "Pro",
        "C002": "Annual",
        "C003": "Pro",
        "C004": "Basic",
        "C005": None,
    }
    assert by_id(frame, "renewal_date")["C001"] == pd.Timestamp("2026-12-01")
    assert by_id(frame, "renewal_date")["C003"] is None
    assert by_id(frame, "signup_date")["C001"] == pd.Timestamp("2025-01-10")
    # rated tickets: C002 good, bad, good → 2/3; C001 has none rated
    shares = by_id(frame, "tickets_rated_good")
    assert shares["C002"] == pytest.approx(2 / 3)
    assert shares["C003"] == 1.0
    assert shares["C001"] is None
    assert by_id(frame, "last_ticket_date")["C002"] == pd.Timestamp("2026-11-10")


def test_every_unknown_row_is_reported_by_its_email(tmp_path: Path) -> None:
    book = book_in(workspace(tmp_path, list(THREE)))
    assert book.sources is not None
    stripe, zendesk, typeform = book.sources.reports
    assert (stripe.kind, zendesk.kind, typeform.kind) == ("subscriptions", "tickets", "surveys")
    assert stripe.file.name == "stripe_subscriptions_2026-11.csv"
    assert (stripe.rows, stripe.matched, stripe.unmatched) == (6, 5, 1)
    assert stripe.unmatched_keys == ["ghost@unknown.example"]
    assert (zendesk.rows, zendesk.matched, zendesk.unmatched) == (9, 8, 1)
    assert zendesk.unmatched_keys == ["stranger@nowhere.example"]
    assert (typeform.rows, typeform.matched, typeform.unmatched, typeform.ignored) == (6, 5, 1, 1)
    assert typeform.unmatched_keys == ["who@unknown.example"]
    assert typeform.fields == ["nps", "nps_date", "nps_comment"]
    assert stripe.matched_by == {"customer_id": 0, "email": 5}


def test_validate_prints_each_source(tmp_path: Path) -> None:
    folder = workspace(tmp_path, list(THREE))
    result = CliRunner().invoke(app, ["validate", "--config", str(folder / "cstool.toml")])
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.stderr.splitlines()]
    assert "1 not matched to a customer: ghost@unknown.example" in lines
    assert "1 not matched to a customer: stranger@nowhere.example" in lines
    assert "1 not matched to a customer: who@unknown.example" in lines
    assert "1 without a score (partial answers), left out" in lines
    assert "typeform_nps.csv: surveys · 6 rows, 5 matched (5 by email) → 3 customers" in lines


def test_the_canceled_customer_gets_no_followup_and_the_past_due_one_is_past_due(
    tmp_path: Path,
) -> None:
    book = book_in(workspace(tmp_path, list(THREE)))
    due = book.followups("+60d")
    if not hasattr(followup, "_payment"):  # the payment trigger arrives with the followup work
        assert by_id(book.scored, "status")["C004"] == "past_due"
        pytest.skip("followup.py has no payment trigger on this branch yet")
    reasons = dict(zip(due["customer_id"], due["reason"], strict=True))
    assert "C003" not in reasons
    assert "payment failed" in reasons["C004"]


def test_explain_says_where_each_value_came_from(tmp_path: Path) -> None:
    book = book_in(workspace(tmp_path, list(THREE)))
    origin = book.provenance("C001")
    assert origin["name"] == "customers.csv line 2"
    assert origin["mrr"] == "stripe_subscriptions_2026-11.csv line 2"
    assert origin["open_tickets"] == "zendesk_tickets.csv line 2"
    assert origin["nps"] == "typeform_nps.csv line 3"  # the later of its two answers
    # no tickets at all: the help desk says 0, from no line
    assert book.provenance("C005")["open_tickets"] == "zendesk_tickets.csv"
    assert "nps" not in book.provenance("C005")


def test_explain_prints_the_origins(tmp_path: Path) -> None:
    folder = workspace(tmp_path, list(THREE))
    config = str(folder / "cstool.toml")
    result = CliRunner().invoke(
        app, ["explain", "C001", "--config", config, "--as-of", "2026-11-23"]
    )
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "mrr stripe_subscriptions_2026-11.csv line 2" in lines
    assert "nps typeform_nps.csv line 3" in lines
    assert "name customers.csv line 2" in lines


def test_enriched_csv_and_json_carry_the_merged_values(tmp_path: Path) -> None:
    folder = workspace(tmp_path, list(THREE))
    out = tmp_path / "out.csv"
    config = str(folder / "cstool.toml")
    result = CliRunner().invoke(
        app, ["score", "--config", config, "--as-of", "2026-11-23", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    enriched = pd.read_csv(out, dtype=str).set_index("customer_id")
    assert enriched.loc["C001", "mrr"] == "129"
    assert enriched.loc["C002", "nps"] == "10"
    assert enriched.loc["C003", "status"] == "churned"
    result = CliRunner().invoke(
        app, ["score", "--config", config, "--as-of", "2026-11-23", "-f", "json"]
    )
    rows = {r["customer_id"]: r for r in json.loads(result.stdout)}
    assert rows["C004"]["open_tickets"] == 1
    assert rows["C004"]["status"] == "past_due"
    assert rows["C001"]["nps_comment"] == "Much better now"


def test_a_stripe_customers_export_as_the_table_scores_every_live_customer(
    tmp_path: Path,
) -> None:
    folder = workspace(
        tmp_path, list(THREE), customers="stripe_customers.csv", files=("stripe_customers.csv",)
    )
    book = book_in(folder)
    frame = book.scored
    assert book.sources is not None
    stripe = book.sources.reports[0]
    assert stripe.matched_by["customer_id"] == 5  # cus_… IDs this time
    assert by_id(frame, "mrr") == {"cus_A": 129.0, "cus_B": 100.0, "cus_C": 0.0, "cus_D": 60.0}
    live = frame[frame["status"] != "churned"]
    assert sorted(live["customer_id"]) == ["cus_A", "cus_B", "cus_D"]
    assert live["health"].notna().all()
    assert by_id(frame, "status")["cus_D"] == "past_due"


# ---------------------------------------------------------------- matching and precedence
def test_the_table_wins_unless_its_cell_is_empty_and_conflicts_are_reported(
    tmp_path: Path,
) -> None:
    folder = workspace(tmp_path, list(THREE))
    table = (folder / "customers.csv").read_text().splitlines()
    table[0] += ",MRR"
    table[1] += ",150"  # C001's own MRR disagrees with Stripe
    table[2:] = [line + "," for line in table[2:]]
    (folder / "customers.csv").write_text("\n".join(table) + "\n")
    book = book_in(folder)
    assert by_id(book.scored, "mrr")["C001"] == 150.0
    assert by_id(book.scored, "mrr")["C002"] == 100.0  # empty in the table: Stripe's
    assert book.sources is not None
    stripe = book.sources.reports[0]
    assert stripe.conflicts == {"mrr": 1}
    assert stripe.conflict_examples == ["C001 mrr: 150 (table) ≠ 129 (source)"]
    assert book.provenance("C001")["mrr"] == "customers.csv line 2"

    toml = (folder / "cstool.toml").read_text()
    toml = toml.replace(
        'file = "exports/stripe_subscriptions_*.csv"',
        'file = "exports/stripe_subscriptions_*.csv"\nprefer = "source"',
    )
    (folder / "cstool.toml").write_text(toml)
    assert by_id(book_in(folder).scored, "mrr")["C001"] == 129.0


def test_an_earlier_source_wins_over_a_later_one(tmp_path: Path) -> None:
    folder = workspace(
        tmp_path, ["typeform_nps.csv", "surveymonkey_nps.csv"], files=("surveymonkey_nps.csv",)
    )
    nps = by_id(book_in(folder).scored, "nps")
    assert nps["C001"] == 9  # Typeform first, though SurveyMonkey's 7 is newer
    assert nps["C002"] == 10


def test_a_source_that_matches_no_customer_is_an_error(tmp_path: Path) -> None:
    folder = workspace(tmp_path, ["strangers.csv"])
    (folder / "strangers.csv").write_text(
        "Id,Requester email,Status,Created at\n"
        "1,a@x.example,open,2026-11-01\n"
        "2,b@y.example,open,2026-11-02\n"
    )
    with pytest.raises(DataError) as caught:
        _ = book_in(folder).table
    assert "strangers.csv: none of its 2 rows matches a customer" in caught.value.message
    result = CliRunner().invoke(app, ["validate", "--config", str(folder / "cstool.toml")])
    assert result.exit_code == 1


def test_bad_cells_name_the_source_file_and_line(tmp_path: Path) -> None:
    folder = workspace(tmp_path, ["typeform_nps.csv"])
    text = (folder / "typeform_nps.csv").read_text().replace("r3,10,", "r3,11,")
    (folder / "typeform_nps.csv").write_text(text)
    with pytest.raises(DataError) as caught:
        _ = book_in(folder).table
    (problem,) = caught.value.problems
    assert (Path(problem.file or "").name, problem.line, problem.value) == (
        "typeform_nps.csv",
        4,
        "11",
    )
    assert problem.expected == "a whole number from 0 to 10"
    # --skip-invalid: the cell is left empty and reported
    from cstool.pipeline import ReadOptions

    book = open_book(
        config=folder / "cstool.toml", as_of=AS_OF, options=ReadOptions(skip_invalid=True)
    )
    assert by_id(book.scored, "nps")["C002"] is None
    assert book.sources is not None
    assert [p.line for p in book.sources.reports[0].problems] == [4]


def test_match_by_domain_for_company_customers(tmp_path: Path) -> None:
    folder = workspace(tmp_path, [{"file": '"zendesk_tickets.csv"', "match": '"domain"'}])
    text = (
        (folder / "zendesk_tickets.csv")
        .read_text()
        .replace("JANE@BETA.EXAMPLE", "cto@beta.example")
    )
    (folder / "zendesk_tickets.csv").write_text(text)
    book = book_in(folder)
    assert book.sources is not None
    report = book.sources.reports[0]
    assert report.matched_by == {"email": 7, "domain": 1}
    assert by_id(book.scored, "tickets_rated_good")["C002"] == pytest.approx(2 / 3)


def test_a_glob_takes_the_newest_file(tmp_path: Path) -> None:
    folder = workspace(tmp_path, ["exports/stripe_subscriptions_*.csv"])
    old = folder / "exports/stripe_subscriptions_2026-10.csv"
    old.write_text(
        "id,Customer Email,Plan,Quantity,Interval,Amount,Status\n"
        "s9,ops@acme.example,Old,1,month,5,active\n"
    )
    newest = folder / "exports/stripe_subscriptions_2026-11.csv"
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(newest, (1_800_000_000, 1_800_000_000))
    assert by_id(book_in(folder).scored, "mrr")["C001"] == 129.0
    os.utime(old, (1_900_000_000, 1_900_000_000))
    assert by_id(book_in(folder).scored, "mrr")["C001"] == 5.0


# ---------------------------------------------------------------- kinds and aggregations
@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (
            [
                "id",
                "Customer ID",
                "Customer Email",
                "Plan",
                "Quantity",
                "Interval",
                "Amount",
                "Status",
                "Current Period End (UTC)",
            ],
            "subscriptions",
        ),
        (
            [
                "Id",
                "Requester",
                "Requester email",
                "Status",
                "Created at",
                "Solved at",
                "Satisfaction Score",
            ],
            "tickets",
        ),
        (
            [
                "#",
                "How likely are you to recommend Acme to a friend?",
                "email",
                "Submit Date (UTC)",
            ],
            "surveys",
        ),
        (["Timestamp", "Email Address", "您向朋友推荐我们的可能性有多大？"], "surveys"),
        (["Response ID", "Email", "Score", "Comment", "Response timestamp"], "surveys"),
        (
            [
                "Record ID",
                "First Name",
                "Last Name",
                "Email",
                "Lifecycle Stage",
                "Contact owner",
                "Last Activity Date",
            ],
            "crm",
        ),
        (["Name", "Email", "Owner", "Last activity date", "Organization"], "crm"),
        (["Account Owner", "Account Name", "Last Activity Time"], "crm"),
        (["Email", "Event", "When"], "generic"),
    ],
)
def test_kinds_are_recognised_from_headers(header: list[str], kind: str) -> None:
    assert recognise(header) == kind


def test_intervals_cents_trials_and_duplicate_subscriptions(tmp_path: Path) -> None:
    folder = workspace(tmp_path, ["billing_variety.csv"], files=("billing_variety.csv",))
    book = book_in(folder)
    mrr = by_id(book.scored, "mrr")
    assert mrr["C001"] == pytest.approx(12.0 * 52 / 12)  # 1200 cents a week
    assert mrr["C002"] == pytest.approx(1.0 * 365 / 12)  # 100 cents a day
    assert mrr["C003"] == 0.0  # a trial pays nothing yet
    assert mrr["C004"] == pytest.approx(600.0 * 2 / 12)  # the repeated s4 row counts once
    assert by_id(book.scored, "status")["C003"] == "trial"
    assert book.sources is not None
    assert book.sources.reports[0].duplicates == 1


def test_repeated_subscription_ids_count_once_and_blank_ids_never_repeat(tmp_path: Path) -> None:
    (tmp_path / "subs.csv").write_text(
        "id,Customer Email,Plan,Quantity,Interval,Amount,Status\n"
        "s1,ops@acme.example,Pro,1,month,10,active\n"
        " s1 ,ops@acme.example,Pro,1,month,10,active\n"  # the same ID, padded
        ",jane@beta.example,Basic,1,month,7,active\n"  # no ID: every such row counts
        "  ,jane@beta.example,Basic,1,month,7,active\n"
        "s2,jane@beta.example,Basic,1,month,5,active\n"
        "s1,ops@acme.example,Pro,1,month,10,active\n"
        "s3,hello@gamma.example,Team,2,month,4,active\n"
        "s2,jane@beta.example,Basic,1,month,5,active\n",
        encoding="utf-8",
    )
    book = book_in(workspace(tmp_path, ["subs.csv"]))
    mrr = by_id(book.scored, "mrr")
    assert (mrr["C001"], mrr["C002"], mrr["C003"]) == (10.0, 19.0, 8.0)
    assert book.sources is not None
    report = book.sources.reports[0]
    assert (report.rows, report.duplicates, report.matched) == (8, 3, 5)


def test_surveymonkey_two_header_rows(tmp_path: Path) -> None:
    folder = workspace(tmp_path, ["surveymonkey_nps.csv"], files=("surveymonkey_nps.csv",))
    book = book_in(folder)
    frame = book.scored
    assert by_id(frame, "nps") == {"C001": 7, "C002": 4, "C003": None, "C004": None, "C005": None}
    assert by_id(frame, "nps_comment")["C002"] == "Slow support"
    assert by_id(frame, "nps_date")["C002"] == pd.Timestamp("2026-11-21")
    assert book.sources is not None
    report = book.sources.reports[0]
    assert (report.rows, report.matched, report.ignored) == (3, 3, 1)  # the partial one matched
    assert book.provenance("C001")["nps"] == "surveymonkey_nps.csv line 3"


def test_crm_contacts_give_name_stage_owner_and_last_contact(tmp_path: Path) -> None:
    folder = workspace(tmp_path, ["hubspot_contacts.csv"], files=("hubspot_contacts.csv",))
    book = book_in(folder)
    frame = book.scored
    assert by_id(frame, "owner") == {
        "C001": "Sam Seller",
        "C002": "Sam Seller",
        "C003": None,
        "C004": None,
        "C005": None,
    }
    assert by_id(frame, "stage")["C001"] == "customer"
    # the latest touch wins, whichever file has it: the CRM's activity of 2026-11-18 over the
    # table's 2026-10-20 (C002's too); the table's name wins as every other field does
    assert by_id(frame, "last_contact")["C001"] == pd.Timestamp("2026-11-18")
    assert by_id(frame, "last_contact")["C002"] == pd.Timestamp("2026-11-05")
    assert by_id(frame, "last_contact")["C003"] == pd.Timestamp("2026-09-15")
    assert by_id(frame, "name")["C001"] == "Acme"
    assert book.provenance("C001")["last_contact"] == "hubspot_contacts.csv line 2"
    assert book.provenance("C003")["last_contact"] == "customers.csv line 4"
    assert book.sources is not None
    report = book.sources.reports[0]
    assert report.conflicts == {"name": 2, "last_contact": 2}
    assert report.unmatched_keys == ["lead@prospect.example"]


def test_a_newer_touch_in_the_table_beats_an_older_crm_activity_even_under_prefer_source(
    tmp_path: Path,
) -> None:
    folder = workspace(
        tmp_path,
        [{"file": '"hubspot_contacts.csv"', "prefer": '"source"'}],
        files=("hubspot_contacts.csv",),
    )
    customers = folder / "customers.csv"
    customers.write_text(
        customers.read_text(encoding="utf-8").replace(
            "C001,Acme,ops@acme.example,8,7,8,2026-10-20",
            "C001,Acme,ops@acme.example,8,7,8,2026-11-22",
        ),
        encoding="utf-8",
    )
    frame = book_in(folder).scored
    assert by_id(frame, "last_contact")["C001"] == pd.Timestamp("2026-11-22")  # the table's
    assert by_id(frame, "last_contact")["C002"] == pd.Timestamp("2026-11-05")  # the CRM's
    assert by_id(frame, "name")["C001"] == "Olga Ops"  # prefer = "source" for every other field


def test_generic_source_with_fields_and_aggregations(tmp_path: Path) -> None:
    folder = workspace(tmp_path, [], files=("usage_events.csv",))
    with (folder / "cstool.toml").open("a", encoding="utf-8") as toml:
        toml.write(
            '[[sources]]\nfile = "usage_events.csv"\nmatch = "email"\nkey = "User Email"\n'
            '[[sources.aggregations]]\nfield = "logins"\nop = "count_where"\n'
            'where = { Event = "login" }\n'
            '[[sources.aggregations]]\nfield = "seconds"\nop = "sum"\ncolumn = "Seconds"\n'
            '[[sources.aggregations]]\nfield = "last_event"\nop = "latest"\ncolumn = "Event"\n'
            'by = "When"\n'
            '[[sources.aggregations]]\nfield = "login_share"\nop = "share_where"\n'
            'where = { Event = ["login"] }\n'
        )
    frame = book_in(folder).scored
    assert by_id(frame, "logins") == {"C001": 2, "C002": 1, "C003": 0, "C004": 0, "C005": 0}
    assert by_id(frame, "seconds")["C001"] == 195.0
    assert by_id(frame, "last_event")["C001"] == "login"
    assert by_id(frame, "login_share")["C001"] == pytest.approx(2 / 3)


def test_an_unrecognised_source_without_mappings_is_a_config_error(tmp_path: Path) -> None:
    folder = workspace(tmp_path, ["usage_events.csv"], files=("usage_events.csv",))
    with pytest.raises(ConfigError) as caught:
        _ = book_in(folder).table
    assert "usage_events.csv is not a kind cstool recognises" in caught.value.message


def test_a_typo_in_a_source_entry_is_a_config_error(tmp_path: Path) -> None:
    folder = workspace(tmp_path, [{"file": '"zendesk_tickets.csv"', "prefered": '"source"'}])
    result = CliRunner().invoke(app, ["validate", "--config", str(folder / "cstool.toml")])
    assert result.exit_code == 2
    assert "prefered" in result.stderr


# ------------------------------------------- the sources read while the table is read
def test_sources_read_ahead_give_what_reading_them_later_gives(tmp_path: Path) -> None:
    from cstool.pipeline import load_table
    from cstool.sources import merge_sources
    from cstool.sources.merge import read_ahead

    folder = workspace(tmp_path, list(THREE))
    book = book_in(folder)
    table = load_table(book.path, book.settings)
    later = merge_sources(table, book.settings, folder)
    reads = read_ahead(book.settings, folder)
    ahead = merge_sources(table, book.settings, folder, reads=reads)
    reads.close()
    pd.testing.assert_frame_equal(ahead.table.frame, later.table.frame)
    pd.testing.assert_frame_equal(ahead.table.raw, later.table.raw)
    pd.testing.assert_frame_equal(ahead.provenance, later.provenance)
    assert ahead.reports == later.reports
    assert by_id(book.scored, "mrr") == by_id(ahead.table.frame, "mrr")  # the book's way


def test_a_missing_source_file_comes_after_the_tables_own_problems(tmp_path: Path) -> None:
    folder = workspace(tmp_path, ["zendesk_tickets.csv", "gone.csv"])
    with pytest.raises(ConfigError, match=r"gone\.csv"):
        _ = book_in(folder).table
    customers = folder / "customers.csv"
    customers.write_text(
        customers.read_text().replace(
            "C001,Acme,ops@acme.example,8,", "C001,Acme,ops@acme.example,eight,"
        )
    )
    with pytest.raises(DataError) as caught:  # the table's bad cell first, as before
        _ = book_in(folder).table
    assert [p.value for p in caught.value.problems] == ["eight"]


def test_an_unreadable_source_read_ahead_is_named(tmp_path: Path) -> None:
    folder = workspace(tmp_path, ["zendesk_tickets.csv", "binary.csv"])
    (folder / "binary.csv").write_bytes(b"Id,Email\x00\n1,a\x00b\n")
    with pytest.raises(DataError, match=r"binary\.csv: line 1 contains a NUL byte"):
        _ = book_in(folder).table


def test_an_appended_column_holds_text_only_where_a_value_came_from_somewhere(
    tmp_path: Path,
) -> None:
    from cstool.sources import merge

    result = book_in(workspace(tmp_path, list(THREE))).sources
    assert result is not None
    origin = {
        name: result.provenance[name].cat.codes.to_numpy()
        for name in result.provenance.columns
        if not name.endswith("_line")
    }
    raw = merge._raw_with(result.main.raw, result.table.frame, result.main, origin)
    pd.testing.assert_frame_equal(raw, result.table.raw)  # the merge's own enriched text
    assert raw["mrr"].notna().sum() == (origin["mrr"] >= 0).sum() > 1
    origin["mrr"] = np.where(np.arange(len(origin["mrr"])) == 0, -1, origin["mrr"])
    masked = merge._raw_with(result.main.raw, result.table.frame, result.main, origin)
    assert pd.isna(masked["mrr"].iloc[0]) and not pd.isna(raw["mrr"].iloc[0])
    assert masked["mrr"].iloc[1:].tolist() == raw["mrr"].iloc[1:].tolist()
