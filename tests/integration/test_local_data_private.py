"""The local data folder and everything in it are readable by their owner only (issue 18)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.local import webhook_secret
from app.local.emulator import start_emulator
from tests.integration.test_local_durability import dummy_credentials, provisioned_table, put

pytestmark = pytest.mark.integration
__all__ = ["dummy_credentials"]


@pytest.fixture
def usual_umask():
    """The common 022, under which plain mkdir and open give 0755 and 0644."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def assert_private(data: Path, names: set[str]) -> None:
    found = modes(data)
    assert names <= set(found), sorted(found)
    for name, mode in found.items():
        expected = 0o700 if (data / name).is_dir() else 0o600
        assert mode == expected, (name, oct(mode))


def test_the_emulators_tables_and_the_webhook_secret_are_the_owners_alone(tmp_path, usual_umask, monkeypatch):
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    data = tmp_path / "data"
    webhook_secret.ensure(data)
    emulator = start_emulator(data)
    try:
        table, clients = provisioned_table(emulator.endpoint)
        for number in range(5):
            put(clients["dynamodb"], table, f"k{number}")
        # While it runs: the journal the writes go to.
        assert_private(data, {"dynamodb", webhook_secret.FILE_NAME, ".lock", f"dynamodb/{table}.journal"})
    finally:
        emulator.stop()  # folds the journal into a snapshot
    assert_private(data, {"dynamodb", webhook_secret.FILE_NAME, ".lock", f"dynamodb/{table}.snapshot"})


def test_a_folder_and_secret_made_world_readable_before_are_tightened(tmp_path, usual_umask, monkeypatch):
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / webhook_secret.FILE_NAME).write_text("whsec_" + "A" * 44 + "\n")
    os.chmod(data / webhook_secret.FILE_NAME, 0o644)
    assert webhook_secret.ensure(data)[0] == "whsec_" + "A" * 44
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / webhook_secret.FILE_NAME).stat().st_mode) == 0o600
