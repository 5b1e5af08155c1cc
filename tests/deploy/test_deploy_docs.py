"""docs/deploy.md's tables of functions and alarms are the packaged template's (scripts/deploy_docs.py)."""

from __future__ import annotations

import importlib.util

import pytest

from tests.deploy.packaged import ROOT

pytestmark = pytest.mark.deploy


def _deploy_docs():
    spec = importlib.util.spec_from_file_location("deploy_docs", ROOT / "scripts" / "deploy_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_tables_are_generated_from_the_packaged_template(template, manifest):
    deploy_docs = _deploy_docs()
    doc = deploy_docs.DOC.read_text()
    expected = deploy_docs.rendered(doc, deploy_docs.generated(template, manifest))
    assert doc == expected, "docs/deploy.md drifted from the template: run python scripts/deploy_docs.py"


def test_the_tables_cover_every_function_and_alarm(template, manifest):
    tables = _deploy_docs().generated(template, manifest)
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    alarms = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert tables["functions"].count("\n| `") == len(functions)
    assert tables["alarms"].count("\n| `") == len(alarms)
