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
  read) asks each message whether it is visible and not delayed, and each
  of those reads the clock through datetime: two clock reads per queued
  message per receive, 19 % of the emulator's CPU with a backlog. Here the
  clock is read once per call; the rule (visible after ``visible_at``, not
  before ``delayed_until``) is moto's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


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


def receivable_messages(queue: Any) -> list[Any]:
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    return [
        message for message in queue._messages if now > message.visible_at and now >= message.delayed_until
    ]


def apply() -> None:
    from moto.sqs.models import Queue, SQSBackend

    compute_all = Queue.attributes.fget

    Queue.attributes = property(lambda queue: LazyQueueAttributes(queue, compute_all))  # type: ignore[assignment,method-assign]
    Queue.messages = property(receivable_messages)  # type: ignore[assignment,method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
