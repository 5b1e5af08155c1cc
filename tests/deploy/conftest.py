"""Fixtures over the packaged deployment (see packaged.py).

These tests read what `osls package --stage ci` wrote; they do not package
themselves (that takes Node and ~20 s). Without a package they skip, unless
CI=true or DEPLOY_CHECK=1, where a missing package is a failure. A package
older than serverless.yml or pyproject.toml is stale and treated as missing.
"""

from __future__ import annotations

import json
import zipfile
from typing import Any

import pytest
import yaml

from app.local import sls_config
from app.local.sls_config import CloudFormationLoader
from app.task_type_stack import part
from tests.deploy.packaged import MANIFEST, ROOT, STATE, TEMPLATE, packaged


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return json.loads(packaged(TEMPLATE).read_text())


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return template["Resources"]


@pytest.fixture(scope="session")
def state() -> dict[str, Any]:
    return json.loads(packaged(STATE).read_text())


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    """What scripts/lambda_package.py built: per function its package, lock, artefact, size, packages."""
    return json.loads(packaged(MANIFEST).read_text())


@pytest.fixture(scope="session")
def artifacts(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """function name -> the names in its artefact."""
    names = {}
    for function, built in manifest["functions"].items():
        with zipfile.ZipFile(packaged(ROOT / built["artifact"])) as archive:
            names[function] = archive.namelist()
    return names


@pytest.fixture(scope="session")
def declared() -> dict[str, Any]:
    """serverless.yml parsed as YAML, before the framework resolves its variables; the task types'
    parts (${file(./scripts/task-types.js):...}) put in and its lists merged, as the framework does."""
    document = _with_task_type_parts(
        yaml.load((ROOT / "serverless.yml").read_text(), Loader=CloudFormationLoader)
    )
    for key in ("functions", "resources"):
        document[key] = sls_config.merged(document[key])
    return document


def _with_task_type_parts(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _with_task_type_parts(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_task_type_parts(value) for value in node]
    reference = f"${{file({sls_config.TASK_TYPES_SCRIPT}):"
    if isinstance(node, str) and node.startswith(reference) and node.endswith("}"):
        return part(node[len(reference) : -1], include_local_only=False)
    return node
