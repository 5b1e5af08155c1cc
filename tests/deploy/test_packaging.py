"""The code artifact and New Relic's switch, as `osls package --stage ci` leaves them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
import zipfile

import pytest

from tests.deploy.packaged import ARTIFACT, ROOT, STAGE, TEMPLATE, packaged

pytestmark = pytest.mark.deploy


_PINNED = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^;\s]+)")


def _dependencies() -> dict[str, str]:
    """name -> version of pyproject.toml's [project.dependencies] (extras and markers aside)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {}
    for requirement in project["dependencies"]:
        match = _PINNED.match(requirement)
        assert match, f"{requirement!r} is not pinned with =="
        pinned[re.sub(r"[-_.]+", "_", match.group(1)).lower()] = match.group(2)
    return pinned


def test_artifact_holds_the_code_and_nothing_else_of_the_repo(artifact_names):
    top_level = {name.split("/", 1)[0] for name in artifact_names}
    assert {"app", "workers"} <= top_level
    assert not [n for n in artifact_names if n.startswith("app/local/")], "the local runtime is not deployed"
    for unwanted in ("tests", "node_modules", ".venv", "scripts", "docs", ".build", ".serverless"):
        assert unwanted not in top_level
    assert not [n for n in artifact_names if "/" not in n and n.endswith((".yml", ".toml", ".md", ".json"))]
    assert not [n for n in artifact_names if "__pycache__" in n or n.endswith(".pyc")]
    code = {n for n in artifact_names if n.startswith(("app/", "workers/"))}
    for handler_module in ("app/main.py", "workers/publisher.py", "workers/dead_letters.py"):
        assert handler_module in code


def test_artifact_holds_the_pinned_runtime_dependencies_for_the_lambda_runtime(artifact_names, template):
    installed = {}
    for name in artifact_names:
        match = re.match(r"^([^/]+)-([^-/]+)\.dist-info/METADATA$", name)
        if match:
            installed[re.sub(r"[-_.]+", "_", match.group(1)).lower()] = match.group(2)
    for name, version in _dependencies().items():
        assert installed.get(name) == version, f"{name}=={version} not packaged (found {installed.get(name)})"
    # boto3 comes with the Lambda runtime; dev and local-only packages stay out.
    for absent in ("boto3", "botocore", "s3transfer", "moto", "pytest", "uvicorn", "yaml", "httpx"):
        assert absent not in installed and absent not in {n.split("/", 1)[0] for n in artifact_names}
    # Compiled wheels for the functions' Python and CPU. (The plugin's cache is
    # keyed by the requirements only: after changing the runtime, clear
    # ~/.cache/serverless-python-requirements, or this fails.)
    functions = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    (runtime,) = {properties["Runtime"] for properties in functions}
    (architectures,) = {tuple(properties["Architectures"]) for properties in functions}
    assert architectures == ("arm64",)
    abi = "cpython-" + runtime.removeprefix("python").replace(".", "") + "-aarch64-linux-gnu"
    extensions = [n for n in artifact_names if n.endswith(".so")]
    assert extensions, "compiled dependencies (pydantic_core) are expected"
    with zipfile.ZipFile(packaged(ARTIFACT)) as archive:
        for extension in extensions:
            if extension.endswith(".abi3.so"):
                # The stable ABI (argon2-cffi-bindings) serves every CPython 3 since its
                # minimum: what must match is the CPU, the ELF header's machine (183: AArch64).
                header = archive.read(extension)[:20]
                assert header[:4] == b"\x7fELF", extension
                assert int.from_bytes(header[18:20], "little") == 183, f"{extension} is not for arm64"
            else:
                assert abi in extension, f"{extension} is not for {runtime} on arm64"


def test_new_relic_is_off_by_default(template, state):
    functions = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    for properties in functions:
        assert "Layers" not in properties
        assert "newrelic" not in properties["Handler"].lower()
        assert not [key for key in properties["Environment"]["Variables"] if key.startswith("NEW_RELIC")]
    assert template["Parameters"]["NewRelicAccountId"]["Default"] == ""
    new_relic = state["service"]["custom"]["newRelic"]
    assert new_relic["stages"] == [], "with no account id the plugin must skip every stage"
    assert new_relic["apiKey"] == ""


@pytest.fixture(scope="module")
def osls():
    packaged(TEMPLATE)  # the check has run npm ci and written .build/
    binary = ROOT / "node_modules" / ".bin" / "osls"
    if not binary.exists() or shutil.which("node") is None:
        pytest.skip("node_modules/.bin/osls is missing; run bash scripts/deploy_check.sh")
    return binary


def test_new_relic_turns_on_with_an_account_id(osls):
    """`osls print` resolves the configuration as `package` would, offline.

    With an account id the plugin runs for the stage, and the roles may read the
    license key. Attaching the layer itself needs New Relic's API (license key,
    layer lookup) and AWS, so it cannot be shown offline; see docs/deploy.md.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "NEW_RELIC_"))}
    env.update(
        AWS_ACCESS_KEY_ID="deploy-check-dummy",
        AWS_SECRET_ACCESS_KEY="deploy-check-dummy",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        NEW_RELIC_ACCOUNT_ID="1234567",
        NEW_RELIC_LAYER_ARN="arn:aws:lambda:eu-west-1:451483290750:layer:NewRelicPython313ARM64:1",
    )
    result = subprocess.run(
        [str(osls), "print", "--stage", STAGE, "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Skipping plugin serverless-newrelic-lambda-layers" not in result.stderr
    config = json.loads(result.stdout)
    new_relic = config["custom"]["newRelic"]
    assert new_relic["stages"] == [STAGE]
    assert new_relic["accountId"] == "1234567"
    assert new_relic["layerArn"].endswith("NewRelicPython313ARM64:1")
    assert new_relic["enableExtension"] is True
    assert config["resources"]["Parameters"]["NewRelicAccountId"]["Default"] == "1234567"
