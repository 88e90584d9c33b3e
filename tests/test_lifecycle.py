"""Lifecycle status from stage/status columns and billing dates, on real files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cstool.config import Settings, settings_from_dict
from cstool.errors import ConfigError
from cstool.lifecycle import (
    BAD_DATES_ATTR,
    LIVE_STATUSES,
    STATUSES,
    UnknownValue,
    apply_lifecycle,
    is_live,
    unknown_values,
    unknown_values_message,
)
from cstool.pipeline import load_table
from tests.conftest import AS_OF, DATA


def lifecycle(path: Path, settings: Settings | None = None, as_of: date = AS_OF) -> pd.DataFrame:
    settings = settings or Settings()
    return apply_lifecycle(load_table(path, settings).frame, settings, as_of)


def by_id(frame: pd.DataFrame, column: str) -> dict[str, object]:
    values = frame[column].astype(object).where(frame[column].notna(), None)
    return dict(zip(frame["customer_id"], values, strict=True))


def days(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_the_statuses_of_the_contract() -> None:
    # The contract's six, and prospect: a CRM's lead, not a customer yet.
    assert STATUSES == (
        "active",
        "trial",
        "paused",
        "past_due",
        "cancelling",
        "churned",
        "prospect",
    )
    assert set(LIVE_STATUSES) == set(STATUSES) - {"churned", "paused", "prospect"}


def test_stage_words_dates_and_spellings(tmp_path: Path) -> None:
    frame = lifecycle(DATA / "lifecycle_stages.csv")
    assert by_id(frame, "status") == {
        "C01": "active",
        "C02": "churned",
        "C03": "churned",
        "C04": "cancelling",
        "C05": "past_due",
        "C06": "trial",
        "C07": "paused",
        "C08": "churned",  # no stage, a churn date that has come
        "C09": "cancelling",  # active, a cancel date still to come
        "C10": None,  # the file says nothing: counts as active
        "C11": "paused",  # "on hold", lower case
        "C12": "past_due",  # "PAST_DUE": case and separators do not matter
        "C13": "cancelling",  # no stage, a churn date still to come
    }
    assert by_id(frame, "churn_date") == {
        **dict.fromkeys(frame["customer_id"], None),
        "C02": days("2026-10-31"),
        "C08": days("2026-11-01"),
    }
    assert by_id(frame, "cancel_date") == {
        **dict.fromkeys(frame["customer_id"], None),
        "C04": days("2026-12-31"),
        "C09": days("2027-01-15"),
        "C13": days("2026-12-10"),
    }
    assert unknown_values(frame) == []
    assert unknown_values_message(frame) is None


def test_the_shared_contract_dtypes() -> None:
    frame = lifecycle(DATA / "lifecycle_stages.csv")
    assert frame["status"].dtype == "string"
    assert isinstance(frame["status"].dtype, pd.StringDtype)
    assert frame["status"].isna().sum() == 1 and frame["status"].iloc[9] is pd.NA
    assert frame["churn_date"].dtype == "datetime64[ns]"
    assert frame["cancel_date"].dtype == "datetime64[ns]"


def test_the_day_itself_counts_as_come() -> None:
    on_the_day = lifecycle(DATA / "lifecycle_stages.csv", as_of=date(2026, 12, 10))
    assert by_id(on_the_day, "status")["C13"] == "churned"
    assert by_id(on_the_day, "churn_date")["C13"] == days("2026-12-10")
    before = lifecycle(DATA / "lifecycle_stages.csv", as_of=date(2026, 10, 1))
    assert by_id(before, "status")["C08"] == "cancelling"  # 2026-11-01 still to come then
    assert by_id(before, "cancel_date")["C08"] == days("2026-11-01")


def test_a_stripe_subscriptions_export() -> None:
    table = load_table(DATA / "lifecycle_stripe_subscriptions.csv", Settings())
    assert table.headers["stage"] == "Status"  # the schema maps Stripe's Status to stage
    assert "Canceled At (UTC)" in table.frame.columns  # passed through under its header
    frame = apply_lifecycle(table.frame, Settings(), AS_OF)
    assert by_id(frame, "status") == {
        "cus_001": "churned",
        "cus_002": "past_due",
        "cus_003": "trial",
        "cus_004": "cancelling",  # cancel at period end, the period ends 2026-12-02
        "cus_005": "churned",
        "cus_006": "active",
        "cus_007": "past_due",  # unpaid
        "cus_008": "churned",  # cancel at period end, and that end (2026-11-10) has come
    }
    churned = {k: v for k, v in by_id(frame, "churn_date").items() if v is not None}
    assert churned == {
        "cus_001": days("2026-09-14"),  # Ended At; the time of day is dropped
        "cus_005": days("2026-11-20"),  # Canceled At, no Ended At
        "cus_008": days("2026-11-10"),  # the period end, not the day it was asked for
    }
    cancelling = {k: v for k, v in by_id(frame, "cancel_date").items() if v is not None}
    assert cancelling == {"cus_004": days("2026-12-02")}  # not Canceled At (2026-11-02)


def test_a_billing_status_column_beside_a_crm_stage() -> None:
    frame = lifecycle(DATA / "lifecycle_crm_and_billing.csv")
    assert by_id(frame, "status") == {
        "H1": "past_due",  # the billing status is the more specific fact
        "H2": "past_due",  # Delinquent = true
        "H3": "churned",
        "H4": "prospect",  # a lead is not a customer yet
        "H5": "active",  # billing says active: it wins over a stale CRM stage
        "H6": "active",
        "H7": "active",  # HubSpot's evangelist is a customer
    }
    assert unknown_values(frame) == []


def test_chinese_stages() -> None:
    frame = lifecycle(DATA / "lifecycle_chinese_stages.csv")
    assert by_id(frame, "status") == {
        "K1": "active",
        "K2": "active",
        "K3": "churned",
        "K4": "churned",
        "K5": "trial",
        "K6": "paused",
        "K7": "past_due",
    }
    assert unknown_values(frame) == []


def test_european_stages(tmp_path: Path) -> None:
    # A German CRM's status column, and French/Spanish ones, read without any [lifecycle].
    path = tmp_path / "kunden.csv"
    path.write_text(
        "Kundennummer;Status;Value_Delivery;Issue_Resolution;Growth_Strategy\n"
        "D1;Aktiv;8;8;8\nD2;Gekündigt;8;8;8\nD3;Testphase;8;8;8\nD4;Pausiert;8;8;8\n"
        "F1;Résilié;8;8;8\nF2;Période d'essai;8;8;8\nF3;Impayé;8;8;8\n"
        "E1;Dado de baja;8;8;8\nE2;Activo;8;8;8\nE3;Bad Fit;8;8;8\n",
        encoding="utf-8",
    )
    frame = lifecycle(path)
    assert by_id(frame, "status") == {
        "D1": "active",
        "D2": "churned",
        "D3": "trial",
        "D4": "paused",
        "F1": "churned",
        "F2": "trial",
        "F3": "past_due",
        "E1": "churned",
        "E2": "active",
        "E3": None,
    }
    assert unknown_values(frame) == [UnknownValue("stage", "Bad Fit", 1)]


def test_values_not_understood_are_reported_once_per_value() -> None:
    frame = lifecycle(DATA / "lifecycle_unknown_stages.csv")
    assert by_id(frame, "status") == {
        "U1": None,
        "U2": None,
        "U3": None,
        "U4": None,
        "U5": "prospect",  # built in: a CRM's leads and prospects are not customers yet
        "U6": "active",
        "U7": "paused",
        "U8": "prospect",
    }
    # "On Ice" and "on-ice" are one value to map; the most common spelling names it
    assert unknown_values(frame) == [
        UnknownValue("stage", "On Ice", 3),
        UnknownValue("stage", "Hibernating", 1),
    ]
    message = unknown_values_message(frame)
    assert message is not None
    assert message.startswith(
        "stage values not understood: On Ice (3 rows), Hibernating (1 row); "
        "map them under [lifecycle]"
    )
    assert message.endswith(
        'values = { "On Ice" = "active" } (one of active, trial, paused, past_due, cancelling, '
        "churned, prospect, or none for a value that is not a status)"
    )


def test_lifecycle_values_extend_and_override_the_built_in_ones() -> None:
    settings = settings_from_dict(
        {
            "lifecycle": {
                "values": {
                    "on ice": "paused",  # matched like the file's values: On Ice, on-ice
                    "Hibernating": "Churned",  # the status's own spelling is forgiven too
                    "Lead": "none",  # not a status: <NA> (active), over the built-in prospect
                    "PAUSED": "past due",  # overrides the built-in paused
                }
            }
        }
    )
    assert settings.lifecycle.values["PAUSED"] == "past_due"
    frame = lifecycle(DATA / "lifecycle_unknown_stages.csv", settings)
    assert by_id(frame, "status") == {
        "U1": "paused",
        "U2": "paused",
        "U3": "paused",
        "U4": "churned",
        "U5": None,
        "U6": "active",
        "U7": "past_due",
        "U8": "prospect",
    }
    assert unknown_values(frame) == []


def test_a_bad_lifecycle_setting_names_the_key() -> None:
    with pytest.raises(ConfigError) as bad:
        settings_from_dict({"lifecycle": {"values": {"On Ice": "frozen"}}})
    assert "lifecycle.values.On Ice" in str(bad.value) and "'frozen'" in str(bad.value)
    with pytest.raises(ConfigError) as twice:
        settings_from_dict({"lifecycle": {"values": {"On Ice": "paused", "on-ice": "trial"}}})
    assert "'On Ice' and 'on-ice' are the same value" in str(twice.value)
    with pytest.raises(ConfigError) as share:
        settings_from_dict({"lifecycle": {"max_snapshot_loss": 1.5}})
    assert "lifecycle.max_snapshot_loss" in str(share.value)
    with pytest.raises(ConfigError) as typo:
        settings_from_dict({"lifecycle": {"value": {}}})
    assert "unknown key 'lifecycle.value'" in str(typo.value)
    assert Settings().lifecycle.max_snapshot_loss == 0.5
    assert settings_from_dict({"lifecycle": {"max_snapshot_loss": 0.2}}).lifecycle.max_snapshot_loss
    assert Settings().lifecycle.values == {}


def test_is_live() -> None:
    frame = lifecycle(DATA / "lifecycle_stages.csv")
    live = is_live(frame)
    assert live.dtype == np.bool_
    gone = set(frame["customer_id"][~live])
    assert gone == {"C02", "C03", "C07", "C08", "C11"}  # churned or paused; <NA> is live
    older = load_table(DATA / "lifecycle_stages.csv", Settings()).frame
    assert "status" not in older.columns
    assert is_live(older).tolist() == [True] * len(older)  # absent column: all live


def test_a_second_pass_changes_nothing() -> None:
    once = lifecycle(DATA / "lifecycle_stripe_subscriptions.csv")
    twice = apply_lifecycle(once, Settings(), AS_OF)
    for column in ("status", "churn_date", "cancel_date"):
        pd.testing.assert_series_equal(once[column], twice[column])


def test_the_input_frame_is_not_changed() -> None:
    frame = load_table(DATA / "lifecycle_stages.csv", Settings()).frame
    before = frame.copy()
    apply_lifecycle(frame, Settings(), AS_OF)
    pd.testing.assert_frame_equal(frame, before)


def test_unix_seconds_and_bad_dates_in_billing_columns(tmp_path: Path) -> None:
    path = tmp_path / "api_export.csv"
    path.write_text(
        "Customer_ID,Status,Ended At,Value_Delivery,Issue_Resolution,Growth_Strategy\n"
        "A1,canceled,1763251200,5,5,5\n"  # 2025-11-16 in Unix seconds
        "A2,,soon,5,5,5\n"
        "A3,,2026-02-30,5,5,5\n"
        "A4,,,5,5,5\n",
        encoding="utf-8",
    )
    frame = lifecycle(path)
    assert by_id(frame, "status") == {"A1": "churned", "A2": None, "A3": None, "A4": None}
    assert by_id(frame, "churn_date")["A1"] == days("2025-11-16")
    assert frame.attrs[BAD_DATES_ATTR] == {"Ended At": 2}  # soon, and an impossible date


def test_a_frame_without_lifecycle_columns() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b"]})
    out = apply_lifecycle(frame, Settings(), AS_OF)
    assert out["status"].isna().all() and out["status"].dtype == "string"
    assert out["churn_date"].isna().all() and out["cancel_date"].isna().all()
    assert is_live(out).tolist() == [True, True]


def test_a_prospect_is_not_a_customer_until_it_becomes_one(tmp_path: Path) -> None:
    import cstool

    header = "Record ID,Company name,Lifecycle Stage,MRR,Last Activity Date,Value_Delivery,"
    header += "Issue_Resolution,Growth_Strategy\n"
    nov = tmp_path / "nov.csv"
    nov.write_text(
        header + "1,Acme,Customer,100,2026-10-01,8,8,8\n2,Beta,Lead,,2026-06-01,2,2,2\n"
        "3,Gamma,Subscriber,,2026-06-01,2,2,2\n",
        encoding="utf-8",
    )
    dec = tmp_path / "dec.csv"
    dec.write_text(
        header + "1,Acme,Customer,100,2026-11-01,8,8,8\n2,Beta,Customer,50,2026-11-20,8,8,8\n",
        encoding="utf-8",
    )
    db = tmp_path / "cstool.db"
    before = cstool.open(nov, db=db, as_of="2026-11-01")
    assert before.customers()["status"].tolist() == ["active", "prospect", "prospect"]
    # no follow-ups and not in the KPIs: only Acme is a customer
    due = set(before.followups(due="week")["customer_id"])
    assert "1" in due  # Acme's last touch is a month old
    assert not due & {"2", "3"}
    assert before.portfolio().kpis["customers"] == 1
    assert any(
        note.startswith("2 prospects (Lead 1, Subscriber 1): not customers yet")
        for note in before.notes()
    )
    before.snapshot()
    after = cstool.open(dec, db=db, as_of="2026-12-01")
    result = after.portfolio()
    # Beta became a customer: a new one with new MRR; Gamma was never one, so it cannot churn
    assert result.comparison is not None
    assert result.comparison.new["customer_id"].tolist() == ["2"]
    assert result.comparison.churned.empty
    month = result.movements["month"].iloc[-1]
    assert month["new_mrr"] == 50
    assert month["churned_mrr"] == 0
