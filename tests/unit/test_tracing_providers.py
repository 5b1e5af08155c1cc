"""Tracing runs the same with each provider, and costs nothing when off.

Each case is a fresh interpreter (the provider is chosen once per process, as
in a Lambda sandbox) running a handler wrapped by app.observability that
correlates a batch record and a task: X-Ray segments go to a UDP socket
standing in for the daemon; OpenTelemetry spans to the SDK's in-memory
exporter, configured as the ADOT layer would configure its own.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT, run_in_root

TRACE = "Root=1-5e66d96f-7491f09xmpl79d18acf3d050;Parent=53995c3f42cd8ad8;Sampled=1"
ORIGIN = "Root=1-6a77e07a-8502a10xmpl80e29bdf4e161;Parent=64aa6d4f53de9be9;Sampled=1"

TRACING_LIBRARIES = ("aws_xray_sdk", "opentelemetry", "opentelemetry.sdk")
RUN = textwrap.dedent(
    """
    import json, sys
    exporter = None
    if sys.argv[1] == "otel-sdk":
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)

    from app import observability
    from app.domain.tracing import TraceContext

    class Context:
        function_name = "task1"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:task1"
        aws_request_id = "request-1"

    @observability.lambda_handler
    def handler(event, context):
        with observability.correlated("task-1", "TASK1"):
            observability.record_origin_trace(TraceContext(x_amzn_trace_id=sys.argv[2]))
        observability.correlate("task-2", "TASK2")
        return {"batchItemFailures": []}

    report = {
        "result": handler({"Records": []}, Context()),
        "tracer": type(observability.get_tracer()).__name__,
        "imported": sorted(m for m in sys.argv[3].split(",") if m in sys.modules),
    }
    if exporter is not None:
        report["spans"] = [
            {"name": s.name, "id": s.context.span_id, "parent": s.parent.span_id if s.parent else None,
             "attributes": dict(s.attributes)}
            for s in exporter.get_finished_spans()
        ]
    print(json.dumps(report))
    """
)


@pytest.fixture
def daemon():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.5)
        yield sock


def run(provider: str | None, daemon: socket.socket, sdk: bool = False) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "TRACING_", "_X_"))
    }
    if provider is not None:
        env.update(
            AWS_LAMBDA_FUNCTION_NAME="task1",
            LAMBDA_TASK_ROOT=str(ROOT),
            _X_AMZN_TRACE_ID=TRACE,
            AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{daemon.getsockname()[1]}",
            TRACING_PROVIDER=provider,
        )
    mode = "otel-sdk" if sdk else "plain"
    result = run_in_root([sys.executable, "-c", RUN, mode, ORIGIN, ",".join(TRACING_LIBRARIES)], env)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["result"] == {"batchItemFailures": []}
    return report


def segments(daemon: socket.socket) -> list[dict]:
    """Every (sub)segment the SDK sent, nested ones included."""
    documents = []
    while True:
        try:
            packet, _ = daemon.recvfrom(65_535)
        except TimeoutError:
            break
        documents.append(json.loads(packet.decode().partition("\n")[2]))
    flat = []
    while documents:
        document = documents.pop()
        flat.append(document)
        documents += document.get("subsegments", [])
    return flat


def test_tracing_off_imports_no_tracing_library(daemon):
    report = run(None, daemon)
    assert report["tracer"] == "NoneType"
    assert report["imported"] == []
    assert segments(daemon) == []


def test_xray_provider_annotates_each_task_in_a_subsegment(daemon):
    report = run("xray", daemon)
    assert report["tracer"] == "XRayTracer"
    assert "aws_xray_sdk" in report["imported"] and "opentelemetry" not in report["imported"]
    annotated = {d["name"]: d.get("annotations", {}) for d in segments(daemon)}
    assert annotated["## task TASK1"] == {
        "task_id": "task-1",
        "task_type": "TASK1",
        "origin_trace_id": "1-6a77e07a-8502a10xmpl80e29bdf4e161",
    }
    assert annotated["## task TASK2"] == {"task_id": "task-2", "task_type": "TASK2"}
    assert "## handler" in annotated


def test_otel_provider_gives_the_same_spans_through_the_opentelemetry_api(daemon):
    report = run("otel", daemon, sdk=True)
    assert report["tracer"] == "OpenTelemetryTracer"
    assert "aws_xray_sdk" not in report["imported"], "the X-Ray SDK stays out of the OpenTelemetry path"
    spans = {span["name"]: span for span in report["spans"]}
    handler = spans["## handler"]
    assert handler["parent"] is None and handler["attributes"]["faas.invocation_id"] == "request-1"
    first, second = spans["## task TASK1"], spans["## task TASK2"]
    assert first["parent"] == second["parent"] == handler["id"]
    assert first["attributes"]["task_id"] == "task-1" and first["attributes"]["task_type"] == "TASK1"
    assert first["attributes"]["origin_trace_id"] == "1-6a77e07a-8502a10xmpl80e29bdf4e161"
    assert json.loads(first["attributes"]["origin_trace"])["x_amzn_trace_id"] == ORIGIN
    assert second["attributes"]["task_id"] == "task-2"
    # The exporter turns these span attributes into X-Ray annotations.
    assert set(first["attributes"]["aws.xray.annotations"]) >= {"task_id", "task_type", "origin_trace_id"}
    assert segments(daemon) == [], "nothing goes to the X-Ray daemon"


def test_otel_provider_without_an_sdk_is_a_no_op(daemon):
    """Without the ADOT layer (no SDK configured) the API records nothing and the handler still runs."""
    report = run("otel", daemon)
    assert report["tracer"] == "OpenTelemetryTracer"
    assert "opentelemetry.sdk" not in report["imported"]


def test_an_unknown_provider_is_refused(daemon):
    env = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "task1", "TRACING_PROVIDER": "zipkin"}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    code = "from app import observability; observability.get_tracer()"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "TRACING_PROVIDER='zipkin'" in result.stderr
