"""sqs_costs: SQS sends, receives and deletes cost what the messages they touch cost, not the depth."""

from __future__ import annotations

from typing import Any

import pytest
from moto.sqs.models import sqs_backends

from tests.unit.moto_patches.backends import ACCOUNT, REGION, filled_queue, unique


@pytest.mark.needs_patch("sqs_costs")
def test_a_send_reads_no_message_count_and_attributes_are_all_listed():
    sqs, queue = filled_queue(3)
    counted: list[int] = []
    original = type(queue).messages

    type(queue).messages = property(lambda q: counted.append(1) or original.fget(q))  # type: ignore[assignment]
    try:
        sqs.send_message(queue.name, "one more")
        assert counted == []
        attributes = dict(queue.attributes)
    finally:
        type(queue).messages = original  # type: ignore[assignment]
    assert attributes["ApproximateNumberOfMessages"] == 4
    assert "QueueArn" in attributes and "VisibilityTimeout" in attributes


def test_a_receive_sees_what_moto_would_with_one_clock_reading():
    sqs = sqs_backends[ACCOUNT][REGION]
    queue = sqs.create_queue(unique("q"))
    for number in range(6):
        sqs.send_message(queue.name, f"m{number}", delay_seconds=600 if number == 5 else 0)
    received = sqs.receive_message(queue.name, 2, 0, 600)  # in flight for 10 minutes
    assert len(received) == 2
    expected = [
        m for m in queue._messages if m.visible and not m.delayed
    ]  # moto's own rule, message by message
    assert list(queue.messages) == expected
    assert len(queue.messages) == 3 and queue.messages
    assert {m.body for m in queue.messages} == {"m0", "m1", "m2", "m3", "m4"} - {m.body for m in received}


def test_a_delete_takes_its_message_by_any_of_its_receipt_handles_once():
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    sqs, queue = filled_queue(5)
    (first,) = sqs.receive_message(queue.name, 1, 0, 0)  # visible again at once
    (again,) = sqs.receive_message(queue.name, 1, 0, 600)
    assert again.body == first.body and again.receipt_handle != first.receipt_handle
    sqs.delete_message(queue.name, first.receipt_handle)  # an older handle of the same message
    sqs.delete_message(queue.name, again.receipt_handle)  # deleted before: accepted
    assert [m.body for m in queue._messages] == ["m1", "m2", "m3", "m4"]
    assert again.body not in {m.body for m in queue.pending_messages}
    with pytest.raises(ReceiptHandleIsInvalid):
        sqs.delete_message(queue.name, "no-such-handle")


@pytest.mark.needs_patch("sqs_costs")
def test_a_receive_and_a_delete_look_at_the_messages_they_take_not_the_whole_queue(monkeypatch):
    from moto.sqs.models import Message

    sqs = sqs_backends[ACCOUNT][REGION]
    queue = sqs.create_queue(unique("q"))
    for number in range(500):
        sqs.send_message(queue.name, f"m{number}")
    asked: list[Any] = []
    visible, had_handle = Message.visible, Message.had_receipt_handle
    monkeypatch.setattr(Message, "visible", property(lambda m: asked.append(m) or visible.fget(m)))
    monkeypatch.setattr(Message, "had_receipt_handle", lambda m, h: asked.append(m) or had_handle(m, h))
    (message,) = sqs.receive_message(queue.name, 1, 0, 600)
    sqs.delete_message(queue.name, message.receipt_handle)
    assert len(asked) < 50
