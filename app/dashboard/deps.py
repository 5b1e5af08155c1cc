"""Dependencies of the dashboard's routes, as types the routes can read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.api.deps import SettingsDep, StoreDep, get_settings, get_store
from app.services.dashboard import StatusCounter
from app.services.sign_in import SignInRecords


def get_counter(request: Request) -> StatusCounter:
    state = request.app.state
    if state.counter is None:
        from app.adapters.aggregates import TaskAggregates

        # The same client as the store's, where it has one (the tests' emulator).
        client = getattr(state.store, "dynamodb", None)
        state.counter = TaskAggregates(state.settings.table_name, client)
    return state.counter


def get_sign_in_records(request: Request) -> SignInRecords:
    state = request.app.state
    if getattr(state, "sign_in_records", None) is None:
        from app.adapters.sign_in_records import SignInRecords as DynamoDBSignInRecords

        # The same client as the store's, where it has one (the tests' emulator).
        client = getattr(state.store, "dynamodb", None)
        state.sign_in_records = DynamoDBSignInRecords(state.settings.table_name, client)
    return state.sign_in_records


CounterDep = Annotated[StatusCounter, Depends(get_counter)]
SignInRecordsDep = Annotated[SignInRecords, Depends(get_sign_in_records)]

__all__ = ["CounterDep", "SettingsDep", "SignInRecordsDep", "StoreDep", "get_settings", "get_store"]
