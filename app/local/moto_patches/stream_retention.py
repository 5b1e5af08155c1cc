"""A table stream that keeps what DynamoDB Streams would, not everything forever.

Two of moto's internals grow without bound:

- ``StreamShard.items`` keeps every stream record (old and new images) of the
  table's life. DynamoDB keeps 24 hours; here a shard keeps its newest
  ``STREAM_RECORDS_KEPT`` records (the pollers read them within milliseconds),
  and drops older ones from the front, as a trim would. Reading from a trimmed
  position starts at the oldest record kept (DynamoDB would answer
  TrimmedDataAccessException) and is reported on stderr.
- ``DynamoDBStreamsBackend.shard_iterators`` keeps every shard iterator ever
  handed out, each with a 632-character random id: one per GetRecords call,
  about 100 MB an hour for idle pollers. Iterators expire after
  ``ITERATOR_LIFETIME_SECONDS`` here (15 minutes in DynamoDB), with short ids.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from typing import Any

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "memory"

STREAM_RECORDS_KEPT = int(os.environ.get("LOCAL_STREAM_RECORDS_KEPT", "20000"))
ITERATOR_LIFETIME_SECONDS = 15 * 60
# Trim in chunks, so the list is not shifted on every write.
_TRIM_CHUNK = 1000


class ExpiringIterators(dict):
    """Shard iterators by ARN, dropped once older than their lifetime (oldest first)."""

    def __init__(self) -> None:
        super().__init__()
        self.born: dict[str, float] = {}
        # The emulator serves requests on several threads: two GetShardIterator
        # calls must not expire the same iterator at once.
        self._lock = threading.Lock()

    def __setitem__(self, key: str, value: Any) -> None:
        now = time.monotonic()
        with self._lock:
            # Oldest first (dicts keep insertion order): stop at the first one still alive,
            # without copying the keys (tens of thousands after 15 minutes of polling).
            while self.born:
                oldest = next(iter(self.born))
                if now - self.born[oldest] < ITERATOR_LIFETIME_SECONDS:
                    break
                del self.born[oldest]
                self.pop(oldest, None)
            self.born[key] = now
            super().__setitem__(key, value)


def _trim(shard: Any) -> None:
    excess = len(shard.items) - STREAM_RECORDS_KEPT
    if excess >= _TRIM_CHUNK:
        del shard.items[:excess]
        shard.starting_sequence_number += excess


def apply() -> None:
    from moto.dynamodb.models.table import StreamRecord, StreamShard
    from moto.dynamodbstreams import models as streams

    def add(self: StreamShard, old: Any, new: Any) -> None:
        # moto's add, without handing records to moto's Lambda (never used here:
        # the local runtime polls the stream itself), and trimmed.
        view_type = self.table.stream_specification["StreamViewType"]
        event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        sequence = len(self.items) + self.starting_sequence_number
        self.items.append(StreamRecord(self.table, view_type, event_name, old, new, sequence))
        _trim(self)

    def get(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
        if start < self.starting_sequence_number:
            print(
                f"local stream of {self.table.name}: records before {self.starting_sequence_number} "
                f"were trimmed before they were read (LOCAL_STREAM_RECORDS_KEPT={STREAM_RECORDS_KEPT})",
                file=sys.stderr,
                flush=True,
            )
            start = self.starting_sequence_number
        offset = start - self.starting_sequence_number
        return [record.to_json() for record in self.items[offset : offset + quantity]]

    original_iterator_init = streams.ShardIterator.__init__

    def iterator_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_iterator_init(self, *args, **kwargs)
        self.id = uuid.uuid4().hex

    original_backend_init = streams.DynamoDBStreamsBackend.__init__

    def backend_init(self: Any, region_name: str, account_id: str) -> None:
        original_backend_init(self, region_name, account_id)
        self.shard_iterators = ExpiringIterators()

    StreamShard.add = add  # type: ignore[method-assign]
    StreamShard.get = get  # type: ignore[method-assign]
    streams.ShardIterator.__init__ = iterator_init  # type: ignore[method-assign]
    streams.DynamoDBStreamsBackend.__init__ = backend_init  # type: ignore[method-assign]
