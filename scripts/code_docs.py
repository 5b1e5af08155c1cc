"""The docs' tables that derive from code, rewritten from it (`make docs`).

    python scripts/code_docs.py            rewrite the tables
    python scripts/code_docs.py --check    exit 1, showing the difference, when they drifted

- docs/operations.md `settings`: every setting of app/settings.py, its
  variable, default and meaning (each declared with ``setting(default, meaning)``).
- docs/task-types.md `capacity`: each task type's concurrency and the
  throughput it buys, from the declarations in workers/tasks/
  (``python -m app.task_type_stack --capacity`` prints the same). The check
  judges the rows of the types the doc lists: a team's own new type needs no
  docs change, and `make docs` adds its row.

Unlike scripts/deploy_docs.py it needs no packaging: tests/unit/test_code_docs.py
runs the check in every `make test`.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.domain.task_types import TaskType  # noqa: E402 (the project's root is on the path now)
from app.settings import Settings  # noqa: E402
from app.task_registry import read_folder  # noqa: E402
from app.task_type_stack import capacity_table  # noqa: E402
from scripts import doc_blocks  # noqa: E402

TASK_TYPES_DOC = ROOT / "docs" / "task-types.md"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"


def _shown(default: Any) -> str:
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return f"`{default}`" if default != "" else "unset"


def settings_table() -> str:
    """Each setting: its environment variable, its default and what it means."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for setting in dataclasses.fields(Settings):
        shown = setting.metadata["shown"] or _shown(setting.default)
        rows.append(f"| `{setting.name.upper()}` | {shown} | {setting.metadata['meaning']} |")
    return "\n".join(rows) + "\n"


def documented_types(doc: Path) -> set[str]:
    """The task types a doc's capacity table has rows for."""
    block = doc_blocks.BLOCK.search(doc.read_text())
    return set(re.findall(r"^\| `(\w+)` \|", block.group(3), re.M)) if block else set()


def generated(every_type: bool = True) -> dict[Path, dict[str, str]]:
    """Each doc's blocks, by name; without ``every_type``, the capacity rows of the types it lists."""
    declared: dict[str, TaskType] = read_folder()
    if not every_type:
        listed = documented_types(TASK_TYPES_DOC)
        declared = {name: t for name, t in declared.items() if name in listed}
    return {
        OPERATIONS_DOC: {"settings": settings_table()},
        TASK_TYPES_DOC: {"capacity": capacity_table(declared)},
    }


def main(argv: list[str]) -> int:
    check = "--check" in argv
    drifted = 0
    for doc, blocks in generated(every_type=not check).items():
        drifted |= doc_blocks.write_or_check(doc, blocks, check, "make docs")
    return drifted


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
