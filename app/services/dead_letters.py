"""The dead-letters view: each task type's DLQ and the publisher's failures queue, and redrive.

Which queue is whose comes from the api's environment (each queue's URL, as
serverless.yml gives them: app/adapters/dead_letters.py). What a message
names is read from its body: a task message names its task, whose current
state is read in one BatchGetItem for the whole page; a publisher failure
(Lambda's on-failure record) names a range of stream records, which the
reconciler resolves into tasks. No AWS here: the queues are a port.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from app.domain import rules
from app.domain.messages import MalformedMessage, TaskMessage
from app.domain.task import Task
from app.services.ports import (
    Capacity,
    Peeked,
    QueueCounts,
    QueueLook,
    Queues,
    QueueUnavailable,
    RedriveRefused,
    TaskRepository,
)
from app.task_registry import names as task_type_names
from app.task_registry import task_types

PUBLISHER_FAILURES = "publisher-failures"


class MessageGone(Exception):
    """The message is no longer in the queue (moved, deleted, or beyond the ones looked through)."""


@dataclass(frozen=True)
class DeadLetter:
    """One message, as the page shows it: the task it names, or the stream records."""

    message_id: str
    sent_ms: int
    task_id: str | None = None
    task: Task | None = None
    # A publisher failure: how many stream records, and Lambda's reason.
    records: int | None = None
    condition: str = ""
    # What the body says when it names neither (cut short).
    text: str = ""


@dataclass(frozen=True)
class QueueView:
    key: str  # the task type, or "publisher-failures"
    name: str
    url: str
    # Redrive (StartMessageMoveTask) takes DLQs of SQS queues only: not publisher-failures,
    # whose messages come from Lambda's stream mapping.
    redrivable: bool
    look: QueueLook | None = None
    messages: list[DeadLetter] = field(default_factory=list)
    error: str = ""

    @property
    def depth(self) -> int:
        return self.look.visible + self.look.in_flight if self.look else 0

    def oldest_age_seconds(self, now: float) -> int | None:
        """Since the oldest message peeked was first sent (a dead letter keeps its first enqueue time)."""
        if not self.look or not self.look.messages:
            return None
        return max(0, int(now - self.look.messages[0].sent_ms / 1000))

    @property
    def sampled(self) -> bool:
        """More messages wait than were peeked: the oldest age is of those peeked."""
        return bool(self.look) and self.look.visible > len(self.look.messages)


def queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def configured_queues(
    dead_letter_urls: dict[str, str], publisher_failure_url: str
) -> dict[str, tuple[str, bool]]:
    """Task type (or "publisher-failures") -> (queue URL, redrivable), in the registry's order."""
    queues = {
        task_type: (dead_letter_urls[task_type], True)
        for task_type in task_type_names()
        if dead_letter_urls.get(task_type)
    }
    if publisher_failure_url:
        queues[PUBLISHER_FAILURES] = (publisher_failure_url, False)
    return queues


