"""The JSON API. Routes parse, call one service function, and shape the reply."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AfterValidator

from app import observability
from app.api.deps import SettingsDep, StoreDep, TaskIdDep, TraceDep, require_json
from app.api.schemas import CreateTaskRequest, UpdateTaskRequest, check_task_type
from app.domain.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, TaskQuery
from app.domain.task import TaskStatus
from app.services import tasks, timeline

health_router = APIRouter()
# x-api-key is checked by ApiKeyMiddleware before the body is parsed.
router = APIRouter(prefix="/tasks")


@health_router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post("", status_code=202, dependencies=[Depends(require_json)])
def create_task(
    body: CreateTaskRequest,
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    trace: TraceDep,
) -> dict[str, str]:
    task = tasks.create_task(
        store,
        body.task_type,
        body.data,
        body.ttl,
        max_data_bytes=settings.max_data_bytes,
        default_ttl_seconds=settings.default_ttl_seconds,
        trace=trace,
    )
    observability.correlate(task.id, task.task_type)
    observability.get_logger().info("task created")
    _point_to_status(request, response, task.id)
    return {"id": task.id}


@router.get("")
def list_tasks(
    store: StoreDep,
    status: TaskStatus | None = None,
    task_type: Annotated[str | None, Query(), AfterValidator(check_task_type)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    next_token: str | None = None,
    created_from: Annotated[int | None, Query(ge=0, description="epoch seconds, inclusive")] = None,
    created_to: Annotated[int | None, Query(ge=0, description="epoch seconds, inclusive")] = None,
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


@router.get("/{task_id}", name="get_task")
def get_task(task_id: TaskIdDep, store: StoreDep) -> dict[str, object]:
    return tasks.get_task(store, task_id).to_public()


@router.get("/{task_id}/events")
def get_task_events(task_id: TaskIdDep, store: StoreDep) -> dict[str, object]:
    """The task's timeline, oldest first: one event per hop."""
    return {"task_id": task_id, "events": [e.to_public() for e in timeline.task_timeline(store, task_id)]}


@router.patch("/{task_id}", dependencies=[Depends(require_json)])
def update_task(task_id: TaskIdDep, body: UpdateTaskRequest, store: StoreDep) -> dict[str, object]:
    return tasks.change_status(store, task_id, body.status, body.status_msg).to_public()


@router.post("/{task_id}/retry", status_code=202)
def retry_task(
    task_id: TaskIdDep,
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    trace: TraceDep,
) -> dict[str, str]:
    task = tasks.retry_task(store, task_id, default_ttl_seconds=settings.default_ttl_seconds, trace=trace)
    _point_to_status(request, response, task.id)
    return {"id": task.id, "retry_of": task_id}


def _point_to_status(request: Request, response: Response, task_id: str) -> None:
    """The async request-reply pattern: 202 plus where to poll for the result."""
    response.headers["Location"] = str(request.url_for("get_task", task_id=task_id))
