"""Logs, traces and metrics of every function (Powertools), and New Relic when it is there.

Everything is created on first use: the tracing provider and the New Relic
agent are imported only where they can send somewhere (in Lambda, with
tracing on; with New Relic's layer or NEW_RELIC_ENABLED), so local runs and
tests pay nothing for them and print no warnings about a missing daemon.

Tracing has two providers behind the same calls, chosen by TRACING_PROVIDER
(the default below): "xray", Powertools Tracer on the X-Ray SDK (in
maintenance since 2026-02-25, supported until 2027-02-25), and "otel", the
OpenTelemetry API, whose SDK and X-Ray exporter come from the ADOT Lambda
layer. Moving to OpenTelemetry is this file's default and the layer
(docs/deploy.md, "Tracing after the X-Ray SDK").
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from app.domain.tracing import TraceContext

SERVICE_DEFAULT = "async-app"
TRACING_PROVIDER_DEFAULT = "xray"
NAMESPACE_DEFAULT = "AsyncApp"
# Secrets never written to a log, even at debug level: app/log_redaction.py.


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def _service() -> str:
    return os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE_DEFAULT)


@functools.lru_cache
def get_logger() -> Logger:
    from aws_lambda_powertools import Logger

    return Logger(service=_service())


def tracing_enabled() -> bool:
    """Traces need Lambda (its X-Ray daemon, the ADOT layer): off locally, in tests, or when switched off."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not _flag("POWERTOOLS_TRACE_DISABLED")


# Searchable in X-Ray: one search (annotation.task_id = "...") finds every hop of a task.
ANNOTATIONS = ("task_id", "task_type", "origin_trace_id")


