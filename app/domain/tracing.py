"""The trace context a task carries across the asynchronous hops.

X-Ray cannot follow a task through the DynamoDB stream and SQS, so the api
keeps the caller's trace headers on the task, the publisher copies them into
the message attributes, and each worker records them: every hop of one task
can be found from the first trace. New Relic's distributed-tracing headers
travel the same way. How they are written in a message's attributes is the
adapters' (app/adapters/trace_attributes.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field


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

    def to_public(self) -> dict[str, str | None]:
        return {"x_amzn_trace_id": self.x_amzn_trace_id, "traceparent": self.traceparent}
