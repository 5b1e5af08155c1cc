"""The Lambda service's part, done locally: event source mappings.

A StreamPoller reads the table's stream shards, drops records the filter
patterns reject, batches the rest and invokes the handler; failed records are
retried from the first failure (ReportBatchItemFailures), the batch is split
on function errors (bisect), and after the retry limit the batch goes to the
on-failure destination. An SqsPoller receives up to the batch size, invokes
the handler and deletes only the messages that succeeded; the others come
back after the visibility timeout, and SQS redrives them to the DLQ.

Every invocation is held to its function's timeout (app/local/timeouts.py):
one that runs past it is stopped and counts as a function error. A stream
poller with nothing to read waits a little longer each time, up to
STREAM_IDLE_MAX_SECONDS, and is woken at once when this process writes to the
table (WriteSignal), so a new task reaches its queue in milliseconds; one with
a batching window polls four times a second, as Lambda does.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.local import timeouts
from app.local.filter_patterns import matches_any
from app.local.lambda_events import (
    LambdaContext,
    dynamodb_stream_record,
    function_arn,
    scheduled_event,
    sqs_record,
)
from app.local.sls_config import ScheduledFunction, SqsFunction, StreamFunction

logger = logging.getLogger("app.local")

Handler = Callable[[dict[str, Any], Any], Any]
# Lambda polls a shard four times a second (100-250 ms to a new record in AWS);
# locally the first empty poll waits 2 ms, each next one twice as long, up to this.
STREAM_IDLE_MAX_SECONDS = 0.1
STREAM_IDLE_MIN_SECONDS = 0.002
# A function with a batching window (the changes function's is 1 s) is polled
# at Lambda's own pace instead.
LAMBDA_STREAM_POLL_SECONDS = 0.25
SQS_WAIT_SECONDS = 1  # long poll, short enough to stop promptly


class WriteSignal:
    """Wakes the stream pollers when this process has written to DynamoDB."""

    def __init__(self) -> None:
        self._events: list[threading.Event] = []

    def subscribe(self) -> threading.Event:
        event = threading.Event()
        self._events.append(event)
        return event

    def notify(self) -> None:
        for event in self._events:
            event.set()


@dataclass(frozen=True)
class Invocation:
    """One handler call, as the runtime reports it."""

    function: str
    source: str
    task_ids: list[str]
    failed: int
    error: str | None
    elapsed_ms: float
    timed_out: bool = False


Reporter = Callable[[Invocation], None]


def import_handler(path: str) -> Handler:
    module_name, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _failed_identifiers(response: Any) -> list[str] | None:
    """The identifiers a partial batch response names, or None when it is malformed."""
    if response is None:
        return []
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures", [])
    if not isinstance(failures, list):
        return None
    identifiers = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or not isinstance(identifier, str):
            return None
        identifiers.append(identifier)
    return identifiers


def _describe_failure(
    function: StreamFunction | SqsFunction | ScheduledFunction, outcome: timeouts.Outcome
) -> str:
    """A failed invocation as Lambda reports it: a timeout, or the function's error."""
    if outcome.timed_out:
        logger.error("%s timed out after %d s", function.name, function.timeout)
        return f"Task timed out after {function.timeout} seconds"
    error = outcome.error
    logger.error("%s failed", function.name, exc_info=error)
    return f"{type(error).__name__}: {error}"


@dataclass(frozen=True)
class PollerContext:
    """What every poller shares: the emulator's clients, the region, the stop signal, the reporter."""

    clients: dict[str, Any]
    region: str
    stop: threading.Event
    report: Reporter
    writes: WriteSignal = field(default_factory=WriteSignal)


class _Poller:
    def __init__(self, function: StreamFunction | SqsFunction | ScheduledFunction, context: PollerContext):
        self.handler = import_handler(function.handler)
        self.sqs = context.clients["sqs"]
        self.region = context.region
        self.stop = context.stop
        self.report = context.report

    def _call(
        self, event: dict[str, Any], function: StreamFunction | SqsFunction | ScheduledFunction
    ) -> timeouts.Outcome:
        context = LambdaContext(function.name, function.timeout, self.region)
        return timeouts.invoke(self.handler, event, context, function.timeout, name=f"invoke-{function.name}")


