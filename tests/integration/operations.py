"""What a test's code asked DynamoDB, read off the wire (botocore's events), not guessed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def operations_sent(dynamodb: Any) -> Iterator[list[str]]:
    """The names of the operations ``dynamodb`` (a boto3 client) sends while the block runs, in order."""
    sent: list[str] = []

    def record(model: Any, **_: Any) -> None:
        sent.append(model.name)

    dynamodb.meta.events.register("after-call.dynamodb", record)
    try:
        yield sent
    finally:
        dynamodb.meta.events.unregister("after-call.dynamodb", record)
