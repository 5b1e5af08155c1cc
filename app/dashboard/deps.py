"""Dependencies of the dashboard's routes, as types the routes can read, and where blocking calls run.

Every dependency here is ``async`` and does no I/O: FastAPI runs a plain
``def`` dependency in a worker thread, and each such hop cost the list page
more CPU than its store calls (stubbed) and half its render together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from app.api.deps import get_settings, get_store
from app.services.dashboard import StatusCounter
from app.services.ports import TaskRepository
from app.services.sign_in import SignInRecords
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


async def settings_of(request: Request) -> Settings:
    return get_settings(request)


async def store_of(request: Request) -> TaskRepository:
    return get_store(request)


async def get_counter(request: Request) -> StatusCounter:
    state = request.app.state
    if state.counter is None:
        from app.adapters.aggregates import TaskAggregates

        # The same client as the store's, where it has one (the tests' emulator).
        client = getattr(state.store, "dynamodb", None)
        state.counter = TaskAggregates(state.settings.table_name, client)
    return state.counter


async def get_sign_in_records(request: Request) -> SignInRecords:
    state = request.app.state
    if getattr(state, "sign_in_records", None) is None:
        from app.adapters.sign_in_records import SignInRecords as DynamoDBSignInRecords

        # The same client as the store's, where it has one (the tests' emulator).
        client = getattr(state.store, "dynamodb", None)
        state.sign_in_records = DynamoDBSignInRecords(state.settings.table_name, client)
    return state.sign_in_records


SettingsDep = Annotated[Settings, Depends(settings_of)]
StoreDep = Annotated[TaskRepository, Depends(store_of)]
CounterDep = Annotated[StatusCounter, Depends(get_counter)]
SignInRecordsDep = Annotated[SignInRecords, Depends(get_sign_in_records)]
