"""Settings from the environment: names, types, defaults, and clear failures."""

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from app.settings import PARSERS, InvalidSetting, Settings

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS_DOC = ROOT / "docs" / "operations.md"


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


def test_every_setting_says_what_it_means():
    """docs/operations.md's table of settings is made of these (scripts/code_docs.py)."""
    for setting in dataclasses.fields(Settings):
        assert setting.metadata.get("meaning"), f"{setting.name}: declare it with setting(default, meaning)"


def _variables_read_in(folder: Path) -> set[str]:
    """The environment variables the code in ``folder`` reads by name."""
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            reads = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and ast.unparse(node.func.value) == "os.environ"
            ) or (isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ")
            argument = (node.args[0] if node.args else None) if isinstance(node, ast.Call) else node
            key = argument.slice if isinstance(argument, ast.Subscript) else argument
            if reads and isinstance(key, ast.Constant) and isinstance(key.value, str):
                names.add(key.value)
    return names


def test_the_local_runtimes_table_names_exactly_the_variables_it_reads():
    """`make run`'s own variables, hand-written beside the generated table: none missing, none stale."""
    text = OPERATIONS_DOC.read_text()
    table = text[text.index("`make run`'s own") :]
    table = table[: table.index("\n\n", table.index("| Variable"))]
    documented = set(re.findall(r"^\| `(\w+)` \|", table, re.M))
    settings = {s.name.upper() for s in dataclasses.fields(Settings)}
    read = _variables_read_in(ROOT / "app" / "local") - settings
    # What the runtime sets for the handlers (AWS_*, POWERTOOLS_*), and what it sets itself, is not an input.
    read = {name for name in read if not name.startswith(("AWS_", "POWERTOOLS_"))} - {"API_KEYS"}
    assert documented == read
