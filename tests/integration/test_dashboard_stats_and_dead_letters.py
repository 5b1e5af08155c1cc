"""/dashboard/stats from the aggregates the changes function writes, and /dashboard/dead-letters
against the emulator's queues (peek, the tasks named, redrive with StartMessageMoveTask).

tests/e2e/test_dashboard_operations.py drives both in Chromium.
"""

from __future__ import annotations

import json
import re
import time
from html import unescape

import pytest

from app import task_registry
from app.adapters.aggregates import TaskAggregates
from app.adapters.dead_letters import DeadLetterQueues
from app.dashboard.deps import DeadLetterSetup
from app.domain.messages import TaskMessage
from app.domain.task import TaskStatus
from app.services.dead_letters import configured_queues
from app.task_type_stack import dead_letter_queue_id
from tests.factories import a_task
from tests.integration.test_dashboard import HTMX, make_client, sign_in
from workers.changes import apply_changes

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(provisioned):
    from app.settings import Settings

    client = make_client(Settings(table_name=provisioned.resources.table_name, api_keys="k"), provisioned)
    queues = {
        name: provisioned.queue_url(dead_letter_queue_id(t)) for name, t in task_registry.task_types().items()
    }
    configured = configured_queues(queues, provisioned.queue_url("PublisherFailureQueue"))
    client.app.state.dead_letters = DeadLetterSetup(DeadLetterQueues(provisioned.clients["sqs"]), configured)
    return client


@pytest.fixture(scope="module")
def csrf(client) -> str:
    return sign_in(client)


def lived(provisioned, task_type: str, final: TaskStatus | None, wait: float, run: float, message: str = ""):
    """A task that waited ``wait`` seconds for a worker and ran ``run`` seconds to ``final``."""
    task = a_task(task_type)
    provisioned.store.add(task)
    now = time.time()
    running = task.moved_to(TaskStatus.IN_PROGRESS, "", task.created_ms / 1000 + wait)
    provisioned.store.replace_if(running, expected=task)
    if final is not None:
        provisioned.store.replace_if(
            running.moved_to(final, message, min(now, task.created_ms / 1000 + wait + run)), expected=running
        )
    return task


def figure(page: str, section: str, name: str) -> str:
    block = re.search(rf'<div class="stats-window" id="stats-{section}">.*?</svg>', page, re.S).group(0)
    shown = re.search(rf'<dd class="{name}"[^>]*>(.*?)</dd>', block, re.S).group(1)
    return unescape(re.sub(r"<[^>]+>", "", shown)).strip()


# --- stats ------------------------------------------------------------------------------------


