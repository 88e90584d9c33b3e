"""Drafted messages: which template, what it says, overrides, the sandbox, the outbox."""

from __future__ import annotations

import json
import textwrap
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cstool.cli import app
from cstool.config import Settings, settings_from_dict
from cstool.drafts import (
    Draft,
    customer_draft,
    draft_messages,
    outbox_name,
    settings_templates,
)
from cstool.drafts.sandbox import MAX_OUTPUT_CHARS, compile_template, render
from cstool.drafts.templates import PLAYS, REASONS, VARIABLES, load_templates
from cstool.errors import ConfigError, UsageError
from cstool.followup import due_followups
from cstool.pipeline import load_table, scored_frame
from cstool.render.eml import write_outbox
from tests.conftest import DATA

runner = CliRunner()
AS_OF = date(2026, 6, 1)
HEADER = (
    "Customer_ID,Name,Email,Plan,MRR,Signup_Date,Last_Contact,Renewal_Date,NPS,Open_Tickets,"
    "Value_Delivery,Issue_Resolution,Growth_Strategy"
)
ROWS = [
    # renews in 9 days, one open ticket, last touched two months ago
    "RENEW,Renewing Co,r@example.com,Pro,300,2022-01-10,2026-04-01,2026-06-10,8,1,8,8,8",
    # answered the survey with 3, otherwise happy and touched last week
    "DETRACT,Grumpy Ltd,g@example.com,Basic,90,2021-03-01,2026-05-25,,3,0,9,9,9",
    # healthy, touched yesterday: nothing due
    "HAPPY,Happy GmbH,h@example.com,Business,800,2019-02-02,2026-05-31,2027-02-02,10,0,9,9,9",
    # a name that looks like a template, and no email address
    '"TRICK","{{ 7 * 7 }} {% if true %}x{% endif %}",,Pro,50,2020-01-01,2026-03-01,,,0,5,5,5',
]


def workspace(tmp_path: Path, toml: str = "", rows: list[str] = ROWS) -> Path:
    (tmp_path / "customers.csv").write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    (tmp_path / "cstool.toml").write_text('customers = "customers.csv"\n' + textwrap.dedent(toml))
    return tmp_path


def frame_for(path: Path, settings: Settings) -> pd.DataFrame:
    table = load_table(path, settings)
    return scored_frame(table, settings, AS_OF)


def drafts_for(tmp_path: Path, settings: Settings | None = None) -> dict[str, Draft]:
    settings = settings or Settings()
    frame = frame_for(workspace(tmp_path) / "customers.csv", settings)
    due = due_followups(frame, settings, AS_OF, AS_OF)
    drafts = draft_messages(due, frame, settings, AS_OF)
    assert [d.customer_id for d in drafts] == due["customer_id"].tolist()
    return {d.customer_id: d for d in drafts}


def test_renewal_in_nine_days_with_an_open_ticket(tmp_path: Path) -> None:
    draft = drafts_for(tmp_path)["RENEW"]
    assert draft.template == "renewal"
    assert draft.to == "r@example.com"
    assert draft.subject == "Your Pro renewal on 2026-06-10"
    assert draft.body.startswith("Hi there,\n\n")  # a company: the neutral greeting
    assert "renews on 2026-06-10 (in 9 days)" in draft.body
    assert "1 open support ticket on your account; I will make sure it is sorted" in draft.body


def test_detractor_acknowledges_the_score(tmp_path: Path) -> None:
    draft = drafts_for(tmp_path)["DETRACT"]
    assert draft.template == "detractor"
    assert draft.subject == "Your feedback (3/10)"
    assert "you gave us 3 out of 10" in draft.body
    assert draft.body.startswith("Hi there,\n")  # Grumpy Ltd is a company


def test_customer_data_is_never_a_template(tmp_path: Path) -> None:
    every = {key: {"subject": "For {{ name }}"} for key in (*REASONS, *PLAYS)}
    draft = drafts_for(tmp_path, settings_from_dict({"outreach": {"templates": every}}))["TRICK"]
    assert draft.subject == "For {{ 7 * 7 }} {% if true %}x{% endif %}"
    assert draft.body.startswith("Hi there,\n")  # not a person's name
    assert "49" not in draft.body
    assert draft.to is None


def test_missing_values_skip_their_sentence(tmp_path: Path) -> None:
    rows = ["NOPLAN,Plain Co,p@example.com,,,2022-01-10,2026-04-01,2026-06-10,,,8,8,8"]
    settings = Settings()
    frame = frame_for(workspace(tmp_path, rows=rows) / "customers.csv", settings)
    draft = customer_draft(frame, settings, AS_OF, "NOPLAN")
    assert draft.subject == "Your renewal on 2026-06-10"
    assert "Your plan renews on 2026-06-10 (in 9 days)" in draft.body
    assert "ticket" not in draft.body


