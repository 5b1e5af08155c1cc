"""Settings from the environment: names, types, defaults, and clear failures."""

import dataclasses
import re
from pathlib import Path

import pytest

from app.settings import PARSERS, InvalidSetting, Settings

OPERATIONS_DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_each_setting_is_read_from_its_upper_case_variable_as_its_type(monkeypatch):
    monkeypatch.setenv("TABLE_NAME", "tasks-dev")
    monkeypatch.setenv("MAX_DATA_BYTES", " 1000 ")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "2.5")
    settings = Settings()
    assert settings.table_name == "tasks-dev"
    assert settings.max_data_bytes == 1000
    assert settings.webhook_timeout_seconds == 2.5


def test_defaults_when_unset_and_given_values_win_over_the_environment(monkeypatch):
    defaults = {setting.name: setting.default for setting in dataclasses.fields(Settings)}
    for name in defaults:
        monkeypatch.delenv(name.upper(), raising=False)
    assert Settings() == Settings(**defaults)
    assert Settings().max_request_bytes == 256 * 1024
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("API_KEYS", "from-env")
    settings = Settings(api_keys="given")
    assert (settings.stage, settings.api_keys) == ("dev", "given")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MAX_DATA_BYTES", "64k", "a whole number"),
        ("MAX_DATA_BYTES", "", "a whole number"),
        ("COUNTER_SHARDS", "1.5", "a whole number"),
        ("WEBHOOK_TIMEOUT_SECONDS", "soon", "a number"),
        ("WEBHOOK_TIMEOUT_SECONDS", "nan", "a number"),
    ],
)
def test_an_unusable_value_fails_naming_its_variable_and_value(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidSetting, match=re.escape(f"{variable} must be {expected}, not {value!r}")):
        Settings()


def test_an_unknown_setting_is_refused_and_settings_are_frozen():
    with pytest.raises(TypeError, match="no such setting: tabel_name"):
        Settings(tabel_name="x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().stage = "dev"  # type: ignore[misc]
    assert dataclasses.replace(Settings(), stage="dev").stage == "dev"


def test_every_setting_has_a_type_the_environment_can_give():
    for setting in dataclasses.fields(Settings):
        assert setting.type == "str" or setting.type in PARSERS, setting


def test_the_configuration_table_names_every_setting():
    text = OPERATIONS_DOC.read_text()
    table = text[text.index("## Configuration") :]
    table = table[: table.index("\n## ", 1)]
    missing = [s.name.upper() for s in dataclasses.fields(Settings) if f"`{s.name.upper()}`" not in table]
    assert not missing, f"docs/operations.md's Configuration table lacks {missing}"
