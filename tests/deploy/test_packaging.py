"""Each function's artefact (code, locked packages, bytecode) and New Relic's switch.

As `osls package --stage ci` leaves them in .serverless/.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
import zipfile

import pytest

from app.task_registry import read_folder
from tests.deploy.packaged import ROOT, STAGE, TEMPLATE, offline_environment, packaged

pytestmark = pytest.mark.deploy


# Packages of the web framework and the dashboard: only the api ships them.
WEB = {
    "fastapi",
    "starlette",
    "jinja2",
    "markupsafe",
    "mangum",
    "python_multipart",
    "multipart",
    "itsdangerous",
}
# In the Lambda runtime already, with what only they need; or used only on a laptop.
NEVER_SHIPPED = {"boto3", "botocore", "s3transfer", "urllib3", "dateutil", "six"} | {
    "moto",
    "pytest",
    "uvicorn",
    "yaml",
    "httpx",
    "newrelic",
    "playwright",
    "cfn_lint",
    "uv",
}
PACKAGE_REFERENCE = re.compile(r"^\$\{self:custom\.packages\.([A-Za-z0-9_-]+)\}$")


def _top_level(names: list[str]) -> set[str]:
    return {name.split("/", 1)[0].removesuffix(".py") for name in names}


def _versions(names: list[str]) -> dict[str, str]:
    """normalized name -> version, from the .dist-info folders in an artefact."""
    found = {}
    for name in names:
        match = re.match(r"^([^/]+)-([^-/]+)\.dist-info/METADATA$", name)
        if match:
            found[_normalize(match.group(1))] = match.group(2)
    return found


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock(package: str) -> dict[str, str]:
    """normalized name -> version pinned in requirements-<package>.txt."""
    pins = re.findall(
        r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)",
        (ROOT / f"requirements-{package}.txt").read_text(),
        re.M,
    )
    return {_normalize(name): version for name, version in pins}


def _direct(package: str) -> dict[str, str]:
    """What pyproject.toml asks for a package: [project.dependencies], plus the extra of the same name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"].get(package, [])
    pins = [re.match(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)$", r) for r in requirements]
    assert all(pins), f"pyproject.toml: pin every run-time dependency with == ({requirements})"
    return {_normalize(m.group(1)): m.group(2) for m in pins if m}


def test_every_function_chooses_its_package(declared):
    """A new function without `package: ${self:custom.packages.NAME}` fails here (and in packaging)."""
    assert declared["package"]["individually"] is True
    assert declared["package"]["patterns"] == ["!**"], "the code each function ships is in custom.packages"
    packages = declared["custom"]["packages"]
    assert set(packages) == {"api", "pipeline"}
    for name, spec in declared["functions"].items():
        reference = PACKAGE_REFERENCE.match(str(spec.get("package", "")))
        assert reference, f"function {name}: add `package: ${{self:custom.packages.pipeline}}` (or api)"
        assert reference.group(1) in packages, f"function {name}: no custom.packages.{reference.group(1)}"
        assert (ROOT / f"requirements-{reference.group(1)}.txt").exists()
    for name, spec in packages.items():
        assert set(spec) == {"patterns"}, f"custom.packages.{name}: patterns only (the framework's key)"
        assert spec["patterns"][-1] == "!**/__pycache__/**", name


def test_each_function_has_its_own_artifact_from_its_package(manifest, declared):
    assert manifest["python_version"].startswith("3.13.")
    assert set(manifest["functions"]) == set(declared["functions"])
    for name, built in manifest["functions"].items():
        assert built["artifact"] == f".serverless/{name}.zip"
        assert f"custom.packages.{built['package']}}}" in declared["functions"][name]["package"]
        assert built["lock"] == f"requirements-{built['package']}.txt"


def test_artifacts_hold_their_code_and_nothing_else_of_the_repo(artifacts, manifest):
    for function, names in artifacts.items():
        top_level = _top_level(names)
        assert "app" in top_level, function
        assert not [n for n in names if n.startswith("app/local/")], (
            f"{function}: the local runtime is not deployed"
        )
        for unwanted in ("tests", "node_modules", ".venv", "scripts", "docs", ".serverless", "bin"):
            assert unwanted not in top_level, f"{function}: {unwanted}"
        assert not [
            n for n in names if "/" not in n and n.endswith((".yml", ".toml", ".md", ".json", ".txt"))
        ]
        handler_module = {"api": "app/main.py"}.get(function)
        if manifest["functions"][function]["package"] == "pipeline":
            assert "workers/consumer.py" in names, function
        if handler_module:
            assert handler_module in names


def test_pipeline_artifacts_ship_no_web_framework_templates_or_static_files(artifacts, manifest):
    pipeline = [f for f, built in manifest["functions"].items() if built["package"] != "api"]
    workers = {t.function_name for t in read_folder().values()}
    assert {"publisher", "deadLetters", *workers} <= set(pipeline)
    for function in pipeline:
        names = artifacts[function]
        shipped_web = _top_level(names) & (WEB | {"templates", "static"})
        assert not shipped_web, f"{function} ships {sorted(shipped_web)}"
        assert not [n for n in names if n.startswith(("app/api/", "app/dashboard/")) or n == "app/main.py"]
        ours = [n for n in names if n.startswith(("app/", "workers/"))]
        assert not [n for n in ours if not n.endswith((".py", ".pyc"))], function


def test_api_artifact_ships_the_web_framework_templates_and_static_files(artifacts):
    names = artifacts["api"]
    assert {"fastapi", "starlette", "jinja2", "mangum", "python_multipart", "itsdangerous"} <= _top_level(
        names
    )
    assert "templates/base.html" in names
    assert [n for n in names if n.startswith("static/htmx-")]
    # The api runs no worker: of workers/ it ships only the task types' modules, whose
    # declarations it reads from their source (app/task_registry.py), never importing them.
    assert {n for n in names if n.startswith("workers/") and n.endswith(".py")} == {
        f"workers/tasks/{path.name}" for path in (ROOT / "workers" / "tasks").glob("*.py")
    }


def test_artifacts_ship_exactly_their_locked_packages(artifacts, manifest):
    for function, names in artifacts.items():
        package = manifest["functions"][function]["package"]
        shipped, locked = _versions(names), _lock(package)
        assert shipped == manifest["functions"][function]["packages"], function
        for name, version in shipped.items():
            assert locked.get(name) == version, (
                f"{function}: {name}=={version} is not in its lock ({locked.get(name)})"
            )
        for name, version in _direct(package).items():
            assert shipped.get(name) == version, (
                f"{function}: {name}=={version} from pyproject.toml not shipped"
            )
        assert not _top_level(names) & NEVER_SHIPPED, f"{function}: {_top_level(names) & NEVER_SHIPPED}"


def test_artifacts_ship_unchecked_hash_bytecode_of_the_runtime(manifest):
    """Every module has its .pyc, compiled by the runtime's Python, hash-based and never re-checked."""
    probe = ROOT / "tests" / "deploy" / "bytecode_probe.py"
    for function, built in manifest["functions"].items():
        result = subprocess.run(
            [manifest["python"], "-I", str(probe), str(ROOT / built["artifact"])],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        found = json.loads(result.stdout)
        assert found["python"] == manifest["python_version"]
        assert found["modules"] > 100, function
        assert found["missing"] == [], f"{function}: no .pyc for {found['missing'][:5]}"
        assert found["wrong"] == [], f"{function}: stale or timestamp .pyc for {found['wrong'][:5]}"
        assert found["other_python"] == [], f"{function}: .pyc of another Python: {found['other_python'][:5]}"
        assert found["misnamed"] == [], (
            f"{function}: .pyc naming a build folder, not /var/task: {found['misnamed'][:5]}"
        )


def test_compiled_packages_are_for_the_functions_runtime_and_cpu(artifacts, manifest, template):
    functions = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    (runtime,) = {properties["Runtime"] for properties in functions}
    (architectures,) = {tuple(properties["Architectures"]) for properties in functions}
    assert architectures == ("arm64",)
    abi = "cpython-" + runtime.removeprefix("python").replace(".", "") + "-aarch64-linux-gnu"
    for function, names in artifacts.items():
        extensions = [n for n in names if n.endswith(".so")]
        assert extensions, f"{function}: compiled dependencies (wrapt, pydantic_core) are expected"
        with zipfile.ZipFile(packaged(ROOT / manifest["functions"][function]["artifact"])) as archive:
            for extension in extensions:
                if extension.endswith(".abi3.so"):
                    # The stable ABI (argon2-cffi-bindings) serves every CPython 3 since its
                    # minimum: what must match is the CPU, the ELF header's machine (183: AArch64).
                    header = archive.read(extension)[:20]
                    assert header[:4] == b"\x7fELF", f"{function}: {extension}"
                    assert int.from_bytes(header[18:20], "little") == 183, (
                        f"{function}: {extension} is not arm64"
                    )
                else:
                    assert abi in extension, f"{function}: {extension} is not for {runtime} on arm64"


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
    packaged(TEMPLATE)  # the check has run npm ci
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
    env = offline_environment(
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
