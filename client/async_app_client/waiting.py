"""How ``wait`` paces its polls: exponential backoff, the server's Retry-After first, a deadline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from async_app_client.calls import Call, result_of
from async_app_client.errors import RateLimited, ServiceUnavailable, WaitTimeout, parse_retry_after
from async_app_client.models import Task

# Even a Retry-After of 0 must not turn polling into a busy loop.
MIN_DELAY_SECONDS = 0.1


@dataclass(frozen=True)
class Backoff:
    """Delays between polls: ``initial`` seconds, times ``factor`` after each poll, at most ``maximum``."""

    initial: float = 0.5
    factor: float = 1.5
    maximum: float = 5.0


class WaitPlan:
    """The delays of one ``wait``; it raises WaitTimeout once the deadline has passed."""

    def __init__(
        self,
        task_id: str,
        timeout: float,
        clock: Callable[[], float],
        backoff: Backoff,
        on_update: Callable[[Task], object] | None = None,
    ):
        self.task_id = task_id
        self.timeout = timeout
        self.last: Task | None = None
        self._clock = clock
        self._backoff = backoff
        self._deadline = clock() + timeout
        self._next = backoff.initial
        self._on_update = on_update

    def step(self, call: Call[Task], response: httpx.Response) -> Task | float:
        """After one poll: the task if it is final, else the seconds to sleep before the next poll.

        429 and 503 are waited out (their Retry-After first); any other error is raised.
        A 202 is read like a 200, its Retry-After a polling hint.
        """
        try:
            task = result_of(call, response)
        except (RateLimited, ServiceUnavailable) as busy:
            return self.delay_after(None, busy.retry_after)
        if self._on_update is not None:
            self._on_update(task)
        if task.is_final:
            return task
        return self.delay_after(task, parse_retry_after(response.headers.get("retry-after")))

    def delay_after(self, task: Task | None, retry_after: float | None = None) -> float:
        """Seconds to sleep after a poll that saw ``task`` (None: the poll was refused)."""
        if task is not None:
            if self.last is None or (task.status, task.progress) != (self.last.status, self.last.progress):
                # The task is moving: look again soon rather than at the backed-off pace.
                self._next = self._backoff.initial
            self.last = task
        remaining = self._deadline - self._clock()
        if remaining <= 0:
            raise WaitTimeout(self.task_id, self.timeout, self.last)
        if retry_after is not None:
            delay = retry_after
        else:
            delay = self._next
            self._next = min(self._next * self._backoff.factor, self._backoff.maximum)
        # Sleeping past the deadline helps nobody; one last poll happens right at it.
        return min(max(delay, MIN_DELAY_SECONDS), remaining)
