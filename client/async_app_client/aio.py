"""The asyncio client: the same calls as AsyncAppClient, awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx

from async_app_client import calls
from async_app_client.calls import Call, EpochSeconds, T, result_of
from async_app_client.client import DEFAULT_HTTP_TIMEOUT, DEFAULT_WAIT_TIMEOUT, ClientCore, unreachable
from async_app_client.models import Accepted, Task, TaskEvent, TaskPage
from async_app_client.waiting import Backoff


class AsyncAppAioClient(ClientCore):
    """AsyncAppClient for asyncio: every method is a coroutine, ``iter_tasks`` an async iterator."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_HTTP_TIMEOUT,
        backoff: Backoff | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        env: Mapping[str, str] | None = None,
    ):
        super().__init__(base_url, api_key, backoff, clock, env)
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            **self.connection.httpx_options(), timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> AsyncAppAioClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, call: Call[Any]) -> httpx.Response:
        try:
            return await self._http.request(
                call.method, call.path, params=call.params, json=call.json, headers=call.headers
            )
        except httpx.TransportError as exc:
            raise unreachable(call, exc) from exc

    async def _do(self, call: Call[T]) -> T:
        return result_of(call, await self._send(call))

    async def create(
        self,
        task_type: str,
        data: Mapping[str, Any],
        *,
        ttl: EpochSeconds | None = None,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
        run_at: EpochSeconds | None = None,
    ) -> Accepted:
        """Submit a task; the answer names it and where to poll it."""
        return await self._do(
            calls.create(
                task_type,
                data,
                ttl=ttl,
                idempotency_key=idempotency_key,
                callback_url=callback_url,
                run_at=run_at,
            )
        )

    async def get(self, task_id: str) -> Task:
        return await self._do(calls.get(task_id))

    async def wait(
        self,
        task_id: str,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        *,
        on_update: Callable[[Task], object] | None = None,
    ) -> Task:
        """Poll until the task is COMPLETED, FAILED or CANCELLED; WaitTimeout after ``timeout`` seconds."""
        plan = self.wait_plan(task_id, timeout, on_update)
        call = calls.get(task_id)
        while True:
            outcome = plan.step(call, await self._send(call))
            if isinstance(outcome, Task):
                return outcome
            await self._sleep(outcome)

    async def list_tasks(self, next_token: str | None = None, **filters: Any) -> TaskPage:
        """One page, newest first. Filters: calls.LIST_FILTERS (status, task_type, retry_state, q, ...)."""
        return await self._do(calls.list_page(filters, next_token))

    async def iter_tasks(self, next_token: str | None = None, **filters: Any) -> AsyncIterator[Task]:
        """Every task matching the filters, newest first, page after page."""
        while True:
            page = await self.list_tasks(next_token, **filters)
            for task in page.tasks:
                yield task
            if not page.next_token:
                return
            next_token = page.next_token

    async def cancel(self, task_id: str) -> Task:
        """Ask for the task to be cancelled; the task as it is after the request."""
        return await self._do(calls.cancel(task_id)) or await self.get(task_id)

    async def retry(self, task_id: str, idempotency_key: str | None = None) -> Accepted:
        """Run a FAILED task's work again, as a new task linked to it."""
        return await self._do(calls.retry(task_id, idempotency_key))

    async def events(self, task_id: str) -> list[TaskEvent]:
        """The task's timeline, oldest first."""
        return await self._do(calls.events(task_id))

    async def resend_webhook(self, task_id: str) -> Accepted:
        """Send a finished task's webhook to its callback_url again (``raw["send"]`` numbers it)."""
        return await self._do(calls.resend_webhook(task_id))
