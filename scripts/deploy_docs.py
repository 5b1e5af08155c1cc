"""docs/deploy.md's tables of what a deploy makes, generated from the packaged template.

    python scripts/deploy_docs.py            rewrite the tables from .serverless/ (after osls package)
    python scripts/deploy_docs.py --check    exit 1, showing the difference, when they drifted

Each table sits between `<!-- generated: NAME -->` and `<!-- end: NAME -->`:
`functions` (every function, its handler and the package it ships) and
`alarms` (every alarm, what it watches, and its description). The stage in
names is written `<stage>`, and each task type's rows once, with `<type>`
(`<TYPE>`) for its name: adding a task type leaves the docs as they are.
tests/deploy/test_deploy_docs.py runs the check. Standard library only.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.task_registry import Declared, read_folder  # noqa: E402 (the project's root is on the path now)
from scripts import doc_blocks  # noqa: E402

DOC = ROOT / "docs" / "deploy.md"
PACKAGE_DIR = ROOT / ".serverless"
TEMPLATE = PACKAGE_DIR / "cloudformation-template-update-stack.json"
MANIFEST = PACKAGE_DIR / "lambda-python.json"


def _stage(template: dict[str, Any]) -> str:
    (stage,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]
    return stage["Properties"]["StageName"]


@functools.cache
def _deployed_types() -> Declared:
    return read_folder()


def _generic(text: str, stage: str) -> str:
    text = text.replace(f"-{stage}-", "-<stage>-")
    declared = _deployed_types()
    for name, task_type in declared.items():
        text = text.replace(declared.module_of(name) + ".", "workers.tasks.<type>.")
        text = text.replace(f"-{task_type.queue_suffix}-", "-<type>-")
        text = re.sub(rf"-{re.escape(task_type.queue_suffix)}$", "-<type>", text)
        text = re.sub(rf"\b{name}\b", "<TYPE>", text)
        text = re.sub(rf"\b{task_type.function_name}\b", "<type>", text)
    return text.replace("|", "\\|").replace("\n", " ")


def _watched(alarm: dict[str, Any]) -> str:
    """namespace/metric of each metric the alarm reads."""
    if "MetricName" in alarm:
        stats = [alarm]
    else:
        stats = [query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query]
    return ", ".join(sorted({f"{s['Namespace']} {s['MetricName']}" for s in stats}))


def functions_table(template: dict[str, Any], manifest: dict[str, Any]) -> str:
    stage = _stage(template)
    rows = ["| Function | Deployed as | Handler | Package |", "| --- | --- | --- | --- |"]
    by_name = {
        r["Properties"]["FunctionName"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    for name, built in sorted(manifest["functions"].items(), key=lambda item: item[0].lower()):
        (deployed,) = [f for f in by_name if f.endswith(f"-{stage}-{name}")]
        handler = _generic(by_name[deployed]["Handler"], stage)
        generic = f"`{_generic(name, stage)}` | `{_generic(deployed, stage)}`"
        row = f"| {generic} | `{handler}` | `{built['package']}` |"
        if row not in rows:
            rows.append(row)
    return "\n".join(rows) + "\n"


def alarms_table(template: dict[str, Any]) -> str:
    stage = _stage(template)
    alarms = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    rows = []
    for alarm in sorted(alarms, key=lambda a: a["AlarmName"]):
        name = _generic(alarm["AlarmName"], stage)
        # Placeholders in prose quoted, so that Markdown shows them rather than taking them for HTML.
        description = re.sub(r"(<type>|<TYPE>)", r"`\1`", _generic(alarm["AlarmDescription"], stage))
        row = f"| `{name}` | {_watched(alarm)} | {description} |"
        if row not in rows:
            rows.append(row)
    per_type = [row for row in rows if "<type>" in row.split("|")[1]]
    head = [
        f"{len(rows) - len(per_type)} alarms of the service's own and {len(per_type)} per task type "
        "(`<type>`), each notifying the alarm topic when it fires and when it clears:",
        "",
        "| Alarm | Watches | It means |",
        "| --- | --- | --- |",
    ]
    return "\n".join(head + rows) + "\n"


def generated(template: dict[str, Any], manifest: dict[str, Any]) -> dict[str, str]:
    return {"functions": functions_table(template, manifest), "alarms": alarms_table(template)}


def rendered(doc: str, tables: dict[str, str]) -> str:
    return doc_blocks.rendered(DOC, doc, tables)


def main(argv: list[str]) -> int:
    if not TEMPLATE.exists() or not MANIFEST.exists():
        raise SystemExit("package first: bash scripts/deploy_check.sh --package-only")
    tables = generated(json.loads(TEMPLATE.read_text()), json.loads(MANIFEST.read_text()))
    return doc_blocks.write_or_check(DOC, tables, "--check" in argv, "python scripts/deploy_docs.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
