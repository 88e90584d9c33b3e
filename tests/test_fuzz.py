"""Fuzz tests over the reader and the config (issue #11: "a fuzz test over the reader and
config that runs in CI in under a minute").

(a) Customer files: generated tables written with every encoding, BOM, delimiter, line end and
quoting the SPEC accepts must load with exactly their values; the same bytes mutated (NULs,
quotes, delimiters, BOMs, huge numbers, impossible dates, ragged and duplicated rows, cut
short) must give a Table consistent with its own cells, or a DataError / UsageError that
names the file (and the line of every bad value): never any other exception.

(b) cstool.toml: generated configs, good and bad, must either be refused by `validate` (exit
1 or 2, a message naming the file) or let `score` on the example file run to the end with
finite health in 0-100 or none, and a band exactly when there is a health.

Derandomized with bounded examples, so CI is reproducible and quick; the deadline is off
because the machine is shared (timing is not what is tested).
"""

from __future__ import annotations

import json
import math
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cstool.cli import app
from cstool.config import InputSettings, Settings
from cstool.errors import DataError, UsageError
from cstool.pipeline import load_table
from tests.conftest import EXAMPLE

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
AS_OF = "2026-11-23"

# ----------------------------------------------------------------------------- (a) reader

HEADERS = {
    "customer_id": ["Customer_ID", "customer id", "Customer-ID", "客户ID"],
    "name": ["Name", "name", "客户名称"],
    "mrr": ["MRR", "mrr"],
    "nps": ["NPS"],
    "open_tickets": ["Open_Tickets", "open tickets"],
    "last_contact": ["Last_Contact", "last-contact"],
    "value_delivery": ["Value_Delivery", "价值交付"],
    "issue_resolution": ["Issue_Resolution", "问题解决"],
    "growth_strategy": ["Growth_Strategy", "增长战略"],
}
# Names: commas, quotes, line breaks inside quotes, Chinese, emoji; no controls (those are (b)
# of the mutation test) and trimmed (cells are trimmed on reading).
NAME_CHARS = st.sampled_from(list("abcXYZ 0129,;|'\"-_.&()客户张伟北京😀é\n"))
names = st.text(NAME_CHARS, min_size=1, max_size=12).map(str.strip).filter(bool)
TOTAL_NAMES = {"total", "totals", "sum", "average", "avg", "mean", "subtotal", "grand total"}
scores = st.integers(0, 20).map(lambda n: n / 2)  # 0 to 10 in halves
money = st.decimals(0, Decimal("999999999999.99"), places=2)
days = st.dates(date(1990, 1, 1), date(2100, 12, 31))


@st.composite
def customer_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 6))
    rows = []
    for i in range(count):
        rows.append(
            {
                "customer_id": f"C{i}{draw(st.sampled_from(['', 'x', '-7', '客']))}",
                "name": draw(names.filter(lambda n: n.casefold() not in TOTAL_NAMES)),
                "mrr": draw(st.none() | money),
                "nps": draw(st.none() | st.integers(0, 10)),
                "open_tickets": draw(st.none() | st.integers(0, 1_000_000_000)),
                "last_contact": draw(st.none() | days),
                "value_delivery": draw(scores),
                "issue_resolution": draw(scores),
                "growth_strategy": draw(scores),
            }
        )
    return rows


def _cell(field: str, value: Any, style: int) -> str:
    if value is None:
        return ""
    if field == "mrr":
        if style % 3 == 1:
            return f"${value:,.2f}"
        return f"{value:.2f}" if style % 3 == 0 else f"{value}"
    if field == "last_contact":
        return value.isoformat() if style % 2 == 0 else value.strftime("%Y/%m/%d")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@st.composite
