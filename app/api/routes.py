"""The JSON API. Routes parse, call one service function, and shape the reply."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import AfterValidator

from app import bootstrap, observability
from app.adapters import secrets
from app.api.deps import (
    CallerDep,
    ClockDep,
    IdempotencyKeyDep,
    ResolverDep,
    SettingsDep,
    StoreDep,
    TaskIdDep,
    TaskIdPath,
    TraceDep,
    get_store,
    off_loop,
    require_json,
)
from app.api.json_body import StrictJsonRoute
from app.api.openapi import PROTECTED, ResponsesDocumentedLater, accepted, error_responses
from app.api.schemas import (
    CreatedOut,
    CreateTaskRequest,
    EventsOut,
    HealthOut,
    HealthProblem,
    ResendOut,
    RetriedOut,
    TaskListOut,
    TaskOut,
    UpdateTaskRequest,
    check_task_type,
    task_type_schema,
)
from app.domain import idempotency, search
from app.domain.idempotency import StoredResponse
from app.domain.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, TaskQuery
from app.domain.task import RetryState, Task, TaskStatus
from app.services import tasks, timeline, webhooks
from app.services.idempotency import Reply, once


def operation_id(route: APIRoute) -> str:
    """Operations are named after their functions (create_task, get_task...): what generated clients call."""
    return route.name


health_router = APIRouter(route_class=ResponsesDocumentedLater, generate_unique_id_function=operation_id)
# x-api-key is checked by ApiKeyMiddleware before the body is parsed, and
# declared in the OpenAPI document by app/api/openapi.py.
router = APIRouter(
    prefix="/tasks",
    route_class=StrictJsonRoute,
    responses=error_responses(*PROTECTED),
    generate_unique_id_function=operation_id,
)
RETRY_STATE_FILTER = (
    "retrying: IN_PROGRESS tasks between attempts; gave_up: FAILED tasks whose attempts ran out; "
    "none: tasks in neither (with status=IN_PROGRESS, those running now). Their status is unchanged: "
    "status=IN_PROGRESS lists the retrying ones too, status=FAILED those that gave up; "
    "with another status, retrying or gave_up lists nothing."
)
EPOCH_SECONDS = Query(ge=0, le=9_999_999_999, description="epoch seconds, inclusive")
SEARCH_TEXT = Query(
    max_length=search.MAX_QUERY_CHARS,
    description=(
        f"Tasks with every word of this (at most {search.MAX_QUERY_WORDS} words) in their searchable data, "
        "standing status message or result, newest first (docs/api.md, Search). Combines with task_type "
        "and the created range, not with status or retry_state (422)."
    ),
)


@health_router.get(
    "/health",
    response_model=None,
    responses={
        200: {"model": HealthOut, "description": "Ready: every secret the api needs is there"},
        503: {"model": HealthOut, "description": "Not ready: each problem names its SSM parameter"},
    },
)
async def health(request: Request, settings: SettingsDep) -> JSONResponse:
    """Liveness and readiness: 200 when the api can serve, 503 naming what is not configured."""
    problems = await off_loop(request, secrets.api_unready, settings)
    body = HealthOut(
        status="not_configured" if problems else "ok",
        ready=not problems,
        problems=[HealthProblem(parameter=p.parameter, message=str(p)) for p in problems],
    )
    if problems:
        observability.get_logger().error("not ready", extra={"parameters": [p.parameter for p in problems]})
    return JSONResponse(body.model_dump(), status_code=503 if problems else 200)


@router.post(
    "",
    status_code=202,
    dependencies=[Depends(require_json)],
    response_model=None,
    responses={
        **accepted(CreatedOut, "Accepted: the task will run (at run_at, if given); poll its Location"),
        **error_responses(400, 409, 413, 415, 422),
    },
)
async def create_task(
    body: CreateTaskRequest,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    trace: TraceDep,
    clock: ClockDep,
    resolve: ResolverDep,
    key: IdempotencyKeyDep,
) -> JSONResponse:
    """Submit a task: with `run_at` it waits SCHEDULED until then; `callback_url` hears when it ends."""
    check_callback = functools.partial(webhooks.check_callback_url, local=settings.is_local, resolve=resolve)

    def create(keep: tasks.Keep | None) -> Task:
        return tasks.create_task(
            store,
            body.task_type,
            body.data,
            body.ttl,
            max_data_bytes=settings.max_data_bytes,
            default_ttl_seconds=settings.default_ttl_seconds,
            run_at=body.run_at,
            callback_url=body.callback_url,
            check_callback=check_callback,
            trace=trace,
            clock=clock,
            keep=keep,
        )

    reply = await off_loop(
        request,
        once,
        store,
        _idempotent_request(request, key, body.model_dump(exclude_none=True)),
        lambda task: _accepted(request, task, {"id": task.id}),
        create,
        clock,
    )
    observability.correlate(reply.response.body["id"], body.task_type)
    observability.get_logger().info("task created" if not reply.replayed else "task creation replayed")
    return _reply(reply)


@router.get("", response_model=None, responses={200: {"model": TaskListOut}, **error_responses(400, 422)})
async def list_tasks(
    request: Request,
    store: StoreDep,
    status: TaskStatus | None = None,
    task_type: Annotated[
        str | None, Query(json_schema_extra=task_type_schema), AfterValidator(check_task_type)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    next_token: Annotated[str | None, Query(description="The next_token of the previous page")] = None,
    created_from: Annotated[int | None, EPOCH_SECONDS] = None,
    created_to: Annotated[int | None, EPOCH_SECONDS] = None,
    retry_state: Annotated[RetryState | None, Query(description=RETRY_STATE_FILTER)] = None,
    q: Annotated[str | None, SEARCH_TEXT] = None,
) -> JSONResponse:
    query = TaskQuery(
        status=status,
        task_type=task_type,
        created_from=created_from,
        created_to=created_to,
        limit=limit,
        retry_state=retry_state,
        words=search.query_words(q) if q and q.strip() else (),
    )
    page = await off_loop(request, tasks.list_tasks, store, query, next_token)
    return JSONResponse({"tasks": [task.to_public() for task in page.tasks], "next_token": page.next_token})


@router.get(
    "/{task_id}",
    name="get_task",
    response_model=None,
    responses={200: {"model": TaskOut}, **error_responses(404)},
)
async def get_task(task_id: TaskIdPath, request: Request) -> JSONResponse:
    # The busiest route takes no dependencies: FastAPI solving each one cost a
    # warm call more than a fifth of its time (scripts/bench_warm_path.py).
    observability.correlate(task_id)
    task = await off_loop(request, tasks.get_task, get_store(request), task_id)
    return JSONResponse(task.to_public())


@router.get(
    "/{task_id}/events", response_model=None, responses={200: {"model": EventsOut}, **error_responses(404)}
)
async def get_task_events(task_id: TaskIdDep, request: Request, store: StoreDep) -> JSONResponse:
    """The task's timeline, oldest first: one event per hop."""
    events = await off_loop(request, timeline.task_timeline, store, task_id)
    return JSONResponse({"task_id": task_id, "events": [event.to_public() for event in events]})


