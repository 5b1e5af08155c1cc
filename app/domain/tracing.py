"""The trace context a task carries across the asynchronous hops.

X-Ray cannot follow a task through the DynamoDB stream and SQS, so the api
keeps the caller's trace headers on the task, the publisher copies them into
the message attributes, and each worker records them: every hop of one task
can be found from the first trace. New Relic's distributed-tracing headers
travel the same way, under an ``nr_`` prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

XRAY_ATTRIBUTE = "x_amzn_trace_id"
W3C_ATTRIBUTE = "traceparent"
NEWRELIC_PREFIX = "nr_"


@dataclass(frozen=True)
class TraceContext:
    x_amzn_trace_id: str | None = None
    traceparent: str | None = None
    newrelic: dict[str, str] = field(default_factory=dict)

    @property
    def xray_root(self) -> str | None:
        for part in (self.x_amzn_trace_id or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "Root" and value:
                return value
        return None

    def to_message_attributes(self) -> dict[str, dict[str, str]]:
        """SNS message attributes; with raw delivery they arrive as SQS message attributes."""
        values = {XRAY_ATTRIBUTE: self.x_amzn_trace_id, W3C_ATTRIBUTE: self.traceparent}
        values.update({NEWRELIC_PREFIX + name: value for name, value in self.newrelic.items()})
        return {name: {"DataType": "String", "StringValue": value} for name, value in values.items() if value}

    @classmethod
    def from_sqs_attributes(cls, attributes: dict[str, Any]) -> TraceContext:
        """Read back what ``to_message_attributes`` wrote, from a Lambda SQS record."""

        def value(name: str) -> str | None:
            attribute = attributes.get(name) or {}
            return attribute.get("stringValue") or attribute.get("StringValue")

        newrelic = {
            name.removeprefix(NEWRELIC_PREFIX): found
            for name in attributes
            if name.startswith(NEWRELIC_PREFIX) and (found := value(name))
        }
        return cls(value(XRAY_ATTRIBUTE), value(W3C_ATTRIBUTE), newrelic)

    def to_public(self) -> dict[str, str | None]:
        return {"x_amzn_trace_id": self.x_amzn_trace_id, "traceparent": self.traceparent}
