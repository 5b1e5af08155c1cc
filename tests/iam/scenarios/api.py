"""The api function: every JSON route and every dashboard route, through API Gateway's event.

It runs as deployed: a non-local stage, so the API keys, dashboard users and
signing keys come from SSM SecureStrings (put there by the test, as an
operator would).
"""

from __future__ import annotations

import re
import time

import httpx

from app.adapters.passwords import hash_password
from app.domain.task import TaskStatus
from app.services import tasks
from app.task_registry import read_folder as task_types  # the deployed ones
from app.task_type_stack import dead_letter_queue_id
from tests.factories import a_task
from tests.iam.harness import Stage
from tests.iam.scenarios import scenario

API_KEY = "iam-scenario-key"
ANN, BOB = "ann", "bob"
ANN_PASSWORD, BOB_PASSWORD = "ann-password-1", "bob-password-2"
KEY = {"x-api-key": API_KEY}
HTMX = {"HX-Request": "true"}


def configure_secrets(stage: Stage) -> None:
    """The four SecureStrings serverless.yml names for the api, as docs/deploy.md has them put."""
    environment = stage.environment("api")
    users = {ANN: ANN_PASSWORD, BOB: BOB_PASSWORD}
    values = {
        "API_KEYS_PARAMETER": API_KEY,
        "DASHBOARD_USERS_PARAMETER": ",".join(f"{user}:{hash_password(pw)}" for user, pw in users.items()),
        "SESSION_SECRET_PARAMETER": "iam-scenario-session-secret-0123456789abcdef",
        "PAGE_TOKEN_SECRET_PARAMETER": "iam-scenario-page-token-secret-0123456789ab",
    }
    for variable, value in values.items():
        stage.setup_ssm.put_parameter(
            Name=environment[variable], Value=value, Type="SecureString", Overwrite=True
        )


def expect(response: httpx.Response, status: int) -> httpx.Response:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    return response


def failed_task(stage: Stage, task_type: str = "TASK1") -> str:
    """A FAILED task, put there with the test's own clients."""
    task = a_task(task_type)
    stage.store.add(task)
    for status in (TaskStatus.IN_PROGRESS, TaskStatus.FAILED):
        tasks.change_status(stage.store, task.id, status, "it broke")
    return task.id


@scenario("api")
def json_api(stage: Stage) -> None:
    configure_secrets(stage)
    api = stage.api()
    expect(api.get("/health"), 200)
    expect(api.get("/tasks"), 401)
    expect(api.get("/openapi.json", headers=KEY), 200)
    ids = [
        expect(api.post("/tasks", json={"task_type": task_type, "data": {"n": n}}, headers=KEY), 202).json()[
            "id"
        ]
        for n, task_type in enumerate(["TASK1", "TASK2", "TASK1"])
    ]
    for query in (
        {},
        {"status": "CREATED"},
        {"task_type": "TASK1"},
        {"status": "CREATED", "task_type": "TASK1"},
    ):
        first = expect(api.get("/tasks", params={**query, "limit": 1}, headers=KEY), 200).json()
        assert first["next_token"], query
        params = {**query, "limit": 1, "next_token": first["next_token"]}
        expect(api.get("/tasks", params=params, headers=KEY), 200)
    expect(api.get("/tasks", params={"created_from": 0, "created_to": 9_999_999_999}, headers=KEY), 200)
    expect(api.get(f"/tasks/{ids[0]}", headers=KEY), 200)
    expect(api.get(f"/tasks/{ids[0]}/events", headers=KEY), 200)
    expect(api.get("/tasks/00000000-0000-4000-8000-000000000000", headers=KEY), 404)
    patch = {"status": "FAILED", "status_msg": "cancelled"}
    expect(api.patch(f"/tasks/{ids[1]}", json=patch, headers=KEY), 200)
    expect(api.patch(f"/tasks/{ids[1]}", json=patch, headers=KEY), 409)
    retry = expect(api.post(f"/tasks/{ids[1]}/retry", headers=KEY), 202).json()
    assert expect(api.post(f"/tasks/{ids[1]}/retry", headers=KEY), 202).json() == retry
    expect(api.post(f"/tasks/{ids[0]}/retry", headers=KEY), 409)


