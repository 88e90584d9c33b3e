"""The hand-built `.eml` bytes, parsed back with Python's `email` package (policy.default).

render/eml.py writes headers and bodies itself (EmailMessage took 3.7 ms a message); these
tests hold it to what `email` reads out of it, for hostile and non-ASCII names, subjects
and bodies, and to what EmailMessage itself would have said for the same draft.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import hashlib
import re
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cstool.drafts import Draft, outbox_name
from cstool.render.eml import (
    MAX_NAME_CHARS,
    body_part,
    display_name,
    eml_bytes,
    header_text,
    message_id,
    subject_value,
)

AS_OF = date(2026, 6, 1)
HEADERS = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "X-Unsent",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
}

NAMES = [
    "Bob\nBcc: x@evil.example",
    "Bob\r\nBcc: x@evil.example\r\n\r\nbody",
    'Doe, "Johnny" \\ Jr.',
    "O'Brien & Sons (Dublin) <sales@x.example>; ok",
    "Smith, Jane",
    "Zoë Müller 😀",
    "Société Générale de Financement du Québec",
    'Müller, Zoë "Z"',
    "张伟",
    "北京字节跳动科技有限公司",
    "=?utf-8?b?QmNjOiB4QGV2aWwuZXhhbXBsZQ==?=",
    "Very long name with many words that goes on and on past the line limit for sure",
    "A" * 60,
    "\t  spaced   out \x1b[31m red  ",
    "",
]
SUBJECTS = [
    "Hello\r\nBcc: y@evil.example",
    "Your Pro renewal on 2026-06-10",
    "word " * 39 + "end",
    "Grüße 😀 " * 20,
    "您的专业版套餐将于2026-06-10续约",
    "=?utf-8?q?Bcc:_x?=",
    "x" * 150,
    'a;b:c, "quoted" (comment) <angle>',
]
BODIES = [
    "Hi\n",
    "Hi Zoë,\n\n" + "a long line " * 20 + "\n.\nFrom me\n",
    "你好，张伟！\n" * 30,
    "trailing spaces  \n\tTab\n= sign =3D\n",
    "no final newline",
    "windows\r\nline\rends\n",
]


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def draft(name: str, subject: str, body: str, to: str = "x.y@example.com") -> Draft:
    return Draft(
        customer_id="C1",
        name=name,
        to=to,
        subject=subject,
        body=body,
        template="red",
        as_of=AS_OF,
        language="en",
        from_address="ada@acme.example",
        from_name="Ada, Owner",
    )


def expected_body(body: str) -> str:
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"


def check_round_trip(made: Draft) -> EmailMessage:
    """Every header and the body read back as made; nothing else; lines within limits."""
    data = eml_bytes(made)
    message = parse(data)
    assert set(message.keys()) == HEADERS
    assert len(message.keys()) == len(HEADERS)  # no header twice
    (to,) = message["To"].addresses
    assert to.addr_spec == made.to
    assert to.display_name == header_text(made.name or "")
    assert message["Subject"] == header_text(made.subject)
    assert message["From"].addresses[0].display_name == "Ada, Owner"
    assert message["From"].addresses[0].addr_spec == "ada@acme.example"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().replace("\r\n", "\n") == expected_body(made.body)
    assert message.defects == []
    for key in message:
        assert message[key].defects == (), key
    head = data.partition(b"\r\n\r\n")[0]
    assert head.isascii()
    assert b"\n" not in head.replace(b"\r\n", b"")  # CRLF only, no bare LF or CR
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    return message


@pytest.mark.parametrize("name", NAMES)
def test_hostile_and_non_ascii_names_read_back_exactly(name: str) -> None:
    message = check_round_trip(draft(name, "Hi", "Hi\n"))
    assert "Bcc" not in message


@pytest.mark.parametrize("subject", SUBJECTS)
def test_hostile_long_and_non_ascii_subjects_read_back_exactly(subject: str) -> None:
    message = check_round_trip(draft("Ana Pérez", subject, "Hi\n"))
    assert "Bcc" not in message


@pytest.mark.parametrize("body", BODIES)
def test_bodies_read_back_exactly(body: str) -> None:
    check_round_trip(draft("Ana", "Hi", body))


def test_a_long_subject_is_folded_at_spaces() -> None:
    data = eml_bytes(draft("Ana", "word " * 39 + "end", "Hi\n"))
    head = data.split(b"\r\n\r\n")[0].decode()
    subject = head[head.index("Subject:") : head.index("\r\nDate:")].split("\r\n")
    assert subject[0] == "Subject:" + " word" * 14  # 78 characters, the most a line holds
    assert subject[1:] == [" word" * 15, " word" * 10 + " end"]


def test_plain_names_stay_readable_and_specials_are_quoted() -> None:
    assert display_name("Renewing Co") == "Renewing Co"
    assert display_name("Smith, Jane") == '"Smith, Jane"'
    assert display_name('Say "hi" \\ bye') == '"Say \\"hi\\" \\\\ bye"'
    assert display_name("Bob\nBcc: x@evil.example") == '"Bob Bcc: x@evil.example"'
    assert display_name("Zoë Smith") == "=?utf-8?b?Wm/Dqw==?= Smith"
    assert display_name("") == ""


def test_a_very_long_non_ascii_name_is_cut_with_an_ellipsis() -> None:
    name = "Ñandú " * 12 + "Smith"
    shown = parse(eml_bytes(draft(name, "Hi", "Hi\n")))["To"].addresses[0].display_name
    assert shown.endswith("…")
    assert name.startswith(shown.removesuffix("…"))
    assert len(shown.encode()) <= 45
    many_words = "Word " * 60
    shown = parse(eml_bytes(draft(many_words, "Hi", "Hi\n")))["To"].addresses[0].display_name
    assert shown == many_words[:MAX_NAME_CHARS].strip()
    one_long_word = parse(eml_bytes(draft("A" * 100, "Hi", "Hi\n")))["To"].addresses[0]
    assert one_long_word.display_name == "A" * 42 + "…"  # 45 bytes with the ellipsis


def test_body_encoding_is_the_shortest_that_fits() -> None:
    assert body_part("Hi,\nshort lines\n") == ("7bit", b"Hi,\r\nshort lines\r\n")
    assert body_part("Hi Zoë,\n" + "plain text " * 20 + "\n")[0] == "quoted-printable"
    assert body_part("你好，张伟！\n" * 10)[0] == "base64"
    assert body_part("x" * 100 + "\n")[0] == "quoted-printable"  # ASCII, but a long line


def test_a_bad_local_part_is_quoted_not_broken() -> None:
    data = eml_bytes(draft("Ana", "Hi", "Hi\n", to="a..b@example.com"))
    assert b'To: Ana <"a..b"@example.com>\r\n' in data
    assert parse(data)["To"].addresses[0].addr_spec == "a..b@example.com"


def reference(made: Draft) -> EmailMessage:
    """What EmailMessage (the implementation this replaced) makes of the same draft."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = Address("Ada, Owner", "ada", "acme.example")
    user, _, domain = (made.to or "").rpartition("@")
    message["To"] = Address(header_text(made.name or ""), user, domain)
    message["Subject"] = header_text(made.subject)
    message.set_content(made.body, charset="utf-8")
    return parse(message.as_bytes())


