"""A task's trace context in SNS and SQS message attributes: what the publisher writes, what a worker reads.

With raw delivery, SNS message attributes arrive as SQS message attributes
(``StringValue`` sent, ``stringValue`` in a Lambda SQS record). New Relic's
headers go under an ``nr_`` prefix.
"""

from __future__ import annotations

from typing import Any

from app.domain.tracing import TraceContext

XRAY_ATTRIBUTE = "x_amzn_trace_id"
W3C_ATTRIBUTE = "traceparent"
NEWRELIC_PREFIX = "nr_"


def to_message_attributes(trace: TraceContext) -> dict[str, dict[str, str]]:
    """SNS message attributes; with raw delivery they arrive as SQS message attributes."""
    values = {XRAY_ATTRIBUTE: trace.x_amzn_trace_id, W3C_ATTRIBUTE: trace.traceparent}
    values.update({NEWRELIC_PREFIX + name: value for name, value in trace.newrelic.items()})
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items() if value}


def from_sqs_attributes(attributes: dict[str, Any]) -> TraceContext:
    """Read back what ``to_message_attributes`` wrote, from a Lambda SQS record."""

    def value(name: str) -> str | None:
        attribute = attributes.get(name) or {}
        return attribute.get("stringValue") or attribute.get("StringValue")

    newrelic = {
        name.removeprefix(NEWRELIC_PREFIX): found
        for name in attributes
        if name.startswith(NEWRELIC_PREFIX) and (found := value(name))
    }
    return TraceContext(value(XRAY_ATTRIBUTE), value(W3C_ATTRIBUTE), newrelic)