@scenario("api")
def json_api_idempotency_cancel_schedule_and_webhooks(stage: Stage) -> None:
    configure_secrets(stage)
    api = stage.api()
    keyed = {**KEY, "Idempotency-Key": "iam-1"}
    body = {"task_type": "TASK1", "data": {}, "callback_url": "https://93.184.215.14/hook"}
    created = expect(api.post("/tasks", json=body, headers=keyed), 202).json()
    assert expect(api.post("/tasks", json=body, headers=keyed), 202).json() == created
    expect(api.post("/tasks", json={**body, "data": {"n": 2}}, headers=keyed), 422)
    scheduled = {"task_type": "TASK1", "data": {}, "run_at": int(time.time()) + 3600}
    later = expect(api.post("/tasks", json=scheduled, headers=KEY), 202).json()["id"]
    expect(api.post(f"/tasks/{later}/cancel", headers=KEY), 202)
    expect(api.post(f"/tasks/{later}/cancel", headers=KEY), 409)
    running = a_task()
    stage.store.add(running)
    tasks.change_status(stage.store, running.id, TaskStatus.IN_PROGRESS, "")
    assert expect(api.post(f"/tasks/{running.id}/cancel", headers=KEY), 202).json()["cancel_requested"]
    expect(api.patch(f"/tasks/{running.id}", json={"status": "CANCELLED"}, headers=KEY), 200)
    failed = failed_task(stage)
    retried = expect(api.post(f"/tasks/{failed}/retry", headers={**KEY, "Idempotency-Key": "iam-2"}), 202)
    again = expect(api.post(f"/tasks/{failed}/retry", headers={**KEY, "Idempotency-Key": "iam-3"}), 202)
    assert again.json() == retried.json()
    tasks.change_status(stage.store, created["id"], TaskStatus.IN_PROGRESS, "")
    tasks.change_status(stage.store, created["id"], TaskStatus.COMPLETED, "done")
    assert expect(api.post(f"/tasks/{created['id']}/webhook/resend", headers=KEY), 202).json()["send"] == 2
    expect(api.post(f"/tasks/{later}/webhook/resend", headers=KEY), 409)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(api: httpx.Client, user: str, password: str) -> httpx.Response:
    token = csrf_of(expect(api.get("/dashboard/login"), 200).text)
    return api.post("/dashboard/login", data={"username": user, "password": password, "csrf_token": token})


@scenario("api")
def dashboard_sign_in_throttling_and_sessions(stage: Stage) -> None:
    configure_secrets(stage)
    api = stage.api(source_ip="198.51.100.31")
    expect(api.get("/dashboard"), 303)  # to sign in
    for _ in range(5):
        expect(sign_in(api, ANN, "wrong"), 401)
    expect(sign_in(api, ANN, ANN_PASSWORD), 429)  # past the per-user limit
    expect(sign_in(api, BOB, BOB_PASSWORD), 303)  # gives its counted attempt back
    expect(api.get("/dashboard/login"), 303)  # signed in already
    csrf = csrf_of(expect(api.get("/dashboard"), 200).text)
    copied = dict(api.cookies)
    expect(api.post("/dashboard/logout", data={"csrf_token": csrf}), 303)
    # The copied cookie's session is revoked in the table.
    stale = stage.api(source_ip="198.51.100.31")
    stale.cookies.update(copied)
    expect(stale.get("/dashboard"), 303)


@scenario("api")
def dashboard_pages(stage: Stage) -> None:
    configure_secrets(stage)
    api = stage.api(source_ip="198.51.100.32")
    expect(api.get("/"), 307)
    expect(sign_in(api, BOB, BOB_PASSWORD), 303)
    csrf = csrf_of(expect(api.get("/dashboard"), 200).text)
    form_headers = {"x-csrf-token": csrf}
    created = {"task_type": "TASK1", "data": '{"n": 1}', "csrf_token": csrf}
    expect(api.post("/dashboard/tasks", data=created), 303)
    expect(api.post("/dashboard/tasks", data=created, headers=HTMX), 200)
    expect(api.post("/dashboard/tasks", data={**created, "data": "[1]"}, headers=HTMX), 422)
    for query in ({"status": "CREATED"}, {"task_type": "TASK1"}, {"status": "CREATED", "task_type": "TASK1"}):
        expect(api.get("/dashboard", params=query), 200)
        expect(api.get("/dashboard", params=query, headers={**HTMX, "HX-Target": "results"}), 200)
    token = expect(api.get("/tasks", params={"limit": 1}, headers=KEY), 200).json()["next_token"]
    expect(api.get("/dashboard/rows", params={"limit": 1, "next_token": token}), 200)

    failed = [failed_task(stage) for _ in range(4)]
    running = a_task()
    stage.store.add(running)
    # Live rows: one BatchGetItem for every in-flight row; a moved one brings the counts.
    live = [f"{running.id}|IN_PROGRESS::", f"{failed[0]}|FAILED::"]
    expect(api.get("/dashboard/live", params={"live": live}), 200)
    expect(api.get("/dashboard/find", params={"id": failed[0]}), 303)
    # A short id: a Query on the keys-only by_id_prefix index, then BatchGetItem.
    expect(api.get("/dashboard/find", params={"id": failed[0][:8]}), 303)
    expect(api.get("/dashboard/find", params={"id": "ffffffff-ffff"}), 404)
    # Tasks created since the top row (a Query on a listing index); failed tasks a filter matches.
    expect(api.get("/dashboard/live", params={"live": live, "watch": "1", "newest": ""}), 200)
    # The confirmation is pinned to when it was first asked for (a redirect adding as_of).
    pinned = expect(api.get("/dashboard/retry-matching", params={"task_type": "TASK1"}), 303)
    expect(api.get(pinned.headers["location"].removeprefix(f"/{stage.name}")), 200)
    expect(api.get(f"/dashboard/tasks/{failed[0]}"), 200)
    expect(api.get(f"/dashboard/tasks/{failed[0]}", headers={**HTMX, "HX-Target": "task-detail"}), 200)
    expect(api.get(f"/dashboard/tasks/{failed[0]}/retry"), 200)
    expect(api.post(f"/dashboard/tasks/{failed[0]}/retry", data={"csrf_token": csrf}), 303)
    row = {**HTMX, **form_headers, "HX-Target": f"task-{failed[1]}"}
    expect(api.post(f"/dashboard/tasks/{failed[1]}/retry", headers=row), 200)
    bulk = {"ids": [failed[2], failed[3], running.id]}
    expect(api.post("/dashboard/retry", data=bulk, headers={**HTMX, **form_headers}), 200)