@pytest.mark.parametrize(
    ("name", "subject", "body"), list(zip(NAMES[:6], SUBJECTS[:6], BODIES, strict=True))
)
def test_same_reading_as_email_message_builds(name: str, subject: str, body: str) -> None:
    made = draft(name, subject, body)
    ours, theirs = parse(eml_bytes(made)), reference(made)
    assert ours["To"].addresses == theirs["To"].addresses
    assert ours["From"].addresses == theirs["From"].addresses
    if "=?" in subject:
        # EmailMessage writes such text unencoded, so a reader decodes it into other text
        assert ours["Subject"] == header_text(subject) != theirs["Subject"]
    else:
        assert ours["Subject"] == theirs["Subject"]
    assert ours.get_content() == theirs.get_content()


# Text a CSV cell can hold: any character but surrogates, with line breaks and controls.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=120)


@settings(max_examples=200, deadline=None)
@given(name=TEXT, subject=TEXT, body=TEXT)
def test_any_text_reads_back_and_adds_no_header(name: str, subject: str, body: str) -> None:
    made = draft(name, subject, body)
    shown = header_text(name)
    if len(shown.encode()) > 45 and (not shown.isascii() or "=?" in shown or len(shown) > 60):
        # a long non-ASCII name may be cut (see the test above); the rest must still hold
        made = draft("x", subject, body)
    check_round_trip(made)


