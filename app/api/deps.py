"""Dependencies of the routes, as types the routes can read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.adapters.task_store import TaskStore
from app.api.errors import ApiError
from app.services.ports import TaskRepository
from app.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> TaskRepository:
    state = request.app.state
    if state.store is None:
        state.store = TaskStore(state.settings.table_name)
    return state.store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[TaskRepository, Depends(get_store)]


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "Content-Type must be application/json")
