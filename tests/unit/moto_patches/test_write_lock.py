"""write_lock: a conditional write is atomic, as DynamoDB's are: of two racing writers, one wins."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.unit.moto_patches.backends import create_table

# How long a writer that has checked its condition waits for the other to check its own.
MEET_SECONDS = 2.0


@pytest.mark.needs_patch("write_lock")
def test_of_two_writers_racing_on_one_condition_exactly_one_wins(aws, monkeypatch):
    from moto.dynamodb.models import table as moto_table

    dynamodb = aws("dynamodb")
    table = create_table(dynamodb)
    original = moto_table.get_filter_expression
    # Each writer, its condition checked, waits for the other to check its own before it writes.
    # Without the lock both meet and both pass; with it the second can't check until the first
    # has written (the first gives up waiting), and fails.
    both_checked = threading.Barrier(2, timeout=MEET_SECONDS)

    def meeting_condition(*args: Any, **kwargs: Any) -> Any:
        condition = original(*args, **kwargs)
        evaluate = condition.expr

        def expr(item: Any) -> bool:
            holds = evaluate(item)
            with contextlib.suppress(threading.BrokenBarrierError):
                both_checked.wait()
            return holds

        condition.expr = expr
        return condition

    monkeypatch.setattr(moto_table, "get_filter_expression", meeting_condition)
    outcomes: list[str] = []

    def create(writer: str) -> None:
        client = aws("dynamodb")
        try:
            client.put_item(
                TableName=table,
                Item={"pk": {"S": "one"}, "sk": {"S": "s"}, "writer": {"S": writer}},
                ConditionExpression="attribute_not_exists(pk)",
            )
            outcomes.append("won")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])

    writers = [threading.Thread(target=create, args=(name,)) for name in ("a", "b")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert sorted(outcomes) == ["ConditionalCheckFailedException", "won"]
