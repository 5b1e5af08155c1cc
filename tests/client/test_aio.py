"""The asyncio client sends the same calls as the sync one and waits the same way."""

import asyncio

import pytest
from async_app_client import Backoff, Conflict, ServiceUnreachable

from tests.client.support import (
    BASE_URL,
    TASK_ID,
    FakeClock,
    ScriptedApi,
    aio_client,
    error,
    reply,
    task_json,
)


def run(coroutine):
    return asyncio.run(coroutine)


def test_create_then_wait_honours_retry_after_and_backs_off():
    api = ScriptedApi(
        reply(202, {"id": TASK_ID}, location=f"{BASE_URL}/tasks/{TASK_ID}"),
        reply(200, task_json(status="CREATED")),
        error(429, "rate_limited", "slow down", retry_after="3"),
        reply(200, task_json(status="CREATED")),
        reply(200, task_json(status="COMPLETED", result={"slept_seconds": 1})),
    )
    clock = FakeClock()

    async def scenario():
        async with aio_client(api, clock, backoff=Backoff(initial=0.5, factor=2, maximum=5)) as client:
            accepted = await client.create("TASK1", {"duration_seconds": 1}, idempotency_key="k1")
            return await client.wait(accepted.id, timeout=30)

    task = run(scenario())
    assert task.status == "COMPLETED" and task.result == {"slept_seconds": 1}
    assert clock.sleeps == [0.5, 3.0, 1.0]
    assert api.requests[0].headers["idempotency-key"] == "k1"
    assert api.bodies()[0] == {"task_type": "TASK1", "data": {"duration_seconds": 1}}


def test_iter_tasks_is_an_async_iterator_over_pages():
    api = ScriptedApi(
        reply(200, {"tasks": [task_json(id="a")], "next_token": "t2"}),
        reply(200, {"tasks": [task_json(id="b")], "next_token": None}),
    )

    async def scenario():
        async with aio_client(api) as client:
            return [task.id async for task in client.iter_tasks(task_type="TASK1", limit=1)]

    assert run(scenario()) == ["a", "b"]
    assert api.requests[1].url.params["next_token"] == "t2"


def test_get_events_retry_and_cancel():
    api = ScriptedApi(
        reply(200, task_json(status="FAILED")),
        reply(200, {"task_id": TASK_ID, "events": [{"hop": "created", "at_ms": 1}]}),
        reply(202, {"id": "new", "retry_of": TASK_ID}),
        reply(202, {"id": "new"}),
        reply(200, task_json(id="new", status="CANCELLED")),
        reply(409, {"error": "invalid_transition", "message": "final", "current_status": "CANCELLED"}),
    )

    async def scenario():
        async with aio_client(api) as client:
            failed = await client.get(TASK_ID)
            events = await client.events(TASK_ID)
            retried = await client.retry(TASK_ID)
            cancelled = await client.cancel(retried.id)
            with pytest.raises(Conflict):
                await client.cancel(retried.id)
            return failed, events, retried, cancelled

    failed, events, retried, cancelled = run(scenario())
    assert failed.status == "FAILED" and [e.hop for e in events] == ["created"]
    assert (retried.id, retried.retry_of) == ("new", TASK_ID)
    assert cancelled.status == "CANCELLED"
    assert [(r.method, r.url.path) for r in api.requests][2:5] == [
        ("POST", f"/tasks/{TASK_ID}/retry"),
        ("POST", "/tasks/new/cancel"),
        ("GET", "/tasks/new"),
    ]


def test_no_answer_is_service_unreachable():
    def refuse(request):
        import httpx

        raise httpx.ReadTimeout("timed out", request=request)

    async def scenario():
        async with aio_client(ScriptedApi(refuse)) as client:
            await client.get(TASK_ID)

    with pytest.raises(ServiceUnreachable, match="ReadTimeout"):
        run(scenario())