# The fast paths (printable ASCII, no base64 unless chosen, a length test for long words, an
# alphanumeric ID) against the definitions they replaced, kept here word for word.
def header_text_by_definition(text: str) -> str:
    return " ".join(re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]+", " ", text).split())


def body_part_by_definition(body: str) -> tuple[str, bytes]:
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    raw = text.replace("\n", "\r\n").encode("utf-8")
    if raw.isascii() and max(map(len, text.split("\n"))) <= 78:
        return "7bit", raw
    quoted = binascii.b2a_qp(raw, quotetabs=False, istext=True, header=False)
    encoded = base64.encodebytes(raw).replace(b"\n", b"\r\n")
    if len(encoded) < len(quoted):
        return "base64", encoded
    return "quoted-printable", quoted


def message_id_by_definition(made: Draft) -> str:
    digest = hashlib.sha256(f"{made.as_of.isoformat()}\x00{made.customer_id}".encode())
    readable = re.sub(r"[^A-Za-z0-9]+", "-", made.customer_id).strip("-").lower()[:40]
    day = made.as_of.strftime("%Y%m%d")
    return f"<{day}.{readable or 'customer'}-{digest.hexdigest()[:12]}@cstool.invalid>"


# ASCII-heavy text (where the fast paths apply) and anything else
ASCII_TEXT = st.text(st.characters(max_codepoint=127), max_size=200)
LINES = st.lists(st.sampled_from(["", " ", "  ", "\t", "=", "x" * 78, "y" * 79, "ü", "a b"]))


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(ASCII_TEXT, TEXT, LINES.map("".join)))
def test_header_text_is_the_definition(text: str) -> None:
    assert header_text(text) == header_text_by_definition(text)


@settings(max_examples=400, deadline=None)
@given(
    body=st.one_of(
        ASCII_TEXT, TEXT, LINES.map("\n".join), LINES.map("\r\n".join), st.text(max_size=3000)
    )
)
def test_body_part_is_the_definition(body: str) -> None:
    assert body_part(body) == body_part_by_definition(body)


@settings(max_examples=300, deadline=None)
@given(customer_id=st.one_of(ASCII_TEXT, TEXT, st.from_regex(r"[A-Za-z0-9]{0,60}", fullmatch=True)))
def test_message_id_is_the_definition(customer_id: str) -> None:
    made = Draft(customer_id, None, "a@b.example", "s", "b\n", "renewal", AS_OF, "en")
    assert message_id(made) == message_id_by_definition(made)


@settings(max_examples=300, deadline=None)
@given(customer_id=st.one_of(ASCII_TEXT, TEXT, st.from_regex(r"[A-Za-z0-9]{0,90}", fullmatch=True)))
def test_outbox_name_is_the_definition(customer_id: str) -> None:
    safe = re.sub(r"[^\w.-]+", "_", customer_id).strip("._") or "customer"
    if safe != customer_id or len(safe) > 80:
        safe = f"{safe[:80]}-{hashlib.sha256(customer_id.encode()).hexdigest()[:8]}"
    assert outbox_name(AS_OF, customer_id, ".eml") == f"2026-06-01-{safe}.eml"


def test_a_subject_with_one_word_too_long_to_fold_is_encoded() -> None:
    assert subject_value("x" * 69) == "x" * 69  # fits after `Subject: `
    assert subject_value("x" * 70).startswith("=?utf-8?b?")
    assert subject_value("a " + "x" * 70 + " b").startswith("=?utf-8?b?")
    assert subject_value("word " * 30) == ("word " * 30).strip()
