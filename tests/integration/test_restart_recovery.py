"""After a restart, `make run` sends every unfinished task of the previous run again at once, and recounts.

What the local runtime runs at start on a data folder (app/local/restart_recovery.py),
against the emulator; tests/e2e/test_restart_recovery.py times the whole stack.
"""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from app.adapters.aggregates import TaskAggregates
from app.domain.recovery import MAX_ATTEMPTS
from app.domain.task import TaskStatus
from app.domain.timeline import Hop
from app.local import restart_recovery
from tests.factories import a_task
from workers.publisher import publish_tasks

pytestmark = pytest.mark.integration


def stored(deployed, status: TaskStatus, at: float, **changes):
    task = dataclasses.replace(
        a_task(now=at),
        status=status,
        updated_time=int(at) if status != TaskStatus.CREATED else None,
        **changes,
    )
    deployed.store.add(task)
    return task


def test_every_task_the_previous_run_left_unfinished_is_sent_again_at_once(deployed):
    started_at = int(time.time()) - 2  # the runtime started; its api answered since
    before = started_at - 5  # a few seconds before the restart: far from RECONCILE_AFTER_SECONDS
    queued = stored(deployed, TaskStatus.CREATED, before)
    running = stored(deployed, TaskStatus.IN_PROGRESS, before, attempt=1, lease_expires=started_at + 25)
    crashed = stored(deployed, TaskStatus.IN_PROGRESS, before, attempt=2, lease_expires=0)
    spent = stored(deployed, TaskStatus.IN_PROGRESS, before, attempt=MAX_ATTEMPTS, lease_expires=0)
    asked = stored(
        deployed,
        TaskStatus.IN_PROGRESS,
        before,
        attempt=1,
        lease_expires=0,
        cancel_requested="api key 1234abcd",
    )
    done = stored(deployed, TaskStatus.COMPLETED, before)
    new = stored(deployed, TaskStatus.CREATED, started_at + 1)  # created by this run

    def publish(tasks):
        return publish_tasks(
            tasks, deployed.topic_arn, deployed.clients["sns"], sent_by=restart_recovery.SOURCE
        )[0]

    outcomes = restart_recovery.resume_unfinished(deployed.store, publish, started_at)
    assert outcomes == {"redispatched": 3, "failed": 1, "cancelled": 1}
    sent = [json.loads(message["body"])["task_id"] for message in deployed.receive("Task1Queue")]
    assert sorted(sent) == sorted([queued.id, running.id, crashed.id])
    released = deployed.store.get(running.id)
    assert (released.status, released.lease_expires, released.redispatches) == (TaskStatus.IN_PROGRESS, 0, 1)
    assert deployed.store.get(spent.id).status is TaskStatus.FAILED
    assert deployed.store.get(asked.id).status is TaskStatus.CANCELLED
    assert deployed.store.get(done.id).status is TaskStatus.COMPLETED
    assert deployed.store.get(new.id).redispatches == 0
    (event,) = [e for e in deployed.store.events(queued.id) if e.hop is Hop.REDISPATCHED]
    assert event.source == restart_recovery.SOURCE
    # Sent once: a second pass finds nothing of the previous run left unsent.
    assert restart_recovery.resume_unfinished(deployed.store, publish, started_at) == {}


def test_the_counts_are_recounted_from_the_tasks_restored_after_a_crash(tmp_path, emulator_endpoint):
    """The stream is not kept: changes still in it at a crash never reach the counts, so restore recounts."""
    from app.adapters.task_store import TaskStore
    from app.local.emulator import start_emulator
    from tests.integration.test_local_durability import provisioned_table

    emulator = start_emulator(tmp_path)
    try:
        table, clients = provisioned_table(emulator.endpoint)
        store = TaskStore(table, clients["dynamodb"])
        for status in (TaskStatus.COMPLETED, TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CREATED):
            store.add(dataclasses.replace(a_task(), status=status))
        store.add(dataclasses.replace(a_task("TASK2"), status=TaskStatus.IN_PROGRESS))
        # What a crash leaves: counts that missed changes still in the lost stream, over two shards.
        for shard, completed in ((0, 1), (1, 6)):
            clients["dynamodb"].put_item(
                TableName=table,
                Item={
                    "pk": {"S": f"COUNTS#TASK1#{shard}"}, "sk": {"S": "COUNTS"},
                    "COMPLETED": {"N": str(completed)}, "created_total": {"N": "9"},
                },
            )  # fmt: skip
    finally:
        emulator.process.kill()  # kill -9: no clean stop
        emulator.process.wait()

    emulator = start_emulator(tmp_path)
    try:
        table, clients = provisioned_table(emulator.endpoint)
        aggregates = TaskAggregates(table, clients["dynamodb"], counter_shards=2)
        by_status, created = aggregates.counts("TASK1")
        assert {status: n for status, n in by_status.items() if n} == {
            "COMPLETED": 2,
            "FAILED": 1,
            "CREATED": 1,
        }
        assert created == 18  # never fewer than were created: expired tasks can't be recounted
        by_status, created = aggregates.counts("TASK2")
        assert ({status: n for status, n in by_status.items() if n}, created) == ({"IN_PROGRESS": 1}, 1)
    finally:
        emulator.stop()
