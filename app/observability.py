"""Logs, traces and metrics of every function (Powertools), and New Relic when it is there.

Everything is created on first use: the X-Ray SDK and the New Relic agent
are imported only where they can send somewhere (in Lambda, with tracing on;
with New Relic's layer or NEW_RELIC_ENABLED), so local runs and tests pay
nothing for them and print no warnings about a missing daemon.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Tracer

    from app.domain.tracing import TraceContext

SERVICE_DEFAULT = "async-app"
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
    """X-Ray needs Lambda's daemon: off locally, in tests, or when switched off."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not _flag("POWERTOOLS_TRACE_DISABLED")


@functools.lru_cache
def get_tracer() -> Tracer | None:
    if not tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer

    # Patches boto3, so every DynamoDB, SNS and SQS call is a subsegment.
    return Tracer(service=_service())


def _redacted(event: Any) -> Any:
    from app.log_redaction import redacted_event

    return redacted_event(event)


def lambda_handler(handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
    """Wrap a Lambda handler: Lambda context in every log line, the event at debug level, X-Ray."""

    wrapped: Callable[[dict[str, Any], Any], Any] | None = None

    @functools.wraps(handler)  # X-Ray names the handler's subsegment after it
    def run(event: dict[str, Any], context: Any) -> Any:
        get_logger().debug("event received", extra={"event": _redacted(event)})
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
                wrapped = tracer.capture_lambda_handler(wrapped, capture_response=False)
        return wrapped(event, context)

    return observed


def _task_subsegment_name(task_type: str | None) -> str:
    return f"## task {task_type or ''}".rstrip()


def _annotate(subsegment: Any, task_id: str, task_type: str | None) -> None:
    subsegment.put_annotation("task_id", task_id)
    if task_type:
        subsegment.put_annotation("task_type", task_type)


def correlate(task_id: str, task_type: str | None = None) -> None:
    """Tie the rest of this invocation to one task: log correlation id, an annotated X-Ray subsegment."""
    get_logger().set_correlation_id(task_id)
    tracer = get_tracer()
    if tracer is not None:
        # A subsegment of its own: FastAPI runs routes on a worker thread, where
        # X-Ray sees only Lambda's facade segment, which takes no annotations.
        with tracer.provider.in_subsegment(_task_subsegment_name(task_type)) as subsegment:
            _annotate(subsegment, task_id, task_type)


@contextmanager
def correlated(task_id: str, task_type: str | None = None) -> Iterator[None]:
    """Correlate one record of a batch, and let go of it afterwards.

    With tracing on, the record gets a subsegment of its own annotated with
    the task: a batch holds several tasks, and one segment's annotations
    could name only one of them.
    """
    logger = get_logger()
    logger.set_correlation_id(task_id)
    tracer = get_tracer()
    try:
        if tracer is None:
            yield
        else:
            with tracer.provider.in_subsegment(_task_subsegment_name(task_type)) as subsegment:
                _annotate(subsegment, task_id, task_type)
                yield
    finally:
        logger.set_correlation_id(None)
        logger.remove_keys(["origin_trace"])


def record_origin_trace(trace: TraceContext) -> None:
    """Note the trace the task was created in, so a trace viewer can join the hops."""
    if not trace.x_amzn_trace_id and not trace.traceparent:
        return
    get_logger().append_keys(origin_trace=trace.to_public())
    tracer = get_tracer()
    if tracer is not None:
        if trace.xray_root:
            tracer.put_annotation("origin_trace_id", trace.xray_root)
        tracer.put_metadata("origin_trace", trace.to_public())


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
