"""cstool init: a commented cstool.toml that lists every setting and loads back as written."""

from __future__ import annotations

import json
import shutil
import tomllib
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from cstool.cli import app
from cstool.config import Settings, load_settings
from cstool.segments import DEFAULT_SEGMENTS
from tests.conftest import DATA, EXAMPLE

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The model a field holds: `X`, `list[X]` or `list[X] | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every setting as a dotted path (nested sections and lists of tables walked)."""
    keys = []
    for name, info in model.model_fields.items():
        inner = _model_in(info.annotation)
        if inner is not None:
            keys += leaf_keys(inner, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(EXAMPLE, tmp_path / "customer_data.csv")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_init_writes_a_config_that_loads_back(folder: Path) -> None:
    code, _, err = run("init")
    assert code == 0, err
    assert err == (
        f"wrote {folder / 'cstool.toml'} for customer_data.csv: 15 of 15 columns recognised; "
        "edit it, then check with `cstool validate`\n"
    )
    path = folder / "cstool.toml"
    settings = load_settings(path)
    assert settings.customers == "customer_data.csv"
    assert settings.columns["customer_id"] == ["Customer_ID"]
    assert settings.columns["last_contact"] == ["Last_Contact"]
    assert settings.segments == list(DEFAULT_SEGMENTS)
    # Everything else is the built-in default.
    expected = Settings(customers="customer_data.csv", columns=settings.columns)
    assert settings.model_dump(exclude={"segments"}) == expected.model_dump(exclude={"segments"})
    # And the workspace works without naming the file.
    code, out, err = run("followups", "--as-of", "2026-11-23", "--format", "json")
    assert code == 0, err
    named = run("followups", str(EXAMPLE), "--as-of", "2026-11-23", "--format", "json")
    assert out == named[1] and out.startswith("[{")  # the same as naming the file


def test_every_setting_is_listed_and_commented(folder: Path) -> None:
    run("init")
    text = (folder / "cstool.toml").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    section = ""
    present: set[str] = set()
    for raw in lines:
        line = raw.lstrip("# ")  # commented examples count: they show the key to use
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]") + "."
            continue
        body = line.split("=")[0].strip()
        if "=" in line and body.isidentifier():
            present.add(section + body)
    for key in leaf_keys(Settings):
        if key == "columns":
            assert "columns.customer_id" in present
        else:
            assert key in present, f"{key} is not in the cstool.toml that init writes"
    assert text.count("#") > 40  # commented
    assert "# tags = " in text  # a field the file lacks, to fill in


def test_never_overwrites_without_force(folder: Path) -> None:
    (folder / "cstool.toml").write_text("# mine\n")
    code, _, err = run("init")
    assert code == 2
    assert f"error: {folder / 'cstool.toml'}: already exists; nothing written" in err
    assert "hint: add --force to replace it" in err
    assert (folder / "cstool.toml").read_text() == "# mine\n"
    code, _, err = run("init", "--force")
    assert code == 0, err
    assert "customers = " in (folder / "cstool.toml").read_text()


def test_chinese_headers_in_gbk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(DATA / "gbk_chinese_headers.csv", tmp_path / "客户.csv")
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init")
    assert code == 0, err
    settings = load_settings(tmp_path / "cstool.toml")
    assert settings.customers == "客户.csv"
    assert settings.columns["customer_id"] == ["客户ID"]
    assert settings.columns["mrr"] == ["月收入"]
    assert "备注" in (tmp_path / "cstool.toml").read_text(encoding="utf-8")


def test_utf16_and_explicit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = tmp_path / "exports"
    sub.mkdir()
    shutil.copy(DATA / "excel_unicode_text.txt", sub / "export.txt")
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init", "exports/export.txt")
    assert code == 0, err
    settings = load_settings(tmp_path / "cstool.toml")
    assert settings.customers == "exports/export.txt"
    assert settings.columns["growth_strategy"] == ["Growth_Strategy"]


def test_header_values_that_need_escaping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "c.csv").write_text(
        'ID,"Name ""quoted"" \\ back",Value,Resolution,Growth\nA,b,1,2,3\n'
    )
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init")
    assert code == 0, err
    data = tomllib.loads((tmp_path / "cstool.toml").read_text(encoding="utf-8"))
    assert data["columns"]["customer_id"] == "ID"
    assert 'Name \\"quoted\\" \\\\ back' in (tmp_path / "cstool.toml").read_text()


def test_missing_required_columns_are_pointed_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "c.csv").write_text("Kunde,Wert\nA,1\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init")
    assert code == 0, err
    assert f"wrote {tmp_path / 'cstool.toml'} for c.csv: 0 of 2 columns recognised" in err
    assert "required columns not found: customer_id; name their headers under [columns]" in err
    text = (tmp_path / "cstool.toml").read_text()
    assert '# customer_id = "Your header"    # required' in text
    load_settings(tmp_path / "cstool.toml")  # still a valid config


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "error: no CSV file or workbook (.xlsx, .ods, …) in {folder}"),
        (["a.csv", "b.csv"], "error: several customer files in {folder}: a.csv, b.csv"),
        (["a.csv", "b.xlsx"], "error: several customer files in {folder}: a.csv, b.xlsx"),
    ],
)
def test_which_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: list[str], message: str
) -> None:
    for name in files:
        shutil.copy(EXAMPLE, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    code, out, err = run("init")
    assert code == 2 and message.format(folder=tmp_path) in err and "Traceback" not in out + err
    assert not (tmp_path / "cstool.toml").exists()


def test_bad_file_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init", "nope.csv")
    assert code == 2 and "error: nope.csv: file not found" in err
    (tmp_path / "empty.csv").write_text("")
    code, _, err = run("init", "empty.csv")
    assert code == 1 and "error: empty.csv: the file is empty (no header, no rows)" in err
    shutil.copy(DATA / "binary_garbage.bin", tmp_path / "bin.csv")
    code, out, err = run("init", "bin.csv")
    assert code == 1  # a DataError: the file cannot be read as text
    assert err.startswith(
        "error: bin.csv: byte 128 (line 2, byte 0x80) is neither UTF-8 nor GB18030 nor Big5\n"
    )
    assert "is it a text export?" in err and "Traceback" not in out + err
    assert not (tmp_path / "cstool.toml").exists()


def test_init_reads_a_workbook_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(DATA / "customers.xlsx", tmp_path / "customers.xlsx")
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init", "customers.xlsx")
    assert code == 0, err
    assert "15 of 15 columns recognised" in err
    settings = load_settings(tmp_path / "cstool.toml")
    assert settings.customers == "customers.xlsx"


def test_init_finds_the_one_workbook_and_records_its_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.data.make_workbooks import ods

    rows = [["Customer ID", "Company name", "MRR"], ["C1", "Acme", 100], ["C2", "Beta", 200]]
    ods(tmp_path / "accounts.ods", {"Summary": [["Total", 300]], "Accounts": rows})
    (tmp_path / ".~lock.accounts.ods#").write_text("lock")  # LibreOffice's, while it is open
    (tmp_path / "notes.txt").write_text("call Acme\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init")
    assert code == 0, err
    assert "for accounts.ods (sheet 'Accounts'): 3 of 3 columns recognised" in err
    assert "read 'Accounts', the only one with a customer ID column" in err
    settings = load_settings(tmp_path / "cstool.toml")
    assert (settings.customers, settings.input.sheet) == ("accounts.ods", "Accounts")
    assert settings.columns["name"] == ["Company name"]
    code, out, err = run("score", "--as-of", "2026-11-23", "--format", "json")
    assert code == 0, err
    assert [c["mrr"] for c in json.loads(out)] == [100.0, 200.0]
    assert "sheets" not in err  # recorded in the config: nothing left to explain


def test_init_sheet_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.data.make_workbooks import xlsx

    rows = [["Customer ID", "Name"], ["C1", "Acme"]]
    xlsx(tmp_path / "book.xlsx", {"Live": rows, "Churned": [["Customer ID"], ["C9"]]})
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init", "--sheet", "1")
    assert code == 0, err
    assert load_settings(tmp_path / "cstool.toml").input.sheet == "Churned"
    assert "for book.xlsx (sheet 'Churned'): 1 of 1 columns recognised" in err


def test_init_force_redoes_the_configured_customer_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside other exports, `init --force` re-reads the file the old cstool.toml names."""
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(EXAMPLE, exports / "customers.csv")
    for name in ("google_forms.csv", "stripe.csv"):
        shutil.copy(EXAMPLE, tmp_path / name)
    (tmp_path / "cstool.toml").write_text('customers = "exports/customers.csv"\n')
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init")
    assert code == 2 and "already exists" in err
    code, _, err = run("init", "--force")
    assert code == 0, err
    written = tomllib.loads((tmp_path / "cstool.toml").read_text(encoding="utf-8"))
    assert written["customers"] == "exports/customers.csv"
    # A config naming no file that exists is no guide: the folder decides, as before.
    (tmp_path / "cstool.toml").write_text('customers = "gone.csv"\n')
    code, _, err = run("init", "--force")
    assert code == 2 and "several customer files" in err
