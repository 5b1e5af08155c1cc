"""One task followed through every hop: logs, trace context, metrics and timeline."""

import json
import sys

import pytest

from app import observability
from app.domain.timeline import Hop
from app.local.filter_patterns import matches_any
from tests.integration.conftest import HANDLER_API_KEY
from tests.integration.test_handlers import Context, event

TRACE_HEADER = "Root=1-5e66d96f-7491f09xmpl79d18acf3d050;Parent=53995c3f42cd8ad8;Sampled=1"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(autouse=True)
def metrics_and_info_logs(deployed, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AsyncApp")
    logger = observability.get_logger()
    logger.setLevel("INFO")
    stream = logger.registered_handler.stream
    yield
    logger.registered_handler.stream = stream
    logger.setLevel("WARNING")


def run_one_task_through_every_hop(deployed, data: dict) -> str:
    """api -> stream -> publisher -> SNS -> SQS -> worker, each through its Lambda handler."""
    # The logger writes to the stdout it found when it was built; point it at
    # the one the running test captures (capture starts after fixture setup).
    handler = observability.get_logger().registered_handler
    handler.stream = sys.stdout
    from app.main import handler as api
    from workers.publisher import handler as publisher
    from workers.tasks.task1 import handler as task1

    request = event("apigw_rest_event.json")
    request["headers"].update(
        {"x-api-key": HANDLER_API_KEY, "X-Amzn-Trace-Id": TRACE_HEADER, "traceparent": TRACEPARENT}
    )
    request["multiValueHeaders"] = {name: [value] for name, value in request["headers"].items()}
    request["body"] = json.dumps({"task_type": "TASK1", "data": data})
    response = api(request, Context())
    assert response["statusCode"] == 202, response
    task_id = json.loads(response["body"])["id"]

    stream_function = next(f for f in deployed.topology.stream_functions if f.name == "publisher")
    new_tasks = [r for r in deployed.stream_records() if matches_any(stream_function.filter_patterns, r)]
    assert publisher({"Records": new_tasks}, Context()) == {"batchItemFailures": []}

    (delivery,) = deployed.receive("Task1Queue")
    assert delivery["messageAttributes"]["x_amzn_trace_id"]["stringValue"] == TRACE_HEADER
    assert delivery["messageAttributes"]["traceparent"]["stringValue"] == TRACEPARENT
    assert task1({"Records": [delivery]}, Context()) == {"batchItemFailures": []}
    return task_id


def json_lines(output: str) -> list[dict]:
    lines = []
    for line in output.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_every_hop_logs_with_the_task_as_correlation_id_and_carries_the_trace(deployed, capfd):
    task_id = run_one_task_through_every_hop(deployed, {"duration_seconds": 1})
    logs = [line for line in json_lines(capfd.readouterr().out) if "level" in line]
    messages = {line["message"]: line for line in logs}
    for message in ("task created", "task published", "attempt 1 started", "task completed"):
        assert messages[message]["correlation_id"] == task_id, message
    task_lines = [line for line in logs if task_id in json.dumps(line)]
    assert task_lines and all(line.get("correlation_id") == task_id for line in task_lines)
    # The worker's lines carry the trace the task was created in.
    assert messages["task completed"]["origin_trace"] == {
        "x_amzn_trace_id": TRACE_HEADER,
        "traceparent": TRACEPARENT,
    }
    # Lambda context is injected into every line of a handler.
    assert messages["task completed"]["function_name"] == Context.function_name
    stored = deployed.store.get(task_id)
    assert (stored.trace.x_amzn_trace_id, stored.trace.traceparent) == (TRACE_HEADER, TRACEPARENT)


def test_metrics_are_emitted_with_names_units_and_task_type(deployed, capfd):
    run_one_task_through_every_hop(deployed, {"duration_seconds": 0})
    blobs = [line for line in json_lines(capfd.readouterr().out) if "_aws" in line]
    emitted = {}
    for blob in blobs:
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "AsyncApp"
        assert directive["Dimensions"] == [["task_type", "service"]]
        assert (blob["task_type"], blob["service"]) == ("TASK1", "async-app")
        for metric in directive["Metrics"]:
            emitted[metric["Name"]] = (metric["Unit"], blob[metric["Name"]])
    assert emitted["TasksCreated"] == ("Count", [1.0])
    assert emitted["TasksCompleted"] == ("Count", [1.0])
    for name in ("QueueWait", "ProcessingTime", "EndToEndTime"):
        unit, (value,) = emitted[name]
        assert unit == "Milliseconds" and value >= 0, name
    assert emitted["EndToEndTime"][1][0] >= emitted["ProcessingTime"][1][0]


def test_the_timeline_holds_every_hop_in_order(deployed):
    task_id = run_one_task_through_every_hop(deployed, {"duration_seconds": 2})
    events = deployed.store.events(task_id)
    hops = [e.hop for e in events]
    assert hops == [
        Hop.CREATED, Hop.PUBLISHED, Hop.DELIVERED, Hop.STARTED, Hop.PROGRESS, Hop.PROGRESS, Hop.COMPLETED,
    ]  # fmt: skip
    times = [e.at_ms for e in events]
    assert times == sorted(times)
    assert [e.progress for e in events if e.hop is Hop.PROGRESS] == [50, 100]
    assert events[-1].status == "COMPLETED" and events[-1].since_created_ms >= 2000
    assert deployed.store.get(task_id).progress == 100


def test_metrics_and_tracing_stay_off_by_default(deployed, capfd, monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    run_one_task_through_every_hop(deployed, {"duration_seconds": 0})
    output = capfd.readouterr()
    assert "_aws" not in output.out
    assert "xray" not in (output.out + output.err).lower()
    assert observability.get_tracer() is None