@router.patch(
    "/{task_id}",
    dependencies=[Depends(require_json)],
    response_model=None,
    responses={200: {"model": TaskOut}, **error_responses(400, 404, 409, 413, 415, 422)},
)
async def update_task(
    task_id: TaskIdDep, body: UpdateTaskRequest, request: Request, store: StoreDep, caller: CallerDep
) -> JSONResponse:
    """Move a task through the state machine (CANCELLED ends it at once, even while it runs)."""
    task = await off_loop(
        request, tasks.change_status, store, task_id, body.status, body.status_msg, requested_by=caller
    )
    return JSONResponse(task.to_public())


@router.post(
    "/{task_id}/retry",
    status_code=202,
    response_model=None,
    responses={
        **accepted(RetriedOut, "Accepted: the retry will run (the same retry, if it was retried before)"),
        **error_responses(404, 409, 422),
    },
)
async def retry_task(
    task_id: TaskIdDep,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    trace: TraceDep,
    clock: ClockDep,
    key: IdempotencyKeyDep,
) -> JSONResponse:
    """Retry a FAILED task, once: asking again returns the same retry."""

    def retry(keep: tasks.Keep | None) -> Task:
        return tasks.retry_task(
            store,
            task_id,
            default_ttl_seconds=settings.default_ttl_seconds,
            trace=trace,
            clock=clock,
            keep=keep,
        )

    reply = await off_loop(
        request,
        once,
        store,
        _idempotent_request(request, key, None),
        lambda task: _accepted(request, task, {"id": task.id, "retry_of": task_id}),
        retry,
        clock,
    )
    return _reply(reply)


