"""The library and the CLI are one core: `cstool.open(...)` answers what the commands print."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import cstool
from cstool.book import Explanation
from cstool.cli import app
from cstool.errors import UsageError
from tests.conftest import EXAMPLE

AS_OF = "2026-11-23"


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _json(frame: pd.DataFrame) -> list[dict[str, object]]:
    from cstool.render import json_text

    records: list[dict[str, object]] = json.loads(json_text(frame))
    return records


def test_customers_equal_score_json(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    book = cstool.open(EXAMPLE, db=db, as_of=AS_OF)
    printed = json.loads(
        _cli("score", str(EXAMPLE), "--db", str(db), "--as-of", AS_OF, "-f", "json")
    )
    assert _json(book.customers()) == printed
    assert len(printed) == 200


def test_followups_equal_the_cli_after_a_logged_touch(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    before = json.loads(
        _cli("followups", str(EXAMPLE), "--db", str(db), "--as-of", AS_OF, "-f", "json")
    )
    first = str(before[0]["customer_id"])
    _cli("log", first, str(EXAMPLE), "--note", "called", "--db", str(db), "--as-of", AS_OF)
    printed = json.loads(
        _cli("followups", str(EXAMPLE), "--db", str(db), "--as-of", AS_OF, "-f", "json")
    )
    library = _json(cstool.open(EXAMPLE, db=db, as_of=AS_OF).followups())

    def key(rows: list[dict[str, object]]) -> list[tuple[object, object, object]]:
        return [(r["customer_id"], r["due"], r["priority"]) for r in rows]

    assert key(library) == key(printed)
    assert library == printed
    # the logged touch took the first customer off today's list, in both
    assert first not in {r["customer_id"] for r in printed}
    assert len(printed) == len(before) - 1


def test_log_through_the_book_is_seen_by_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    book = cstool.open(EXAMPLE, db=db, as_of=AS_OF)
    first = str(book.followups()["customer_id"].iloc[0])
    found, touch = book.log(first, "email sent", channel="email")
    assert (found.customer_id, touch.touched_on.isoformat()) == (first, AS_OF)
    printed = json.loads(
        _cli("followups", str(EXAMPLE), "--db", str(db), "--as-of", AS_OF, "-f", "json")
    )
    assert first not in {r["customer_id"] for r in printed}


def test_as_of_words_are_resolved_once_at_the_top(tmp_path: Path) -> None:
    from datetime import date

    from cstool.book import open_book

    book = open_book(EXAMPLE, db=tmp_path / "s.db", as_of="-7d", today=date(2026, 11, 30))
    assert book.as_of == date(2026, 11, 23)
    assert open_book(EXAMPLE, today=date(2026, 11, 30)).as_of == date(2026, 11, 30)


def test_explain_is_computed_in_the_core(tmp_path: Path) -> None:
    book = cstool.open(EXAMPLE, db=tmp_path / "s.db", as_of=AS_OF)
    customers = book.customers()
    first = str(customers["customer_id"].iloc[0])
    data = book.explain(first)
    assert isinstance(data, Explanation)  # not a customer only the snapshots hold
    assert data.customer_id == first
    assert data.health == pytest.approx(float(customers["health"].iloc[0]))
    assert sum(t.contribution for t in data.health_terms) == pytest.approx(data.health, abs=1e-3)
    assert sum(t.contribution for t in data.satisfaction_terms) == pytest.approx(
        data.satisfaction, abs=1e-3
    )
    assert data.segment == customers["segment"].iloc[0]
    with pytest.raises(UsageError, match="unknown customer ID"):
        book.explain("no-such-id")


def test_conveniences_take_explicit_settings_and_never_read_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    # A cstool.toml here that would change every band: the conveniences must not read it.
    (tmp_path / "cstool.toml").write_text("[bands]\nred_below = 99\ngreen_from = 100\n")
    monkeypatch.chdir(tmp_path)
    day = date(2026, 11, 23)
    frame = cstool.segment(cstool.score(cstool.load(EXAMPLE), as_of=day), as_of=day)
    assert set(frame["band"].astype(str)) != {"red"}
    # the book does read the workspace's config
    book = cstool.open(EXAMPLE, db=tmp_path / "s.db", as_of=day)
    assert set(book.customers()["band"].astype(str)) == {"red"}
