"""The synchronous client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from async_app_client import calls
from async_app_client.calls import Call, EpochSeconds, T, result_of
from async_app_client.config import Connection
from async_app_client.errors import ServiceUnreachable
from async_app_client.models import Accepted, Task, TaskEvent, TaskPage
from async_app_client.waiting import Backoff, WaitPlan

DEFAULT_HTTP_TIMEOUT = 10.0
DEFAULT_WAIT_TIMEOUT = 300.0


class ClientCore:
    """What both clients hold: where the service is, how to pace polling, and the clock."""

    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        backoff: Backoff | None,
        clock: Callable[[], float],
        env: Mapping[str, str] | None,
    ):
        self.connection = Connection.resolve(base_url, api_key, env)
        self.backoff = backoff or Backoff()
        self.clock = clock

    def wait_plan(self, task_id: str, timeout: float, on_update: Callable[[Task], object] | None) -> WaitPlan:
        return WaitPlan(task_id, timeout, self.clock, self.backoff, on_update)


def unreachable(call: Call[Any], exc: httpx.TransportError) -> ServiceUnreachable:
    return ServiceUnreachable(f"{call.method} {call.path}: {type(exc).__name__}: {exc}")


class AsyncAppClient(ClientCore):
    """The task API over HTTP. ``base_url`` and ``api_key`` default to ASYNC_APP_URL and ASYNC_APP_API_KEY.

    ``transport``, ``clock`` and ``sleep`` are for tests (httpx.MockTransport, a fake clock).
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_HTTP_TIMEOUT,
        backoff: Backoff | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        env: Mapping[str, str] | None = None,
    ):
        super().__init__(base_url, api_key, backoff, clock, env)
        self._sleep = sleep
        self._http = httpx.Client(**self.connection.httpx_options(), timeout=timeout, transport=transport)

    def __enter__(self) -> AsyncAppClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: Call[Any]) -> httpx.Response:
        try:
            return self._http.request(
                call.method, call.path, params=call.params, json=call.json, headers=call.headers
            )
        except httpx.TransportError as exc:
            raise unreachable(call, exc) from exc

    def _do(self, call: Call[T]) -> T:
        return result_of(call, self._send(call))

    def create(
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
        return self._do(
            calls.create(
                task_type,
                data,
                ttl=ttl,
                idempotency_key=idempotency_key,
                callback_url=callback_url,
                run_at=run_at,
            )
        )

    def get(self, task_id: str) -> Task:
        return self._do(calls.get(task_id))

    def wait(
        self,
        task_id: str,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        *,
        on_update: Callable[[Task], object] | None = None,
    ) -> Task:
        """Poll until the task is COMPLETED, FAILED or CANCELLED; WaitTimeout after ``timeout`` seconds.

        ``on_update`` sees the task after every successful poll (a progress bar, say).
        """
        plan = self.wait_plan(task_id, timeout, on_update)
        call = calls.get(task_id)
        while True:
            outcome = plan.step(call, self._send(call))
            if isinstance(outcome, Task):
                return outcome
            self._sleep(outcome)

    def list_tasks(self, next_token: str | None = None, **filters: Any) -> TaskPage:
        """One page, newest first. Filters: calls.LIST_FILTERS (status, task_type, retry_state, q, ...)."""
        return self._do(calls.list_page(filters, next_token))

    def iter_tasks(self, next_token: str | None = None, **filters: Any) -> Iterator[Task]:
        """Every task matching the filters, newest first, page after page."""
        while True:
            page = self.list_tasks(next_token, **filters)
            yield from page.tasks
            if not page.next_token:
                return
            next_token = page.next_token

    def cancel(self, task_id: str) -> Task:
        """Ask for the task to be cancelled; the task as it is after the request."""
        return self._do(calls.cancel(task_id)) or self.get(task_id)

    def retry(self, task_id: str, idempotency_key: str | None = None) -> Accepted:
        """Run a FAILED task's work again, as a new task linked to it."""
        return self._do(calls.retry(task_id, idempotency_key))

    def events(self, task_id: str) -> list[TaskEvent]:
        """The task's timeline, oldest first."""
        return self._do(calls.events(task_id))

    def resend_webhook(self, task_id: str) -> Accepted:
        """Send a finished task's webhook to its callback_url again (``raw["send"]`` numbers it)."""
        return self._do(calls.resend_webhook(task_id))
