"""The docs' tables that derive from code are what scripts/code_docs.py makes of it (`make docs`)."""

from __future__ import annotations

import dataclasses

from app.task_registry import Declared
from scripts import code_docs


def test_the_docs_tables_that_derive_from_code_are_current():
    for doc, blocks in code_docs.generated(every_type=False).items():
        text = doc.read_text()
        assert text == code_docs.doc_blocks.rendered(doc, text, blocks), f"{doc.name} is stale: run make docs"


def test_a_stale_table_is_found(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("before\n<!-- generated: capacity -->\n| old row |\n<!-- end: capacity -->\nafter\n")
    assert code_docs.doc_blocks.write_or_check(doc, {"capacity": "| new row |\n"}, True, "make docs") == 1
    assert code_docs.doc_blocks.write_or_check(doc, {"capacity": "| new row |\n"}, False, "make docs") == 0
    assert (
        doc.read_text()
        == "before\n<!-- generated: capacity -->\n| new row |\n<!-- end: capacity -->\nafter\n"
    )
    assert code_docs.doc_blocks.write_or_check(doc, {"capacity": "| new row |\n"}, True, "make docs") == 0


def test_a_teams_own_new_type_leaves_the_docs_current_and_make_docs_adds_its_row(monkeypatch):
    declared = code_docs.read_folder()
    task3 = dataclasses.replace(declared["TASK2"], name="TASK3")
    with_task3 = Declared({**declared, "TASK3": task3}, {})
    monkeypatch.setattr(code_docs, "read_folder", lambda: with_task3)
    assert "`TASK3`" not in code_docs.generated(every_type=False)[code_docs.TASK_TYPES_DOC]["capacity"]
    assert "| `TASK3` |" in code_docs.generated(every_type=True)[code_docs.TASK_TYPES_DOC]["capacity"]