def test_nothing_due_gets_the_play_and_signature(tmp_path: Path) -> None:
    settings = settings_from_dict({"outreach": {"owner_name": "Ada", "signature": "Ada\nAcme"}})
    frame = frame_for(workspace(tmp_path) / "customers.csv", settings)
    draft = customer_draft(frame, settings, AS_OF, "HAPPY")
    segment = frame.set_index("customer_id").loc["HAPPY", "segment"]
    assert draft.template == f"play:{segment}"
    assert draft.body.endswith("\n\nAda\nAcme\n")


def test_unknown_customer_says_did_you_mean(tmp_path: Path) -> None:
    settings = Settings()
    frame = frame_for(workspace(tmp_path) / "customers.csv", settings)
    with pytest.raises(UsageError) as caught:
        customer_draft(frame, settings, AS_OF, "RENEWW")
    assert caught.value.hint == "did you mean RENEW?"


def test_chinese_templates_render_for_the_chinese_example(tmp_path: Path) -> None:
    settings = settings_from_dict({"outreach": {"language": "zh", "owner_name": "小王"}})
    table = load_table(DATA / "gbk_chinese_headers.csv", settings)
    frame = scored_frame(table, settings, date(2026, 11, 23))
    draft = customer_draft(frame, settings, date(2026, 11, 23), "K001")
    assert draft.language == "zh"
    assert draft.body.startswith("王芳，您好！\n\n")
    assert draft.body.endswith("\n\n小王\n")
    assert draft.to is None
    (path,) = write_outbox([draft], tmp_path / "outbox")
    assert path.name == "2026-11-23-K001.txt"
    text = path.read_text(encoding="utf-8")
    assert f"Subject: {draft.subject}\n\n王芳，您好！" in text


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_builtin_template_renders_with_and_without_values(language: str) -> None:
    templates = load_templates(settings_from_dict({"outreach": {"language": language}}).outreach)
    assert set(templates.reasons) == set(REASONS)
    assert set(templates.plays) == set(PLAYS)
    empty: dict[str, object] = {name: "" for name in VARIABLES} | {"reasons": []}
    full = empty | {
        "name": "Ann",
        "greeting_name": "Ann",
        "plan": "Pro",
        "renewal_date": "2026-06-10",
        "days_to_renewal": 9,
        "nps": 0,
        "open_tickets": 2,
        "days_since_touch": 40,
        "cancel_date": "2026-07-01",
        "nps_comment": "slow",
    }
    for template in [*templates.reasons.values(), *templates.plays.values()]:
        for values in (empty, full):
            subject = render(template.subject, values)
            body = render(template.body, values)
            assert subject.strip() and "\n" not in subject
            assert body.strip()
        assert "Ann" in render(template.body, full)


def test_config_overrides_one_field_and_keeps_the_other(tmp_path: Path) -> None:
    settings = settings_from_dict(
        {"outreach": {"templates": {"renewal": {"subject": "Renewal for {{ name }}"}}}}
    )
    draft = drafts_for(tmp_path, settings)["RENEW"]
    assert draft.subject == "Renewal for Renewing Co"
    assert "renews on 2026-06-10 (in 9 days)" in draft.body


def test_templates_folder_overrides_a_play_and_a_reason(tmp_path: Path) -> None:
    folder = tmp_path / "tpl"
    (folder / "reasons").mkdir(parents=True)
    (folder / "plays").mkdir()
    (folder / "reasons" / "detractor.txt").write_text("Subject: About your {{ nps }}\n\nSorry.\n")
    (folder / "plays" / "champions.txt").write_text("Subject: Thanks\n\nThank you, {{ name }}.\n")
    settings = settings_from_dict({"outreach": {"templates_dir": "tpl"}})
    templates = settings_templates(settings, root=tmp_path)
    values = {name: "" for name in VARIABLES} | {"reasons": [], "nps": 3, "name": "Bo"}
    assert render(templates.reasons["detractor"].subject, values) == "About your 3"
    assert render(templates.plays["Champions"].body, values) == "Thank you, Bo."


def test_folder_file_for_an_unknown_segment_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tpl" / "plays").mkdir(parents=True)
    (tmp_path / "tpl" / "plays" / "champion.txt").write_text("Subject: x\n\ny\n")
    settings = settings_from_dict({"outreach": {"templates_dir": "tpl"}})
    with pytest.raises(ConfigError, match=r"champion.txt: no segment 'champion'; did you mean"):
        settings_templates(settings, root=tmp_path)


