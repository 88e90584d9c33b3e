"""Customers who left keep their story: `history`, `explain` and `report` of a customer that
stored snapshots hold and the customer file no longer has (a real store file, CliRunner)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cstool.cli import app

runner = CliRunner()
HEADER = "Customer_ID,Name,MRR,Value_Delivery,Issue_Resolution,Growth_Strategy,Last_Contact\n"
ROWS = {
    "A01": "A01,Alpha Co,500,9,9,9,2026-01-10\n",
    "A02": "A02,Beta Inc,200,6,6,6,2026-01-10\n",
    "A03": "A03,Gamma Ltd,300,2,2,2,2026-01-10\n",
}


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def plain(text: str) -> str:
    """Terminal output with runs of spaces folded (tables pad their cells)."""
    return re.sub(r"[ \t]+", " ", text)


@pytest.fixture
def book(tmp_path: Path) -> dict[str, Path]:
    """Snapshots on Jan 1 and Feb 1 hold A01–A03 (A03 at 300 MRR, red); the file now lacks A03."""
    everyone = tmp_path / "january.csv"
    everyone.write_text(HEADER + "".join(ROWS.values()), encoding="utf-8")
    remaining = tmp_path / "customers.csv"
    remaining.write_text(HEADER + ROWS["A01"] + ROWS["A02"], encoding="utf-8")
    db = tmp_path / "store" / "cstool.db"
    for day in ("2026-01-01", "2026-02-01"):
        code, _, err = run("snapshot", str(everyone), "--as-of", day, "--db", str(db))
        assert code == 0, err
    return {"everyone": everyone, "remaining": remaining, "db": db}


def test_explain_of_a_customer_only_in_the_store_tells_its_story(book: dict[str, Path]) -> None:
    code, out, err = run(
        "explain", "A03", str(book["remaining"]), "--db", str(book["db"]), "--as-of", "2026-03-01"
    )
    assert code == 0, err
    lines = plain(out).splitlines()
    assert lines[0].startswith("A03 Gamma Ltd (not in ")
    # No snapshot after Feb 1 yet: the file of the as-of day is the first to lack it.
    assert lines[1:4] == [
        "churned on 2026-03-01; last seen in the snapshot of 2026-02-01",
        "known from 2 snapshots (2026-01-01 to 2026-02-01)",
        "last known: MRR 300 · health 42.9 · band red · segment Rescue",
    ]


def test_explain_finds_a_gone_customer_by_name_and_dates_churn_by_snapshot(
    book: dict[str, Path],
) -> None:
    code, _, err = run(
        "snapshot", str(book["remaining"]), "--as-of", "2026-03-01", "--db", str(book["db"])
    )
    assert code == 0, err
    code, out, err = run(
        "explain", "gamma ltd", str(book["remaining"]), "--db", str(book["db"]),
        "--as-of", "2026-04-15",
    )  # fmt: skip
    assert code == 0, err
    lines = plain(out).splitlines()
    assert lines[0].startswith("A03 Gamma Ltd")
    assert lines[1] == "churned on 2026-03-01; last seen in the snapshot of 2026-02-01"
    assert lines[2] == "known from 2 snapshots (2026-01-01 to 2026-02-01)"
    # Back-dated before the snapshots knew it: not a customer on that day.
    code, _, err = run(
        "explain", "A03", str(book["remaining"]), "--db", str(book["db"]), "--as-of", "2025-12-01"
    )
    assert code == 2
    assert "unknown customer ID 'A03'" in err


def test_explain_of_an_id_no_one_knows_is_still_an_error(book: dict[str, Path]) -> None:
    code, out, err = run("explain", "A09", str(book["remaining"]), "--db", str(book["db"]))
    assert code == 2
    assert out == ""
    assert "unknown customer ID 'A09'" in err


def test_history_of_a_churned_customer_shows_its_snapshots(book: dict[str, Path]) -> None:
    code, out, err = run(
        "history", "A03", str(book["remaining"]), "--db", str(book["db"]),
        "--as-of", "2026-03-01", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    churn = {
        "date": "2026-03-01",
        "kind": "churned",
        "detail": "last seen in the snapshot of 2026-02-01: MRR 300, health 43, band red, "
        "segment Rescue",
        "source": "snapshot",
    }
    assert json.loads(out) == [
        churn,
        {
            "date": "2026-01-01",
            "kind": "scores",
            "detail": "first snapshot: health 43, band red, segment Rescue",
            "source": "snapshot",
        },
    ]
    assert "A03 is not in the customer file" in err
    code, out, err = run(
        "history", "A03", str(book["remaining"]), "--db", str(book["db"]),
        "--as-of", "2026-03-01", "--limit", "1",
    )  # fmt: skip
    assert code == 0, err
    assert "A03 (Gamma Ltd)" in out
    assert "churned" in out and "first snapshot" not in out


def test_report_lists_the_churned_customer_by_name_with_its_last_mrr(
    book: dict[str, Path], tmp_path: Path
) -> None:
    common = [str(book["remaining"]), "--db", str(book["db"]), "--as-of", "2026-03-01"]
    code, out, err = run("report", *common, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["compared_with"] == "2026-02-01"
    assert data["churned"] == [{"customer_id": "A03", "name": "Gamma Ltd", "mrr": 300.0}]
    march = [m for m in data["movements"] if m["start"] == "2026-02-01"]
    assert march and march[0]["churned_mrr"] == 300.0 and march[0]["churned_customers"] == 1

    code, out, err = run("report", *common)
    assert code == 0, err
    text = plain(out)
    assert "Churned since 2026-02-01 (1)" in text
    assert re.search(r"^ ?A03 Gamma Ltd 300 ?$", text, flags=re.MULTILINE), text

    html = tmp_path / "report.html"
    code, _, err = run("report", *common, "--html", str(html))
    assert code == 0, err
    page = html.read_text(encoding="utf-8")
    churned = page[page.index("<h3>Churned customers</h3>") :]
    churned = churned[: churned.index("</table>")]
    assert "<td>A03</td>" in churned and "<td>Gamma Ltd</td>" in churned
    assert "300" in churned
