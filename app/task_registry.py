"""The task types declared in ``workers/tasks/``: one module each, read without importing it.

Each module there declares ``TASK_TYPE = TaskType(...)`` with literal
arguments (strings, numbers, lists, dicts, True/False/None). They are read
from the source, not imported, so that the api (which ships the modules but
none of their packages), packaging (any Python 3.11+, no project packages)
and the local runtime all see the same list without running task code.

Types declared ``local_only`` are seen only in local mode (``LOCAL_MODE``,
app/settings.py): the local runtime and the tests set it; nothing deployed does.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

from app.domain.task_types import TaskType, TaskTypeRefused

TASKS_FOLDER = Path(__file__).resolve().parents[1] / "workers" / "tasks"
TASKS_PACKAGE = "workers.tasks"
DECLARATION = "TASK_TYPE"


class Declared(dict[str, TaskType]):
    """Task types by name (deployed ones first, then by file name); each knows its module."""

    def __init__(self, types: dict[str, TaskType], modules: dict[str, str]):
        super().__init__(types)
        self.modules = modules

    def module_of(self, name: str) -> str:
        """The module that declares and runs ``name`` (``workers.tasks.task1``)."""
        return self.modules[name]


def read_declaration(path: Path) -> TaskType:
    """The ``TASK_TYPE = TaskType(...)`` of one module, from its source."""
    where = path.name
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as wrong:
        raise TaskTypeRefused(f"{where}: line {wrong.lineno}: {wrong.msg}") from None
    calls = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(target, ast.Name) and target.id == DECLARATION for target in node.targets)
    ]
    if len(calls) != 1 or not isinstance(calls[0], ast.Call) or calls[0].args:
        raise TaskTypeRefused(f"{where}: declare the type once, as {DECLARATION} = TaskType(name=..., ...)")
    arguments = {}
    for keyword in calls[0].keywords:
        try:
            arguments[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            raise TaskTypeRefused(
                f"{where}: {keyword.arg}= must be a literal (a string, number, list, dict, True/False/None): "
                "declarations are read without running the module"
            ) from None
    try:
        return TaskType(**arguments)
    except TypeError as wrong:
        raise TaskTypeRefused(f"{where}: {wrong}") from None
    except TaskTypeRefused as refused:
        raise TaskTypeRefused(f"{where}: {refused}") from None


def read_folder(folder: Path = TASKS_FOLDER, *, include_local_only: bool = False) -> Declared:
    """Every task type declared in ``folder``; a name declared twice is refused."""
    types: dict[str, TaskType] = {}
    modules: dict[str, str] = {}
    files: dict[str, str] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        declared = read_declaration(path)
        if declared.name in files:
            raise TaskTypeRefused(
                f"{declared.name} is declared twice, in {files[declared.name]} and {path.name}: "
                "give the copy a name of its own"
            )
        clash = next((t for t in types.values() if t.function_name == declared.function_name), None)
        if clash is not None:
            raise TaskTypeRefused(
                f"{declared.name} and {clash.name} would share the function {clash.function_name}"
            )
        files[declared.name] = path.name
        if declared.local_only and not include_local_only:
            continue
        types[declared.name] = declared
        modules[declared.name] = f"{TASKS_PACKAGE}.{path.stem}"
    if not types:
        raise TaskTypeRefused(f"no task type is declared in {folder}")
    # The deployed types first (the dashboard's first choice), each group by file name.
    ordered = sorted(types, key=lambda name: types[name].local_only)
    return Declared({name: types[name] for name in ordered}, modules)


def local_only_included() -> bool:
    from app.settings import get_settings

    return get_settings().local_mode


@lru_cache
def _declared(include_local_only: bool) -> Declared:
    return read_folder(include_local_only=include_local_only)


def task_types() -> Declared:
    """The task types this process runs (read once)."""
    return _declared(local_only_included())


def get(name: str) -> TaskType:
    """The declared type of this name; KeyError when there is none."""
    return task_types()[name]


def names() -> list[str]:
    return list(task_types())
