"""Make moto's conditional writes atomic, as DynamoDB's are.

moto checks a condition and then writes without a lock, so two request threads
can both pass the same condition. Our concurrency control relies on exactly
one of them winning, so every DynamoDB write of moto's takes one lock. The
change listeners (index, journal) run inside it, so they see writes in order.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "correctness"

WRITE_LOCK = threading.RLock()

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def apply() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name in WRITES:
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def serialized(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with WRITE_LOCK:
                return _original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, serialized)
