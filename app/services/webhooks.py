"""Webhooks: checking a callback_url, queueing a finished task's webhook, delivering it, resending it.

Delivery never touches the task: it reads it, posts it and records the attempt
on its timeline. Dependencies are parameters; no AWS or network here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Protocol

from app import observability
from app.domain import callbacks, webhooks
from app.domain.callbacks import Address, CallbackTarget
from app.domain.errors import NoCallback, TaskNotFound
from app.domain.task import Task
from app.domain.timeline import Hop, event_of
from app.domain.webhooks import Attempt, WebhookMessage
from app.services import tasks, timeline
from app.services.ports import Clock, TaskRepository

SOURCE = "webhooks"
Resolve = Callable[[str, int], list[Address]]
Post = Callable[[CallbackTarget, Address, dict[str, str], bytes, float], Attempt]


class Deliveries(Protocol):
    def first_send(self, task_id: str, expires: int) -> bool: ...
    def next_send(self, task_id: str, expires: int, now: float, interval: int) -> int: ...


class Queue(Protocol):
    def send(self, messages: list[WebhookMessage]) -> list[WebhookMessage]: ...
    def send_one(self, message: WebhookMessage) -> None: ...


def check_callback_url(url: str, *, local: bool, resolve: Resolve) -> CallbackTarget:
    """The callback's target, if every address its host has now is one the service may call."""
    target = callbacks.parse(url, local=local)
    callbacks.check_addresses(target, addresses_of(target, resolve), local=local)
    return target


def addresses_of(target: CallbackTarget, resolve: Resolve) -> list[Address]:
    """The address written in the URL, or the host's addresses now."""
    literal = callbacks.literal(target.host)
    return [literal] if literal is not None else resolve(target.host, target.port)


def queue_finished(deliveries: Deliveries, queue: Queue, finished: list[Task]) -> list[Task]:
    """Queue the first send of each finished task's webhook (once per task); the tasks not queued."""
    to_send = [
        task for task in finished
        if task.callback_url and task.status.is_terminal and deliveries.first_send(task.id, task.ttl)
    ]  # fmt: skip
    refused = {message.task_id for message in queue.send([WebhookMessage(task.id) for task in to_send])}
    return [task for task in to_send if task.id in refused]


def resend(
    store: TaskRepository, deliveries: Deliveries, queue: Queue, task_id: str, clock: Clock = time.time
) -> int:
    """Send a finished task's webhook again (the same webhook-id); the number of this send.

    At most one resend a task per RESEND_INTERVAL_SECONDS: Throttled (429) otherwise.
    """
    task = tasks.get_task(store, task_id)
    if not task.callback_url:
        raise NoCallback(task_id, "has no callback_url", task.status.value)
    if not task.status.is_terminal:
        raise NoCallback(task_id, "has not ended: its webhook is sent when it does", task.status.value)
    send = deliveries.next_send(task.id, task.ttl, clock(), webhooks.RESEND_INTERVAL_SECONDS)
    queue.send_one(WebhookMessage(task.id, send))
    return send


def deliver(
    store: TaskRepository,
    message: WebhookMessage,
    attempt: int,
    *,
    key: bytes,
    local: bool,
    resolve: Resolve,
    post: Post,
    timeout: float,
    clock: Clock = time.time,
) -> Attempt | None:
    """One attempt at one send of a task's webhook, recorded on its timeline; None if nothing is left to send.

    The host is resolved and checked again now, and the POST goes to the
    address checked; resolving and posting together take at most ``timeout``
    seconds. The body is the task as ``GET /tasks/{id}`` shows it.
    """
    try:
        task = store.get(message.task_id)
    except TaskNotFound:
        observability.get_logger().warning("webhook of a task that no longer exists: dropped")
        return None
    if not task.callback_url:
        return None
    started = time.monotonic()
    try:
        target = callbacks.parse(task.callback_url, local=local)
        addresses = addresses_of(target, resolve)
        callbacks.check_addresses(target, addresses, local=local)
    except callbacks.CallbackRefused as refused:
        outcome = Attempt(False, None, f"refused: {refused}")
    except TimeoutError:  # resolving the host took the attempt's time (dns.resolve_within)
        outcome = Attempt(False, None, f"no answer within {timeout:g} s: resolving the host took it all")
    else:
        body = json.dumps(task.to_public(), separators=(",", ":")).encode()
        headers = webhooks.signed_headers(key, task.id, int(clock()), body)
        # Resolving the host counts against the attempt's time too.
        left = timeout - (time.monotonic() - started)
        outcome = post(target, addresses[0], headers, body, left) if left > 0 else Attempt(False, None, "")
        if outcome.http_status is None and time.monotonic() - started >= timeout:
            outcome = Attempt(False, None, f"no answer within {timeout:g} s")
    _record(store, task, message, attempt, outcome, clock())
    return outcome


def _record(store: TaskRepository, task: Task, message: WebhookMessage, attempt: int, outcome: Attempt,
            now: float) -> None:  # fmt: skip
    what = "delivered" if outcome.delivered else "failed"
    note = f"send {message.send}, attempt {attempt} of {webhooks.MAX_ATTEMPTS}: {what} ({outcome.detail})"
    if not outcome.delivered and attempt >= webhooks.MAX_ATTEMPTS:
        note += "; gave up: the message goes to the webhook dead-letter queue"
    timeline.record(
        store,
        event_of(task, Hop.WEBHOOK, now, SOURCE, status=task.status.value, attempt=attempt,
                 message=note, http_status=outcome.http_status),
    )  # fmt: skip
    log = observability.get_logger()
    (log.info if outcome.delivered else log.warning)(
        f"webhook {what}",
        extra={"http_status": outcome.http_status, "attempt": attempt, "send": message.send},
    )
