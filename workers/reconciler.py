"""The reconciler: no accepted task is left standing still.

Runs every minute (serverless.yml schedule; the local runtime runs it on the
same schedule) and whenever the publisher gives up on stream records (its
on-failure queue, ``publisher-failures``, is this function's event source).

- Every run looks at tasks CREATED and not picked up, and tasks IN_PROGRESS
  that no attempt holds, whose message is gone (app/domain/recovery.py,
  ``is_lost``): last written before their type's queue was seen holding no
  message at all (one GetQueueAttributes a type a run; a sighting that
  finds lost tasks is kept in the table for the next runs), or longer ago
  than the queue keeps messages; and standing still for
  ``RECONCILE_AFTER_SECONDS``. A task waiting in a long queue, or between
  attempts, is left to its message. Each is sent to its workers again or
  ended FAILED with the reason, and its timeline says so. At most 500 a run,
  and none started in its last seconds: the rest wait for the next run.
- A publisher failure names a range of stream records, not tasks: the range is
  read back from the stream and the tasks in it go the same way. Records no
  longer in the stream are left to the periodic run, which finds their tasks
  once their queue is seen empty, or past its retention.

This is also what recovers `make run` after a crash: SQS messages are not
kept on disk, the tasks are.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from app import observability, task_registry
from app.adapters import aws, task_item, task_store
from app.adapters.queue_marks import QueueMarks
from app.domain.errors import TaskNotFound
from app.domain.listing import TaskQuery
from app.domain.recovery import QueueState, is_lost, lost_before
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


# What SQS says of a task type's queue and DLQ (app/domain/recovery.py's QueueState).
QueueStates = Callable[[str], QueueState]


def stuck_tasks(
    store: TaskRepository,
    now: float,
    stale_after_seconds: float,
    limit: int,
    queues: QueueStates,
    task_types: Iterable[str],
) -> list[Task]:
    """CREATED and IN_PROGRESS tasks whose messages are gone (``is_lost``), oldest last.

    Each type's queue is read once a run (``QueueWatch`` keeps what it read).
    Only tasks written before the time its queue could have lost their
    message are read: a key condition, not a filter, so a long queue of
    waiting tasks costs nothing to look past.
    """
    found: list[Task] = []
    queries = [
        # A task's last write is no earlier than its creation: only those created long enough ago.
        TaskQuery(
            status=TaskStatus.CREATED,
            task_type=task_type,
            created_to=lost_before(now, stale_after_seconds, queues(task_type)),
            limit=PAGE_SIZE,
        )
        for task_type in task_types
    ]
    queries.append(TaskQuery(status=TaskStatus.IN_PROGRESS, limit=PAGE_SIZE))
    for query in queries:
        token = None
        while len(found) < limit:
            page = store.list(query, token)
            found += [t for t in page.tasks if is_lost(t, now, stale_after_seconds, queues(t.task_type))]
            token = page.next_token
            if token is None:
                break
    return found[:limit]


def reconcile(
    store: TaskRepository,
    publish: recovery.Publish,
    stale_after_seconds: float,
    queues: QueueStates,
    clock: Clock = time.time,
    limit: int = MAX_TASKS_PER_RUN,
    seconds_left: Callable[[], float] = lambda: float("inf"),
    task_types: Iterable[str] | None = None,
    remember: Callable[[list[Task]], None] = lambda lost: None,
) -> dict[str, int]:
    """One run over the stuck tasks; how many ended which way (``left`` for the next run).

    ``remember`` is given the lost tasks found, before any is sent: what made
    them lost is kept for the next runs (``QueueWatch.remember``).
    """
    outcomes: dict[str, int] = {}
    if task_types is None:
        task_types = task_registry.task_types()
    found = stuck_tasks(store, clock(), stale_after_seconds, limit, queues, task_types)
    remember(found)
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


class QueueWatch:
    """What a run knows of each task type's queue: read once (GetQueueAttributes), with the last
    empty sighting kept in the table (app/adapters/queue_marks.py, one BatchGetItem).

    Without the queues' URL prefix (TASK_QUEUE_URL_PREFIX), or when SQS can't
    be read, a queue is taken to hold messages: only tasks sent longer ago than
    it keeps messages, or before its last empty sighting, count as lost.
    """

    def __init__(self, sqs: Any, url_prefix: str, marks: Any, now: float):
        self.sqs, self.url_prefix, self.marks, self.now = sqs, url_prefix, marks, int(now)
        self.declared = task_registry.task_types()
        self.kept = marks.emptied_at(self.declared)
        self.seen_empty: set[str] = set()
        self.states: dict[str, QueueState] = {}

    def __call__(self, task_type: str) -> QueueState:
        if task_type not in self.states:
            self.states[task_type] = self._read(task_type)
        return self.states[task_type]

    def _read(self, task_type: str) -> QueueState:
        from botocore.exceptions import BotoCoreError, ClientError

        kept = QueueState(self.kept.get(task_type))
        if not self.url_prefix or task_type not in self.declared:
            return kept
        url = self.url_prefix + self.declared[task_type].queue_suffix
        try:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=[*COUNTED, "MessageRetentionPeriod"]
            )["Attributes"]
        except (BotoCoreError, ClientError) as exc:
            observability.get_logger().warning(
                "queue not read", extra={"task_type": task_type, "error": str(exc)}
            )
            return kept
        retention = int(attributes.get("MessageRetentionPeriod", kept.retention_seconds))
        if any(int(attributes.get(name, 0)) for name in COUNTED):
            return QueueState(kept.emptied_at, retention)
        self.seen_empty.add(task_type)
        return QueueState(self.now, retention)

    def remember(self, lost: list[Task]) -> None:
        """Keep this run's empty sightings that found lost tasks: the next runs still see them lost."""
        for task_type in sorted(self.seen_empty & {task.task_type for task in lost}):
            self.marks.remember_emptied(task_type, self.now)


# Every state a message can be in: waiting, being read (or hidden until its backoff ends), delayed.
COUNTED = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


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

        marks = QueueMarks(settings.table_name)
        queues = QueueWatch(aws.client("sqs"), settings.task_queue_url_prefix, marks, time.time())
        return reconcile(
            store,
            publish,
            settings.reconcile_after_seconds,
            queues,
            seconds_left=seconds_left,
            remember=queues.remember,
        )
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    streams = aws.client("dynamodbstreams")
    return process_partial_response(
        event=event,
        record_handler=lambda record: recover_publisher_failure(store, publish, streams, record.body),
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )
