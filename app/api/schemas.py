"""Bodies of the JSON API: requests (unknown fields refused) and the responses the OpenAPI document shows."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.domain import callbacks, rules
from app.domain.errors import InvalidTaskInput
from app.domain.task import TaskStatus
from app.task_registry import names


def task_type_schema(schema: dict[str, Any]) -> None:
    """The task_type enum, from the declared task types, when the OpenAPI document is made."""
    schema["enum"] = names()


def check_task_type(value: str | None) -> str | None:
    if value is not None and value not in names():
        raise ValueError(f"unknown task_type {value!r}; known types: {', '.join(names())}")
    return value


class CreateTaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_type: str = Field(json_schema_extra=task_type_schema)
    data: dict[str, Any] = Field(
        description=f"Any JSON object: standard JSON (no NaN or Infinity, no lone surrogates), "
        f"nested at most {rules.MAX_DATA_DEPTH} levels, at most MAX_DATA_BYTES as JSON",
    )
    # The schema's bounds are filled in when the document is served (app/api/openapi.py):
    # in the future, and at most MAX_TTL_SECONDS ahead.
    ttl: Any = Field(
        default=None,
        description="Expiry, epoch seconds: in the future, at most a year ahead (default: 7 days, "
        "counted from run_at when there is one). A string of digits is accepted too.",
        json_schema_extra={"anyOf": [{"type": "integer"}, {"type": "null"}]},
    )
    # Bounds filled in when the document is served, like ttl's.
    run_at: Any = Field(
        default=None,
        description="Start no earlier than this, epoch seconds (at most a year ahead): the task waits "
        "SCHEDULED until then. A string of digits is accepted too.",
        json_schema_extra={"anyOf": [{"type": "integer"}, {"type": "null"}]},
    )
    callback_url: str | None = Field(
        default=None,
        max_length=callbacks.MAX_URL_CHARS,
        description="Where to POST the task, signed (Standard Webhooks), when it ends: https to a host "
        "with public addresses only (http to loopback too, in stage local)",
        json_schema_extra={"format": "uri", "pattern": "^https?://"},
    )

    _task_type = field_validator("task_type")(check_task_type)

    @field_validator("ttl", "run_at")
    @classmethod
    def _epoch_seconds(cls, value: Any, info: ValidationInfo) -> int | None:
        if value is None:
            return None
        try:
            return rules.parse_epoch_seconds(value, info.field_name or "ttl")
        except InvalidTaskInput as exc:
            raise ValueError(str(exc)) from exc


class UpdateTaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TaskStatus
    status_msg: str = Field(default="", max_length=rules.MAX_STATUS_MSG_CHARS)


# --- responses, for the OpenAPI document (the routes return plain dicts) ----------------------


class TraceOut(BaseModel):
    x_amzn_trace_id: str | None
    traceparent: str | None


class TaskOut(BaseModel):
    id: str = Field(json_schema_extra={"format": "uuid"})
    task_type: str
    status: TaskStatus
    status_msg: str
    data: dict[str, Any] | None = Field(description="As sent; null only when `unreadable` says why")
    created_time: int
    updated_time: int | None
    ttl: int
    retry_of: str | None = Field(description="The task this one retries")
    retried_as: str | None = Field(description="The retry of this task, once retried")
    progress: int | None = Field(ge=0, le=100)
    started_ms: int | None = Field(description="When a worker first started it (epoch milliseconds)")
    finished_ms: int | None = Field(description="When it reached a final status (epoch milliseconds)")
    trace: TraceOut
    result: Any = Field(
        default=None,
        description="What the worker's run returned (any JSON value, at most MAX_RESULT_BYTES as JSON); "
        "null until the task COMPLETED",
    )
    run_at: int | None = Field(default=None, description="When a scheduled task was due to start")
    callback_url: str | None = Field(default=None, description="Where its webhook goes when it ends")
    cancel_requested: str | None = Field(
        default=None, description="Who asked to cancel it (it ends CANCELLED at its worker's next write)"
    )
    unreadable: str | None = Field(
        description="Why the stored task could not be read in full (its data is then null); "
        "null for every healthy task"
    )
    attempt: int = Field(default=0, description="The number of the latest attempt a worker claimed (0: none)")
    retry_at: int | None = Field(
        default=None, description="Between attempts: when the next one is due (epoch seconds); null otherwise"
    )
    retry_state: Literal["retrying", "gave_up"] | None = Field(
        default=None,
        description="retrying: IN_PROGRESS between attempts (a crashed attempt's backoff); "
        "gave_up: FAILED because its attempts or deliveries ran out, not by its own run; "
        "null otherwise. The status is unchanged by it.",
    )


class TaskListOut(BaseModel):
    tasks: list[TaskOut]
    next_token: str | None = Field(description="Pass it back for the next page; null on the last page")


class CreatedOut(BaseModel):
    id: str = Field(json_schema_extra={"format": "uuid"})


class RetriedOut(BaseModel):
    id: str = Field(json_schema_extra={"format": "uuid"}, description="The retry (the same on every retry)")
    retry_of: str


class ErrorOut(BaseModel):
    type: str = Field(examples=["ValueError"])
    message: str
    stack: str = Field(description="The end of its stack trace (at most 4,000 characters)")


class EventOut(BaseModel):
    hop: str
    at_ms: int
    since_created_ms: int
    source: str
    status: str | None
    attempt: int | None
    progress: int | None
    message: str
    http_status: int | None = Field(default=None, description="A webhook attempt's HTTP status")
    error: ErrorOut | None = Field(default=None, description="A crashed attempt's exception")


class EventsOut(BaseModel):
    task_id: str
    events: list[EventOut]


class ResendOut(BaseModel):
    id: str = Field(json_schema_extra={"format": "uuid"})
    send: int = Field(ge=2, description="Which send of the task's webhook this is (1 was automatic)")


class HealthProblem(BaseModel):
    parameter: str | None = Field(description="The SSM parameter to create or fix, when one is the cause")
    message: str


class HealthOut(BaseModel):
    """Alive, and ready: every secret the api needs is there and usable (else 503, naming each)."""

    status: str = Field(examples=["ok"], description="ok, or not_configured")
    ready: bool
    problems: list[HealthProblem] = Field(default_factory=list)
