"""Dependencies of the routes, as types the routes can read."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Request

from app import observability
from app.adapters.task_store import TaskStore
from app.api.errors import ApiError
from app.domain.tracing import TraceContext
from app.services.ports import TaskRepository
from app.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> TaskRepository:
    state = request.app.state
    if state.store is None:
        state.store = TaskStore(state.settings.table_name)
    return state.store


def get_clock(request: Request) -> Callable[[], float]:
    return getattr(request.app.state, "clock", time.time)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Callable[[], float], Depends(get_clock)]
StoreDep = Annotated[TaskRepository, Depends(get_store)]


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "Content-Type must be application/json")


def incoming_trace(request: Request) -> TraceContext:
    """The caller's trace context, kept on the task so that every later hop can join it."""
    return TraceContext(
        x_amzn_trace_id=request.headers.get("x-amzn-trace-id") or os.environ.get("_X_AMZN_TRACE_ID"),
        traceparent=request.headers.get("traceparent"),
        newrelic=observability.newrelic_headers(),
    )


def correlated_task_id(task_id: Annotated[str, Path(json_schema_extra={"format": "uuid"})]) -> str:
    """The path's task id, also set as the correlation id of every log line of the request."""
    observability.correlate(task_id)
    return task_id


TraceDep = Annotated[TraceContext, Depends(incoming_trace)]
TaskIdDep = Annotated[str, Depends(correlated_task_id)]
