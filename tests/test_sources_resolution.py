"""Help desks' solve times (issue 14): the share of each customer's solved tickets solved
within `solve_target_hours`, from the export's created and solved timestamps."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cstool.book import Book, open_book
from cstool.cli import app
from cstool.errors import ConfigError, DataError
from cstool.pipeline import ReadOptions
from tests.conftest import AS_OF, DATA

SOURCES = DATA / "sources"


def workspace(tmp_path: Path, tickets: str, entry: str = "", name: str = "tickets.csv") -> Path:
    """The example customer table, one help-desk export `tickets` (CSV text) and its entry."""
    shutil.copy(SOURCES / "customers.csv", tmp_path / "customers.csv")
    (tmp_path / name).write_text(tickets, encoding="utf-8")
    (tmp_path / "cstool.toml").write_text(
        f'customers = "customers.csv"\n[[sources]]\nfile = "{name}"\n{entry}\n', encoding="utf-8"
    )
    return tmp_path


def book_in(folder: Path, skip_invalid: bool = False) -> Book:
    return open_book(
        config=folder / "cstool.toml", as_of=AS_OF, options=ReadOptions(skip_invalid=skip_invalid)
    )


def on_time(book: Book) -> dict[str, float | None]:
    values = book.scored.set_index("customer_id")["tickets_solved_on_time"]
    return {str(k): (None if pd.isna(v) else float(v)) for k, v in values.items()}


def test_zendesk_example_shares_within_the_default_24_hours(tmp_path: Path) -> None:
    text = (SOURCES / "zendesk_tickets.csv").read_text(encoding="utf-8")
    book = book_in(workspace(tmp_path, text, name="zendesk_tickets.csv"))
    # C002 (Jane): 104 took 24 h (on time: the target is inclusive), 105 took 48 h, 106 24 h;
    # C003: 107 took 24 h; C001 and C004 have no solved ticket, C005 no ticket at all.
    assert on_time(book) == {
        "C001": None,
        "C002": pytest.approx(2 / 3),
        "C003": 1.0,
        "C004": None,
        "C005": None,
    }
    assert book.sources is not None
    assert "tickets_solved_on_time" in book.sources.reports[0].fields
    # like the other ticket fields: the customer's first ticket in the file
    assert book.provenance("C002")["tickets_solved_on_time"] == "zendesk_tickets.csv line 4"


def test_the_target_is_a_setting(tmp_path: Path) -> None:
    text = (SOURCES / "zendesk_tickets.csv").read_text(encoding="utf-8")
    folder = workspace(tmp_path, text, "solve_target_hours = 48", name="zendesk_tickets.csv")
    assert on_time(book_in(folder))["C002"] == 1.0
    (folder / "cstool.toml").write_text(
        (folder / "cstool.toml").read_text().replace("= 48", "= 23.5"), encoding="utf-8"
    )
    assert on_time(book_in(folder))["C002"] == 0.0


def test_the_enriched_csv_carries_the_share(tmp_path: Path) -> None:
    text = (SOURCES / "zendesk_tickets.csv").read_text(encoding="utf-8")
    folder = workspace(tmp_path, text, name="zendesk_tickets.csv")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app, ["score", "--config", str(folder / "cstool.toml"), "--as-of", "2026-11-23",
              "--output", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        rows = {row["customer_id"]: row for row in csv.DictReader(handle)}
    assert float(rows["C002"]["tickets_solved_on_time"]) == pytest.approx(2 / 3)
    assert rows["C003"]["tickets_solved_on_time"] == "1"
    assert rows["C001"]["tickets_solved_on_time"] == ""


FRESHDESK = """\
Ticket ID,Subject,Status,Priority,Source,Type,Agent,Group,Created time,Due by Time,Resolved time,Closed time,Contact ID,Full name,Email
1,Login,Closed,Medium,Email,Question,Me,Support,13/10/2026 10:00 PM,14/10/2026 10:00 PM,14/10/2026 09:30 PM,15/10/2026 09:30 PM,9,Ops,ops@acme.example
2,Slow,Resolved,Low,Email,Problem,Me,Support,02/11/2026 08:00 AM,03/11/2026 08:00 AM,04/11/2026 08:00 AM,,9,Ops,ops@acme.example
3,Card,Open,High,Email,Problem,Me,Support,20/11/2026 12:15 PM,21/11/2026 12:15 PM,,,10,Delta,team@delta.example
"""  # noqa: E501


def test_freshdesk_day_first_12_hour_times(tmp_path: Path) -> None:
    book = book_in(workspace(tmp_path, FRESHDESK))
    # Ops: ticket 1 took 23.5 h (10 PM → 9:30 PM the next day: on time), ticket 2 took 48 h;
    # the Closed time is not the solve time. Delta's open ticket has none.
    assert on_time(book) == {"C001": 0.5, "C002": None, "C003": None, "C004": None, "C005": None}
    dates = book.scored.set_index("customer_id")["last_ticket_date"]
    assert dates["C004"] == pd.Timestamp("2026-11-20")


INTERCOM = """\
conversation_id,conversation_state,conversation_created_at,conversation_closed_at,user_email
11,closed,2026-11-01T20:00:00+08:00,2026-11-02T11:30:00Z,ops@acme.example
12,closed,2026-11-03T10:00:00Z,2026-11-04T10:00:01Z,ops@acme.example
13,closed,2026-11-05T23:00:00-05:00,2026-11-06T12:00:00+02:00,ops@acme.example
14,open,2026-11-06T09:00:00Z,,team@delta.example
"""


def test_time_zones_are_converted_before_subtracting(tmp_path: Path) -> None:
    book = book_in(workspace(tmp_path, INTERCOM))
    # 11: 12:00Z → 11:30Z next day = 23.5 h (as written it looks like 15.5 h, fine either
    # way); 12: 24 h and a second (late); 13: 04:00Z → 10:00Z = 6 h (as written, 13 h).
    assert on_time(book)["C001"] == pytest.approx(2 / 3)
    dates = book.scored.set_index("customer_id")["last_ticket_date"]
    # the day as the export wrote it, not the UTC one (2026-11-06 04:00Z)
    assert dates["C001"] == pd.Timestamp("2026-11-05")


def test_an_offset_that_changes_the_verdict(tmp_path: Path) -> None:
    text = (
        "Id,Requester email,Status,Created at,Solved at\n"
        "1,ops@acme.example,solved,2026-11-01 00:00:00+10:00,2026-11-01 23:00:00Z\n"
    )
    # 2026-10-31 14:00Z → 2026-11-01 23:00Z is 33 h: late, though the wall clocks say 23 h
    assert on_time(book_in(workspace(tmp_path, text)))["C001"] == 0.0


def test_an_unreadable_timestamp_is_reported_by_file_line_and_column(tmp_path: Path) -> None:
    text = (
        "Id,Requester email,Status,Created at,Solved at\n"
        "1,ops@acme.example,solved,2026-11-01 10:00,2026-11-01 18:00\n"
        "2,ops@acme.example,solved,2026-11-02 10:00,soon\n"
        "3,ops@acme.example,solved,2026-11-03 10:00,2026-11-03 25:00\n"
    )
    folder = workspace(tmp_path, text)
    with pytest.raises(DataError) as caught:
        _ = book_in(folder).table
    found = [(Path(p.file or "").name, p.line, p.column, p.value) for p in caught.value.problems]
    assert found == [
        ("tickets.csv", 3, "Solved at", "soon"),
        ("tickets.csv", 4, "Solved at", "2026-11-03 25:00"),
    ]
    assert "time of day" in caught.value.problems[0].expected
    # --skip-invalid: those tickets do not count; the readable one took 8 h
    book = book_in(folder, skip_invalid=True)
    assert on_time(book)["C001"] == 1.0


def test_a_zoned_and_an_unzoned_stamp_on_one_ticket_are_refused(tmp_path: Path) -> None:
    text = (
        "Id,Requester email,Status,Created at,Solved at\n"
        "1,ops@acme.example,solved,2026-11-01T10:00:00+02:00,2026-11-01T12:00:00+02:00\n"
        "2,ops@acme.example,solved,2026-11-02T10:00:00+02:00,2026-11-03 12:00:00\n"
        "3,ops@acme.example,solved,2026-11-04 10:00:00,2026-11-04 12:00:00\n"
    )
    folder = workspace(tmp_path, text)
    with pytest.raises(DataError) as caught:
        _ = book_in(folder).table
    (problem,) = caught.value.problems
    assert (problem.line, problem.column, problem.value) == (3, "Solved at", "2026-11-03 12:00:00")
    assert problem.expected == "a time with a zone, as the ticket's creation"
    # two unzoned stamps share the export's zone: ticket 3 counts, ticket 2 does not
    assert on_time(book_in(folder, skip_invalid=True))["C001"] == 1.0


def test_solved_before_created_is_refused(tmp_path: Path) -> None:
    text = (
        "Id,Requester email,Status,Created at,Solved at\n"
        "1,ops@acme.example,solved,2026-11-02 10:00:00,2026-11-01 09:00:00\n"
    )
    with pytest.raises(DataError) as caught:
        _ = book_in(workspace(tmp_path, text)).table
    (problem,) = caught.value.problems
    assert (problem.line, problem.value) == (2, "2026-11-01 09:00:00")
    assert problem.expected == "a time after the ticket's creation"


def test_dates_without_times_give_no_share(tmp_path: Path) -> None:
    text = (
        "Id,Requester email,Status,Created at,Solved at\n"
        "1,ops@acme.example,solved,2026-11-01,2026-11-02\n"
    )
    book = book_in(workspace(tmp_path, text))
    assert "tickets_solved_on_time" not in book.scored.columns
    assert book.scored.set_index("customer_id")["open_tickets"]["C001"] == 0


def test_the_target_belongs_to_a_tickets_source(tmp_path: Path) -> None:
    survey = "email,How likely are you to recommend us?\nops@acme.example,9\n"
    folder = workspace(tmp_path, survey, "solve_target_hours = 48", name="nps.csv")
    with pytest.raises(ConfigError, match="solve_target_hours is for a tickets source"):
        _ = book_in(folder).table
    text = (SOURCES / "zendesk_tickets.csv").read_text(encoding="utf-8")
    for bad in ("solve_target_hours = 0", 'solve_target_hours = "48"'):
        folder = workspace(tmp_path, text, bad, name="zendesk_tickets.csv")
        with pytest.raises(ConfigError, match="solve_target_hours"):
            _ = book_in(folder).table