def test_stats_count_each_type_per_minute_with_failure_rate_and_percentiles(client, csrf, provisioned):
    for _ in range(3):
        lived(provisioned, "TASK1", TaskStatus.COMPLETED, wait=0.03, run=0)
    lived(provisioned, "TASK1", TaskStatus.FAILED, wait=0.03, run=0, message="upstream answered 503")
    lived(provisioned, "TASK2", None, wait=0.03, run=0)
    records = [r for r in provisioned.stream_records() if r["dynamodb"]["Keys"]["sk"]["S"] == "TASK"]
    apply_changes(
        records,
        TaskAggregates(provisioned.resources.table_name, provisioned.clients["dynamodb"]),
        time.time(),
    )

    page = client.get("/dashboard/stats")
    assert page.status_code == 200
    text = page.text
    for window in ("hour", "day"):
        assert figure(text, f"TASK1-{window}", "created-total") == "4"
        assert figure(text, f"TASK1-{window}", "completed-total") == "3"
        assert figure(text, f"TASK1-{window}", "failed-total") == "1"
        assert figure(text, f"TASK1-{window}", "failure-rate") == "25.0%"
        # Every task waited 30 ms: the page says so, within 5 %, not a bucket's bound.
        p50, p95 = re.fullmatch(
            r"≈ (\S+) ms / ≈ (\S+) ms", figure(text, f"TASK1-{window}", "queue-wait")
        ).groups()
        assert float(p50) == float(p95) == pytest.approx(30, rel=0.05)
        assert figure(text, f"TASK2-{window}", "created-total") == "1"
        assert figure(text, f"TASK2-{window}", "failure-rate") == "—"
    # The hour's chart: 60 points a line, the last minute's created at the top of a scale of 4.
    hour = re.search(r'id="stats-TASK1-hour".*?</svg>', text, re.S).group(0)
    created = re.search(r'class="line line-created" points="([^"]+)"', hour).group(1).split()
    # (The last minute, or the one before when the test crossed a minute's end meanwhile.)
    assert len(created) == 60 and any(point.endswith(",8.0") for point in created[-2:])
    assert created[0].endswith(",128.0")
    assert ">4</text>" in hour and "4 created, 3 completed;" in hour
    # Failures on a scale of their own: the one failure is at its chart's top.
    failures = re.search(r'id="stats-TASK1-hour".*?(class="rate-chart failures-chart".*?</svg>)', text, re.S)
    failures = failures.group(1)
    assert "1 failed, 0 cancelled;" in failures and ">1</text>" in failures
    failed = re.search(r'class="line line-failed" points="([^"]+)"', failures).group(1).split()
    assert any(point.endswith(",8.0") for point in failed[-2:])  # its minute, or the one before (see above)
    # Each minute's values on hover.
    assert failures.count('<rect class="slot"') == 60 and ": 1 failed, 0 cancelled</title>" in failures
    # The day's top failure messages, linking to the failed tasks of the type.
    day = re.search(r'id="stats-TASK1-day".*?</ol>', text, re.S).group(0)
    assert "upstream answered 503" in day and "status=FAILED&amp;task_type=TASK1" in day
    # The poll gets the block alone.
    polled = client.get("/dashboard/stats", headers={**HTMX, "HX-Target": "stats"}).text
    assert polled.lstrip().startswith('<div id="stats"') and "<html" not in polled


# --- dead letters --------------------------------------------------------------------------


def test_dead_letters_show_depth_age_and_each_messages_task_and_redrive_names_the_count(
    client, csrf, provisioned
):
    sqs = provisioned.clients["sqs"]
    dlq = provisioned.queue_url("Task1DeadLetterQueue")
    failed = [lived(provisioned, "TASK1", TaskStatus.FAILED, wait=0, run=0) for _ in range(2)]
    for task in failed:
        sqs.send_message(QueueUrl=dlq, MessageBody=TaskMessage(task.id, "TASK1").to_json())
    gone = "00000000-0000-4000-8000-000000000000"
    sqs.send_message(QueueUrl=dlq, MessageBody=TaskMessage(gone, "TASK1").to_json())
    failure = {
        "requestContext": {"condition": "RetryAttemptsExhausted"},
        "DDBStreamBatchInfo": {"batchSize": 3},
    }
    sqs.send_message(QueueUrl=provisioned.queue_url("PublisherFailureQueue"), MessageBody=json.dumps(failure))

    page = client.get("/dashboard/dead-letters")
    assert page.status_code == 200
    task1 = re.search(
        r'<section class="card dead-letter-queue" id="queue-TASK1".*?</section>', page.text, re.S
    ).group(0)
    assert re.search(r'<dd class="depth">3 ', task1) and "Redrive 3 messages…" in task1
    assert all(f'href="/dashboard/tasks/{task.id}"' in task1 for task in failed) and "badge-failed" in task1
    assert "(no such task: it expired)" in task1 and re.search(r'<dd class="oldest">(&lt;1|\d+) s old', task1)
    failures = re.search(r'id="queue-publisher-failures".*?</section>', page.text, re.S).group(0)
    assert "3 records" in failures and "RetryAttemptsExhausted" in failures and "Redrive" not in failures
    task2 = re.search(r'id="queue-TASK2".*?</section>', page.text, re.S).group(0)
    assert '<dd class="depth">0 ' in task2 and "Empty." in task2

    confirm = client.get("/dashboard/dead-letters/TASK1/redrive")
    assert (
        "<h1>Redrive 3 dead letters?</h1>" in confirm.text and "Redrive 3 messages</button>" in confirm.text
    )
    assert client.post("/dashboard/dead-letters/TASK1/redrive").status_code == 403  # no CSRF token
    assert 'name="count" value="3"' in confirm.text
    done = client.post("/dashboard/dead-letters/TASK1/redrive", data={"csrf_token": csrf, "count": "4"})
    assert done.status_code == 200 and "3 messages move back to its queue (4 when you confirmed" in done.text
    moved = sqs.receive_message(QueueUrl=provisioned.queue_url("Task1Queue"), MaxNumberOfMessages=10)[
        "Messages"
    ]
    assert sorted(TaskMessage.from_json(m["Body"]).task_id for m in moved) == sorted(
        [*(t.id for t in failed), gone]
    )
    # Safe to repeat: nothing is left to move.
    again = client.post("/dashboard/dead-letters/TASK1/redrive", data={"csrf_token": csrf})
    assert again.status_code == 409 and "no message is waiting in it" in again.text
    assert "COMPLETED: 3 of 3 moved" in again.text


