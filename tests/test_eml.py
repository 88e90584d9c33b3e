"""`.eml` drafts: parseable, reproducible across processes, immune to header injection."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
import textwrap
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from cstool.config import Settings, settings_from_dict
from cstool.drafts import PLAYS, REASONS, Draft, customer_draft
from cstool.pipeline import load_table, scored_frame
from cstool.render.eml import eml_bytes, mailto_url, message_id, write_outbox

AS_OF = date(2026, 6, 1)
HEADER = (
    "Customer_ID,Name,Email,Plan,MRR,Signup_Date,Last_Contact,Renewal_Date,NPS,Open_Tickets,"
    "Value_Delivery,Issue_Resolution,Growth_Strategy"
)
ROWS = [
    "RENEW,Renewing Co,r@example.com,Pro,300,2022-01-10,2026-04-01,2026-06-10,8,1,8,8,8",
    # a name with a line break that tries to add a Bcc header
    '"EVIL","Bob\nBcc: x@evil.example",bob@example.com,Pro,50,2020-01-01,2026-03-01,,,0,5,5,5',
    "中文,张伟,zw@example.cn,专业版,800,2019-02-02,2026-05-31,2026-06-20,10,0,9,9,9",
]


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def write_workspace(tmp_path: Path, toml: str = "") -> Path:
    (tmp_path / "customers.csv").write_text(HEADER + "\n" + "\n".join(ROWS) + "\n")
    (tmp_path / "cstool.toml").write_text('customers = "customers.csv"\n' + textwrap.dedent(toml))
    return tmp_path


def draft_of(tmp_path: Path, customer_id: str, settings: Settings | None = None) -> Draft:
    settings = settings or Settings()
    table = load_table(write_workspace(tmp_path) / "customers.csv", settings)
    frame = scored_frame(table, settings, AS_OF)
    return customer_draft(frame, settings, AS_OF, customer_id)


def test_eml_parses_with_the_right_headers(tmp_path: Path) -> None:
    settings = settings_from_dict(
        {"outreach": {"owner_name": "Ada Owner", "from_address": "ada@acme.example"}}
    )
    draft = draft_of(tmp_path, "RENEW", settings)
    message = parse(eml_bytes(draft))
    assert message["To"].addresses[0].addr_spec == "r@example.com"
    assert message["To"].addresses[0].display_name == "Renewing Co"
    assert message["From"].addresses[0].addr_spec == "ada@acme.example"
    assert message["From"].addresses[0].display_name == "Ada Owner"
    assert message["Subject"] == "Your Pro renewal on 2026-06-10"
    assert message["Date"] == "Mon, 01 Jun 2026 00:00:00 +0000"
    assert message["X-Unsent"] == "1"
    assert message["Message-ID"] == message_id(draft)
    assert message["Message-ID"].startswith("<20260601.renew-")
    assert message["Message-ID"].endswith("@cstool.invalid>")
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().replace("\r\n", "\n") == draft.body
    assert "Bcc" not in message


def test_no_from_without_from_address(tmp_path: Path) -> None:
    message = parse(eml_bytes(draft_of(tmp_path, "RENEW")))
    assert "From" not in message


def test_a_newline_in_a_name_adds_no_header(tmp_path: Path) -> None:
    every = {key: {"subject": "For {{ name }}"} for key in (*REASONS, *PLAYS)}
    settings = settings_from_dict({"outreach": {"templates": every}})
    draft = draft_of(tmp_path, "EVIL", settings)
    assert draft.subject == "For Bob Bcc: x@evil.example"
    assert draft.name == "Bob\nBcc: x@evil.example"
    data = eml_bytes(draft)
    message = parse(data)
    assert "Bcc" not in message
    assert message.get_all("Bcc") is None
    assert message["To"].addresses[0].addr_spec == "bob@example.com"
    assert message["To"].addresses[0].display_name == "Bob Bcc: x@evil.example"
    assert len(message["To"].addresses) == 1
    head = data.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc") for line in head.split(b"\r\n"))
    assert message["Subject"] == "For Bob Bcc: x@evil.example"


def test_a_newline_in_a_subject_is_folded_not_a_header() -> None:
    draft = Draft(
        customer_id="X",
        name="X",
        to="x@example.com",
        subject="Hello\r\nBcc: x@evil.example",
        body="Hi\n",
        template="red",
        as_of=AS_OF,
        language="en",
    )
    message = parse(eml_bytes(draft))
    assert message["Subject"] == "Hello Bcc: x@evil.example"
    assert "Bcc" not in message


def test_chinese_subject_and_body_round_trip(tmp_path: Path) -> None:
    settings = settings_from_dict({"outreach": {"language": "zh"}})
    draft = draft_of(tmp_path, "中文", settings)
    message = parse(eml_bytes(draft))
    assert message["Subject"] == draft.subject
    assert "张伟" in message["Subject"] or "张伟" in message.get_content()
    assert message.get_content().replace("\r\n", "\n") == draft.body
    assert message["To"].addresses[0].display_name == "张伟"
    (path,) = write_outbox([draft], tmp_path / "out")
    assert path.name.startswith("2026-06-01-") and path.suffix == ".eml"


def test_same_bytes_from_two_processes(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path, '[outreach]\nfrom_address = "me@acme.example"\n')
    argv = [sys.executable, "-m", "cstool", "draft", "RENEW", "--as-of", "2026-06-01"]
    argv += ["--format", "eml", "--config", str(ws / "cstool.toml")]
    runs = [subprocess.run(argv, capture_output=True, check=True, cwd=ws) for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout
    message = parse(runs[0].stdout)
    assert message["To"].addresses[0].addr_spec == "r@example.com"
    assert message["Subject"] == "Your Pro renewal on 2026-06-10"


def test_eml_for_a_customer_without_email_exits_1(tmp_path: Path) -> None:
    rows = "NOMAIL,No Mail,,Pro,50,2020-01-01,2026-03-01,,,0,5,5,5\n"
    (tmp_path / "c.csv").write_text(HEADER + "\n" + rows)
    argv = [sys.executable, "-m", "cstool", "draft", "NOMAIL", str(tmp_path / "c.csv")]
    run = subprocess.run([*argv, "--format", "eml"], capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stdout == ""
    assert "no valid email address" in run.stderr


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("a@example.com", "a@example.com"),
        ("a@example.com; b@example.com", "a@example.com"),
        ("Ann <ann@example.com>, b@example.com", "ann@example.com"),
        ("not an address", None),
    ],
)
def test_first_address_of_the_cell(cell: str, expected: str | None) -> None:
    from cstool.drafts import _first_address

    assert _first_address(cell) == expected


def test_mailto_url_percent_encodes_everything() -> None:
    url = mailto_url("a@example.com", "Hi & bye?", "Line 1\nLine 2 = 100%\n")
    parts = urlsplit(url)
    assert parts.scheme == "mailto"
    assert parts.path == "a@example.com"
    assert " " not in url and "\n" not in url and "&bye" not in url
    query = parse_qs(parts.query)
    assert query["subject"] == ["Hi & bye?"]
    assert query["body"] == ["Line 1\r\nLine 2 = 100%\r\n"]
    assert unquote(url.split("subject=")[1].split("&")[0]) == "Hi & bye?"


def test_outbox_writer_replaces_changed_files_and_keeps_same_ones(tmp_path: Path) -> None:
    from cstool.write import STAGING_PREFIX
    from cstool.write import write_files as write_outbox_files

    folder = tmp_path / "outbox"
    folder.mkdir()
    (folder / "same.eml").write_bytes(b"same")
    (folder / "old.eml").write_bytes(b"old bytes")
    (folder / "mine.txt").write_bytes(b"the user's own file")
    # a staging folder left by a killed run (a pid that cannot exist) is cleaned up
    dead = folder / f"{STAGING_PREFIX}999999999.tmp"
    dead.mkdir()
    (dead / "half.eml").write_bytes(b"half")
    same_inode = (folder / "same.eml").stat().st_ino
    written = write_outbox_files(
        [(folder / "same.eml", b"same"), (folder / "old.eml", b"new"), (folder / "n.eml", b"n")]
    )
    assert written == [folder / "same.eml", folder / "old.eml", folder / "n.eml"]
    assert (folder / "same.eml").stat().st_ino == same_inode  # not rewritten
    assert (folder / "old.eml").read_bytes() == b"new"
    assert (folder / "n.eml").read_bytes() == b"n"
    assert (folder / "n.eml").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in folder.iterdir()) == ["mine.txt", "n.eml", "old.eml", "same.eml"]


def test_outbox_writer_refuses_a_link_before_writing_anything(tmp_path: Path) -> None:
    from cstool.errors import UsageError
    from cstool.write import write_files as write_outbox_files

    folder = tmp_path / "outbox"
    folder.mkdir()
    (tmp_path / "elsewhere").write_bytes(b"keep")
    (folder / "b.eml").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UsageError, match="not a regular file"):
        write_outbox_files([(folder / "a.eml", b"a"), (folder / "b.eml", b"b")])
    assert (tmp_path / "elsewhere").read_bytes() == b"keep"
    assert sorted(p.name for p in folder.iterdir()) == ["b.eml"]
