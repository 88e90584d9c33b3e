"""Sources from a new user's sweep: an error in an export names the export."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cstool.book import open_book
from cstool.cli import app
from cstool.errors import DataError
from tests.conftest import AS_OF

CUSTOMERS = (
    "customer_id,name,email,value_delivery,issue_resolution,growth_strategy\n"
    "C1,Acme,ops@acme.example,8,7,8\nC2,Beta,jane@beta.example,6,5,6\n"
)
# a European Stripe-style export whose period ends fit both day/month orders
STRIPE = (
    "id;Customer Email;Plan;Quantity;Interval;Amount;Status;Current Period End (UTC)\n"
    "sub_1;ops@acme.example;Pro;1;month;1.200,00;active;10.12.2026\n"
    "sub_2;jane@beta.example;Yearly;2;year;600,50;active;01.03.2027\n"
)


def _workspace(tmp_path: Path) -> Path:
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "stripe_eu.csv").write_text(STRIPE, encoding="utf-8")
    (tmp_path / "cstool.toml").write_text(
        'customers = "customers.csv"\n[[sources]]\nfile = "stripe_eu.csv"\n', encoding="utf-8"
    )
    return tmp_path


def test_an_ambiguous_date_column_in_a_source_names_its_file_and_header(tmp_path: Path) -> None:
    folder = _workspace(tmp_path)
    with pytest.raises(DataError) as err:
        open_book(config=folder / "cstool.toml", as_of=AS_OF).scored  # noqa: B018
    assert "stripe_eu.csv" in err.value.message
    assert "'Current Period End (UTC)'" in err.value.message
    assert "period_end" not in err.value.message  # cstool's role name means nothing to a user
    (problem,) = err.value.problems
    assert problem.file is not None and problem.file.endswith("stripe_eu.csv")
    assert problem.column == "Current Period End (UTC)"
    assert problem.value == "10.12.2026"
    assert '"%d.%m.%Y"' in problem.expected


def test_the_ambiguous_source_date_is_exit_1_and_the_setting_helps(tmp_path: Path) -> None:
    folder = _workspace(tmp_path)
    result = CliRunner().invoke(app, ["validate", "--config", str(folder / "cstool.toml")])
    assert result.exit_code == 1, result.output
    assert "stripe_eu.csv" in result.output and "Current Period End (UTC)" in result.output
    with (folder / "cstool.toml").open("a", encoding="utf-8") as toml:
        toml.write('[input]\ndate_format = "%d.%m.%Y"\n')
    book = open_book(config=folder / "cstool.toml", as_of=AS_OF)
    renewals = dict(zip(book.scored["customer_id"], book.scored["renewal_date"], strict=True))
    assert str(renewals["C1"].date()) == "2026-12-10"
    assert str(renewals["C2"].date()) == "2027-03-01"
    mrr = dict(zip(book.scored["customer_id"], book.scored["mrr"], strict=True))
    assert mrr == {"C1": pytest.approx(1200.0), "C2": pytest.approx(100.0833333333)}


def test_history_says_which_export_a_date_came_from(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(
        CUSTOMERS.replace("growth_strategy\n", "growth_strategy,signup_date\n")
        .replace("7,8\n", "7,8,2024-01-10\n")
        .replace("5,6\n", "5,6,2023-03-01\n"),
        encoding="utf-8",
    )
    (tmp_path / "subs.csv").write_text(
        "id,Customer Email,Plan,Quantity,Interval,Amount,Status,Current Period End (UTC)\n"
        "sub_1,ops@acme.example,Pro,1,month,99.00,active,2026-12-10 09:00\n",
        encoding="utf-8",
    )
    (tmp_path / "cstool.toml").write_text(
        'customers = "customers.csv"\n[[sources]]\nfile = "subs.csv"\n', encoding="utf-8"
    )
    events = open_book(config=tmp_path / "cstool.toml", as_of=AS_OF).history("C1").events
    details = {e.kind: e.detail for e in events}
    assert details["renewal date"] == "from subs.csv line 2"  # not "from the customer file"
    assert details["signed up"] == "from customers.csv line 2"


def test_the_nps_question_is_the_how_likely_one_not_a_yes_no_recommend(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "typeform.csv").write_text(
        "#,Would you recommend our support team?,"
        '"How likely are you to recommend Acme to a friend or colleague?",Why?,email,'
        "Submit Date (UTC)\n"
        "r1,Yes,9,Great,ops@acme.example,2026-11-01 10:05:00\n"
        "r2,No,4,Slow,jane@beta.example,2026-11-02 10:05:00\n",
        encoding="utf-8",
    )
    (tmp_path / "cstool.toml").write_text(
        'customers = "customers.csv"\n[[sources]]\nfile = "typeform.csv"\n', encoding="utf-8"
    )
    scored = open_book(config=tmp_path / "cstool.toml", as_of=AS_OF).scored
    assert dict(zip(scored["customer_id"], scored["nps"].tolist(), strict=True)) == {
        "C1": 9,
        "C2": 4,
    }
    assert dict(zip(scored["customer_id"], scored["nps_comment"], strict=True)) == {
        "C1": "Great",
        "C2": "Slow",
    }


HUBSPOT_COMPANIES = (
    "Record ID,Company name,Company owner,Create Date,Last Activity Date,Lifecycle Stage,"
    "Company Domain Name\n"
    "101,Acme Inc,Sam Seller,2024-01-10 09:00,2026-11-18 10:00,Customer,acme.example\n"
    "102,Beta Ltd,Sam Seller,2023-03-01 08:00,2026-10-05 11:00,Customer,https://www.Beta.example/\n"
)


@pytest.mark.parametrize("key", ["", 'key = "Company Domain Name"\n'])
def test_a_companies_export_keyed_by_domain_matches_by_the_customers_email_domain(
    tmp_path: Path, key: str
) -> None:
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "hubspot_companies.csv").write_text(HUBSPOT_COMPANIES, encoding="utf-8")
    (tmp_path / "cstool.toml").write_text(
        'customers = "customers.csv"\n[[sources]]\nfile = "hubspot_companies.csv"\n'
        f'match = "domain"\n{key}',
        encoding="utf-8",
    )
    book = open_book(config=tmp_path / "cstool.toml", as_of=AS_OF)
    scored = book.scored
    last = dict(zip(scored["customer_id"], scored["last_contact"], strict=True))
    assert {k: str(v.date()) for k, v in last.items()} == {"C1": "2026-11-18", "C2": "2026-10-05"}
    assert book.sources is not None
    (report,) = book.sources.reports
    assert (report.matched, report.matched_by.get("domain")) == (2, 2)


def test_without_match_a_domain_keyed_export_is_pointed_to_match_domain(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "hubspot_companies.csv").write_text(HUBSPOT_COMPANIES, encoding="utf-8")
    (tmp_path / "cstool.toml").write_text(
        'customers = "customers.csv"\n[[sources]]\nfile = "hubspot_companies.csv"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["validate", "--config", str(tmp_path / "cstool.toml")])
    assert result.exit_code == 1, result.output
    assert 'match = "domain"' in result.output and "Company Domain Name" in result.output


LEMON = (
    "ID,Store,Customer,Customer Email,Product,Variant,Status,Cancelled,Renews At,Ends At,"
    "Created At,Price,Interval\n"
    "1,Shop,Acme,ops@acme.example,Pro,Monthly,active,false,2026-12-05T10:00:00.000000Z,,"
    "2025-01-05T10:00:00.000000Z,$29.00,month\n"
    "2,Shop,Beta,jane@beta.example,Pro,Yearly,cancelled,true,,2026-12-31T10:00:00.000000Z,"
    "2024-12-31T10:00:00.000000Z,$290.00,year\n"
)


def test_a_cancelled_subscription_that_ends_later_is_cancelling_not_churned(
    tmp_path: Path,
) -> None:
    """Lemon Squeezy's `cancelled` runs to `Ends At`: until then the customer still pays."""
    from datetime import date

    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "lemon.csv").write_text(LEMON, encoding="utf-8")
    (tmp_path / "cstool.toml").write_text(
        'customers = "customers.csv"\n[[sources]]\nfile = "lemon.csv"\n', encoding="utf-8"
    )
    book = open_book(config=tmp_path / "cstool.toml", as_of=date(2026, 11, 23))
    beta = book.scored.set_index("customer_id").loc["C2"]
    assert beta["status"] == "cancelling"
    assert str(beta["cancel_date"].date()) == "2026-12-31"
    assert beta["mrr"] == pytest.approx(290 / 12)
    assert "cancels on 2026-12-31" in " ".join(book.followups()["reason"].astype(str))
    later = open_book(config=tmp_path / "cstool.toml", as_of=date(2027, 1, 5))
    gone = later.scored.set_index("customer_id").loc["C2"]
    assert gone["status"] == "churned"
    assert str(gone["churn_date"].date()) == "2026-12-31"
    assert gone["mrr"] == 0
