"""A message goes to one receive at a time, as SQS hands it to one consumer.

moto's ReceiveMessage checks that a message is visible and then marks it
received, without a lock: two request threads (two pollers of one queue)
can both take the same message. Real SQS almost never delivers a message
twice within its visibility timeout; here it happened under load, to tasks
run one at a time, and the second delivery found the task busy. Here the
taking is done under one lock with no wait (the lock is held for the scan of
one queue), and the long poll waits outside it, woken when a message is sent.
Deletes and visibility changes, which edit the same in-flight set a receive
walks, take the lock too (without it a receive could fail with "Set changed
size during iteration", a 500).
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "correctness"

RECEIVE_LOCK = threading.RLock()
IN_FLIGHT_EDITS = (
    "delete_message",
    "delete_message_batch",
    "change_message_visibility",
    "change_message_visibility_batch",
)
# Messages can be receivable and still held back (a FIFO group in flight): look again this soon.
HELD_BACK_RECHECK_SECONDS = 0.05


def apply() -> None:
    from moto.sqs.models import SQSBackend

    original = SQSBackend.receive_message

    @functools.wraps(original)
    def receive_message(
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        queue = self.get_queue(queue_name)
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with RECEIVE_LOCK:
                received = original(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            left = deadline - time.monotonic()
            if received or left <= 0:
                return received
            if queue.messages:
                time.sleep(min(HELD_BACK_RECHECK_SECONDS, left))
            else:
                queue.wait_for_messages(min(1.0, left))  # type: ignore[arg-type]

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    for name in IN_FLIGHT_EDITS:
        edit = getattr(SQSBackend, name)

        @functools.wraps(edit)
        def locked(self: Any, *args: Any, _edit: Any = edit, **kwargs: Any) -> Any:
            with RECEIVE_LOCK:
                return _edit(self, *args, **kwargs)

        setattr(SQSBackend, name, locked)
