"""sqs_receive: a message goes to one receive at a time, as SQS hands it to one consumer."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest

from tests.unit.moto_patches.backends import ACCOUNT, REGION, filled_queue, unique


@pytest.mark.needs_patch("sqs_receive")
def test_concurrent_receives_never_take_the_same_message():
    sqs, queue = filled_queue(400)
    taken: list[str] = []
    failures: list[BaseException] = []

    def receive_and_delete() -> None:
        try:
            while batch := sqs.receive_message(queue.name, 1, 0, 600):
                taken.extend(message.body for message in batch)
                sqs.delete_message(queue.name, batch[0].receipt_handle)
        except BaseException as exc:  # a 500 in the emulator
            failures.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: unpatched, moto fails this every time
    try:
        threads = [threading.Thread(target=receive_and_delete) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert failures == []
    assert sorted(taken) == sorted(f"m{number}" for number in range(400))


def test_a_long_poll_gets_a_message_sent_while_it_waits_and_nothing_otherwise():
    from moto.sqs.models import sqs_backends

    sqs = sqs_backends[ACCOUNT][REGION]
    queue = sqs.create_queue(unique("q"))
    assert sqs.receive_message(queue.name, 10, 1, 30) == []
    waiting = threading.Thread(target=lambda: received.extend(sqs.receive_message(queue.name, 10, 20, 30)))
    received: list[Any] = []
    waiting.start()
    sqs.send_message(queue.name, "late")
    waiting.join()
    assert [message.body for message in received] == ["late"]
