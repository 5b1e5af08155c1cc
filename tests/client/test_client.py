"""The sync client against a scripted API: what it sends, and what it makes of the answers."""

import datetime as dt

import httpx
import pytest
from async_app_client import (
    AsyncAppClient,
    ConfigurationError,
    Conflict,
    NotFound,
    ServiceUnreachable,
    Task,
    TaskEvent,
)

from tests.client.support import API_KEY, BASE_URL, TASK_ID, ScriptedApi, error, reply, sync_client, task_json


def test_create_sends_the_task_and_the_key_and_returns_where_to_poll():
    api = ScriptedApi(reply(202, {"id": TASK_ID}, location=f"{BASE_URL}/tasks/{TASK_ID}", retry_after="2"))
    with sync_client(api) as client:
        accepted = client.create("TASK1", {"duration_seconds": 1})

    (request,) = api.requests
    assert (request.method, request.url) == ("POST", httpx.URL(f"{BASE_URL}/tasks"))
    assert request.headers["x-api-key"] == API_KEY
    assert request.headers["content-type"] == "application/json"
    assert "idempotency-key" not in request.headers
    # Only what was given: today's server refuses fields it doesn't know.
    assert api.bodies() == [{"task_type": "TASK1", "data": {"duration_seconds": 1}}]
    assert (accepted.id, accepted.location, accepted.retry_after) == (
        TASK_ID,
        f"{BASE_URL}/tasks/{TASK_ID}",
        2.0,
    )


def test_create_with_every_option():
    api = ScriptedApi(reply(202, {"id": TASK_ID}))
    run_at = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    with sync_client(api) as client:
        client.create(
            "TASK2",
            {"text": "a b"},
            ttl="1900000000",
            idempotency_key="order-42",
            callback_url="https://hooks.example/done",
            run_at=run_at,
        )
    assert api.requests[0].headers["idempotency-key"] == "order-42"
    assert api.bodies() == [
        {
            "task_type": "TASK2",
            "data": {"text": "a b"},
            "ttl": "1900000000",
            "callback_url": "https://hooks.example/done",
            "run_at": int(run_at.timestamp()),
        }
    ]


def test_a_naive_datetime_is_refused_before_anything_is_sent():
    api = ScriptedApi()
    with sync_client(api) as client, pytest.raises(ValueError, match="timezone-aware"):
        client.create("TASK1", {}, run_at=dt.datetime(2030, 1, 1))
    assert api.requests == []


def test_get_reads_the_task_and_quotes_the_id():
    api = ScriptedApi(reply(200, task_json(status="IN_PROGRESS", progress=50)))
    with sync_client(api) as client:
        task = client.get("a/b c")
    assert api.requests[0].url.raw_path == b"/tasks/a%2Fb%20c"
    assert isinstance(task, Task) and (task.status, task.progress) == ("IN_PROGRESS", 50)


def test_get_of_an_unknown_task_raises_not_found():
    api = ScriptedApi(error(404, "not_found", f"Task {TASK_ID} not found"))
    with sync_client(api) as client, pytest.raises(NotFound, match="not found") as caught:
        client.get(TASK_ID)
    assert caught.value.status_code == 404


def test_iter_tasks_follows_next_token_with_the_same_filters():
    api = ScriptedApi(
        reply(200, {"tasks": [task_json(id="a"), task_json(id="b")], "next_token": "page2"}),
        reply(200, {"tasks": [task_json(id="c")], "next_token": "page3"}),
        reply(200, {"tasks": [], "next_token": None}),
    )
    with sync_client(api) as client:
        ids = [
            task.id
            for task in client.iter_tasks(status="FAILED", task_type="TASK2", created_from=10, limit=2)
        ]

    assert ids == ["a", "b", "c"]
    params = [dict(request.url.params) for request in api.requests]
    filters = {"status": "FAILED", "task_type": "TASK2", "created_from": "10", "limit": "2"}
    assert params == [filters, {**filters, "next_token": "page2"}, {**filters, "next_token": "page3"}]


def test_iter_tasks_is_lazy_and_stops_when_the_caller_does():
    api = ScriptedApi(reply(200, {"tasks": [task_json(id="a")], "next_token": "more"}))
    with sync_client(api) as client:
        tasks = client.iter_tasks()
        assert api.requests == []
        assert next(tasks).id == "a"
    assert len(api.requests) == 1


def test_list_tasks_is_one_page_and_refuses_unknown_filters():
    api = ScriptedApi(reply(200, {"tasks": [task_json()], "next_token": "next"}))
    with sync_client(api) as client:
        page = client.list_tasks(created_to=dt.datetime.fromtimestamp(20, dt.UTC))
        assert dict(api.requests[0].url.params) == {"created_to": "20"}
        assert (len(page.tasks), page.next_token) == (1, "next")
        with pytest.raises(TypeError, match="unknown filter"):
            client.list_tasks(colour="red")


def test_cancel_returns_the_task_the_server_answers_with():
    api = ScriptedApi(reply(202, task_json(status="CANCELLED")))
    with sync_client(api) as client:
        task = client.cancel(TASK_ID)
    assert (api.requests[0].method, api.requests[0].url.path) == ("POST", f"/tasks/{TASK_ID}/cancel")
    assert task.status == "CANCELLED" and task.is_final


@pytest.mark.parametrize("answer", [reply(202, {"id": TASK_ID}), reply(202)])
def test_cancel_reads_the_task_when_the_answer_is_not_the_task(answer):
    api = ScriptedApi(answer, reply(200, task_json(status="IN_PROGRESS")))
    with sync_client(api) as client:
        task = client.cancel(TASK_ID)
    assert [(r.method, r.url.path) for r in api.requests] == [
        ("POST", f"/tasks/{TASK_ID}/cancel"),
        ("GET", f"/tasks/{TASK_ID}"),
    ]
    # An IN_PROGRESS task becomes CANCELLED when its worker next reports.
    assert task.status == "IN_PROGRESS"


