"""Python client for the async-app task API: ``AsyncAppClient`` (sync) and ``AsyncAppAioClient`` (asyncio)."""

from async_app_client.aio import AsyncAppAioClient
from async_app_client.client import AsyncAppClient
from async_app_client.config import API_KEY_VARIABLE, DEFAULT_URL, URL_VARIABLE
from async_app_client.errors import (
    ApiError,
    AsyncAppError,
    ConfigurationError,
    Conflict,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    ServiceUnreachable,
    Unauthorized,
    WaitTimeout,
)
from async_app_client.models import FINAL_STATUSES, Accepted, Task, TaskEvent, TaskPage, TaskStatus
from async_app_client.waiting import Backoff

__all__ = [
    "API_KEY_VARIABLE",
    "DEFAULT_URL",
    "FINAL_STATUSES",
    "URL_VARIABLE",
    "Accepted",
    "ApiError",
    "AsyncAppAioClient",
    "AsyncAppClient",
    "AsyncAppError",
    "Backoff",
    "ConfigurationError",
    "Conflict",
    "IdempotencyKeyReused",
    "InvalidRequest",
    "NotFound",
    "RateLimited",
    "ServerError",
    "ServiceUnavailable",
    "ServiceUnreachable",
    "Task",
    "TaskEvent",
    "TaskPage",
    "TaskStatus",
    "Unauthorized",
    "WaitTimeout",
]
