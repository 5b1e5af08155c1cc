"""The shared shell of every worker: SQS batch in, task claimed, run, finished.

Built on Powertools batch processing, so a failed record is reported alone
(ReportBatchItemFailures) and only it comes back after the visibility timeout.
A task's own failure (TaskFailure) ends it FAILED and is not retried; any
other exception is a crash: the message is retried, the next attempt resumes
the task, and after maxReceiveCount the DLQ handler ends it FAILED.
A task type's ``run`` returns a TaskOutcome: the human sentence and a result
(any JSON value, at most MAX_RESULT_BYTES as JSON; past that the task ends
FAILED saying so). A cancel request ends the task CANCELLED at its next write
(a progress report, or its end), its result dropped.
Every hop is written to the task's timeline and measured.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from app import observability
from app.adapters import task_store, trace_attributes
from app.domain import cancellation, rules
from app.domain.claims import ClaimDecision, ClaimOutcome, decide_claim
from app.domain.errors import CancelRequested, InvalidResult, InvalidTransition, TaskNotFound
from app.domain.messages import TaskMessage
from app.domain.recovery import DEFAULT_RETRY_DELAYS, MAX_ATTEMPTS, backoff_seconds
from app.domain.task import Task, TaskStatus
from app.domain.task_types import SQS_MAX_VISIBILITY_SECONDS, START_MARGIN_SECONDS, TaskType
from app.domain.timeline import ErrorInfo, Hop, TaskEvent, event_for, event_of
from app.domain.tracing import TraceContext
from app.services import recovery, timeline
from app.services.ports import Clock, TaskRepository
from app.settings import get_settings
from workers.contract import Run, TaskCancelled, TaskFailure, TaskOutcome, TaskRun

# Time kept back from the invocation's remaining time when computing a lease,
# so a lease never outlives the invocation that holds it by much.
LEASE_MARGIN_SECONDS = 2
DEFAULT_LEASE_SECONDS = 30
# Looks at a task a delivery may take before it leaves it as busy: each lost claim is judged again.
CLAIM_TRIES = 3
# The largest result a task stores, as JSON (MAX_RESULT_BYTES sets it).
DEFAULT_MAX_RESULT_BYTES = 16 * 1024


class TaskBusy(Exception):
    """Another attempt holds the task; this delivery comes back later."""


# Has this delivery's message come back in so many seconds (SQS ChangeMessageVisibility).
Redelivery = Callable[[float], None]


class TaskStopped(Exception):
    """Someone else ended the task while it ran (an operator's PATCH, say): this attempt stops."""


class NotEnoughTime(Exception):
    """Not started: what is left of the invocation can't cover the task's longest run; it comes back."""


@dataclass(frozen=True)
class Delivery:
    """One SQS delivery of a task's message."""

    message: TaskMessage
    receive_count: int = 1
    trace: TraceContext = field(default_factory=TraceContext)
    # When the message was queued (SQS's SentTimestamp, epoch ms), and by what.
    sent_ms: int | None = None
    sent_by: str = "publisher"


# Progress is written at most this often: a task that reports every few
# milliseconds costs no more writes than one that reports every second.
PROGRESS_WRITE_SECONDS = 1.0


class _Attempt:
    """One attempt at a claimed task: its writes are fenced by the attempt number.

    The claim wrote its own events (publish, delivery, start) on the task item.
    The attempt's later events are kept until it next writes the task and
    recorded then: with a progress write, in one timeline item; with the
    move to a final status, on the task item itself. A task that ends within
    a second writes no timeline item at all.
    """

    def __init__(
        self, store: TaskRepository, task: Task, clock: Clock, source: str, pending: list[TaskEvent]
    ):
        self.store = store
        self.task = task
        self.clock = clock
        self.source = source
        self.started = clock()
        self.pending = pending
        self.progress_written = self.started

    def event(self, hop: Hop, **details: Any) -> None:
        """Note an event of this attempt; it is recorded with the attempt's next write."""
        self.pending.append(
            event_of(self.task, hop, self.clock(), self.source, attempt=self.task.attempt, **details)
        )

    def flush(self) -> None:
        if self.pending:
            timeline.record(self.store, *self.pending)
            self.pending = []

    def _rewrite(self, task: Task) -> None:
        """A write of the running task: TaskCancelled, TaskStopped or TaskBusy when it is refused."""
        try:
            self.task = self.store.replace_if(task, expected=self.task)
        except CancelRequested as request:
            self.task = request.current_task
            raise TaskCancelled(str(request)) from None
        except InvalidTransition as lost:
            self.flush()
            if TaskStatus(lost.current).is_terminal:
                raise TaskStopped(f"task {self.task.id} is {lost.current}") from None
            raise TaskBusy(f"task {self.task.id} was taken over by a later attempt") from None

    def report_progress(self, percent: int, message: str = "") -> None:
        percent = max(0, min(100, int(percent)))
        now = self.clock()
        if now - self.progress_written < PROGRESS_WRITE_SECONDS:
            self.task = replace(self.task, progress=percent)  # written with the next write
            self.event(Hop.PROGRESS, status=TaskStatus.IN_PROGRESS.value, progress=percent, message=message)
            return
        # Refused when its cancel was asked for: that progress never happened.
        self._rewrite(replace(self.task, progress=percent))
        self.event(Hop.PROGRESS, status=TaskStatus.IN_PROGRESS.value, progress=percent, message=message)
        self.progress_written = now
        self.flush()

    def cancel_requested(self) -> bool:
        """Whether the task's cancel was asked for: a write that changes nothing, refused if so.

        A write, not a read: workers only ever write the task (their role has no
        GetItem), and the refusal carries the task as stored (ALL_OLD).
        """
        try:
            self._rewrite(self.task)
        except TaskCancelled:
            return True
        return False

    def cancel(self) -> str:
        """End the task CANCELLED (its cancel was asked for); whatever the run made is dropped."""
        ended, event = cancellation.cancelled(self.task, self.clock(), self.source)
        self.pending.append(event)
        try:
            self.store.replace_if(ended, expected=self.task, final_events=self.pending)
        except InvalidTransition:
            observability.get_logger().warning("lease lost before the cancel was recorded")
            self.pending.pop()  # the end that did not happen
            self.flush()
            return "lease_lost"
        self.pending = []
        observability.get_logger().info("task cancelled", extra={"status_msg": ended.status_msg})
        observability.emit_metrics(self.task.task_type, TasksCancelled=("Count", 1))
        return "cancelled"

    def finish(self, status: TaskStatus, message: str, result: Any = None) -> str:
        now = self.clock()
        progress = 100 if status is TaskStatus.COMPLETED else self.task.progress
        hop = Hop.COMPLETED if status is TaskStatus.COMPLETED else Hop.FAILED
        self.event(hop, status=status.value, message=message)
        try:
            self.store.replace_if(
                self.task.moved_to(status, message, now, lease_expires=0, progress=progress, result=result),
                expected=self.task,
                final_events=self.pending,
            )
        except CancelRequested as request:
            # Asked to cancel while it ran: it ends CANCELLED, and its result is dropped.
            self.task = request.current_task
            return self.cancel()
        except InvalidTransition:
            # A later attempt took the task over (our lease had run out), or
            # someone ended it: their outcome stands, ours is dropped.
            observability.get_logger().warning("lease lost; result dropped")
            self.pending.pop()  # the end that did not happen
            self.flush()
            return "lease_lost"
        self.pending = []
        observability.get_logger().info(f"task {status.value.lower()}", extra={"status_msg": message})
        observability.emit_metrics(
            self.task.task_type,
            **{"TasksCompleted" if status is TaskStatus.COMPLETED else "TasksFailed": ("Count", 1)},
            ProcessingTime=("Milliseconds", (now - self.started) * 1000),
            EndToEndTime=("Milliseconds", now * 1000 - self.task.created_ms),
        )
        return status.value.lower()

    def crashed(self, crash: Exception, retry_in: int) -> str | None:
        """Record the crash and release the lease; the outcome if that ended the task (cancelled)."""
        # Release the lease now, so the retry resumes without waiting it out, say when
        # it is due (its backoff), and leave the reason where the DLQ handler will find it.
        error = ErrorInfo.of(crash)
        reason = f"attempt {self.task.attempt} crashed: {error.type}: {error.message}"
        self.event(Hop.CRASHED, status=TaskStatus.IN_PROGRESS.value, message=reason, error=error)
        try:
            now = self.clock()
            released = self.task.moved_to(
                TaskStatus.IN_PROGRESS, reason, now, lease_expires=0, retry_at=int(now) + retry_in
            )
            self.store.replace_if(released, expected=self.task)
        except CancelRequested as request:
            # Nobody wants it run again.
            self.task = request.current_task
            return self.cancel()
        except InvalidTransition:
            observability.get_logger().warning("lease lost before the crash was recorded")
            self.flush()
            return None
        self.flush()
        return None


def process_message(
    store: TaskRepository,
    delivery: Delivery | TaskMessage,
    run: Run,
    *,
    lease_seconds: float,
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
    clock: Clock = time.time,
    max_attempts: int = MAX_ATTEMPTS,
    retry_delays: tuple[int, ...] = DEFAULT_RETRY_DELAYS,
    redeliver: Redelivery | None = None,
) -> str:
    """Run the task of one delivery at most once to completion; return what happened.

    A task runs ``max_attempts`` times at most, however often its message is sent again.
    ``redeliver`` has the message come back when it is worth delivering again: after a
    crash, when the attempt's backoff (``retry_delays``) ends; for a busy task, when the
    lease that holds it ends. Without it, SQS's visibility timeout decides.
    """
    if isinstance(delivery, TaskMessage):
        delivery = Delivery(delivery)
    message = delivery.message
    logger = observability.get_logger()
    now = clock()
    lease_expires = int(now + lease_seconds) + 1
    count = delivery.receive_count
    # The claim writes its own events (the publish, this delivery, the start) with it.
    first_events = _claim_events(delivery, TaskStatus.CREATED.value, now, 1, "attempt 1 started")
    first = store.claim_first_attempt(message.task_id, message.task_type, now, lease_expires, first_events)
    if first.claimed is not None:
        # The common case, in one write: the task was CREATED and attempt 1 is ours.
        claimed = first.claimed
        decision = ClaimDecision(ClaimOutcome.START, 1)
        note = claimed.status_msg
    else:
        task = first.current
        for _ in range(CLAIM_TRIES):
            if task is None:
                # Expired by TTL or deleted: nothing left to run.
                logger.warning("task of message not found")
                return "missing"
            delivered = _delivered(message, task.status.value, now, count, task.created_ms, task.ttl)
            decision = decide_claim(task, now, max_attempts)
            if decision.outcome is ClaimOutcome.FINISHED:
                logger.info("duplicate delivery of a finished task")
                timeline.record(store, delivered)
                return "duplicate"
            if decision.outcome is ClaimOutcome.NOT_DUE:
                # The scheduler publishes it again when its run_at comes.
                logger.info("delivery of a task that is not due yet")
                timeline.record(store, delivered)
                return "not_due"
            if decision.outcome is ClaimOutcome.CANCEL:
                return _Attempt(store, task, clock, f"worker {task.task_type}", pending=[delivered]).cancel()
            if decision.outcome is ClaimOutcome.EXHAUSTED:
                # A message sent again after the last attempt grants none: the task ends FAILED, saying why.
                logger.warning(
                    "task has had all its attempts: not run again", extra={"attempt": task.attempt}
                )
                timeline.record(store, delivered)
                source = f"worker {task.task_type}"
                return recovery.recover(
                    store, task, now, _publish_nothing, source=source, max_attempts=max_attempts
                )
            if decision.outcome is ClaimOutcome.BUSY:
                timeline.record(store, delivered)
                _redeliver(redeliver, task.lease_expires - now + 1)
                raise TaskBusy(f"task {task.id} is held by attempt {task.attempt} until {task.lease_expires}")
            resumed = decision.outcome is ClaimOutcome.RESUME
            note = f"attempt {decision.attempt} " + ("resumed the task" if resumed else "started")
            claimed = task.moved_to(
                TaskStatus.IN_PROGRESS,
                note,
                now,
                attempt=decision.attempt,
                lease_expires=lease_expires,
                retry_at=None,
            )
            events = _claim_events(delivery, task.status.value, now, decision.attempt, note, resumed, task)
            try:
                store.replace_if(claimed, expected=task, claim_events=events)
                break
            except InvalidTransition:
                # Written between our read and our claim: by another delivery's claim (the next
                # look finds it busy), or by a send again, a cancel or a release, after which the
                # task may still be ours. Judged again on what is stored now.
                task = _current(store, message.task_id)
        else:
            timeline.record(store, delivered)
            _redeliver(redeliver, 1)
            raise TaskBusy(f"task {message.task_id} kept changing under {CLAIM_TRIES} claims")
    resumed = decision.outcome is ClaimOutcome.RESUME
    source = f"worker {claimed.task_type}"
    logger.info(note, extra={"attempt": decision.attempt})
    attempt = _Attempt(store, claimed, clock, source, pending=[])
    if not resumed:
        observability.emit_metrics(
            claimed.task_type, QueueWait=("Milliseconds", now * 1000 - claimed.created_ms)
        )

    try:
        outcome = run(
            TaskRun(claimed, decision.attempt, resumed, attempt.report_progress, attempt.cancel_requested)
        )
    except TaskFailure as failure:
        return attempt.finish(TaskStatus.FAILED, str(failure) or "task failed")
    except TaskCancelled:
        return attempt.cancel()
    except TaskStopped:
        logger.warning("task ended by someone else while it ran; this attempt stops")
        return "stopped"
    except TaskBusy:
        raise
    except Exception as crash:
        retry_in = backoff_seconds(decision.attempt, retry_delays)
        ended = attempt.crashed(crash, retry_in)
        if ended is not None:
            return ended
        _redeliver(redeliver, retry_in)
        raise
    if not isinstance(outcome, TaskOutcome):
        return attempt.finish(
            TaskStatus.FAILED, f"the worker returned a {type(outcome).__name__}, not a TaskOutcome"
        )
    try:
        rules.encode_result(outcome.result, max_result_bytes)
    except InvalidResult as refused:
        return attempt.finish(TaskStatus.FAILED, f"result refused: {refused}")
    return attempt.finish(TaskStatus.COMPLETED, outcome.message, outcome.result)


def _current(store: TaskRepository, task_id: str) -> Task | None:
    try:
        return store.get(task_id)
    except TaskNotFound:
        return None


def _publish_nothing(tasks: list[Task]) -> list[Task]:
    return []


def _redeliver(redeliver: Redelivery | None, seconds: float) -> None:
    """Ask for the message back in ``seconds``; if SQS refuses, its visibility timeout still brings it."""
    if redeliver is None:
        return
    try:
        redeliver(max(0.0, seconds))
    except Exception:
        observability.get_logger().warning("could not change the message's visibility", exc_info=True)


def _claim_events(
    delivery: Delivery,
    status_before: str,
    now: float,
    attempt: int,
    note: str,
    resumed: bool = False,
    task: Task | None = None,
) -> list[TaskEvent]:
    """The events a claim writes with itself: the publish, this delivery, the start (or resume).

    The publish hop comes from the message itself (when SQS queued it): no
    write of the publisher's. Only the first delivery of the publisher's
    message says so: later ones were published long before, and a message
    sent again has its own "redispatched" hop. The first claim does not read
    the task: the store works out each event's time since creation, and its
    expiry, from the task item (``task`` None).
    """
    message = delivery.message
    created_ms, expires = (task.created_ms, task.ttl) if task else (0, 0)
    worker = f"worker {message.task_type}"

    def event(hop: Hop, at: float, source: str, **details: Any) -> TaskEvent:
        return event_for(message.task_id, created_ms, expires, hop, at, source, **details)

    events = []
    if delivery.sent_ms is not None and delivery.receive_count == 1 and delivery.sent_by == "publisher":
        events.append(event(Hop.PUBLISHED, delivery.sent_ms / 1000, delivery.sent_by, status="CREATED"))
    events.append(_delivered(message, status_before, now, delivery.receive_count, created_ms, expires))
    hop = Hop.RESUMED if resumed else Hop.STARTED
    events.append(event(hop, now, worker, status=TaskStatus.IN_PROGRESS.value, attempt=attempt, message=note))
    return events


def _delivered(
    message: TaskMessage, status: str, now: float, count: int, created_ms: int = 0, expires: int = 0
) -> TaskEvent:
    """The delivery's event: which delivery of its message, and the status it found."""
    return event_for(
        message.task_id,
        created_ms,
        expires,
        Hop.DELIVERED,
        now,
        f"worker {message.task_type}",
        status=status,
        attempt=count,
        message=f"delivery {count}",
    )


def lease_seconds_for(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return DEFAULT_LEASE_SECONDS
    return max(1.0, remaining() / 1000 - LEASE_MARGIN_SECONDS)


def queue_url_of(queue_arn: str) -> str:
    """An SQS queue's URL from its ARN (arn:aws:sqs:<region>:<account>:<name>), as SQS names it."""
    _, partition, _, region, account, name = queue_arn.split(":", 5)
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{suffix}/{account}/{name}"


def redelivery_of(record: Any) -> Redelivery:
    """Changes the visibility of ``record``'s message: it comes back after so many seconds."""

    def redeliver(seconds: float) -> None:
        from app.adapters import aws

        aws.client("sqs").change_message_visibility(
            QueueUrl=queue_url_of(record.event_source_arn),
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=min(SQS_MAX_VISIBILITY_SECONDS, math.ceil(seconds)),
        )

    return redeliver


def delivery_of(record: Any) -> Delivery:
    """The delivery a Powertools SQSRecord carries."""
    attributes = record.raw_event.get("messageAttributes") or {}
    sent = record.attributes.sent_timestamp
    return Delivery(
        message=TaskMessage.from_json(record.body),
        receive_count=int(record.attributes.approximate_receive_count or 1),
        trace=trace_attributes.from_sqs_attributes(attributes),
        sent_ms=int(sent) if sent else None,
        sent_by=(attributes.get("sent_by") or {}).get("stringValue") or "publisher",
    )


def has_time_for(context: Any, max_run_seconds: float) -> bool:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining is None or remaining() / 1000 >= max_run_seconds + START_MARGIN_SECONDS


def make_handler(task_type: TaskType, run: Run) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of the worker for ``task_type``; ``run`` takes its longest run at most.

    The function's timeout fits a full batch of such runs (app/domain/task_types.py
    derives it); should a batch still run late, the records left are not started but come back.
    """
    max_run_seconds = task_type.longest_run_seconds
    name = task_type.name

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.batch import (
            BatchProcessor,
            EventType,
            process_partial_response,
        )

        settings = get_settings()
        store = task_store.for_table(settings.table_name)

        def record_handler(record: Any) -> str:
            delivery = delivery_of(record)
            message = delivery.message
            with observability.correlated(message.task_id, message.task_type):
                observability.record_origin_trace(delivery.trace)
                observability.accept_newrelic_headers(delivery.trace.newrelic)
                if message.task_type != name:
                    raise TaskFailure(f"{name} worker got a {message.task_type} task")
                if not has_time_for(context, max_run_seconds):
                    observability.get_logger().warning("not started: too little time left in this invocation")
                    raise NotEnoughTime(f"{name} needs up to {max_run_seconds} s")
                # Per record: a lease never outlives the invocation that holds it.
                lease = lease_seconds_for(context)
                return process_message(
                    store,
                    delivery,
                    run,
                    lease_seconds=lease,
                    max_result_bytes=settings.max_result_bytes,
                    max_attempts=task_type.max_attempts,
                    retry_delays=settings.retry_schedule,
                    redeliver=redelivery_of(record),
                )

        return process_partial_response(
            event=event,
            record_handler=record_handler,
            processor=BatchProcessor(event_type=EventType.SQS),
            context=context,
        )

    handler.__name__ = f"{task_type.function_name}_handler"
    handler.task_type = task_type  # type: ignore[attr-defined]
    return observability.lambda_handler(handler)
