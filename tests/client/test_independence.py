"""The client installs and runs alone: nothing from the service's own packages, httpx its one dependency."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Imports the whole client, its CLI and these tests with `app` and `workers` made unimportable.
ISOLATED = """
import importlib, pkgutil, sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("app", "workers"):
            raise ImportError(f"the client must not import {name}")

sys.meta_path.insert(0, Refuse())
import async_app_client
import tests.client
for package in (async_app_client, tests.client):
    for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
from async_app_client import cli
code = cli.main(["tasks", "--help"])
print("imported", sorted(name for name in sys.modules if name.startswith(("async_app_client", "tests."))))
sys.exit(code)
"""


def test_client_and_its_tests_import_nothing_of_the_service():
    command = [sys.executable, "-c", ISOLATED]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "'async_app_client.cli'" in done.stdout and "'tests.client.test_cli'" in done.stdout
    assert "create" in done.stdout and "events" in done.stdout


def test_httpx_is_the_only_dependency_and_pinned_like_the_dev_tools():
    client = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())["project"]
    service = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert client["dependencies"] == ["httpx==0.28.1"]
    # One httpx for both packages, or `pip install -e . -e ./client` would fail to resolve.
    assert "httpx==0.28.1" in service["optional-dependencies"]["dev"]
    assert client["scripts"] == {"async-app": "async_app_client.cli:main"}
