"""Dependencies of the dashboard's routes, as types the routes can read, and where blocking calls run.

Every dependency here is ``async`` and does no I/O: FastAPI runs a plain
``def`` dependency in a worker thread, and each such hop cost the list page
more CPU than its store calls (stubbed) and half its render together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from app.api.deps import get_settings, get_store
from app.services.dashboard import StatusCounter
from app.services.dead_letters import Queues
from app.services.ports import TaskRepository
from app.services.sign_in import SignInRecords
from app.services.stats import StatsReader
from app.settings import Settings


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


async def get_stats_reader(request: Request) -> StatsReader:
    """The aggregates (app/adapters/aggregates.py), which serve both the counts and the stats."""
    return cast(StatsReader, await get_counter(request))


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
StatsDep = Annotated[StatsReader, Depends(get_stats_reader)]
SignInRecordsDep = Annotated[SignInRecords, Depends(get_sign_in_records)]


@dataclass(frozen=True)
class DeadLetterSetup:
    queues: Queues
    # Task type (or "publisher-failures") -> (queue URL, redrivable)
    configured: dict[str, tuple[str, bool]]


async def get_dead_letters(request: Request) -> DeadLetterSetup:
    """The queues the dead-letters page shows, from the api's environment (tests set their own)."""
    state = request.app.state
    if getattr(state, "dead_letters", None) is None:
        from app.adapters.dead_letters import DeadLetterQueues, queues_from_environment
        from app.services.dead_letters import configured_queues

        configured = configured_queues(*queues_from_environment())
        state.dead_letters = DeadLetterSetup(DeadLetterQueues(), configured)
    return state.dead_letters


DeadLettersDep = Annotated[DeadLetterSetup, Depends(get_dead_letters)]
