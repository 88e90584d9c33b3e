"""cstool.toml: found upward, every default, unknown keys are errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cstool.config import Settings, find_config, load_workspace
from cstool.errors import ConfigError


def test_no_config_means_defaults(tmp_path: Path) -> None:
    ws = load_workspace(cwd=tmp_path)
    assert ws.config_path is None or not str(ws.config_path).startswith(str(tmp_path))
    assert Settings().weights.normalised() == pytest.approx(
        {"value_delivery": 0.5, "issue_resolution": 0.3, "growth_strategy": 0.2}
    )


def test_found_in_a_parent_folder(tmp_path: Path) -> None:
    (tmp_path / "cstool.toml").write_text('customers = "c.csv"\n[bands]\nred_below = 40\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == (tmp_path / "cstool.toml").resolve()
    ws = load_workspace(cwd=deep)
    assert ws.root == tmp_path.resolve()
    assert ws.settings.bands.red_below == 40


def test_unknown_key_is_an_error_naming_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "cstool.toml"
    path.write_text("[wieghts]\nvalue_delivery = 1\n")
    with pytest.raises(ConfigError) as err:
        load_workspace(path)
    assert str(path) in err.value.message and "wieghts" in err.value.message
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[weights]\nvalue_delivery = -1\n", "≥ 0"),
        ("[weights]\nvalue_delivery = 0\nissue_resolution = 0\ngrowth_strategy = 0\n", "all be 0"),
        ("[bands]\nred_below = 80\ngreen_from = 60\n", "red_below"),
        ("[scale]\nmin = 10\nmax = 0\n", "greater"),
        ("[health]\nexpected_interval_days = 'soon'\n", "expected_interval_days"),
        ("customers = [1, 2", "not valid TOML"),
        ("[[goals]]\nmetric = 'happiness'\ntarget = 1\ndeadline = 2027-01-01\n", "metric"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "cstool.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_workspace(path)
    assert words in err.value.message
    assert str(path) in err.value.message


def test_missing_config_file_given_explicitly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_workspace(tmp_path / "nope.toml")
