"""The reconciler: no accepted task is left standing still.

Runs every minute (serverless.yml schedule; the local runtime runs it on the
same schedule) and whenever the publisher gives up on stream records (its
on-failure queue, ``publisher-failures``, is this function's event source).

- Every run looks at tasks CREATED and not picked up, and tasks IN_PROGRESS
  that no attempt holds, once they have stood still for
  ``RECONCILE_AFTER_SECONDS``; each is sent to its workers again or ended
  FAILED with the reason (app/domain/recovery.py), and its timeline says so.
  At most 500 a run, and none started in its last seconds: the rest wait for
  the next run.
- A publisher failure names a range of stream records, not tasks: the range is
  read back from the stream and the tasks in it go the same way. Records no
  longer in the stream are left to the periodic run, which finds their tasks.

This is also what recovers `make run` after a crash: SQS messages are not
kept on disk, the tasks are.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from app import observability
from app.adapters import aws, task_item, task_store
from app.domain.errors import TaskNotFound
from app.domain.listing import TaskQuery
from app.domain.recovery import is_stale
from app.domain.task import Task, TaskStatus
from app.services import recovery
from app.services.ports import Clock, TaskRepository
from app.settings import get_settings
from workers.publisher import publish_tasks

SOURCE = "reconciler"
# Tasks handled per run at most; the rest wait for the next minute.
MAX_TASKS_PER_RUN = 500
PAGE_SIZE = 100
# A run stops taking tasks this long before its timeout: a slow table (a flood
# of stuck tasks) ends a run cleanly, not as a timed-out invocation.
MARGIN_SECONDS = 5


def stuck_tasks(store: TaskRepository, now: float, stale_after_seconds: float, limit: int) -> list[Task]:
    """CREATED and IN_PROGRESS tasks that have stood still for ``stale_after_seconds``, oldest last."""
    found: list[Task] = []
    queries = (
        # Only tasks created long enough ago can be stale: a key condition, not a filter.
        TaskQuery(status=TaskStatus.CREATED, created_to=int(now - stale_after_seconds), limit=PAGE_SIZE),
        TaskQuery(status=TaskStatus.IN_PROGRESS, limit=PAGE_SIZE),
    )
    for query in queries:
        token = None
        while len(found) < limit:
            page = store.list(query, token)
            found.extend(task for task in page.tasks if is_stale(task, now, stale_after_seconds))
            token = page.next_token
            if token is None:
                break
    return found[:limit]


def reconcile(
    store: TaskRepository,
    publish: recovery.Publish,
    stale_after_seconds: float,
    clock: Clock = time.time,
    limit: int = MAX_TASKS_PER_RUN,
    seconds_left: Callable[[], float] = lambda: float("inf"),
) -> dict[str, int]:
    """One run over the stuck tasks; how many ended which way (``left`` for the next run)."""
    outcomes: dict[str, int] = {}
    found = stuck_tasks(store, clock(), stale_after_seconds, limit)
    for index, task in enumerate(found):
        if seconds_left() <= 0:
            outcomes["left"] = len(found) - index
            break
        with observability.correlated(task.id, task.task_type):
            outcome = recovery.recover(store, task, clock(), publish, source=SOURCE)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if outcomes:
        observability.get_logger().warning("reconciled stuck tasks", extra={"outcomes": outcomes})
    return outcomes


def task_ids_in_stream_range(streams: Any, batch_info: dict[str, Any]) -> list[str]:
    """The ids of the tasks made ready to run by the stream records an on-failure record names."""
    start, end = int(batch_info["startSequenceNumber"]), int(batch_info["endSequenceNumber"])
    iterator = streams.get_shard_iterator(
        StreamArn=batch_info["streamArn"],
        ShardId=batch_info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=str(start),
    )["ShardIterator"]
    ids: list[str] = []
    while iterator:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = response.get("Records", [])
        for record in records:
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return ids
            image = record["dynamodb"].get("NewImage", {})
            # A task made ready to run: a new one, or a scheduled one that came due.
            ready = image.get("status", {}).get("S") == TaskStatus.CREATED.value
            if ready and image.get("sk", {}).get("S") == task_item.TASK_SK:
                ids.append(image["id"]["S"])
        if not records:
            return ids
        iterator = response.get("NextShardIterator")
    return ids


def recover_publisher_failure(
    store: TaskRepository, publish: recovery.Publish, streams: Any, body: str, clock: Clock = time.time
) -> dict[str, int]:
    """The tasks of one on-failure record of the publisher's stream mapping, sent again."""
    logger = observability.get_logger()
    batch_info = json.loads(body)["DDBStreamBatchInfo"]
    from botocore.exceptions import ClientError

    try:
        task_ids = task_ids_in_stream_range(streams, batch_info)
    except ClientError as exc:
        # Past the stream's 24 hours, or trimmed: the periodic run finds these tasks.
        logger.warning("publisher failure: records no longer readable", extra={"error": str(exc)})
        return {"unreadable_range": 1}
    outcomes: dict[str, int] = {}
    for task_id in task_ids:
        try:
            task = store.get(task_id)
        except TaskNotFound:
            continue
        with observability.correlated(task.id, task.task_type):
            outcome = recovery.recover(store, task, clock(), publish, source=SOURCE)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    logger.warning("publisher failure recovered", extra={"tasks": len(task_ids), "outcomes": outcomes})
    return outcomes


@observability.lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = get_settings()
    store = task_store.for_table(settings.table_name)

    def publish(tasks: list[Task]) -> list[Task]:
        return publish_tasks(tasks, settings.topic_arn, aws.client("sns"), sent_by=SOURCE)[0]

    if "Records" not in event:  # the schedule
        remaining = getattr(context, "get_remaining_time_in_millis", None)

        def seconds_left() -> float:
            return float("inf") if remaining is None else remaining() / 1000 - MARGIN_SECONDS

        return reconcile(store, publish, settings.reconcile_after_seconds, seconds_left=seconds_left)
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    streams = aws.client("dynamodbstreams")
    return process_partial_response(
        event=event,
        record_handler=lambda record: recover_publisher_failure(store, publish, streams, record.body),
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )
