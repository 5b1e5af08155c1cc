"""The Lambda entry points, called with events of the shapes AWS documents."""

import copy
import json
import threading
from pathlib import Path

from app.domain.task import TaskStatus
from app.local.pollers import PollerContext, SqsPoller
from tests.conftest import wait_until
from tests.factories import a_task
from tests.integration.conftest import HANDLER_API_KEY

EVENTS = Path(__file__).resolve().parents[1] / "events"


def event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


class Context:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:test"
    aws_request_id = "req-1"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def test_api_behind_a_rest_api_stage(deployed):
    from app.main import handler

    request = event("apigw_rest_event.json")
    request["headers"]["x-api-key"] = request["multiValueHeaders"]["x-api-key"][0] = HANDLER_API_KEY
    response = handler(request, Context())
    assert response["statusCode"] == 202, response
    task_id = json.loads(response["body"])["id"]
    location = response["headers"]["location"]
    assert location == f"https://abcdef1234.execute-api.eu-west-1.amazonaws.com/dev/tasks/{task_id}"
    assert deployed.store.get(task_id).data == {"foo": "bar"}


def test_api_behind_an_http_api(deployed):
    from app.main import handler

    deployed.store.add(a_task())
    request = event("apigw_http_event.json")
    request["headers"]["x-api-key"] = HANDLER_API_KEY
    response = handler(request, Context())
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert len(body["tasks"]) == 1 and body["next_token"] is None

    request["headers"]["x-api-key"] = "wrong"
    assert handler(request, Context())["statusCode"] == 401


def test_publisher_handler_with_a_stream_event(deployed):
    from workers.publisher import handler

    task = a_task()
    deployed.store.add(task)
    stream_event = event("dynamodb_stream_event.json")
    image = stream_event["Records"][0]["dynamodb"]["NewImage"]
    image["id"]["S"] = task.id
    assert handler(stream_event, Context()) == {"batchItemFailures": []}
    messages = deployed.clients["sqs"].receive_message(
        QueueUrl=deployed.queue_url("Task1Queue"), WaitTimeSeconds=1
    )
    assert json.loads(messages["Messages"][0]["Body"])["task_id"] == task.id


def test_worker_handler_with_an_sqs_event_reports_only_the_bad_record(deployed):
    from workers.tasks.task1 import handler

    task = a_task(data={"duration_seconds": 0})
    deployed.store.add(task)
    sqs_event = event("sqs_event.json")
    good = sqs_event["Records"][0]
    good["body"] = json.dumps({"task_id": task.id, "task_type": "TASK1"})
    bad = copy.deepcopy(good)
    bad["messageId"], bad["body"] = "bad-one", "not json"
    sqs_event["Records"].append(bad)

    assert handler(sqs_event, Context()) == {"batchItemFailures": [{"itemIdentifier": "bad-one"}]}
    done = deployed.store.get(task.id)
    assert (done.status, done.status_msg) == (TaskStatus.COMPLETED, "done in 0 s")


def test_exhausted_retries_redrive_to_the_dlq_and_end_failed(deployed):
    """Every attempt crashes; SQS redrives after maxReceiveCount; the DLQ handler fails the task."""
    task = a_task("FLAKY", {"crash_attempts": 99})
    deployed.store.add(task)
    deployed.clients["sns"].publish(
        TopicArn=deployed.topic_arn,
        Message=json.dumps({"task_id": task.id, "task_type": "FLAKY"}),
        MessageAttributes={"task_type": {"DataType": "String", "StringValue": "FLAKY"}},
    )
    functions = {f.queue_logical_id: f for f in deployed.topology.sqs_functions}
    stop = threading.Event()
    invocations = []
    pollers = [
        SqsPoller(
            functions[logical_id],
            deployed.queue_url(logical_id),
            deployed.resources.queue_arns[logical_id],
            PollerContext(deployed.clients, deployed.topology.region, stop, invocations.append),
        )
        for logical_id in ("FlakyQueue", "FlakyDeadLetterQueue")
    ]
    threads = [threading.Thread(target=p.run, daemon=True) for p in pollers]
    for thread in threads:
        thread.start()
    try:
        failed = wait_until(
            lambda: (t := deployed.store.get(task.id)).status is TaskStatus.FAILED and t,
            timeout=30,
            interval=0.2,
            what="the task to end FAILED through the DLQ",
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    max_receives = deployed.topology.queues["FlakyQueue"].max_receive_count
    assert failed.attempt == max_receives
    assert failed.status_msg.startswith(
        f"gave up after {max_receives} attempt(s); last: attempt {max_receives} crashed"
    )
    worker_calls = [i for i in invocations if i.function == "flaky"]
    assert len(worker_calls) == max_receives and all(i.failed == 1 for i in worker_calls)
    assert [i.function for i in invocations][-1] == "deadLetters"
