"""Dependencies of the routes, as types the routes can read, and where blocking calls run.

Every dependency is ``async`` and does no I/O: FastAPI runs a plain ``def``
dependency in a worker thread, and each such hop costs a request more than
the rest of its path through the app. Blocking calls (boto3) go through
``off_loop``.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Path, Request

from app import bootstrap, observability
from app.api.errors import ApiError
from app.domain import idempotency
from app.domain.callbacks import Address
from app.domain.tracing import TraceContext
from app.services.ports import TaskRepository
from app.settings import Settings

T = TypeVar("T")


async def off_loop(request: Request, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call (the store, SSM) where it blocks nobody.

    Under Mangum a Lambda invocation serves one request, so the call runs
    right here; where uvicorn serves many requests at once (make run), in a
    worker thread, off the event loop.
    """
    if "aws.event" in request.scope:
        return call(*args, **kwargs)
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(call, *args, **kwargs)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> TaskRepository:
    return bootstrap.store(request.app.state)


async def settings_of(request: Request) -> Settings:
    return get_settings(request)


async def store_of(request: Request) -> TaskRepository:
    return get_store(request)


async def get_clock(request: Request) -> Callable[[], float]:
    return getattr(request.app.state, "clock", time.time)


async def get_resolver(request: Request) -> Callable[[str, int], list[Address]]:
    """How callback hosts are resolved (tests set ``app.state.resolve``)."""
    resolve = getattr(request.app.state, "resolve", None)
    if resolve is None:
        from app.adapters import dns

        resolve = dns.resolve
    return resolve


async def caller(request: Request) -> str:
    """Who is asking, for the timeline: the API key's fingerprint (a hash, never the key)."""
    key = request.headers.get("x-api-key", "")
    return f"api key {hashlib.sha256(key.encode()).hexdigest()[:8]}"


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias=idempotency.HEADER,
            min_length=1,
            max_length=idempotency.MAX_KEY_CHARS,
            pattern=r"^[\x20-\x7e]+$",
            description="Makes the request safe to send again: the same key with the same request within "
            "24 hours gets the first answer (status, body, Location) and creates nothing new; with a "
            "different request, 422 idempotency_key_reused; while the first is still being handled, 409. "
            "Keys are scoped to the API key.",
        ),
    ] = None,
) -> str | None:
    return key


SettingsDep = Annotated[Settings, Depends(settings_of)]
ClockDep = Annotated[Callable[[], float], Depends(get_clock)]
StoreDep = Annotated[TaskRepository, Depends(store_of)]
ResolverDep = Annotated[Callable[[str, int], list[Address]], Depends(get_resolver)]
CallerDep = Annotated[str, Depends(caller)]
IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]


async def require_json(request: Request) -> None:
    """application/json, in UTF-8: a charset other than UTF-8 is refused too."""
    media_type, *parameters = request.headers.get("content-type", "").split(";")
    if media_type.strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "Content-Type must be application/json")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise ApiError(415, "unsupported_media_type", "Content-Type must be application/json in UTF-8")


async def incoming_trace(request: Request) -> TraceContext:
    """The caller's trace context, kept on the task so that every later hop can join it."""
    return TraceContext(
        x_amzn_trace_id=request.headers.get("x-amzn-trace-id") or os.environ.get("_X_AMZN_TRACE_ID"),
        traceparent=request.headers.get("traceparent"),
        newrelic=observability.newrelic_headers(),
    )


# The path's task id as a plain parameter: for the hot read, where a dependency
# (``TaskIdDep``) would cost more than the rest of the route.
TaskIdPath = Annotated[str, Path(json_schema_extra={"format": "uuid"})]


async def correlated_task_id(task_id: TaskIdPath) -> str:
    """The path's task id, also set as the correlation id of every log line of the request."""
    observability.correlate(task_id)
    return task_id


TraceDep = Annotated[TraceContext, Depends(incoming_trace)]
TaskIdDep = Annotated[str, Depends(correlated_task_id)]
