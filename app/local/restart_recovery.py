"""`make run` after a restart: every unfinished task running again in seconds, and exact counts.

The local runtime knows at start what the reconciler can only guess in AWS:
its queues and its stream were not kept (app/local/persistence.py keeps the
table alone), and every attempt that was running died with the process that
ran it. So, when it starts on a data folder:

- ``recount`` sets each task type's counts from the tasks the table holds,
  before the stream pollers start (changes still in the lost stream would
  otherwise be missing from them for good);
- ``resume_unfinished`` sends every task that was CREATED or IN_PROGRESS when
  it started to its workers again at once, through the same recovery rule as
  the reconciler (app/domain/recovery.py: a task out of attempts ends FAILED,
  one asked to cancel ends CANCELLED), after releasing the lease of an
  attempt that died with the previous run, rather than waiting out
  RECONCILE_AFTER_SECONDS and the lease.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from app import observability
from app.domain.errors import InvalidTransition
from app.domain.listing import TaskQuery
from app.domain.task import Task, TaskStatus
from app.services import recovery
from app.services.ports import TaskRepository

SOURCE = "make run restart"
PAGE_SIZE = 100


def recount(dynamodb: Any, table_name: str, aggregates: Any) -> dict[str, Counter[str]]:
    """Set the counts of every task type to what the table holds now; the counts set."""
    from app.adapters.task_store import TASK_SK

    per_type: dict[str, Counter[str]] = {}
    arguments: dict[str, Any] = {
        "TableName": table_name,
        "FilterExpression": "sk = :task",
        "ProjectionExpression": "task_type, #status",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":task": {"S": TASK_SK}},
    }
    while True:
        page = dynamodb.scan(**arguments)
        for item in page.get("Items", []):
            task_type, status = item["task_type"]["S"], item["status"]["S"]
            per_type.setdefault(task_type, Counter())[status] += 1
        if "LastEvaluatedKey" not in page:
            break
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    aggregates.set_counts(per_type)
    return per_type


def unfinished_before(store: TaskRepository, started_at: float) -> list[Task]:
    """Tasks CREATED or IN_PROGRESS last written at or before ``started_at`` (whole epoch seconds).

    The api answers only once the runtime has started, seconds later: no task of this run is among them.
    """
    found: list[Task] = []
    for status in (TaskStatus.CREATED, TaskStatus.IN_PROGRESS):
        token = None
        while True:
            page = store.list(TaskQuery(status=status, limit=PAGE_SIZE), token)
            found.extend(
                task for task in page.tasks if (task.updated_time or task.created_time) <= started_at
            )
            token = page.next_token
            if token is None:
                break
    return found


def resume_unfinished(
    store: TaskRepository,
    publish: recovery.Publish,
    started_at: float,
    clock: Callable[[], float] = time.time,
) -> dict[str, int]:
    """Send every task left unfinished by the previous run to its workers again; how many ended which way."""
    outcomes: Counter[str] = Counter()
    for task in unfinished_before(store, started_at):
        with observability.correlated(task.id, task.task_type):
            now = clock()
            if task.status is TaskStatus.IN_PROGRESS and task.lease_expires > now:
                # Its attempt ran in the process that stopped: nothing holds the lease any more.
                released = task.moved_to(
                    TaskStatus.IN_PROGRESS,
                    f"attempt {task.attempt} stopped with the previous run of make run",
                    now,
                    lease_expires=0,
                )
                try:
                    store.replace_if(released, expected=task)
                except InvalidTransition:
                    outcomes["moved_meanwhile"] += 1
                    continue
                task = released
            outcomes[recovery.recover(store, task, now, publish, source=SOURCE)] += 1
    if outcomes:
        observability.get_logger().warning("tasks of the previous run resumed", extra={"outcomes": outcomes})
    return dict(outcomes)
