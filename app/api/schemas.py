"""Request bodies of the JSON API. Unknown fields are refused."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.domain import rules
from app.domain.errors import InvalidTaskInput
from app.domain.task import TaskStatus
from app.domain.task_types import TASK_TYPES


def check_task_type(value: str | None) -> str | None:
    if value is not None and value not in TASK_TYPES:
        raise ValueError(f"unknown task_type {value!r}; known types: {', '.join(TASK_TYPES)}")
    return value


class CreateTaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_type: str
    data: dict[str, Any]
    ttl: Any = Field(default=None, description="Expiry, epoch seconds: an int or a string of digits")

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
