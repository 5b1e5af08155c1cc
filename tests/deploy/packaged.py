"""Where the packaged deployment is, and small helpers to read it.

scripts/deploy_check.sh runs `osls package --stage ci`, which leaves the
CloudFormation template, the service state, one code artefact per function
and the packaging manifest (scripts/lambda_package.py) in .serverless/; the
tests in this folder read them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGE = "ci"
PACKAGE_DIR = ROOT / ".serverless"
TEMPLATE = PACKAGE_DIR / "cloudformation-template-update-stack.json"
STATE = PACKAGE_DIR / "serverless-state.json"
MANIFEST = PACKAGE_DIR / "lambda-python.json"
SOURCES = (
    ROOT / "serverless.yml",
    ROOT / "pyproject.toml",
    *ROOT.glob("requirements-*.txt"),
    ROOT / "scripts" / "lambda_package.py",
)
CHECK_COMMAND = "bash scripts/deploy_check.sh"


def package_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("DEPLOY_CHECK") == "1"


def missing(reason: str) -> None:
    if package_required():
        pytest.fail(f"{reason} (CI=true or DEPLOY_CHECK=1: the package is required; run {CHECK_COMMAND})")
    pytest.skip(f"{reason}; run {CHECK_COMMAND} to package and test the deployment")


def packaged(path: Path) -> Path:
    if not path.exists():
        missing(f"{path.relative_to(ROOT)} does not exist")
    newest_source = max(source.stat().st_mtime for source in SOURCES)
    if path.stat().st_mtime < newest_source:
        missing(f"{path.relative_to(ROOT)} is older than one of {[s.name for s in SOURCES]}")
    return path


# --- helpers over the template -----------------------------------------------------


def function_logical_id(name: str) -> str:
    """The framework's logical id of a function (naming.getLambdaLogicalId)."""
    normalized = name[0].upper() + name[1:]
    return normalized.replace("-", "Dash").replace("_", "Underscore") + "LambdaFunction"


def referenced(node: Any) -> str | None:
    """The logical id that !Ref X / !GetAtt X.Attr names, else None."""
    if isinstance(node, dict):
        if "Ref" in node:
            return node["Ref"]
        if "Fn::GetAtt" in node:
            target = node["Fn::GetAtt"]
            return target[0] if isinstance(target, list) else target.split(".", 1)[0]
    return None


def of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {logical_id: r for logical_id, r in resources.items() if r["Type"] == kind}


def dead_letter_queues(resources: dict[str, dict[str, Any]]) -> set[str | None]:
    """The logical ids of the queues other queues' redrive policies send dead letters to."""
    return {
        referenced(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in of_type(resources, "AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    }


def mappings_of(resources: dict[str, dict[str, Any]], function: str) -> list[dict[str, Any]]:
    """The properties of every event source mapping that invokes ``function``."""
    target = function_logical_id(function)
    return [
        r["Properties"]
        for r in of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if referenced(r["Properties"]["FunctionName"]) == target
    ]


OSLS = ROOT / "node_modules" / ".bin" / "osls"


def osls_binary() -> Path:
    """node_modules' osls; the test is skipped where scripts/deploy_check.sh has not installed it."""
    import shutil

    if not OSLS.exists() or shutil.which("node") is None:
        pytest.skip("node_modules/.bin/osls is missing; run bash scripts/deploy_check.sh")
    return OSLS


def offline_environment(**extra: str) -> dict[str, str]:
    """The environment osls runs in offline: dummy credentials, no config files, no AWS or New Relic
    variables of the developer's shell, no telemetry; ``extra`` on top."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "NEW_RELIC_"))}
    env.update(
        AWS_ACCESS_KEY_ID="deploy-check-dummy",
        AWS_SECRET_ACCESS_KEY="deploy-check-dummy",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        SLS_TELEMETRY_DISABLED="1",
        SLS_NOTIFICATIONS_MODE="off",
    )
    env.update(extra)
    return env
