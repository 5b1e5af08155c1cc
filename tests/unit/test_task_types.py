"""Task types: declarations read from their modules' source, the settings that follow, and what is refused."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from app import task_registry, task_type_stack
from app.domain.task_types import (
    LAMBDA_MAX_TIMEOUT_SECONDS,
    START_MARGIN_SECONDS,
    TaskType,
    TaskTypeRefused,
)

TASKS = Path(task_registry.TASKS_FOLDER)


def declared(**overrides) -> TaskType:
    return TaskType(
        **{"name": "RESIZE_IMAGE", "description": "Resizes an image.", "longest_run_seconds": 10, **overrides}
    )


def copy_of_task2(folder: Path, name: str, module: str, **replacements: str) -> Path:
    source = (TASKS / "task2.py").read_text().replace('name="TASK2"', f'name="{name}"')
    for old, new in replacements.items():
        source = source.replace(old, new)
    path = folder / f"{module}.py"
    path.write_text(source)
    return path


@pytest.fixture
def tasks_folder(tmp_path: Path) -> Path:
    """A copy of workers/tasks/ to add to and take from."""
    folder = tmp_path / "tasks"
    shutil.copytree(TASKS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


# --- the settings that follow from a declaration ---------------------------------------------


def test_names_of_every_kind_follow_the_type_name():
    task_type = declared(name="PARTNER_CALL")
    assert (task_type.function_name, task_type.logical_prefix, task_type.queue_suffix) == (
        "partnerCall",
        "PartnerCall",
        "partner-call",
    )
    assert (declared(name="TASK1").function_name, declared(name="TASK1").logical_prefix) == ("task1", "Task1")


@pytest.mark.parametrize(("longest", "batch"), [(1, 1), (2, 5), (21, 1), (12, 5), (60, 10), (893, 1)])
def test_the_timeout_fits_a_full_batch_and_the_queue_follows_lambdas_advice(longest, batch):
    task_type = declared(longest_run_seconds=longest, batch_size=batch)
    assert task_type.timeout_seconds >= batch * (longest + START_MARGIN_SECONDS)
    assert 30 <= task_type.timeout_seconds <= LAMBDA_MAX_TIMEOUT_SECONDS
    assert task_type.visibility_timeout_seconds >= 6 * task_type.timeout_seconds
    assert task_type.visibility_timeout_seconds <= 12 * 3600
    assert task_type.max_receive_count >= 5


def test_a_copy_of_task2_with_longer_runs_gets_a_timeout_that_fits_them():
    """Copying TASK2's settings by hand once gave `5 runs need 70 s; 30 >= 70`: now the timeout follows."""
    copied = replace(task_registry.read_folder()["TASK2"], name="TASK3", longest_run_seconds=12)
    assert copied.batch_size == 5 and copied.timeout_seconds >= 5 * (12 + START_MARGIN_SECONDS)


def test_a_target_throughput_sets_the_concurrency_that_buys_it():
    # concurrency = target x mean run: 5 tasks/s of 2 s runs is 10 runs at once, and buys 5 tasks/s.
    typed = declared(target_tasks_per_second=5, mean_run_seconds=2, longest_run_seconds=20)
    assert typed.settled_concurrency == 10 and typed.tasks_per_second(10) == 5
    # Without a mean run, the longest is assumed: the concurrency covers the target at worst.
    assert declared(target_tasks_per_second=1, longest_run_seconds=20).settled_concurrency == 20
    # Never under the SQS mapping's least maximumConcurrency, and whole runs, rounded up.
    assert declared(target_tasks_per_second=0.1, mean_run_seconds=1).settled_concurrency == 2
    assert declared(target_tasks_per_second=3, mean_run_seconds=0.7).settled_concurrency == 3
    # Declared concurrency is taken as it is; neither given leaves it to the stage's param.
    assert declared(concurrency=7).settled_concurrency == 7
    assert declared().settled_concurrency is None


def test_max_attempts_sets_the_receive_count_never_under_five():
    assert declared(max_attempts=8).max_receive_count == 8
    assert declared(max_attempts=2).max_receive_count == 5


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        (
            {"longest_run_seconds": 1200},
            "one run of up to 1200 s needs a 1207 s timeout, past Lambda's 900 s: with batch_size 1, "
            "longest_run_seconds can be at most 893; split the work into shorter tasks",
        ),
        (
            {"longest_run_seconds": 200, "batch_size": 5},
            "longest_run_seconds can be at most 177; or lower batch_size",
        ),
        ({"name": "task3"}, "must be upper case letters and digits"),
        ({"name": "A" * 31}, "at most 30 fit AWS's names"),
        ({"description": " "}, "description must say in one line"),
        ({"longest_run_seconds": 0}, "longest_run_seconds must be a positive number"),
        ({"batch_size": 11}, "batch_size must be a whole number from 1 to 10"),
        ({"concurrency": 1}, "concurrency must be a whole number of at least 2"),
        ({"max_attempts": 0}, "max_attempts must be a whole number from 1 to 100"),
        ({"target_tasks_per_second": 0}, "target_tasks_per_second must be a positive number"),
        (
            {"mean_run_seconds": 30, "longest_run_seconds": 20},
            "mean_run_seconds must be a positive number, at most",
        ),
        (
            {"target_tasks_per_second": 5, "concurrency": 4},
            "give concurrency or target_tasks_per_second (its concurrency is derived from it), not both",
        ),
        (
            {"target_tasks_per_second": 100, "mean_run_seconds": 10, "longest_run_seconds": 20},
            "100 tasks/s of 10 s runs needs 1000 concurrent runs, past the 900",
        ),
    ],
)
def test_a_declaration_that_cannot_run_in_lambda_is_refused_saying_what_to_change(overrides, says):
    with pytest.raises(TaskTypeRefused) as refused:
        declared(**overrides)
    assert says in str(refused.value)


