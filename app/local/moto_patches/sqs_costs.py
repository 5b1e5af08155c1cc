"""SQS sends and receives that cost what the messages they touch cost, not the queue's depth.

- ``moto.sqs.models.Queue.attributes`` is a property that builds every
  attribute, including ApproximateNumberOfMessages*, each of which walks all
  the queue's messages; ``send_message`` reads it once per message just to
  look up ContentBasedDeduplication. So a send cost O(queue depth): 21 % of
  the stack's CPU under load. Here the property returns a mapping that
  computes the attributes when they are listed, and that one directly.
- ``SQSBackend.is_message_valid_based_on_retention_period`` asks
  GetQueueAttributes for MessageRetentionPeriod, once for every message a
  receive walks past: O(depth) each, O(depth squared) a receive (100 ms of
  CPU with 300 queued messages). Here it reads the queue's setting directly.
- ``Queue.messages`` (what a receive, and its long poll's wake-up check,
  read) is a list of every receivable message, each asked whether it is
  visible and not delayed through two datetime clock reads: O(depth) a
  receive, 19 % of the emulator's CPU with a backlog, though a receive takes
  the first few. Here it is a view, walked as far as the receive goes, with
  the clock read once; the rule (visible after ``visible_at``, not before
  ``delayed_until``) is moto's.
- ``Queue.delete_message`` walks the whole queue twice, building each
  message's list of receipt handles, and copies the queue: O(depth) a
  delete, milliseconds each with 10,000 queued. Here it stops at the message
  (received ones are near the front) and removes it in place.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "speed"


class LazyQueueAttributes(Mapping):
    def __init__(self, queue: Any, compute_all: Any):
        self._queue = queue
        self._compute_all = compute_all
        self._all: dict[str, Any] | None = None

    def _everything(self) -> dict[str, Any]:
        if self._all is None:
            self._all = self._compute_all(self._queue)
        return self._all

    def get(self, key: str, default: Any = None) -> Any:
        if key == "ContentBasedDeduplication":
            # The one attribute moto reads on the send path.
            if not self._queue.fifo_queue:
                return default
            value = self._queue.content_based_deduplication
            return str(value).lower() if isinstance(value, bool) else value
        return self._everything().get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self._everything()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._everything())

    def __len__(self) -> int:
        return len(self._everything())


def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
    from moto.core.utils import unix_time

    queue = self.get_queue(queue_name)
    return int(queue.message_retention_period) + message.sent_timestamp / 1000 > unix_time()


class ReceivableMessages:
    """A queue's messages that a receive may take now, found as they are walked."""

    def __init__(self, queue: Any) -> None:
        from moto.core.utils import unix_time_millis

        self._messages = list(queue._messages)  # a copy of the pointers: a send may append meanwhile
        self._now = unix_time_millis()

    def __iter__(self) -> Iterator[Any]:
        now = self._now
        return (
            message for message in self._messages if now > message.visible_at and now >= message.delayed_until
        )

    def __bool__(self) -> bool:
        return any(True for _ in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def delete_message(queue: Any, receipt_handle: str) -> None:
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    if receipt_handle in queue.deleted_messages:
        return  # deleted before: SQS accepts it again
    found = next(
        (
            index
            for index, message in enumerate(queue._messages)
            if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles
        ),
        None,
    )
    if found is None:
        raise ReceiptHandleIsInvalid()
    message = queue._messages.pop(found)
    queue.pending_messages.discard(message)
    queue.deleted_messages.update(message.all_receipt_handles)


def apply() -> None:
    from moto.sqs.models import Queue, SQSBackend

    compute_all = Queue.attributes.fget

    Queue.attributes = property(lambda queue: LazyQueueAttributes(queue, compute_all))  # type: ignore[assignment,method-assign]
    Queue.messages = property(ReceivableMessages)  # type: ignore[assignment,method-assign]
    Queue.delete_message = delete_message  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