def customer_files(draw: st.DrawFn) -> tuple[bytes, list[dict[str, Any]], str | None]:
    """(file bytes, the rows written, the encoding to name or None for auto)."""
    rows = draw(customer_rows())
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    style = draw(st.integers(0, 5))
    headers = [draw(st.sampled_from(HEADERS[f])) for f in HEADERS]

    def quoted(text: str) -> str:
        special = any(c in text for c in (delimiter, '"', "\n", "\r", ",", ";")) or text != text
        if special or draw(st.booleans()):
            return '"' + text.replace('"', '""') + '"'
        return text

    lines = [delimiter.join(quoted(h) for h in headers)]
    for row in rows:
        cells = [_cell(f, row[f], style) for f in HEADERS]
        lines.append(delimiter.join(quoted(c) for c in cells))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    if newline == "\r":  # a name's line break follows the file's line ends (old Mac files)
        text = text.replace("\n", "\r")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "gb18030"]))
    if encoding == "gb18030" and "😀" in text:
        encoding = "utf-8"
    if encoding == "utf-16-le":  # Excel "Unicode text": tab-delimited, with a BOM
        return b"\xff\xfe" + text.encode("utf-16-le"), rows, None
    # GB18030 is named: a short GB18030 file may also be valid UTF-8, and auto is strict
    return text.encode(encoding), rows, ("gb18030" if encoding == "gb18030" else None)


def _load(content: bytes, encoding: str | None) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "customers.csv"
        path.write_bytes(content)
        config = Settings(input=InputSettings(encoding=encoding)) if encoding else Settings()
        try:
            return load_table(path, config), path
        except (DataError, UsageError) as exc:
            return exc, path


@FUZZ
@given(customer_files())
def test_generated_files_load_with_exactly_their_values(
    generated: tuple[bytes, list[dict[str, Any]], str | None],
) -> None:
    content, rows, encoding = generated
    table, _path = _load(content, encoding)
    assert not isinstance(table, DataError | UsageError), (
        table.message + "\n" + "\n".join(p.describe() for p in table.problems)
    )
    frame = table.frame
    assert frame["customer_id"].tolist() == [r["customer_id"] for r in rows]
    name_lines = [r["name"].replace("\r", "\n") for r in rows]
    assert [n.replace("\r", "\n") for n in frame["name"].tolist()] == name_lines
    for field in ("mrr", "nps", "open_tickets", *HEADERS.keys() - {"customer_id", "name"}):
        if field == "last_contact":
            got = [None if pd.isna(v) else v.date() for v in frame[field]]
            assert got == [r[field] for r in rows]
            continue
        got = [None if pd.isna(v) else float(v) for v in frame[field]]
        assert got == [None if r[field] is None else float(r[field]) for r in rows], field


# Mutations: what a spreadsheet, a pipe or an attacker does to a file.
INSERTS = [
    b"\x00",
    b'"',
    b",",
    b";",
    b"\t",
    b"\r",
    b"\n",
    b"\xff",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"9" * 400,
    b"1e309",
    b"-1e308",
    b"NaN",
    b"-0",
    b"2026-02-30",
    b"0000-01-01",
    b"9999-12-31T25:00",
    b"\x1b[31m",
    b"\xc2\x9b",
    b"=HYPERLINK(1)",
    b'"",""',
]


@st.composite
def mutated_files(draw: st.DrawFn) -> tuple[bytes, str | None]:
    content, _, encoding = draw(customer_files())
    data = bytearray(content)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "duplicate", "truncate", "flip"]))
        at = draw(st.integers(0, len(data)))
        if kind == "insert":
            data[at:at] = draw(st.sampled_from(INSERTS))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif kind == "duplicate":  # a repeated line: duplicate IDs, ragged rows
            end = data.find(b"\n", at)
            data[at:at] = data[at : end + 1 if end >= 0 else len(data)]
        elif kind == "truncate":
            del data[at:]
        else:
            if at < len(data):
                data[at] = draw(st.integers(0, 255))
    return bytes(data), draw(st.sampled_from([encoding, None, "utf-8", "latin-1"]))


