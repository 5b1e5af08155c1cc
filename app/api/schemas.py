"""Bodies of the JSON API: requests (unknown fields refused) and the responses the OpenAPI document shows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.domain import rules
from app.domain.errors import InvalidTaskInput
from app.domain.task import TaskStatus
from app.domain.task_types import TASK_TYPES

TASK_TYPE_SCHEMA = {"enum": list(TASK_TYPES)}


def check_task_type(value: str | None) -> str | None:
    if value is not None and value not in TASK_TYPES:
        raise ValueError(f"unknown task_type {value!r}; known types: {', '.join(TASK_TYPES)}")
    return value


class CreateTaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_type: str = Field(json_schema_extra=TASK_TYPE_SCHEMA)
    data: dict[str, Any] = Field(
        description=f"Any JSON object: standard JSON (no NaN or Infinity, no lone surrogates), "
        f"nested at most {rules.MAX_DATA_DEPTH} levels, at most MAX_DATA_BYTES as JSON",
    )
    # The schema's bounds are filled in when the document is served (app/api/openapi.py):
    # in the future, and at most MAX_TTL_SECONDS ahead.
    ttl: Any = Field(
        default=None,
        description="Expiry, epoch seconds: in the future, at most a year ahead (default: 7 days). "
        "A string of digits is accepted too.",
        json_schema_extra={"anyOf": [{"type": "integer"}, {"type": "null"}]},
    )

    _task_type = field_validator("task_type")(check_task_type)

    @field_validator("ttl")
    @classmethod
    def _ttl_is_epoch_seconds(cls, value: Any) -> int | None:
        if value is None:
            return None
        try:
            return rules.parse_epoch_seconds(value)
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
    unreadable: str | None = Field(
        description="Why the stored task could not be read in full (its data is then null); "
        "null for every healthy task"
    )


class TaskListOut(BaseModel):
    tasks: list[TaskOut]
    next_token: str | None = Field(description="Pass it back for the next page; null on the last page")


class CreatedOut(BaseModel):
    id: str = Field(json_schema_extra={"format": "uuid"})


class RetriedOut(BaseModel):
    id: str = Field(json_schema_extra={"format": "uuid"}, description="The retry (the same on every retry)")
    retry_of: str


class EventOut(BaseModel):
    hop: str
    at_ms: int
    since_created_ms: int
    source: str
    status: str | None
    attempt: int | None
    progress: int | None
    message: str


class EventsOut(BaseModel):
    task_id: str
    events: list[EventOut]


class HealthOut(BaseModel):
    status: str
