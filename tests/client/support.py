"""A scripted API behind httpx.MockTransport, and a clock that moves only when slept on."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from async_app_client import AsyncAppAioClient, AsyncAppClient

BASE_URL = "http://api.test"
API_KEY = "test-key"
TASK_ID = "0b6f3f8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


def task_json(**fields: Any) -> dict[str, Any]:
    """A task as today's server returns it."""
    return {
        "id": TASK_ID,
        "task_type": "TASK1",
        "status": "CREATED",
        "status_msg": "",
        "data": {"duration_seconds": 2},
        "created_time": 1795920941,
        "updated_time": None,
        "ttl": 1900000000,
        "retry_of": None,
        "progress": None,
        "trace": {"x_amzn_trace_id": None, "traceparent": None},
        **fields,
    }


def reply(status: int = 200, body: Any = None, **headers: str) -> httpx.Response:
    """A response; header names use underscores (retry_after=...)."""
    names = {name.replace("_", "-"): value for name, value in headers.items()}
    content = b"" if body is None else json.dumps(body).encode()
    if body is not None:
        names.setdefault("content-type", "application/json")
    return httpx.Response(status, content=content, headers=names)


def error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    return reply(status, {"error": code, "message": message}, **headers)


class ScriptedApi:
    """Answers requests with the replies it was given, in order, and keeps every request."""

    def __init__(self, *replies: Reply):
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.replies.pop(0)
        return answer(request) if callable(answer) else answer

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def bodies(self) -> list[Any]:
        return [json.loads(request.content) if request.content else None for request in self.requests]


class FakeClock:
    """Monotonic time that advances only by what is slept."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def sync_client(api: ScriptedApi, clock: FakeClock | None = None, **options: Any) -> AsyncAppClient:
    clock = clock or FakeClock()
    return AsyncAppClient(
        BASE_URL, API_KEY, transport=api.transport, clock=clock, sleep=clock.sleep, env={}, **options
    )


def aio_client(api: ScriptedApi, clock: FakeClock | None = None, **options: Any) -> AsyncAppAioClient:
    clock = clock or FakeClock()
    return AsyncAppAioClient(
        BASE_URL, API_KEY, transport=api.transport, clock=clock, sleep=clock.async_sleep, env={}, **options
    )
