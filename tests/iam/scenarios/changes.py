"""The changes function, fed by Lambda's stream event source: task counts and per-minute statistics."""

from __future__ import annotations

import dataclasses

from app.adapters.aggregates import TaskAggregates
from app.domain.task import TaskStatus
from tests.conftest import wait_until
from tests.factories import a_task
from tests.iam.harness import Stage
from tests.iam.scenarios import scenario


@scenario("changes")
def new_and_finished_tasks_are_counted(stage: Stage) -> None:
    counts = TaskAggregates(stage.provisioned.resources.table_name, stage.store.dynamodb)
    task = a_task("TASK2")
    with stage.lambda_service("changes"):
        stage.store.add(task)
        done = task.moved_to(TaskStatus.COMPLETED, "done", task.created_time + 1)
        stage.store.replace_if(dataclasses.replace(done, started_ms=task.created_ms + 10), expected=task)
        wait_until(lambda: counts.counts("TASK2")[0]["COMPLETED"] == 1, what="the task counted")


@scenario("changes")
def a_batch_delivered_again_is_not_counted_twice(stage: Stage) -> None:
    task = a_task("TASK1")
    stage.store.add(task)
    records = [
        r for r in stage.provisioned.stream_records() if r["dynamodb"]["Keys"]["pk"]["S"] == f"TASK#{task.id}"
    ]
    first = stage.invoke("changes", {"Records": records})
    again = stage.invoke("changes", {"Records": records})  # reads the batch's marker, writes nothing
    assert first["applied"] == len(records)
    assert (again["applied"], again["skipped"]) == (0, len(records))
