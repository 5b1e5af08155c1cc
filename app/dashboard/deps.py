"""Dependencies of the dashboard's routes, as types the routes can read, and where blocking calls run.

Every dependency here is ``async`` and does no I/O: FastAPI runs a plain
``def`` dependency in a worker thread, and each such hop cost the list page
more CPU than its store calls (stubbed) and half its render together.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from app import bootstrap
from app.api.deps import get_settings, get_store
from app.bootstrap import DeadLetterSetup
from app.services.dashboard import StatusCounter
from app.services.ports import TaskRepository
from app.services.sign_in import SignInRecords
from app.services.stats import StatsReader
from app.settings import Settings


async def settings_of(request: Request) -> Settings:
    return get_settings(request)


async def store_of(request: Request) -> TaskRepository:
    return get_store(request)


async def get_counter(request: Request) -> StatusCounter:
    return bootstrap.counter(request.app.state)


async def get_stats_reader(request: Request) -> StatsReader:
    """The aggregates (app/adapters/aggregates.py), which serve both the counts and the stats."""
    return cast(StatsReader, bootstrap.counter(request.app.state))


async def get_sign_in_records(request: Request) -> SignInRecords:
    return bootstrap.sign_in_records(request.app.state)


SettingsDep = Annotated[Settings, Depends(settings_of)]
StoreDep = Annotated[TaskRepository, Depends(store_of)]
CounterDep = Annotated[StatusCounter, Depends(get_counter)]
StatsDep = Annotated[StatsReader, Depends(get_stats_reader)]
SignInRecordsDep = Annotated[SignInRecords, Depends(get_sign_in_records)]


async def get_dead_letters(request: Request) -> DeadLetterSetup:
    """The queues the dead-letters page shows, from the api's environment (tests set their own)."""
    return bootstrap.dead_letters(request.app.state)


DeadLettersDep = Annotated[DeadLetterSetup, Depends(get_dead_letters)]
