"""docs/deploy.md's tables of functions and alarms are the packaged template's (scripts/deploy_docs.py)."""

from __future__ import annotations

import pytest

from app.task_registry import read_folder
from scripts import deploy_docs

pytestmark = pytest.mark.deploy


def test_the_docs_tables_are_generated_from_the_packaged_template(template, manifest):
    doc = deploy_docs.DOC.read_text()
    expected = deploy_docs.rendered(doc, deploy_docs.generated(template, manifest))
    assert doc == expected, "docs/deploy.md drifted from the template: run python scripts/deploy_docs.py"


def test_the_tables_cover_every_function_and_alarm(template, manifest):
    """Each task type's rows are written once, for `<type>`: the rest once each."""
    tables = deploy_docs.generated(template, manifest)
    types = len(read_folder())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    alarms = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    function_rows = tables["functions"].count("\n| `")
    per_type_functions = tables["functions"].count("\n| `<type>`")
    assert function_rows - per_type_functions + types * per_type_functions == len(functions)
    alarm_rows = tables["alarms"].count("\n| `")
    per_type_alarms = tables["alarms"].count("-<type>-")
    assert per_type_alarms == 5
    assert alarm_rows - per_type_alarms + types * per_type_alarms == len(alarms)


def test_adding_a_task_type_leaves_the_docs_as_they_are():
    """The tables name no task type: a new one changes nothing in them."""
    tables = "\n".join(
        block.group(3) for block in deploy_docs.doc_blocks.BLOCK.finditer(deploy_docs.DOC.read_text())
    )
    for name, task_type in read_folder().items():
        assert name not in tables and f"-{task_type.queue_suffix}-" not in tables
