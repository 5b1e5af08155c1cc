"""The JSON API. Routes parse, call one service function, and shape the reply."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, Security
from pydantic import AfterValidator

from app import observability
from app.api.deps import ClockDep, SettingsDep, StoreDep, TaskIdDep, TraceDep, require_json
from app.api.json_body import StrictJsonRoute
from app.api.openapi import PROTECTED, accepted, api_key_scheme, error_responses
from app.api.schemas import (
    TASK_TYPE_SCHEMA,
    CreatedOut,
    CreateTaskRequest,
    EventsOut,
    HealthOut,
    RetriedOut,
    TaskListOut,
    TaskOut,
    UpdateTaskRequest,
    check_task_type,
)
from app.domain.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, TaskQuery
from app.domain.task import TaskStatus
from app.services import tasks, timeline

health_router = APIRouter()
# x-api-key is checked by ApiKeyMiddleware before the body is parsed; the
# dependency only declares the scheme in the OpenAPI document.
router = APIRouter(
    prefix="/tasks",
    route_class=StrictJsonRoute,
    dependencies=[Security(api_key_scheme)],
    responses=error_responses(*PROTECTED),
)
EPOCH_SECONDS = Query(ge=0, le=9_999_999_999, description="epoch seconds, inclusive")


@health_router.get("/health", response_model=None, responses={200: {"model": HealthOut}})
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post(
    "",
    status_code=202,
    dependencies=[Depends(require_json)],
    response_model=None,
    responses={
        **accepted(CreatedOut, "Accepted: the task will run; poll its Location"),
        **error_responses(400, 413, 415, 422),
    },
)
def create_task(
    body: CreateTaskRequest,
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    trace: TraceDep,
    clock: ClockDep,
) -> dict[str, str]:
    task = tasks.create_task(
        store,
        body.task_type,
        body.data,
        body.ttl,
        max_data_bytes=settings.max_data_bytes,
        default_ttl_seconds=settings.default_ttl_seconds,
        trace=trace,
        clock=clock,
    )
    observability.correlate(task.id, task.task_type)
    observability.get_logger().info("task created")
    _point_to_status(request, response, task.id)
    return {"id": task.id}


@router.get("", response_model=None, responses={200: {"model": TaskListOut}, **error_responses(400, 422)})
def list_tasks(
    store: StoreDep,
    status: TaskStatus | None = None,
    task_type: Annotated[
        str | None, Query(json_schema_extra=TASK_TYPE_SCHEMA), AfterValidator(check_task_type)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    next_token: Annotated[str | None, Query(description="The next_token of the previous page")] = None,
    created_from: Annotated[int | None, EPOCH_SECONDS] = None,
    created_to: Annotated[int | None, EPOCH_SECONDS] = None,
) -> dict[str, object]:
    query = TaskQuery(
        status=status,
        task_type=task_type,
        created_from=created_from,
        created_to=created_to,
        limit=limit,
    )
    page = tasks.list_tasks(store, query, next_token)
    return {"tasks": [task.to_public() for task in page.tasks], "next_token": page.next_token}


@router.get(
    "/{task_id}",
    name="get_task",
    response_model=None,
    responses={200: {"model": TaskOut}, **error_responses(404)},
)
def get_task(task_id: TaskIdDep, store: StoreDep) -> dict[str, object]:
    return tasks.get_task(store, task_id).to_public()


@router.get(
    "/{task_id}/events", response_model=None, responses={200: {"model": EventsOut}, **error_responses(404)}
)
def get_task_events(task_id: TaskIdDep, store: StoreDep) -> dict[str, object]:
    """The task's timeline, oldest first: one event per hop."""
    return {"task_id": task_id, "events": [e.to_public() for e in timeline.task_timeline(store, task_id)]}


@router.patch(
    "/{task_id}",
    dependencies=[Depends(require_json)],
    response_model=None,
    responses={200: {"model": TaskOut}, **error_responses(400, 404, 409, 413, 415, 422)},
)
def update_task(task_id: TaskIdDep, body: UpdateTaskRequest, store: StoreDep) -> dict[str, object]:
    return tasks.change_status(store, task_id, body.status, body.status_msg).to_public()


@router.post(
    "/{task_id}/retry",
    status_code=202,
    response_model=None,
    responses={
        **accepted(RetriedOut, "Accepted: the retry will run (the same retry, if it was retried before)"),
        **error_responses(404, 409),
    },
)
def retry_task(
    task_id: TaskIdDep,
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    trace: TraceDep,
    clock: ClockDep,
) -> dict[str, str]:
    """Retry a FAILED task, once: asking again returns the same retry."""
    task = tasks.retry_task(
        store, task_id, default_ttl_seconds=settings.default_ttl_seconds, trace=trace, clock=clock
    )
    _point_to_status(request, response, task.id)
    return {"id": task.id, "retry_of": task_id}


def _point_to_status(request: Request, response: Response, task_id: str) -> None:
    """The async request-reply pattern: 202 plus where to poll for the result."""
    response.headers["Location"] = str(request.url_for("get_task", task_id=task_id))
