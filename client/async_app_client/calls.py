"""Each API call as data: what to send and how to read the answer.

No I/O here, so the sync and the async client send the very same calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from async_app_client.errors import error_from_response, parse_retry_after
from async_app_client.models import Accepted, Task, TaskEvent, TaskPage

T = TypeVar("T")
EpochSeconds = int | str | dt.datetime

# The API's GET /tasks filters: q (words to search for) and retry_state (retrying, gave_up, none) too.
LIST_FILTERS = ("status", "task_type", "created_from", "created_to", "limit", "retry_state", "q")


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: dict[str, Any] | None = None
    json: Any = None
    headers: dict[str, str] | None = None


def result_of(call: Call[T], response: httpx.Response) -> T:
    """The call's value, or the ApiError the response stands for."""
    if response.is_error:
        raise error_from_response(response)
    return call.read(response)


def task_path(task_id: str, *rest: str) -> str:
    return "/".join(["/tasks", quote(task_id, safe=""), *rest])


def epoch_seconds(value: EpochSeconds) -> int | str:
    """A datetime as epoch seconds; ints and digit strings pass as they are (the API accepts both)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime for the API must be timezone-aware")
        return int(value.timestamp())
    return value


def _idempotency(key: str | None) -> dict[str, str] | None:
    return {"Idempotency-Key": key} if key else None


def _read_accepted(response: httpx.Response) -> Accepted:
    body = response.json()
    return Accepted(
        id=body["id"],
        location=response.headers.get("location"),
        retry_of=body.get("retry_of"),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        replayed=response.headers.get("idempotent-replayed") == "true",
        raw=body,
    )


def _read_task(response: httpx.Response) -> Task:
    return Task.from_json(response.json())


def _read_task_if_any(response: httpx.Response) -> Task | None:
    body = response.json() if response.content else None
    if isinstance(body, dict) and "id" in body and "status" in body:
        return Task.from_json(body)
    return None


def create(
    task_type: str,
    data: Mapping[str, Any],
    *,
    ttl: EpochSeconds | None = None,
    idempotency_key: str | None = None,
    callback_url: str | None = None,
    run_at: EpochSeconds | None = None,
) -> Call[Accepted]:
    body: dict[str, Any] = {"task_type": task_type, "data": dict(data)}
    # Only what was given: the API refuses unknown fields, and older servers don't know the newer ones.
    for name, when in (("ttl", ttl), ("run_at", run_at)):
        if when is not None:
            body[name] = epoch_seconds(when)
    if callback_url is not None:
        body["callback_url"] = callback_url
    return Call("POST", "/tasks", _read_accepted, json=body, headers=_idempotency(idempotency_key))


def get(task_id: str) -> Call[Task]:
    return Call("GET", task_path(task_id), _read_task)


def list_page(filters: Mapping[str, Any], next_token: str | None = None) -> Call[TaskPage]:
    unknown = set(filters) - set(LIST_FILTERS)
    if unknown:
        raise TypeError(f"unknown filter(s) {sorted(unknown)}; known: {', '.join(LIST_FILTERS)}")
    params = {name: value for name, value in filters.items() if value is not None}
    for bound in ("created_from", "created_to"):
        if bound in params:
            params[bound] = epoch_seconds(params[bound])
    if next_token:
        params["next_token"] = next_token
    return Call("GET", "/tasks", lambda response: TaskPage.from_json(response.json()), params=params)


def cancel(task_id: str) -> Call[Task | None]:
    """None when the answer is not the task itself: the client then reads it."""
    return Call("POST", task_path(task_id, "cancel"), _read_task_if_any)


def retry(task_id: str, idempotency_key: str | None = None) -> Call[Accepted]:
    return Call("POST", task_path(task_id, "retry"), _read_accepted, headers=_idempotency(idempotency_key))


def events(task_id: str) -> Call[list[TaskEvent]]:
    return Call(
        "GET",
        task_path(task_id, "events"),
        lambda response: [TaskEvent.from_json(event) for event in response.json().get("events") or []],
    )


def resend_webhook(task_id: str) -> Call[Accepted]:
    """The answer's ``raw["send"]`` numbers this send of the task's webhook (1 was the automatic one)."""
    return Call("POST", task_path(task_id, "webhook", "resend"), _read_accepted)
