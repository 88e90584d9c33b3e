"""The shipped example file is valid, varied and reproducible from its seeded script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "customer_data.csv"
SCRIPT = ROOT / "examples" / "make_example.py"
AS_OF = pd.Timestamp("2026-11-23")
HEADERS = [
    "Customer_ID",
    "Name",
    "Email",
    "Plan",
    "Stage",
    "MRR",
    "Signup_Date",
    "Last_Contact",
    "Renewal_Date",
    "NPS",
    "Open_Tickets",
    "Value_Delivery",
    "Issue_Resolution",
    "Growth_Strategy",
    "Notes",
]
DATES = ["Signup_Date", "Last_Contact", "Renewal_Date"]
INPUTS = ["Value_Delivery", "Issue_Resolution", "Growth_Strategy"]


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False, encoding="utf-8")
    return frame


def test_headers_exactly(example: pd.DataFrame) -> None:
    assert list(example.columns) == HEADERS


def test_row_count_and_unique_ids(example: pd.DataFrame) -> None:
    assert 180 <= len(example) <= 220
    assert example["Customer_ID"].str.len().gt(0).all()
    assert example["Customer_ID"].is_unique
    assert example["Email"].is_unique


def test_required_inputs_are_numbers_on_the_0_10_scale(example: pd.DataFrame) -> None:
    for column in INPUTS:
        values = pd.to_numeric(example[column], errors="raise")
        assert values.notna().all(), column
        assert values.between(0, 10).all(), column
    assert (pd.to_numeric(example["Value_Delivery"]) % 1 != 0).any(), "no decimals like 7.5"


def test_optional_numbers_in_range(example: pd.DataFrame) -> None:
    mrr = pd.to_numeric(example["MRR"].replace("", None))
    assert mrr.isna().any()
    assert mrr.dropna().between(15, 2000).all()
    assert mrr.min() < 30 and mrr.max() > 1500
    nps = pd.to_numeric(example["NPS"].replace("", None))
    assert nps.isna().any()
    assert nps.dropna().between(0, 10).all() and (nps.dropna() % 1 == 0).all()
    tickets = pd.to_numeric(example["Open_Tickets"])
    assert tickets.between(0, 50).all() and (tickets % 1 == 0).all()


def test_emails_look_like_emails(example: pd.DataFrame) -> None:
    assert example["Email"].str.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+").all()


def test_dates_are_iso_and_plausible(example: pd.DataFrame) -> None:
    parsed = {
        column: pd.to_datetime(example[column].replace("", None), format="%Y-%m-%d")
        for column in DATES
    }
    signup, last, renewal = parsed["Signup_Date"], parsed["Last_Contact"], parsed["Renewal_Date"]
    assert signup.notna().all()
    assert signup.min().year == 2021 and signup.max() <= AS_OF
    assert ((AS_OF - signup).dt.days < 90).sum() >= 5, "some new customers"
    assert last.isna().any() and renewal.isna().any()
    days_since = (AS_OF - last).dt.days.dropna()
    assert days_since.min() >= 0 and days_since.min() < 7 and days_since.max() > 365
    assert (last.dropna() >= signup[last.notna()]).all()
    days_until = (renewal - AS_OF).dt.days.dropna()
    assert days_until.min() > 0 and days_until.max() <= 366
    assert (days_until <= 30).sum() >= 5, "some renewals within 30 days"


def test_spread_across_satisfaction_levels(example: pd.DataFrame) -> None:
    values = {c: pd.to_numeric(example[c]) for c in INPUTS}
    satisfaction = 10 * (
        0.5 * values["Value_Delivery"]
        + 0.3 * values["Issue_Resolution"]
        + 0.2 * values["Growth_Strategy"]
    )
    share_low = (satisfaction < 50).mean()
    share_high = (satisfaction >= 75).mean()
    assert 0.15 <= share_low <= 0.35
    assert share_high >= 0.25
    assert 1 - share_low - share_high >= 0.2


def test_names_need_quoting_and_unicode(example: pd.DataFrame) -> None:
    names = set(example["Name"])
    assert {"José García", "Zoë Müller", "王芳"} <= names
    assert sum("," in name for name in names) >= 2
    raw = EXAMPLE.read_text(encoding="utf-8")
    assert '"Smith, Jane"' in raw
    assert not raw.startswith("\ufeff")


def test_script_reproduces_the_file_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "customer_data.csv"
    subprocess.run([sys.executable, str(SCRIPT), str(out)], check=True, capture_output=True)
    assert out.read_bytes() == EXAMPLE.read_bytes()