@router.post(
    "/{task_id}/cancel",
    status_code=202,
    response_model=None,
    responses={
        **accepted(
            TaskOut,
            "Accepted: a SCHEDULED or CREATED task is CANCELLED at once; an IN_PROGRESS one is marked "
            "(cancel_requested) and ends CANCELLED at its worker's next progress write "
            "(at most a second apart) or its end",
            location="The task's status URL",
        ),
        **error_responses(404, 409),
    },
)
async def cancel_task(
    task_id: TaskIdDep, request: Request, store: StoreDep, caller: CallerDep
) -> JSONResponse:
    """Cancel a task that has not ended; 409 for one that has."""
    task = await off_loop(request, tasks.cancel_task, store, task_id, caller)
    return _reply(Reply(_accepted(request, task, task.to_public())))


@router.post(
    "/{task_id}/webhook/resend",
    status_code=202,
    response_model=None,
    responses={
        **accepted(ResendOut, "Accepted: the webhook is queued again (same webhook-id)", location="The task"),
        **error_responses(404, 409, 429),
    },
)
async def resend_webhook(
    task_id: TaskIdDep, request: Request, store: StoreDep, clock: ClockDep
) -> JSONResponse:
    """Send a finished task's webhook again; 409 when it has no callback_url or has not ended.

    One resend a task a minute; 429 with Retry-After sooner.
    """
    resend = bootstrap.webhook_resend(request.app.state)
    send = await off_loop(request, webhooks.resend, store, resend.deliveries, resend.queue, task_id, clock)
    return _reply(Reply(StoredResponse(202, {"id": task_id, "send": send}, _status_url(request, task_id))))


# A polling hint on every 202: the task moves within seconds (or at its run_at).
RETRY_AFTER_SECONDS = 1


def _status_url(request: Request, task_id: str) -> str:
    return str(request.url_for("get_task", task_id=task_id))


def _accepted(request: Request, task: Task, body: dict[str, Any]) -> StoredResponse:
    """The async request-reply pattern: 202 plus where to poll for the result."""
    return StoredResponse(202, body, _status_url(request, task.id))


def _reply(reply: Reply) -> JSONResponse:
    response = reply.response
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if response.location:
        headers["Location"] = response.location
    if reply.replayed:
        headers[REPLAYED_HEADER] = "true"
    return JSONResponse(response.body, status_code=response.status_code, headers=headers)


# Set on the answer to a request whose Idempotency-Key was seen before.
REPLAYED_HEADER = "Idempotent-Replayed"


def _idempotent_request(request: Request, key: str | None, body: Any) -> idempotency.IdempotentRequest | None:
    if key is None:
        return None
    root = request.scope.get("root_path", "")
    path = request.url.path.removeprefix(root) if root else request.url.path
    return idempotency.request_of(request.headers.get("x-api-key", ""), key, request.method, path, body)
