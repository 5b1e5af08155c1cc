"""SQS dead-letter queue redrive (StartMessageMoveTask, ListMessageMoveTasks), which moto 5.2.5 lacks.

moto 5.2.5 has no message move task at all: its server answers both actions
as not implemented. This adds them to moto's SQS backend and responses, doing
what AWS does for a standard DLQ:

- the source must be the dead-letter queue of another queue (its redrive
  policy names it), else InvalidParameterValue; an unknown ARN is
  ResourceNotFoundException;
- each message the DLQ holds that is visible is sent as a new message (new id
  and enqueue time, receive count 0; the same body and message attributes) to
  ``DestinationArn``, or to the queue it came from, and removed from the DLQ.
  Messages in flight (received, not visible yet) stay, as AWS moves only what
  it can receive.

Two differences, said here so nobody relies on them: AWS moves messages over
minutes and reports progress while RUNNING; here the move is done within the
request, so the task is already COMPLETED when StartMessageMoveTask answers.
And moto does not record which queue a dead letter came from, so a DLQ with
several source queues needs a ``DestinationArn`` (ours each have one).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "missing feature"

# ListMessageMoveTasks returns at most this many, newest first (AWS's limit).
MAX_LISTED = 10


@dataclass
class MoveTask:
    handle: str
    source_arn: str
    destination_arn: str | None
    started_ms: int
    to_move: int
    moved: int = 0
    status: str = "RUNNING"

    def to_result(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "TaskHandle": self.handle,
            "Status": self.status,
            "SourceArn": self.source_arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "StartedTimestamp": self.started_ms,
        }
        if self.destination_arn:
            result["DestinationArn"] = self.destination_arn
        return result


def _queue_of_arn(backend: Any, arn: str) -> Any:
    from moto.sqs.exceptions import SQSException

    queue = backend.queues.get(arn.rsplit(":", 1)[-1]) if arn.startswith("arn:") else None
    if queue is None or queue.queue_arn != arn:
        raise SQSException(
            "ResourceNotFoundException", f"The resource that you specified for the {arn} does not exist."
        )
    return queue


def start_message_move_task(backend: Any, source_arn: str, destination_arn: str | None) -> MoveTask:
    """Move every visible message of the DLQ ``source_arn`` back to its source queue (or the destination)."""
    from moto.core.utils import unix_time_millis
    from moto.sqs.exceptions import InvalidParameterValue

    source = _queue_of_arn(backend, source_arn)
    sources = backend.list_dead_letter_source_queues(source.name)
    if not sources:
        raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
    if destination_arn:
        destination = _queue_of_arn(backend, destination_arn)
    elif len(sources) == 1:
        destination = sources[0]
    else:
        raise InvalidParameterValue(
            "This emulator moves a DLQ with several source queues only to a DestinationArn."
        )
    moves: dict[str, list[MoveTask]] = backend.__dict__.setdefault("message_move_tasks", {})
    from app.local.moto_patches.sqs_receive import RECEIVE_LOCK

    # Under the receive lock too: a receive walks the in-flight set this edits.
    with RECEIVE_LOCK, source._messages_lock:
        waiting = list(source.messages)
        for message in waiting:
            source._messages.remove(message)
            source._pending_messages.discard(message)
    task = MoveTask(str(uuid.uuid4()), source_arn, destination_arn, int(unix_time_millis()), len(waiting))
    for message in waiting:
        backend.send_message(
            destination.name,
            message.body,
            message_attributes=message.message_attributes or None,
            delay_seconds=0,
            system_attributes=message.system_attributes or None,
        )
        task.moved += 1
    task.status = "COMPLETED"
    moves.setdefault(source_arn, []).insert(0, task)
    del moves[source_arn][MAX_LISTED:]
    return task


def list_message_move_tasks(backend: Any, source_arn: str, max_results: int) -> list[MoveTask]:
    _queue_of_arn(backend, source_arn)
    tasks: list[MoveTask] = backend.__dict__.get("message_move_tasks", {}).get(source_arn, [])
    return tasks[: max(1, min(max_results, MAX_LISTED))]


def apply() -> None:
    from moto.core.responses import ActionResult
    from moto.sqs.responses import SQSResponse

    def start(self: Any) -> Any:
        task = start_message_move_task(
            self.sqs_backend, self._get_param("SourceArn"), self._get_param("DestinationArn")
        )
        return ActionResult({"TaskHandle": task.handle})

    def listed(self: Any) -> Any:
        found = list_message_move_tasks(
            self.sqs_backend, self._get_param("SourceArn"), int(self._get_param("MaxResults") or 1)
        )
        return ActionResult({"Results": [task.to_result() for task in found]})

    SQSResponse.start_message_move_task = start  # type: ignore[attr-defined]
    SQSResponse.list_message_move_tasks = listed  # type: ignore[attr-defined]
