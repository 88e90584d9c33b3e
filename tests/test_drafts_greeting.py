"""`greeting_name`: a person's first name, a contact column, or the neutral greeting."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cstool.config import settings_from_dict
from cstool.drafts import customer_draft
from cstool.drafts.greeting import greeting_names
from cstool.pipeline import load_table, scored_frame

AS_OF = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("name", "greeting"),
    [
        ("Ana Pérez", "Ana"),
        ("Zoë Müller", "Zoë"),
        ("Smith, Jane", "Jane"),
        ("Dr. Jean-Luc Picard", "Jean-Luc"),
        ("Mary van der Berg", "Mary"),
        ("JOHN SMITH", "John"),
        ("王芳", "王芳"),  # a Chinese name is greeted whole
        ("Acme GmbH", ""),
        ("Willow Books", ""),  # two capitalised words, but a shop
        ("Tidewater Studio", ""),
        ("Brightside Studio, LLC", ""),
        ("阿里巴巴有限公司", ""),
        ("Ana & Tom", ""),
        ("J. Smith", ""),  # an initial is not a first name
        ("Ana", ""),  # one word: a person or a brand, unsure
        ("Room 101 Ltd", ""),
        ("Bob\nBcc: x@evil.example", ""),
        ("{{ 7 * 7 }}", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_a_name_is_greeted_by_first_name_only_when_it_is_a_persons(
    name: str | None, greeting: str
) -> None:
    assert greeting_names(pd.DataFrame({"name": [name]})) == [greeting]


def test_a_first_name_column_wins_then_a_contact_column() -> None:
    frame = pd.DataFrame(
        {
            "name": ["Acme GmbH", "Acme GmbH", "Acme GmbH", "Ana Pérez", "Acme GmbH"],
            "First Name": ["Ana", "", "J.", None, ""],
            "Contact Person": ["Tom Jones", "Tom Jones", "Lee", "", "sales team"],
        }
    )
    assert greeting_names(frame) == ["Ana", "Tom", "Lee", "Ana", ""]


def test_the_draft_greets_the_contact_of_a_company(tmp_path: Path) -> None:
    header = "Customer_ID,Company,Email,Contact,Last_Contact,"
    header += "Value_Delivery,Issue_Resolution,Growth_Strategy"
    rows = [
        "A1,Acme GmbH,a@example.com,Ana Pérez,2026-01-01,3,3,3",
        "B2,Willow Books,b@example.com,,2026-01-01,3,3,3",
        "C3,Priya Okafor,c@example.com,,2026-01-01,3,3,3",
    ]
    (tmp_path / "c.csv").write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    for language, expected in (
        ("en", {"A1": "Hi Ana,\n", "B2": "Hi there,\n", "C3": "Hi Priya,\n"}),
        ("zh", {"A1": "Ana，您好！\n", "B2": "您好！\n", "C3": "Priya，您好！\n"}),
    ):
        settings = settings_from_dict({"outreach": {"language": language}})
        frame = scored_frame(load_table(tmp_path / "c.csv", settings), settings, AS_OF)
        for customer_id, opening in expected.items():
            draft = customer_draft(frame, settings, AS_OF, customer_id)
            assert draft.body.startswith(opening), (customer_id, draft.body)
            assert draft.name == frame.set_index("customer_id").loc[customer_id, "name"]


def test_a_template_can_use_greeting_name(tmp_path: Path) -> None:
    header = "Customer_ID,Name,Email,Last_Contact,Value_Delivery,Issue_Resolution,Growth_Strategy"
    (tmp_path / "c.csv").write_text(header + "\nA1,Ana Pérez,a@example.com,2026-01-01,3,3,3\n")
    every = {"red": {"subject": "For {{ greeting_name }}", "body": "Dear {{ greeting_name }}"}}
    settings = settings_from_dict({"outreach": {"templates": every}})
    frame = scored_frame(load_table(tmp_path / "c.csv", settings), settings, AS_OF)
    draft = customer_draft(frame, settings, AS_OF, "A1")
    assert (draft.subject, draft.body) == ("For Ana", "Dear Ana\n")