class StreamPoller(_Poller):
    def __init__(
        self,
        function: StreamFunction,
        stream_arn: str,
        on_failure_queue_url: str | None,
        context: PollerContext,
    ):
        super().__init__(function, context)
        self.function = function
        self.stream_arn = stream_arn
        self.on_failure_queue_url = on_failure_queue_url
        self.streams = context.clients["dynamodbstreams"]
        self.woken = context.writes.subscribe()

    def run(self) -> None:
        iterators = self._shard_iterators()
        # Lambda batches each shard's records on their own.
        pending: dict[str, list[dict[str, Any]]] = {}
        oldest_pending: dict[str, float] = {}
        idle = 0.0
        while not self.stop.is_set():
            self.woken.clear()
            received = False
            for shard_id, iterator in list(iterators.items()):
                response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                if response.get("NextShardIterator"):
                    iterators[shard_id] = response["NextShardIterator"]
                else:
                    del iterators[shard_id]  # closed shard, fully read
                for raw in response.get("Records", []):
                    received = True
                    record = dynamodb_stream_record(raw, self.stream_arn, self.region)
                    if matches_any(self.function.filter_patterns, record):
                        waiting = pending.setdefault(shard_id, [])
                        if not waiting:
                            oldest_pending[shard_id] = time.monotonic()
                        waiting.append(record)
            size = self.function.batch_size
            for shard_id, waiting in pending.items():
                window_over = time.monotonic() - oldest_pending[shard_id] >= self.function.batching_window
                while waiting and (len(waiting) >= size or window_over):
                    batch = waiting[:size]
                    del waiting[:size]
                    self._deliver(shard_id, batch)
                    oldest_pending[shard_id] = time.monotonic()
            if self.function.batching_window:
                # Its records wait for the window anyway: poll as Lambda does, not on every write.
                self.stop.wait(LAMBDA_STREAM_POLL_SECONDS)
            elif received:
                idle = 0.0
            else:
                idle = min(STREAM_IDLE_MAX_SECONDS, max(STREAM_IDLE_MIN_SECONDS, idle * 2))
                self.woken.wait(idle)

    def _shard_iterators(self) -> dict[str, str]:
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        return {
            shard["ShardId"]: self.streams.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType=self.function.starting_position,
            )["ShardIterator"]
            for shard in shards
        }

    def _deliver(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        retries = 0
        while batch and not self.stop.is_set():
            function_error, first_failed = self._invoke(batch)
            if first_failed is None:
                return
            batch = batch[first_failed:]
            if function_error and self.function.bisect_on_error and len(batch) > 1:
                middle = len(batch) // 2
                self._deliver(shard_id, batch[:middle])
                self._deliver(shard_id, batch[middle:])
                return
            retries += 1
            if 0 <= self.function.maximum_retry_attempts < retries:
                self._send_to_on_failure(shard_id, batch)
                return
            self.stop.wait(min(0.1 * 2**retries, 5.0))

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[bool, int | None]:
        """Call the handler; return (function error?, index of the first failed record)."""
        started = time.monotonic()
        error = None
        first_failed: int | None = None
        outcome = self._call({"Records": batch}, self.function)
        if outcome.timed_out or outcome.error is not None:
            error, first_failed = _describe_failure(self.function, outcome), 0
        else:
            if self.function.report_batch_item_failures:
                identifiers = _failed_identifiers(outcome.response)
                sequences = [record["dynamodb"]["SequenceNumber"] for record in batch]
                if identifiers is None or any(i not in sequences for i in identifiers):
                    first_failed = 0  # Lambda treats a malformed response as a failed batch
                elif identifiers:
                    first_failed = min(sequences.index(i) for i in identifiers)
        self.report(
            Invocation(
                function=self.function.name,
                source="stream",
                task_ids=[r["dynamodb"].get("NewImage", {}).get("id", {}).get("S", "?") for r in batch],
                failed=0 if first_failed is None else len(batch) - first_failed,
                error=error,
                elapsed_ms=(time.monotonic() - started) * 1000,
                timed_out=outcome.timed_out,
            )
        )
        return error is not None, first_failed

    def _send_to_on_failure(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        logger.error("%s gave up on %d stream records", self.function.name, len(batch))
        if not self.on_failure_queue_url:
            return
        # The shape of Lambda's on-failure record for stream sources.
        self.sqs.send_message(
            QueueUrl=self.on_failure_queue_url,
            MessageBody=json.dumps(
                {
                    "requestContext": {
                        "condition": "RetryAttemptsExhausted",
                        "approximateInvokeCount": self.function.maximum_retry_attempts + 1,
                        "functionArn": function_arn(self.region, self.function.name),
                    },
                    "DDBStreamBatchInfo": {
                        "shardId": shard_id,
                        "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                        "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                        "batchSize": len(batch),
                        "streamArn": self.stream_arn,
                    },
                }
            ),
        )


class SqsPoller(_Poller):
    def __init__(self, function: SqsFunction, queue_url: str, queue_arn: str, context: PollerContext):
        super().__init__(function, context)
        self.function = function
        self.queue_url = queue_url
        self.queue_arn = queue_arn

    def run(self) -> None:
        while not self.stop.is_set():
            messages = self._receive_batch()
            if messages:
                self._invoke(messages)

    def _receive_batch(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.function.batching_window
        while not self.stop.is_set() and len(messages) < self.function.batch_size:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.function.batch_size - len(messages)),
                WaitTimeSeconds=SQS_WAIT_SECONDS,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages.extend(response.get("Messages", []))
            if messages and time.monotonic() >= deadline:
                break
        return messages

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        records = [sqs_record(message, self.queue_arn, self.region) for message in messages]
        started = time.monotonic()
        error = None
        failed: set[str] = set()
        outcome = self._call({"Records": records}, self.function)
        if outcome.timed_out or outcome.error is not None:
            error = _describe_failure(self.function, outcome)
            failed = {record["messageId"] for record in records}
        else:
            if self.function.report_batch_item_failures:
                identifiers = _failed_identifiers(outcome.response)
                ids = {record["messageId"] for record in records}
                # A malformed response fails the whole batch, as in Lambda.
                malformed = identifiers is None or not set(identifiers) <= ids
                failed = ids if malformed else set(identifiers)
        succeeded = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(succeeded), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]}
                    for i, r in enumerate(succeeded[start : start + 10])
                ],
            )
        self.report(
            Invocation(
                function=self.function.name,
                source=self.queue_arn.rsplit(":", 1)[-1],
                task_ids=[
                    r["messageAttributes"].get("task_id", {}).get("stringValue") or "?" for r in records
                ],
                failed=len(failed),
                error=error,
                elapsed_ms=(time.monotonic() - started) * 1000,
                timed_out=outcome.timed_out,
            )
        )


class SchedulePoller(_Poller):
    """EventBridge's part: invokes a scheduled function every ``period`` seconds."""

    def __init__(self, function: ScheduledFunction, context: PollerContext, period: float | None = None):
        super().__init__(function, context)
        self.function = function
        self.period = period or function.local_period_seconds or function.rate_seconds

    def run(self) -> None:
        while not self.stop.wait(self.period):
            started = time.monotonic()
            outcome = self._call(scheduled_event(self.region, self.function.rule_name), self.function)
            failed = outcome.timed_out or outcome.error is not None
            self.report(
                Invocation(
                    function=self.function.name,
                    source="schedule",
                    task_ids=[],
                    failed=int(failed),
                    error=_describe_failure(self.function, outcome) if failed else None,
                    elapsed_ms=(time.monotonic() - started) * 1000,
                    timed_out=outcome.timed_out,
                )
            )