@FUZZ
@given(mutated_files())
def test_mutated_files_give_a_consistent_table_or_a_named_error(
    mutated: tuple[bytes, str | None],
) -> None:
    content, encoding = mutated
    result, path = _load(content, encoding)
    event(type(result).__name__)
    if isinstance(result, DataError | UsageError):
        described = [result.message, *(p.describe() for p in result.problems)]
        assert str(path) in result.message or all(str(path) in d for d in described[1:]), described
        for problem in result.problems:
            if problem.value is not None and problem.sheet is None:
                assert problem.line is not None, problem.describe()
        return
    frame = result.frame
    ids = frame["customer_id"]
    assert ids.notna().all() and (ids.str.strip() != "").all()
    assert ids.is_unique
    raw_ids = result.raw[result.headers["customer_id"]].str.strip().tolist()
    assert ids.tolist() == raw_ids  # the frame's values are the file's cells
    for field, low, high in (
        ("mrr", 0, 1e12),
        ("nps", 0, 10),
        ("open_tickets", 0, 1e9),
        ("value_delivery", 0, 10),
        ("issue_resolution", 0, 10),
        ("growth_strategy", 0, 10),
    ):
        if field in frame:
            values = [float(v) for v in frame[field] if not pd.isna(v)]
            assert all(math.isfinite(v) and low <= v <= high for v in values), (field, values)
    if "last_contact" in frame:
        dated = frame["last_contact"].dropna()
        assert all(1900 <= d.year <= 2200 for d in dated)


# ----------------------------------------------------------------------------- (b) config

runner = CliRunner()
# Mostly plausible values (so that many configs get as far as scoring), some hostile ones.
GOOD_NUMBERS = st.sampled_from([0.0, 0.5, 1, 2, 5.0, 10, 30, 50, 60.0, 75, 90, 100])
BAD_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([-1.0, 1e308, 5e-324, True, False, "0.5", "ten", 2**63 - 1, -(2**63)]),
)
NUMBERS = st.one_of(GOOD_NUMBERS, GOOD_NUMBERS, GOOD_NUMBERS, GOOD_NUMBERS, BAD_NUMBERS)
GOOD_COUNTS = st.integers(1, 120)
BAD_COUNTS = st.sampled_from([0, -1, 2**63 - 1, 10**18, 3_000_000, True, 7.5, "30"])
COUNTS = st.one_of(GOOD_COUNTS, GOOD_COUNTS, GOOD_COUNTS, BAD_COUNTS)
WHENS = st.sampled_from(
    [
        "true",
        'band == "red"',
        'band == "green" and mrr >= 500',
        "pct_rank(mrr) >= 0.5",
        "days_since(last_contact) > 30",
        "days_until(renewal_date) <= 30",
        "health < 40 or nps <= 6",
        'plan in ("Pro", "Team")',
        "not (satisfaction > 80)",
        "health >",  # a syntax error
        "nosuchfield > 1",  # an unknown field
        "signup_date > 5",  # a date compared with a number
        'band == "purple"',
        "mrr / 0 > 1",
        "days_since(last_contact) > 1e308",
        "__import__('os')",
    ]
)
TEXTS = st.sampled_from(
    ["Champions", "Cost $x_$", "[/oops]", "Evil\x1b[31m", "", "客户", "x" * 300]
)
GOAL_METRICS = st.sampled_from(["nps", "mrr", "mean_health", "green_share", "nope", "red_share"])
DEADLINES = st.one_of(days, st.sampled_from(["2027-06-30", "someday", date(9999, 12, 31)]))


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    sections: dict[str, Any] = {
        "scale": {"min": _maybe(NUMBERS), "max": _maybe(NUMBERS)},
        "weights": {
            k: _maybe(NUMBERS) for k in ("value_delivery", "issue_resolution", "growth_strategy")
        },
        "health": {
            "expected_interval_days": _maybe(COUNTS),
            "tickets_at_zero": _maybe(COUNTS),
        },
        "bands": {"red_below": _maybe(NUMBERS), "green_from": _maybe(NUMBERS)},
        "followups": {
            "renewal_window_days": _maybe(COUNTS),
            "health_drop_days": _maybe(COUNTS),
            "health_drop_points": _maybe(NUMBERS),
            "onboarding_checkins": _maybe(st.lists(COUNTS, max_size=3)),
        },
        "kpis": {"satisfied_threshold": _maybe(NUMBERS)},
        "input": {
            "date_format": _maybe(st.sampled_from(["%d/%m/%Y", "%Q", "%", "", "%Y-%m-%d"])),
            "encoding": _maybe(st.sampled_from(["auto", "utf-8", "base64", "nope"])),
        },
        "lifecycle": {"max_snapshot_loss": _maybe(NUMBERS)},
    }
    config: dict[str, Any] = {}
    for name in draw(st.sets(st.sampled_from(sorted(sections)), max_size=4)):
        table = {k: draw(v) for k, v in sections[name].items()}
        config[name] = {k: v for k, v in table.items() if v is not None}
    if draw(st.booleans()):
        weights = {k: draw(_maybe(NUMBERS)) for k in ("satisfaction", "recency", "nps", "support")}
        config.setdefault("health", {})["weights"] = {
            k: v for k, v in weights.items() if v is not None
        }
    if draw(st.booleans()):
        config["segments"] = [
            {
                "name": draw(TEXTS),
                "when": draw(WHENS),
                "cadence_days": draw(COUNTS),
                "play": draw(TEXTS),
            }
            for _ in range(draw(st.integers(0, 3)))
        ]
    if draw(st.booleans()):
        config["goals"] = [
            {
                "metric": draw(GOAL_METRICS),
                "target": draw(NUMBERS),
                "deadline": draw(DEADLINES),
                "name": draw(TEXTS),
            }
        ]
    if draw(st.integers(0, 9)) == 0:
        config["wieghts"] = {"value_delivery": 1.0}  # a typo must not pass
    return config


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    return text


