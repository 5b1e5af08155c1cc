"""Dependencies of the dashboard's routes, as types the routes can read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.api.deps import SettingsDep, StoreDep, get_settings, get_store
from app.services.dashboard import StatusCounter


def get_counter(request: Request) -> StatusCounter:
    state = request.app.state
    if state.counter is None:
        from app.adapters.task_counts import TaskCounts

        state.counter = TaskCounts(state.settings.table_name)
    return state.counter


CounterDep = Annotated[StatusCounter, Depends(get_counter)]

__all__ = ["CounterDep", "SettingsDep", "StoreDep", "get_settings", "get_store"]