def test_override_key_must_be_a_reason_or_segment() -> None:
    settings = settings_from_dict({"outreach": {"templates": {"renwal": {"subject": "x"}}}})
    with pytest.raises(ConfigError, match=r"\[outreach.templates.renwal\].*did you mean 'renewal'"):
        settings_templates(settings)


def test_a_typo_in_a_variable_is_an_error_naming_line() -> None:
    settings = settings_from_dict(
        {"outreach": {"templates": {"red": {"body": "Hi {{ name }}\n\n{{ nmae }}"}}}}
    )
    with pytest.raises(ConfigError) as caught:
        settings_templates(settings)
    assert caught.value.message == (
        "cstool.toml: [outreach.templates.red] body: line 3: unknown variable 'nmae'; "
        "did you mean 'name'?"
    )


def test_unknown_outreach_key_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"outreach\.langauge"):
        settings_from_dict({"outreach": {"langauge": "zh"}})
    with pytest.raises(ConfigError, match=r"outreach\.language"):
        settings_from_dict({"outreach": {"language": "fr"}})


HOSTILE = {
    "mro": ("{{ ''.__class__.__mro__ }}", "attribute '__mro__' is not allowed"),
    "import": ("{% import 'os' as os %}", "{% import %} is not allowed"),
    "import_bare": ("{% import os %}", "template syntax error"),
    "include": ("{% include 'body.txt' %}", "{% include %} is not allowed"),
    "extends": ("{% extends 'base.txt' %}", "{% extends %} is not allowed"),
    "underscore_item": ("{{ name['__class__'] }}", "item '__class__' is not allowed"),
    "underscore_dynamic": (
        "{% set k = '__cla' ~ 'ss__' %}{{ name[k] }}",
        "access to attribute '__class__'",
    ),
    "big_range": ("{% for i in range(10**9) %}x{% endfor %}", "range() of more than"),
    "nested_loops": (
        "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
        "loops ran more than",
    ),
    "repeat": ("{{ 'x' * 10**9 }}", "a repeated text longer than"),
    "power": ("{{ 9 ** 9 ** 9 ** 9 }}", "** needs a base"),
    "percent": ("{{ '%0999999999d' % 1 }}", "string formatting with %"),
    "method": ("{{ name.ljust(10**9) }}", "calling 'ljust' is not allowed"),
    "format": ("{{ '{:>999999999}'.format(1) }}", "calling 'format' is not allowed"),
    "macro": ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "{% macro %} is not allowed"),
    "filter": ("{{ name|center(10**9) }}", "No filter named 'center'"),
    "global": ("{{ lipsum(10**6) }}", "unknown variable 'lipsum'"),
    "output": ("{% for i in range(999) %}{{ 'y' * 999 }}{% endfor %}", "longer than"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_templates_are_refused_quickly(case: str) -> None:
    source, expected = HOSTILE[case]
    values = {name: "" for name in VARIABLES} | {"reasons": [], "name": "Bob"}
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        render(compile_template("Hello\n" + source, "evil.txt", VARIABLES, first_line=3), values)
    assert time.perf_counter() - started < 2
    assert expected in caught.value.message
    assert caught.value.message.startswith("evil.txt: ")
    if case != "output":  # the size cap stops the whole render, not one line
        assert "line 4" in caught.value.message


def test_output_cap_is_the_documented_size() -> None:
    values: dict[str, object] = {name: "" for name in VARIABLES} | {"reasons": []}
    fits = compile_template("{{ 'z' * " + str(MAX_OUTPUT_CHARS) + " }}", "t", VARIABLES)
    assert len(render(fits, values)) == MAX_OUTPUT_CHARS


@pytest.mark.parametrize("case", ["mro", "include", "nested_loops"])
def test_hostile_template_in_config_exits_2_naming_it(tmp_path: Path, case: str) -> None:
    source = HOSTILE[case][0]
    ws = workspace(tmp_path, f"[outreach.templates.renewal]\nbody = {json.dumps(source)}\n")
    result = runner.invoke(
        app, ["draft", "RENEW", "--as-of", AS_OF.isoformat(), "--config", str(ws / "cstool.toml")]
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "[outreach.templates.renewal] body: line 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_draft_command_text_and_json(tmp_path: Path) -> None:
    ws = workspace(tmp_path, '[outreach]\nowner_name = "Ada"\n')
    args = ["draft", "RENEW", "--as-of", AS_OF.isoformat(), "--config", str(ws / "cstool.toml")]
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[:4] == [
        "To: r@example.com",
        "Subject: Your Pro renewal on 2026-06-10",
        "",
        "Hi there,",
    ]
    assert lines[-1] == "Ada"
    record = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    assert record["template"] == "renewal"
    assert record["to"] == "r@example.com"
    assert record["mailto"].startswith("mailto:r@example.com?subject=Your%20Pro%20renewal")


def test_draft_command_unknown_id_exits_2(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    result = runner.invoke(app, ["draft", "HAPY", "--config", str(ws / "cstool.toml")])
    assert result.exit_code == 2
    assert "did you mean HAPPY?" in result.stderr


def test_outbox_names_are_stable_and_safe(tmp_path: Path) -> None:
    day = date(2026, 6, 1)
    assert outbox_name(day, "C1001", ".eml") == "2026-06-01-C1001.eml"
    odd = outbox_name(day, "../a/b c", ".eml")
    assert odd == outbox_name(day, "../a/b c", ".eml")
    assert "/" not in odd and " " not in odd and odd.startswith("2026-06-01-a_b_c-")
    assert outbox_name(day, "a/b", ".eml") != outbox_name(day, "a_b", ".eml")


def test_write_outbox_writes_eml_and_txt(tmp_path: Path) -> None:
    drafts = drafts_for(tmp_path)
    paths = write_outbox(drafts.values(), tmp_path / "out")
    names = sorted(p.name for p in paths)
    assert names == sorted(
        [
            "2026-06-01-DETRACT.eml",
            "2026-06-01-RENEW.eml",
            "2026-06-01-TRICK.txt",
        ]
    )
    first = {p.name: p.read_bytes() for p in paths}
    again = write_outbox(drafts.values(), tmp_path / "out")
    assert {p.name: p.read_bytes() for p in again} == first


def test_a_rendered_text_is_reused_only_for_the_same_values_of_the_same_type() -> None:
    from cstool.drafts.sandbox import render_key

    template = compile_template("{{ mrr }} {{ reasons | join('+') }}", "t", VARIABLES)
    other = compile_template("{{ mrr }} {{ reasons | join('+') }}", "u", VARIABLES)
    assert template.cstool_names == ("mrr", "reasons")  # type: ignore[attr-defined]
    cases = [1, 1.0, True, 0.0, -0.0, "1", "", None]
    keys = [render_key(template, {"mrr": v, "reasons": ["a"], "name": v}) for v in cases]
    assert len(set(keys)) == len(cases)  # equal in Python, printed differently: all distinct
    texts = [render(template, {"mrr": v, "reasons": ["a"]}) for v in cases]
    assert texts == ["1 a", "1.0 a", "True a", "0.0 a", "-0.0 a", "1 a", " a", "None a"]
    same = {"mrr": 5, "reasons": ["a", "b"], "name": "ignored: not read by the template"}
    assert render_key(template, same) == render_key(template, {**same, "name": "x"})
    assert render_key(template, same) != render_key(other, same)  # keyed by template
    assert render_key(template, {**same, "reasons": ["a+b"]}) != render_key(template, same)
    assert render_key(template, {**same, "mrr": object()}) is None  # not keyed: rendered


def test_drafts_of_many_follow_ups_equal_each_drafted_alone(tmp_path: Path) -> None:
    # Many rows share the values a template reads (reused renders), some differ slightly.
    rows = []
    for i in range(60):
        name = ["Ann Lee", "Ann Lee", "Bob Stone", "Zoë Ågren", "Acme Ltd", ""][i % 6]
        nps = ["", "3", "9", "0"][i % 4]
        tickets = str(i % 3)
        mrr = ["300", "300.5", "0", "299.99", ""][i % 5]
        renewal = ["2026-06-10", "2026-06-02", "2026-06-01", ""][i % 4]
        touch = ["2026-04-01", "2026-05-31", "2026-01-01"][i % 3]
        rows.append(
            f"C{i:03d},{name},c{i}@example.com,Pro,{mrr},2022-01-10,{touch},{renewal},"
            f"{nps},{tickets},{2 + i % 7},{3 + i % 5},{1 + i % 8}"
        )
    toml = """
        [outreach.templates.red]
        subject = "{{ reasons | join('; ') }} {{ mrr }}"
        body = "{% for r in reasons %}{{ loop.index }} {{ r }}\\n{% endfor %}{{ health }} {{ nps }}"
    """
    root = workspace(tmp_path, toml, rows)
    from cstool.config import load_settings

    settings = load_settings(root / "cstool.toml")
    frame = frame_for(root / "customers.csv", settings)
    due = due_followups(frame, settings, AS_OF, AS_OF)
    assert len(due) > 40
    together = draft_messages(due, frame, settings, AS_OF)
    alone = [draft_messages(due.iloc[[i]], frame, settings, AS_OF)[0] for i in range(len(due))]
    assert together == alone
    assert len({d.template for d in together}) >= 3
    assert len({d.body for d in together}) < len(together)  # some were shared
