"""`make run` after a restart: every task the previous run left unfinished running again in seconds.

The local runtime knows at start what the reconciler can only guess in AWS:
its queues were not kept (app/local/persistence.py keeps the table alone),
and every attempt that was running died with the process that ran it. So,
when it starts on a data folder, it sends every task that was CREATED or
IN_PROGRESS to its workers again at once, through the same recovery rule as
the reconciler (app/domain/recovery.py: a task out of attempts ends FAILED,
one asked to cancel ends CANCELLED), after releasing the lease of an attempt
that died with the previous run, rather than waiting out
RECONCILE_AFTER_SECONDS and the lease. (The counts are recounted on restore:
app/local/recount.py.)
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator

from app import observability
from app.domain.errors import InvalidTransition
from app.domain.listing import TaskQuery
from app.domain.task import Task, TaskStatus
from app.services import recovery
from app.services.ports import TaskRepository

SOURCE = "make run restart"
PAGE_SIZE = 100


def unfinished_before(store: TaskRepository, started_at: float) -> Iterator[Task]:
    """Tasks CREATED or IN_PROGRESS last written at or before ``started_at`` (whole epoch seconds).

    A page at a time: the first are sent while the rest are read (20,000 take
    about 14 s to list here). The api answers only once the runtime has
    started, seconds later: no task of this run is among them.
    """
    for status in (TaskStatus.CREATED, TaskStatus.IN_PROGRESS):
        token = None
        while True:
            page = store.list(TaskQuery(status=status, limit=PAGE_SIZE), token)
            yield from (task for task in page.tasks if (task.updated_time or task.created_time) <= started_at)
            token = page.next_token
            if token is None:
                break


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
