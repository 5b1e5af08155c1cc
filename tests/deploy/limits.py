"""serverless.yml's params (limits and alarm thresholds) and where the docs state them."""

from __future__ import annotations

import re
from typing import Any

from tests.deploy.packaged import ROOT

DEPLOY_DOC = ROOT / "docs" / "deploy.md"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"


def params(declared: dict[str, Any]) -> dict[str, Any]:
    """The defaults of serverless.yml's params."""
    return declared["params"]["default"]


def section(text: str, heading: str) -> str:
    """From ``heading`` to the next heading of its level or above."""
    start = text.index(heading) + len(heading)
    level = len(heading.split(" ", 1)[0])
    end = re.search(rf"^#{{1,{level}}} ", text[start:], flags=re.M)
    return text[start : start + end.start()] if end else text[start:]


def documented_params() -> dict[str, str]:
    """docs/deploy.md's table of params: name -> default, as written there."""
    table = section(DEPLOY_DOC.read_text(), "## Limits and alarms")
    rows = re.findall(r"^\|\s*`(\w+)`\s*\|\s*([^|]*?)\s*\|", table, flags=re.M)
    return {name: default.strip("`") for name, default in rows}


def reliability_section() -> str:
    return section(OPERATIONS_DOC.read_text(), "## Reliability and security")
