"""The README documents every command, option and setting the code has."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from cstool.cli import app
from cstool.config import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def command_names() -> list[str]:
    import typer.main

    group = typer.main.get_group(app)
    return sorted(group.commands)


def setting_keys(model: type[BaseModel] = Settings) -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        keys.append(name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(setting_keys(annotation))
    return keys


@pytest.mark.parametrize("name", command_names())
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"cstool {name}" in README


@pytest.mark.parametrize("key", setting_keys())
def test_every_setting_is_in_the_readme(key: str) -> None:
    assert re.search(rf"\b{re.escape(key)}\b", README), key


def test_quickstart_is_two_lines_first_under_its_heading() -> None:
    section = README.split("## Quickstart", 1)[1]
    block = section.split("```", 2)[1]
    lines = [line for line in block.splitlines()[1:] if line.strip()]
    assert lines == [
        "pip install . && cstool score examples/customer_data.csv",
        'pip install ".[test]" && python -m pytest',
    ]


def test_ci_runs_the_quickstart_test_line() -> None:
    assert 'pip install ".[test]" && python -m pytest' in (ROOT / ".ci" / "run").read_text()


def test_command_reference_is_generated_from_help() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "readme_reference", ROOT / "scripts" / "readme_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.updated(README) == README, (
        "README's command reference is stale: python scripts/readme_reference.py --write"
    )