def test_cancel_of_a_finished_task_is_a_conflict():
    body = {"error": "invalid_transition", "message": "is COMPLETED", "current_status": "COMPLETED"}
    api = ScriptedApi(reply(409, body))
    with sync_client(api) as client, pytest.raises(Conflict) as caught:
        client.cancel(TASK_ID)
    assert caught.value.current_status == "COMPLETED"


def test_retry_sends_the_idempotency_key_and_names_the_original():
    api = ScriptedApi(reply(202, {"id": "new", "retry_of": TASK_ID}, location=f"{BASE_URL}/tasks/new"))
    with sync_client(api) as client:
        accepted = client.retry(TASK_ID, idempotency_key="retry-1")
    (request,) = api.requests
    assert (request.method, request.url.path) == ("POST", f"/tasks/{TASK_ID}/retry")
    assert request.headers["idempotency-key"] == "retry-1"
    assert (accepted.id, accepted.retry_of, accepted.location) == ("new", TASK_ID, f"{BASE_URL}/tasks/new")


def test_events_are_read_oldest_first_as_sent():
    events = [
        {"hop": "created", "at_ms": 1, "since_created_ms": 0, "source": "api", "status": "CREATED"},
        {
            "hop": "completed",
            "at_ms": 9,
            "since_created_ms": 8,
            "source": "worker TASK1",
            "status": "COMPLETED",
        },
    ]
    api = ScriptedApi(reply(200, {"task_id": TASK_ID, "events": events}))
    with sync_client(api) as client:
        timeline = client.events(TASK_ID)
    assert api.requests[0].url.path == f"/tasks/{TASK_ID}/events"
    assert [(e.hop, e.since_created_ms) for e in timeline] == [("created", 0), ("completed", 8)]


def test_a_stage_prefix_in_the_base_url_is_kept():
    api = ScriptedApi(reply(200, task_json()))
    with AsyncAppClient("https://abc.execute-api.test/dev/", "k", transport=api.transport, env={}) as client:
        client.get(TASK_ID)
    assert str(api.requests[0].url) == f"https://abc.execute-api.test/dev/tasks/{TASK_ID}"


def test_url_and_key_come_from_the_environment_unless_given():
    env = {"ASYNC_APP_URL": "http://env.test:9000", "ASYNC_APP_API_KEY": "env-key"}
    api = ScriptedApi(reply(200, task_json()), reply(200, task_json()))
    with AsyncAppClient(transport=api.transport, env=env) as client:
        client.get(TASK_ID)
    with AsyncAppClient("http://arg.test", "arg-key", transport=api.transport, env=env) as client:
        client.get(TASK_ID)
    assert [(r.url.host, r.headers["x-api-key"]) for r in api.requests] == [
        ("env.test", "env-key"),
        ("arg.test", "arg-key"),
    ]


def test_the_url_defaults_to_make_run_and_the_key_is_required():
    assert AsyncAppClient(api_key="k", env={}).connection.base_url == "http://127.0.0.1:8000"
    with pytest.raises(ConfigurationError, match="ASYNC_APP_API_KEY"):
        AsyncAppClient(env={})
    with pytest.raises(ConfigurationError, match="http"):
        AsyncAppClient("api.example.com", "k", env={})


def test_no_answer_at_all_is_service_unreachable():
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    api = ScriptedApi(refuse)
    with sync_client(api) as client, pytest.raises(ServiceUnreachable, match="connection refused"):
        client.get(TASK_ID)


def test_resend_webhook_posts_to_its_route_and_reads_the_send_number():
    api = ScriptedApi(
        reply(202, {"id": TASK_ID, "send": 2}, location=f"{BASE_URL}/tasks/{TASK_ID}", retry_after="1")
    )
    with sync_client(api) as client:
        accepted = client.resend_webhook(TASK_ID)
    assert (api.requests[0].method, api.requests[0].url.path) == ("POST", f"/tasks/{TASK_ID}/webhook/resend")
    assert (accepted.id, accepted.raw["send"], accepted.retry_after) == (TASK_ID, 2, 1.0)


def test_a_replayed_answer_says_so():
    api = ScriptedApi(
        reply(202, {"id": TASK_ID}, location=f"{BASE_URL}/tasks/{TASK_ID}", idempotent_replayed="true"),
        reply(202, {"id": TASK_ID}, location=f"{BASE_URL}/tasks/{TASK_ID}"),
    )
    with sync_client(api) as client:
        assert client.create("TASK1", {}, idempotency_key="k").replayed
        assert not client.create("TASK1", {}, idempotency_key="k").replayed


def test_the_new_task_and_event_fields_are_typed():
    task = Task.from_json(
        task_json(status="IN_PROGRESS", cancel_requested="api key 12ab34cd", retried_as=None)
    )
    assert task.cancel_requested == "api key 12ab34cd" and "cancel_requested" not in task.extra
    event = TaskEvent.from_json(
        {
            "hop": "crashed",
            "at_ms": 1,
            "http_status": None,
            "error": {"type": "ValueError", "message": "m", "stack": "s"},
        }
    )
    assert event.error == {"type": "ValueError", "message": "m", "stack": "s"} and event.http_status is None
    assert TaskEvent.from_json({"hop": "webhook", "at_ms": 2, "http_status": 503}).http_status == 503