def read_message(peeked: Peeked) -> DeadLetter:
    """What a message names: its task (a task message), or stream records (a publisher failure)."""
    try:
        message = TaskMessage.from_json(peeked.body)
    except MalformedMessage:
        pass
    else:
        if rules.TASK_ID.match(message.task_id):
            return DeadLetter(peeked.message_id, peeked.sent_ms, task_id=message.task_id)
    try:
        record = json.loads(peeked.body)
        batch = record["DDBStreamBatchInfo"]
        return DeadLetter(
            peeked.message_id,
            peeked.sent_ms,
            records=int(batch["batchSize"]),
            condition=str(record.get("requestContext", {}).get("condition", "")),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return DeadLetter(peeked.message_id, peeked.sent_ms, text=peeked.body[:200])


def overview(
    queues: Queues, store: TaskRepository, configured: dict[str, tuple[str, bool]]
) -> list[QueueView]:
    """Every configured queue, looked at; the tasks their messages name, read in one request."""
    views: list[QueueView] = []
    for key, (url, redrivable) in configured.items():
        try:
            look = queues.look(url, moves=redrivable)
        except QueueUnavailable as exc:
            views.append(QueueView(key, queue_name(url), url, redrivable, error=str(exc)))
            continue
        letters = [read_message(peeked) for peeked in look.messages]
        views.append(QueueView(key, queue_name(url), url, redrivable, look, letters))
    named = (letter.task_id for view in views for letter in view.messages if letter.task_id)
    wanted = list(dict.fromkeys(named))
    found = store.get_many(wanted) if wanted else {}
    return [
        dataclasses.replace(view, messages=[_with_task(letter, found) for letter in view.messages])
        for view in views
    ]


def _with_task(letter: DeadLetter, found: dict[str, Task]) -> DeadLetter:
    if letter.task_id is None:
        return letter
    return DeadLetter(letter.message_id, letter.sent_ms, letter.task_id, found.get(letter.task_id))


@dataclass(frozen=True)
class Redriven:
    # Messages waiting when the redrive started (SQS moves every one that is visible).
    count: int
    started: bool
    # Why it did not start, when it didn't.
    reason: str = ""


@dataclass(frozen=True)
class MessageView:
    letter: DeadLetter
    body: str
    receive_count: int
    attributes: dict[str, dict[str, str]]


def pretty_body(body: str) -> str:
    """The body as indented JSON when it is JSON, as it is otherwise."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        return body


def view_message(queues: Queues, store: TaskRepository, url: str, message_id: str) -> MessageView:
    """One message in full (released again at once) and the task it names. MessageGone if it is not there."""
    held = queues.take(url, message_id)
    if held is None:
        raise MessageGone(message_id)
    queues.release(url, held.receipt)
    letter = read_message(Peeked(held.message_id, held.body, held.sent_ms))
    if letter.task_id:
        letter = _with_task(letter, store.get_many([letter.task_id]))
    return MessageView(letter, pretty_body(held.body), held.receive_count, held.attributes)


def source_queue(url: str) -> str:
    """The queue a DLQ takes dead letters from: its name without "-dlq" (serverless.yml's naming)."""
    if not url.endswith("-dlq"):
        raise RedriveRefused(f"{queue_name(url)} is not named <queue>-dlq: its source queue is unknown")
    return url.removesuffix("-dlq")


def retry_one(queues: Queues, url: str, message_id: str) -> str:
    """Move one dead letter back to its task queue (sent there, then deleted here); that queue's URL.

    Sent before it is deleted: a failure between the two leaves it in both
    queues, which the workers' idempotency makes harmless, never in neither.
    """
    destination = source_queue(url)
    held = queues.take(url, message_id)
    if held is None:
        raise MessageGone(message_id)
    try:
        queues.send(destination, held.body, held.attributes)
    except Exception:
        queues.release(url, held.receipt)
        raise
    queues.delete(url, held.receipt)
    return destination


def delete_one(queues: Queues, url: str, message_id: str) -> None:
    held = queues.take(url, message_id)
    if held is None:
        raise MessageGone(message_id)
    queues.delete(url, held.receipt)


def delete_all(queues: Queues, url: str) -> int:
    """Purge the queue; how many messages it held just before (waiting and in flight)."""
    look = queues.look(url, moves=False)
    queues.purge(url)
    return look.visible + look.in_flight


def redrive(queues: Queues, url: str) -> Redriven:
    """Move a DLQ's messages back to their queue.

    Safe to repeat: an empty DLQ, or one being moved already, is left as it is.
    """
    look = queues.look(url, moves=True)
    if look.last_move is not None and look.last_move.status == "RUNNING":
        moved = look.last_move
        running = f"a redrive is running already ({moved.moved} of {moved.to_move} moved)"
        return Redriven(look.visible, False, running)
    if look.visible == 0:
        return Redriven(0, False, "no message is waiting in it")
    queues.redrive(look.arn)
    return Redriven(look.visible, True)


# --- the queues view (/dashboard/queues) -----------------------------------------------------------


@dataclass(frozen=True)
class TypeQueues:
    task_type: str
    queue_name: str
    queue: QueueCounts | None
    dead_letters: QueueCounts | None
    # The oldest task of the type still waiting for a worker (CREATED), if the one page read reached it.
    oldest_waiting_created: int | None
    # More tasks wait than the one page read: the oldest is older than ``oldest_waiting_created``.
    oldest_beyond: bool
    capacity: Capacity | None
    error: str = ""


# Tasks read per type to find the oldest one waiting: one Query page.
WAITING_PAGE = 100


def capacities(default_concurrency: int) -> dict[str, Capacity]:
    """Each task type's workers' capacity, from its declaration (workers/tasks/): its concurrency
    (declared, or derived from its target), or ``default_concurrency`` (serverless.yml's
    workerReservedConcurrency) for a type that gives neither; its batch size and its runs."""
    return {
        name: Capacity(
            task_type.settled_concurrency or default_concurrency,
            task_type.batch_size,
            task_type.longest_run_seconds,
            task_type.mean_run_seconds,
        )
        for name, task_type in task_types().items()
    }


def queues_view(
    queues: Queues,
    store: TaskRepository,
    configured: dict[str, tuple[str, bool]],
    capacities: dict[str, Capacity],
) -> list[TypeQueues]:
    """Per task type: its queue and DLQ (one GetQueueAttributes each), its oldest waiting task, its capacity.

    SQS has no age of the oldest message on the queue (CloudWatch's
    ApproximateAgeOfOldestMessage is a metric), and peeking at a task queue
    would count as a receive towards its redrive: the oldest CREATED task of
    the type, from one listing Query, stands for it.
    """
    from app.domain.listing import TaskQuery
    from app.domain.task import TaskStatus

    views = []
    for task_type, (dlq_url, redrivable) in configured.items():
        if not redrivable:
            continue
        url = dlq_url.removesuffix("-dlq")
        try:
            counts, dead = queues.counts(url), queues.counts(dlq_url)
        except QueueUnavailable as exc:
            counts, dead, error = None, None, str(exc)
        else:
            error = ""
        waiting = store.list(TaskQuery(status=TaskStatus.CREATED, task_type=task_type, limit=WAITING_PAGE))
        oldest = waiting.tasks[-1].created_time if waiting.tasks else None
        beyond = waiting.next_token is not None
        capacity = capacities.get(task_type)
        views.append(TypeQueues(task_type, queue_name(url), counts, dead, oldest, beyond, capacity, error))
    return views