class XRayTracer:
    """Powertools Tracer: segments to Lambda's X-Ray daemon."""

    def __init__(self) -> None:
        from aws_lambda_powertools import Tracer

        # botocore only: every DynamoDB, SNS and SQS call becomes a subsegment, and
        # no other library (http.client, sqlite3, ...) is imported or patched for nothing.
        self.tracer = Tracer(service=_service(), patch_modules=("botocore",))

    def wrap(self, handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
        return self.tracer.capture_lambda_handler(handler, capture_response=False)

    @contextmanager
    def span(self, name: str, annotations: dict[str, str]) -> Iterator[None]:
        # A subsegment of its own: FastAPI runs routes on a worker thread, where
        # X-Ray sees only Lambda's facade segment, which takes no annotations.
        with self.tracer.provider.in_subsegment(name) as subsegment:
            for key, value in annotations.items():
                subsegment.put_annotation(key, value)
            yield

    def annotate(self, key: str, value: str) -> None:
        self.tracer.put_annotation(key, value)

    def metadata(self, key: str, value: Any) -> None:
        self.tracer.put_metadata(key, value)


class OpenTelemetryTracer:
    """The OpenTelemetry API; the SDK, the X-Ray exporter and the handler's own span come with the ADOT layer.

    Without a configured SDK the API is a no-op. Annotations become span
    attributes, and `aws.xray.annotations` makes the exporter index them as
    X-Ray annotations, so the same search finds every hop.
    """

    def __init__(self) -> None:
        from opentelemetry import trace

        self.trace = trace
        self.tracer = trace.get_tracer("async-app")

    def wrap(self, handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
        @functools.wraps(handler)
        def traced(event: dict[str, Any], context: Any) -> Any:
            attributes = {"faas.invocation_id": str(getattr(context, "aws_request_id", ""))}
            with self.tracer.start_as_current_span(f"## {handler.__name__}", attributes=attributes):
                return handler(event, context)

        return traced

    @contextmanager
    def span(self, name: str, annotations: dict[str, str]) -> Iterator[None]:
        attributes = {**annotations, "aws.xray.annotations": list(ANNOTATIONS)}
        with self.tracer.start_as_current_span(name, attributes=attributes):
            yield

    def annotate(self, key: str, value: str) -> None:
        self.trace.get_current_span().set_attribute(key, value)

    def metadata(self, key: str, value: Any) -> None:
        self.trace.get_current_span().set_attribute(key, json.dumps(value, default=str, sort_keys=True))


PROVIDERS: dict[str, type[XRayTracer] | type[OpenTelemetryTracer]] = {
    "xray": XRayTracer,
    "otel": OpenTelemetryTracer,
}


@functools.lru_cache
def get_tracer() -> XRayTracer | OpenTelemetryTracer | None:
    """The tracing provider, made on first use; None when tracing is off."""
    if not tracing_enabled():
        return None
    name = os.environ.get("TRACING_PROVIDER", TRACING_PROVIDER_DEFAULT).strip().lower()
    if name not in PROVIDERS:
        raise ValueError(f"TRACING_PROVIDER={name!r}: one of {sorted(PROVIDERS)}")
    return PROVIDERS[name]()


def _redacted(event: Any) -> Any:
    from app.log_redaction import redacted_event

    return redacted_event(event)


def lambda_handler(handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
    """Wrap a Lambda handler: Lambda context in every log line, the event at debug level, X-Ray."""

    wrapped: Callable[[dict[str, Any], Any], Any] | None = None

    @functools.wraps(handler)  # X-Ray names the handler's subsegment after it
    def run(event: dict[str, Any], context: Any) -> Any:
        logger = get_logger()
        if context is not None:
            logger.thread_safe_append_keys(**_context_keys(context))
        # Redacting the event costs more than the rest of a warm api call: only when it is logged.
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("event received", extra={"event": _redacted(event)})
        return handler(event, context)

    @functools.wraps(handler)
    def observed(event: dict[str, Any], context: Any) -> Any:
        nonlocal wrapped
        if context is None:  # called by hand (scripts, tests): no Lambda context to log
            return run(event, context)
        if wrapped is None:  # built on the first call, not at import
            wrapped = get_logger().inject_lambda_context(run, clear_state=True)
            tracer = get_tracer()
            if tracer is not None:
                wrapped = tracer.wrap(wrapped)
        return wrapped(event, context)

    return observed


def _context_keys(context: Any) -> dict[str, Any]:
    """The invocation's keys, kept per thread as well as Powertools' global ones.

    Lambda runs one invocation per process at a time, where the two agree.
    The local runtime runs every function in one process, on threads: with
    global keys alone, one function's lines carried another's name and task.
    """
    from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model

    # The same keys inject_lambda_context sets, and no task yet.
    return {**vars(build_lambda_context_model(context)), "correlation_id": None}


def _task_subsegment_name(task_type: str | None) -> str:
    return f"## task {task_type or ''}".rstrip()


def _task_annotations(task_id: str, task_type: str | None) -> dict[str, str]:
    return {"task_id": task_id, **({"task_type": task_type} if task_type else {})}


def correlate(task_id: str, task_type: str | None = None) -> None:
    """Tie the rest of this invocation to one task: log correlation id, an annotated span."""
    get_logger().thread_safe_append_keys(correlation_id=task_id)
    tracer = get_tracer()
    if tracer is not None:
        with tracer.span(_task_subsegment_name(task_type), _task_annotations(task_id, task_type)):
            pass


@contextmanager
def correlated(task_id: str, task_type: str | None = None) -> Iterator[None]:
    """Correlate one record of a batch, and let go of it afterwards.

    With tracing on, the record gets a span of its own annotated with the
    task: a batch holds several tasks, and one segment's annotations could
    name only one of them.
    """
    logger = get_logger()
    logger.thread_safe_append_keys(correlation_id=task_id)
    tracer = get_tracer()
    try:
        if tracer is None:
            yield
        else:
            with tracer.span(_task_subsegment_name(task_type), _task_annotations(task_id, task_type)):
                yield
    finally:
        logger.thread_safe_append_keys(correlation_id=None, origin_trace=None)


def record_origin_trace(trace: TraceContext) -> None:
    """Note the trace the task was created in, so a trace viewer can join the hops."""
    if not trace.x_amzn_trace_id and not trace.traceparent:
        return
    get_logger().thread_safe_append_keys(origin_trace=trace.to_public())
    tracer = get_tracer()
    if tracer is not None:
        if trace.xray_root:
            tracer.annotate("origin_trace_id", trace.xray_root)
        tracer.metadata("origin_trace", trace.to_public())


def emit_metrics(task_type: str, **metrics: tuple[str, float]) -> None:
    """EMF metrics with the task_type dimension, e.g. ``TasksCompleted=("Count", 1)``."""
    from aws_lambda_powertools.metrics import EphemeralMetrics

    emitter = EphemeralMetrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE_DEFAULT), service=_service()
    )
    emitter.add_dimension(name="task_type", value=task_type)
    for name, (unit, value) in metrics.items():
        emitter.add_metric(name=name, unit=unit, value=value)
    emitter.flush_metrics()


# --- New Relic -------------------------------------------------------------------
# Its Lambda layer wraps our handlers and sets NEW_RELIC_LAMBDA_HANDLER; the agent
# is imported only then (or with NEW_RELIC_ENABLED=true), never locally by default.


def newrelic_enabled() -> bool:
    return _flag("NEW_RELIC_ENABLED", default=bool(os.environ.get("NEW_RELIC_LAMBDA_HANDLER")))


@functools.lru_cache
def _newrelic_agent() -> Any:
    if not newrelic_enabled():
        return None
    try:
        import newrelic.agent
    except ImportError:
        get_logger().warning("NEW_RELIC_ENABLED but the newrelic agent is not installed")
        return None
    return newrelic.agent


def newrelic_headers() -> dict[str, str]:
    """New Relic's distributed-tracing headers for the current transaction (none when off)."""
    agent = _newrelic_agent()
    if agent is None:
        return {}
    headers: list[tuple[str, str]] = []
    agent.insert_distributed_trace_headers(headers)
    return dict(headers)


def accept_newrelic_headers(headers: dict[str, str]) -> bool:
    """Join the current New Relic transaction to the trace the headers came from."""
    agent = _newrelic_agent()
    if agent is None or not headers:
        return False
    return bool(agent.accept_distributed_trace_headers(headers, transport_type="Queue"))