def test_dead_letter_addresses_that_name_no_redrivable_queue_are_html_404s(client, csrf):
    for key in ("publisher-failures", "TASK9", "x" * 300):
        response = client.get(f"/dashboard/dead-letters/{key}/redrive")
        assert response.status_code == 404 and "text/html" in response.headers["content-type"]
        refused = client.post(f"/dashboard/dead-letters/{key}/redrive", data={"csrf_token": csrf})
        assert refused.status_code == 404
    assert client.get("/dashboard/dead-letters/TASK1").status_code == 404


def drain(sqs, url: str) -> None:
    """Empty a queue message by message (PurgeQueue is once a minute per queue, in the emulator too)."""
    while received := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in received:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def message_ids(page: str, key: str) -> list[str]:
    return re.findall(rf'href="/dashboard/dead-letters/{key}/messages/([^"]+)"', page)


def test_each_dead_letter_can_be_viewed_retried_alone_or_deleted(client, csrf, provisioned):
    sqs = provisioned.clients["sqs"]
    dlq = provisioned.queue_url("Task2DeadLetterQueue")
    drain(sqs, dlq)
    failed = [lived(provisioned, "TASK2", TaskStatus.FAILED, wait=0, run=0) for _ in range(3)]
    for task in failed:
        sqs.send_message(
            QueueUrl=dlq,
            MessageBody=TaskMessage(task.id, "TASK2").to_json(),
            MessageAttributes={"task_type": {"DataType": "String", "StringValue": "TASK2"}},
        )
    page = client.get("/dashboard/dead-letters").text
    ids = message_ids(page, "TASK2")
    assert len(ids) == 3

    shown = client.get(f"/dashboard/dead-letters/TASK2/messages/{ids[0]}")
    assert shown.status_code == 200
    assert f'"task_id": "{failed[0].id}"' in unescape(shown.text) and "task_type" in shown.text
    assert "Retry this one</button>" in shown.text and "Delete</button>" in shown.text
    # Looking consumes nothing: the message is back in the queue at once.
    assert len(message_ids(client.get("/dashboard/dead-letters").text, "TASK2")) == 3

    assert client.post(f"/dashboard/dead-letters/TASK2/messages/{ids[0]}/retry").status_code == 403
    retried = client.post(f"/dashboard/dead-letters/TASK2/messages/{ids[0]}/retry", data={"csrf_token": csrf})
    assert retried.status_code == 200 and "moved back to the TASK2 queue" in retried.text
    moved = sqs.receive_message(
        QueueUrl=provisioned.queue_url("Task2Queue"), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    assert [TaskMessage.from_json(m["Body"]).task_id for m in moved] == [failed[0].id]
    assert moved[0]["MessageAttributes"]["task_type"]["StringValue"] == "TASK2"
    sqs.delete_message(QueueUrl=provisioned.queue_url("Task2Queue"), ReceiptHandle=moved[0]["ReceiptHandle"])

    deleted = client.post(
        f"/dashboard/dead-letters/TASK2/messages/{ids[1]}/delete", data={"csrf_token": csrf}
    )
    assert deleted.status_code == 200 and f"Message {ids[1][:8]} was deleted." in deleted.text
    assert message_ids(deleted.text, "TASK2") == [ids[2]]
    # Safe to repeat: the same request again finds nothing to act on.
    again = client.post(f"/dashboard/dead-letters/TASK2/messages/{ids[1]}/delete", data={"csrf_token": csrf})
    assert again.status_code == 409 and "no longer in the queue" in again.text
    assert client.get(f"/dashboard/dead-letters/TASK2/messages/{ids[1]}").status_code == 404


def test_delete_all_names_the_count_and_the_depth_never_says_empty(client, csrf, provisioned):
    sqs = provisioned.clients["sqs"]
    dlq = provisioned.queue_url("Task2DeadLetterQueue")
    drain(sqs, dlq)
    for _ in range(2):
        sqs.send_message(QueueUrl=dlq, MessageBody=TaskMessage(a_task("TASK2").id, "TASK2").to_json())
    # Both being read (as the deadLetters function does): in flight, not visible.
    held = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=60)["Messages"]
    assert len(held) == 2
    page = client.get("/dashboard/dead-letters").text
    task2 = re.search(r'id="queue-TASK2".*?</section>', page, re.S).group(0)
    assert re.search(r'<dd class="depth">2 ', task2)
    assert "Empty." not in task2 and "2 messages are being read right now" in task2
    assert "Delete all 2…" in task2

    confirm = client.get("/dashboard/dead-letters/TASK2/purge")
    assert "<h1>Delete 2 messages?</h1>" in confirm.text and 'name="count" value="2"' in confirm.text
    done = client.post("/dashboard/dead-letters/TASK2/purge", data={"csrf_token": csrf, "count": "2"})
    assert done.status_code == 200 and "(2 when you confirmed, 2 just before)" in done.text
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert client.get("/dashboard/dead-letters/nope/purge").status_code == 404