@scenario("api")
def dashboard_stats_and_dead_letters(stage: Stage) -> None:
    from app.domain.messages import TaskMessage

    configure_secrets(stage)
    api = stage.api(source_ip="198.51.100.33")
    expect(sign_in(api, BOB, BOB_PASSWORD), 303)
    csrf = csrf_of(expect(api.get("/dashboard"), 200).text)
    # The stats: the per-minute and per-hour aggregates, BatchGetItem.
    expect(api.get("/dashboard/stats"), 200)
    expect(api.get("/dashboard/stats", headers={**HTMX, "HX-Target": "stats"}), 200)
    # A dead letter in each DLQ, put there with the test's own client; the page peeks at every queue.
    sqs = stage.provisioned.clients["sqs"]
    for task_type in task_types().values():
        task = a_task(task_type.name)
        stage.store.add(task)
        queue = stage.provisioned.queue_url(dead_letter_queue_id(task_type))
        sqs.send_message(QueueUrl=queue, MessageBody=TaskMessage(task.id, task_type.name).to_json())
    page = expect(api.get("/dashboard/dead-letters"), 200).text
    assert "Redrive 1 message" in page
    for task_type in task_types():
        expect(api.get(f"/dashboard/dead-letters/{task_type}/redrive"), 200)
        expect(api.post(f"/dashboard/dead-letters/{task_type}/redrive", data={"csrf_token": csrf}), 200)


@scenario("api")
def dashboard_dead_letter_messages_and_queues(stage: Stage) -> None:
    """Each dead letter looked at, sent back and deleted; a queue emptied; the queues view."""
    import re

    from app.domain.messages import TaskMessage

    configure_secrets(stage)
    api = stage.api(source_ip="198.51.100.34")
    expect(sign_in(api, BOB, BOB_PASSWORD), 303)
    csrf = {"csrf_token": csrf_of(expect(api.get("/dashboard"), 200).text)}
    sqs = stage.provisioned.clients["sqs"]
    queues = {name: dead_letter_queue_id(task_type) for name, task_type in task_types().items()}
    queues["publisher-failures"] = "PublisherFailureQueue"
    for key, queue in queues.items():
        for _ in range(3):
            task = a_task(next(iter(task_types())))
            stage.store.add(task)
            body = TaskMessage(task.id, task.task_type).to_json()
            sqs.send_message(QueueUrl=stage.provisioned.queue_url(queue), MessageBody=body)
        page = expect(api.get("/dashboard/dead-letters"), 200).text
        ids = re.findall(rf'href="[^"]*/dead-letters/{key}/messages/([^"]+)"', page)
        assert len(ids) >= 2, (key, ids)
        expect(api.get(f"/dashboard/dead-letters/{key}/messages/{ids[0]}"), 200)
        expect(api.post(f"/dashboard/dead-letters/{key}/messages/{ids[0]}/delete", data=csrf), 200)
        if key != "publisher-failures":  # its records are not task messages to send back
            expect(api.post(f"/dashboard/dead-letters/{key}/messages/{ids[1]}/retry", data=csrf), 200)
        expect(api.get(f"/dashboard/dead-letters/{key}/purge"), 200)
        expect(api.post(f"/dashboard/dead-letters/{key}/purge", data=csrf), 200)
    expect(api.get("/dashboard/queues"), 200)