def to_toml(config: dict[str, Any]) -> str:
    """A small TOML writer for the shapes `configs()` makes (tables, arrays of tables)."""
    out: list[str] = []

    def table(prefix: str, body: dict[str, Any]) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, dict)}
        out.append(f"[{prefix}]")
        out.extend(f"{k} = {_toml_value(v)}" for k, v in scalars.items())
        for k, v in body.items():
            if isinstance(v, dict):
                table(f"{prefix}.{k}", v)

    for name, body in config.items():
        if isinstance(body, list):
            for item in body:
                out.append(f"[[{name}]]")
                out.extend(f"{k} = {_toml_value(v)}" for k, v in item.items())
        else:
            table(name, body)
    return "\n".join(out) + "\n"


def _invoke(*args: str, db: str) -> Any:
    result = runner.invoke(app, list(args), env={"CSTOOL_DB": db})
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args}: {result.exception!r}\n{result.stderr}"
    )
    assert result.exit_code in (0, 1, 2)
    return result


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
@given(configs())
def test_generated_configs_are_refused_or_score_to_the_end(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    path = tmp_path / "cstool.toml"
    path.write_text(to_toml(config), encoding="utf-8")
    db = str(tmp_path / "s.db")
    common = ["--config", str(path), "--as-of", AS_OF]
    checked = _invoke("validate", str(EXAMPLE), *common, db=db)
    scored = _invoke("score", str(EXAMPLE), *common, "-f", "json", db=db)
    event(f"validate exit {checked.exit_code}")
    if checked.exit_code != 0:
        # refused: the message names the config (or the data it makes unreadable), and score
        # refuses it as well
        assert checked.stderr.startswith("error: "), checked.stderr
        assert scored.exit_code == checked.exit_code, (checked.stderr, scored.stderr)
        return
    assert scored.exit_code == 0, f"validate said ok, score failed:\n{scored.stderr}"
    rows = json.loads(scored.stdout, parse_constant=lambda c: pytest.fail(f"JSON has {c}"))
    assert len(rows) == 200
    for row in rows:
        health, band, coverage = row["health"], row["band"], row["health_coverage"]
        if health is None:
            assert band is None and coverage == 0, row  # never a silent green from no data
        else:
            assert math.isfinite(health) and 0 <= health <= 100, row
            assert band in ("red", "yellow", "green") and 0 < coverage <= 1, row
        satisfaction = row["satisfaction"]
        assert satisfaction is None or 0 <= satisfaction <= 100