# --- reading the modules' source ---------------------------------------------------------------


def test_every_module_of_workers_tasks_is_a_declared_type_and_its_handler_runs_it():
    import importlib

    every = task_registry.read_folder(include_local_only=True)
    modules = {path.stem for path in TASKS.glob("*.py") if not path.name.startswith("_")}
    assert {every.module_of(name).rsplit(".", 1)[1] for name in every} == modules
    for name, task_type in every.items():
        module = importlib.import_module(every.module_of(name))
        # What the source says is what the module, imported, declares and runs.
        assert task_type == module.TASK_TYPE
        assert module.handler.task_type == task_type


def test_local_only_types_are_seen_only_in_local_mode(monkeypatch):
    from app.settings import get_settings

    assert "FLAKY" not in task_registry.read_folder()
    assert "FLAKY" in task_registry.read_folder(include_local_only=True)
    try:
        monkeypatch.setenv("LOCAL_MODE", "false")
        get_settings.cache_clear()
        assert "FLAKY" not in task_registry.names()
        monkeypatch.setenv("LOCAL_MODE", "true")
        get_settings.cache_clear()
        assert "FLAKY" in task_registry.names()
        # Deployed types come first: the dashboard's first choice is never a local-only one.
        assert task_registry.names()[-1] == "FLAKY"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_a_copy_under_a_new_name_is_a_new_type(tasks_folder):
    before = list(task_registry.read_folder(tasks_folder))
    copy_of_task2(tasks_folder, "ZZ_COPY", "zz_copy")
    types = task_registry.read_folder(tasks_folder)
    assert list(types) == [*before, "ZZ_COPY"]
    assert types.module_of("ZZ_COPY") == "workers.tasks.zz_copy"


def test_a_copy_that_keeps_the_original_name_is_refused(tasks_folder):
    copy_of_task2(tasks_folder, "TASK2", "zz_copy")
    with pytest.raises(
        TaskTypeRefused, match=re.escape("TASK2 is declared twice, in task2.py and zz_copy.py")
    ):
        task_registry.read_folder(tasks_folder)


def test_a_declaration_must_be_literal_and_present(tasks_folder):
    copy_of_task2(
        tasks_folder, "ZZ_COPY", "zz_copy", **{"longest_run_seconds=2": "longest_run_seconds=2 * SECONDS"}
    )
    with pytest.raises(
        TaskTypeRefused, match=re.escape("zz_copy.py: longest_run_seconds= must be a literal")
    ):
        task_registry.read_folder(tasks_folder)
    (tasks_folder / "zz_copy.py").write_text("def run(task):\n    pass\n")
    with pytest.raises(TaskTypeRefused, match=re.escape("zz_copy.py: declare the type once")):
        task_registry.read_folder(tasks_folder)
    (tasks_folder / "zz_copy.py").write_text('TASK_TYPE = TaskType(name="ZZ_COPY", colour="red")\n')
    with pytest.raises(TaskTypeRefused, match=r"zz_copy\.py: .*unexpected keyword argument 'colour'"):
        task_registry.read_folder(tasks_folder)


# --- the stack's part per type -------------------------------------------------------------------


def test_a_copied_type_gets_its_whole_part_of_the_stack_and_removing_it_takes_it_back(tasks_folder):
    before = task_type_stack.parts(task_registry.read_folder(tasks_folder))
    copy_of_task2(tasks_folder, "ZZ_COPY", "zz_copy")
    after = task_type_stack.parts(task_registry.read_folder(tasks_folder))
    added = set(after["resources"]["Resources"]) - set(before["resources"]["Resources"])
    assert added == {
        "ZzCopyQueue",
        "ZzCopyDeadLetterQueue",
        "ZzCopyQueuePolicy",
        "ZzCopySubscription",
        "ZzCopyRole",
        "ZzCopyQueueAgeAlarm",
        "ZzCopyDeadLetterQueueAgeAlarm",
        "ZzCopyDeadLetterQueueDepthAlarm",
        "ZzCopyErrorsAlarm",
        "ZzCopyThrottlesAlarm",
    }
    assert set(after["functions"]) - set(before["functions"]) == {"zzCopy"}
    assert after["functions"]["zzCopy"]["handler"] == "workers.tasks.zz_copy.handler"
    assert after["resources"]["Resources"]["ZzCopySubscription"]["Properties"]["FilterPolicy"] == {
        "task_type": ["ZZ_COPY"]
    }
    for part in ("deadLetterEvents", "deadLetterQueueArns", "taskQueueArns"):
        assert len(after[part]) == len(before[part]) + 1
    (tasks_folder / "zz_copy.py").unlink()
    assert task_type_stack.parts(task_registry.read_folder(tasks_folder)) == before


def test_the_stack_script_refuses_a_type_lambda_cannot_run(tasks_folder, capsys):
    copy_of_task2(
        tasks_folder,
        "REPORT",
        "report",
        **{"longest_run_seconds=2": "longest_run_seconds=1200", "batch_size=5,": ""},
    )
    assert task_type_stack.main(["--folder", str(tasks_folder)]) == 2
    said = capsys.readouterr().err
    assert said.startswith(
        "task type refused: report.py: REPORT: one run of up to 1200 s needs a 1207 s timeout"
    )
