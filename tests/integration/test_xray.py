"""X-Ray, for real: the handlers run as in Lambda (in a subprocess with Lambda's
environment) and send their segments to a UDP socket standing in for the daemon."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from app.local.filter_patterns import matches_any
from tests.conftest import ROOT
from tests.integration.conftest import HANDLER_API_KEY
from tests.integration.test_handlers import event

API_TRACE = "Root=1-5e66d96f-7491f09xmpl79d18acf3d050;Parent=53995c3f42cd8ad8;Sampled=1"
WORKER_TRACE = "Root=1-6a77e07a-8502a10xmpl80e29bdf4e161;Parent=64aa6d4f53de9be9;Sampled=1"

INVOKE = textwrap.dedent(
    """
    import importlib, json, os, sys

    class Context:
        function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:" + function_name
        aws_request_id = "request-1"
        def get_remaining_time_in_millis(self):
            return 30_000

    module, name = sys.argv[1].rsplit(".", 1)
    handler = getattr(importlib.import_module(module), name)
    print(json.dumps(handler(json.load(open(sys.argv[2])), Context())))
    """
)


@pytest.fixture
def daemon():
    """A UDP socket where the X-Ray SDK sends its segment documents."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.5)
        yield sock


def invoke_as_lambda(
    handler: str, lambda_event: dict, trace_header: str, daemon, tmp_path
) -> tuple[dict, list[dict]]:
    """Run ``handler`` in a fresh interpreter with Lambda's tracing environment.

    Returns what the handler returned, and the segment documents it sent.
    """
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(lambda_event))
    env = {
        **os.environ,
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": handler.split(".")[1],
        "_X_AMZN_TRACE_ID": trace_header,
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
        "POWERTOOLS_TRACE_DISABLED": "false",
    }
    result = subprocess.run(
        [sys.executable, "-c", INVOKE, handler, str(event_file)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout.strip().splitlines()[-1])
    documents = []
    while True:
        try:
            packet, _ = daemon.recvfrom(65_535)
        except TimeoutError:
            return response, documents
        header, _, body = packet.decode().partition("\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        documents.append(json.loads(body))


def annotated(documents: list[dict], **annotations: str) -> list[dict]:
    return [d for d in documents if annotations.items() <= d.get("annotations", {}).items()]


def test_one_search_by_task_id_finds_the_api_and_worker_hops(deployed, daemon, tmp_path):
    request = event("apigw_rest_event.json")
    request["headers"].update({"x-api-key": HANDLER_API_KEY, "X-Amzn-Trace-Id": API_TRACE})
    request["multiValueHeaders"] = {name: [value] for name, value in request["headers"].items()}
    request["body"] = json.dumps({"task_type": "TASK1", "data": {"duration_seconds": 0}})
    response, api_segments = invoke_as_lambda("app.main.handler", request, API_TRACE, daemon, tmp_path)
    assert response["statusCode"] == 202, response
    task_id = json.loads(response["body"])["id"]

    (api_task,) = annotated(api_segments, task_id=task_id, task_type="TASK1")
    assert api_task["trace_id"] == "1-5e66d96f-7491f09xmpl79d18acf3d050"
    # boto3 is patched: the DynamoDB calls are subsegments of the same trace.
    assert {(d["name"], d["namespace"]) for d in api_segments} >= {
        ("dynamodb", "aws"),
        ("## handler", "local"),
    }

    from workers.publisher import publish_records

    publisher = next(f for f in deployed.topology.stream_functions if f.name == "publisher")
    records = [r for r in deployed.stream_records() if matches_any(publisher.filter_patterns, r)]
    publish_records(records, deployed.topic_arn, deployed.clients["sns"])
    (delivery,) = deployed.receive("Task1Queue")
    response, worker_segments = invoke_as_lambda(
        "workers.tasks.task1.handler", {"Records": [delivery]}, WORKER_TRACE, daemon, tmp_path
    )
    assert response == {"batchItemFailures": []}

    (worker_task,) = annotated(worker_segments, task_id=task_id, task_type="TASK1")
    # The worker's trace is another one; the annotation joins it to the api's.
    assert worker_task["trace_id"] == "1-6a77e07a-8502a10xmpl80e29bdf4e161"
    assert worker_task["annotations"]["origin_trace_id"] == "1-5e66d96f-7491f09xmpl79d18acf3d050"
    assert deployed.store.get(task_id).status.value == "COMPLETED"