# --- the queues view --------------------------------------------------------------------------


def test_the_queues_view_shows_each_types_depth_oldest_waiting_dead_letters_and_capacity(
    client, csrf, provisioned, monkeypatch
):
    sqs = provisioned.clients["sqs"]
    queue = provisioned.queue_url("Task2Queue")
    drain(sqs, queue)
    for _ in range(2):
        sqs.send_message(QueueUrl=queue, MessageBody=TaskMessage(a_task("TASK2").id, "TASK2").to_json())
    sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, VisibilityTimeout=60)  # one being run
    waiting = a_task("TASK2", now=time.time() - 125)
    provisioned.store.add(waiting)

    calls: list[str] = []

    def record(model, **_):
        calls.append(model.name)

    sqs.meta.events.register("after-call.sqs", record)
    try:
        page = client.get("/dashboard/queues")
    finally:
        sqs.meta.events.unregister("after-call.sqs", record)
    assert page.status_code == 200
    # One GetQueueAttributes per queue (task queue and DLQ of each type), nothing else.
    assert calls == ["GetQueueAttributes"] * (2 * page.text.count('<tr id="queue-row-'))
    task2 = re.search(r'<tr id="queue-row-TASK2">.*?</tr>', page.text, re.S).group(0)
    assert re.search(r'class="waiting">1<', task2) and re.search(r'class="in-flight">1<', task2)
    assert re.search(r'class="oldest">(over )?2 min \d+ s<', task2)
    # Capacity from the declarations: TASK2 declares no mean run nor concurrency, so its
    # throughput is a floor at the workers' default 10 runs of its longest run each.
    declared = task_registry.get("TASK2")
    assert f'10 runs <span class="muted">(batches of {declared.batch_size})' in task2
    assert f"at least {10 / declared.longest_run_seconds:.1f} tasks/s" in task2
    # TASK1 declares a target (5 tasks/s) and a mean run (2 s): 10 runs, and the throughput they buy.
    task1 = re.search(r'<tr id="queue-row-TASK1">.*?</tr>', page.text, re.S).group(0)
    assert "10 runs" in task1 and "5.0 tasks/s" in task1 and "mean run 2 s" in task1
    for name in task_registry.read_folder():  # every deployed type has its row
        assert f'<tr id="queue-row-{name}">' in page.text
    assert 'aria-current="page">Queues</a>' in page.text
