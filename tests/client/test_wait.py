"""``wait``: backoff between polls, the server's Retry-After first, a deadline, on a fake clock."""

import pytest
from async_app_client import Backoff, NotFound, Unauthorized, WaitTimeout

from tests.client.support import TASK_ID, FakeClock, ScriptedApi, error, reply, sync_client, task_json

BACKOFF = Backoff(initial=0.5, factor=2.0, maximum=3.0)


def running(progress=None, **headers):
    return reply(200, task_json(status="IN_PROGRESS", progress=progress), **headers)


def test_polls_back_off_until_the_task_is_final():
    api = ScriptedApi(*[running(progress=10)] * 5, reply(200, task_json(status="COMPLETED", progress=100)))
    clock = FakeClock()
    with sync_client(api, clock, backoff=BACKOFF) as client:
        task = client.wait(TASK_ID, timeout=60)

    assert task.status == "COMPLETED"
    assert clock.sleeps == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert {request.url.path for request in api.requests} == {f"/tasks/{TASK_ID}"}


def test_a_moving_task_is_polled_at_the_initial_pace_again():
    api = ScriptedApi(
        running(progress=0),
        running(progress=0),
        running(progress=0),
        running(progress=50),
        running(progress=50),
        reply(200, task_json(status="COMPLETED")),
    )
    clock = FakeClock()
    with sync_client(api, clock, backoff=BACKOFF) as client:
        client.wait(TASK_ID, timeout=60)
    assert clock.sleeps == [0.5, 1.0, 2.0, 0.5, 1.0]


def test_a_retry_after_on_200_or_202_sets_the_next_poll():
    api = ScriptedApi(
        reply(202, task_json(), retry_after="4"),
        running(retry_after="1.5"),
        running(),
        reply(200, task_json(status="FAILED", status_msg="boom")),
    )
    clock = FakeClock()
    with sync_client(api, clock, backoff=BACKOFF) as client:
        task = client.wait(TASK_ID, timeout=60)
    assert (task.status, task.status_msg) == ("FAILED", "boom")
    assert clock.sleeps == [4.0, 1.5, 0.5]


def test_429_and_503_are_waited_out_for_as_long_as_they_ask():
    api = ScriptedApi(
        error(429, "rate_limited", "slow down", retry_after="6"),
        error(503, "store_unavailable", "DynamoDB unreachable", retry_after="2"),
        error(503, "store_unavailable", "DynamoDB unreachable"),
        reply(200, task_json(status="CANCELLED")),
    )
    clock = FakeClock()
    with sync_client(api, clock, backoff=BACKOFF) as client:
        task = client.wait(TASK_ID, timeout=60)
    assert task.status == "CANCELLED"
    # Without a Retry-After, the client's own backoff.
    assert clock.sleeps == [6.0, 2.0, 0.5]


def test_a_retry_after_of_zero_does_not_spin():
    api = ScriptedApi(
        error(429, "rate_limited", "now", retry_after="0"), reply(200, task_json(status="COMPLETED"))
    )
    clock = FakeClock()
    with sync_client(api, clock) as client:
        client.wait(TASK_ID, timeout=5)
    assert clock.sleeps == [0.1]


@pytest.mark.parametrize(
    ("answer", "kind"),
    [(error(404, "not_found", "no such task"), NotFound), (error(401, "unauthorized", "key"), Unauthorized)],
)
def test_other_errors_end_the_wait_at_once(answer, kind):
    clock = FakeClock()
    with sync_client(ScriptedApi(answer), clock) as client, pytest.raises(kind):
        client.wait(TASK_ID, timeout=60)
    assert clock.sleeps == []


def test_the_deadline_ends_the_wait_with_the_last_task_seen():
    api = ScriptedApi(*[running(progress=p) for p in (10, 20, 30, 40, 50, 60)])
    clock = FakeClock()
    with sync_client(api, clock, backoff=BACKOFF) as client, pytest.raises(WaitTimeout) as caught:
        client.wait(TASK_ID, timeout=2)

    # Never asleep past the deadline, and one last look right at it.
    assert clock.sleeps == [0.5, 0.5, 0.5, 0.5]
    assert sum(clock.sleeps) == 2 and len(api.requests) == 5
    assert caught.value.last.progress == 50
    assert isinstance(caught.value, TimeoutError)
    assert str(caught.value) == f"task {TASK_ID} not finished after 2 s; last seen IN_PROGRESS"


def test_a_long_retry_after_is_cut_at_the_deadline():
    api = ScriptedApi(error(503, "store_unavailable", "down", retry_after="120"), *[running()] * 1)
    clock = FakeClock()
    with sync_client(api, clock) as client, pytest.raises(WaitTimeout) as caught:
        client.wait(TASK_ID, timeout=10)
    assert clock.sleeps == [10.0]
    assert caught.value.last.status == "IN_PROGRESS"


def test_unknown_statuses_are_waited_through_and_every_poll_is_reported():
    api = ScriptedApi(
        reply(200, task_json(status="SCHEDULED")),
        reply(200, task_json(status="QUEUED_SOMEWHERE_NEW")),
        reply(200, task_json(status="COMPLETED", progress=100)),
    )
    seen = []
    with sync_client(api) as client:
        client.wait(TASK_ID, timeout=60, on_update=lambda task: seen.append(task.status))
    assert seen == ["SCHEDULED", "QUEUED_SOMEWHERE_NEW", "COMPLETED"]
