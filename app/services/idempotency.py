"""Requests with an Idempotency-Key: handled once, answered the same way every time after.

The answer (status, body, Location) is kept in a record written in the same
transaction as the task the request created (``keep``), so two requests with
one key can't both create a task: the second finds the record and replays it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.domain import idempotency
from app.domain.errors import IdempotencyKeyInFlight, IdempotencyKeyTaken
from app.domain.idempotency import IdempotencyRecord, IdempotentRequest, StoredResponse
from app.domain.task import Task
from app.services.ports import Clock, TaskRepository
from app.services.tasks import Keep

# The answer a request gets for the task it accepted.
Answer = Callable[[Task], StoredResponse]


@dataclass(frozen=True)
class Reply:
    response: StoredResponse
    # True when this is the answer to an earlier request with the same key.
    replayed: bool = False


def once(
    store: TaskRepository,
    request: IdempotentRequest | None,
    answer: Answer,
    act: Callable[[Keep | None], Task],
    clock: Clock,
) -> Reply:
    """Run ``act`` (a create or a retry) unless a request with the same key ran before; its answer.

    ``act`` gets the ``keep`` to pass to the use case, which writes the record with its task.
    A use case that wrote nothing (a retry of a task retried before) gets its record written here.
    """
    if request is None:
        return Reply(answer(act(None)))
    now = clock()
    earlier = idempotency.replay(store.idempotency_record(request.scope), request, now)
    if earlier is not None:
        return Reply(earlier, replayed=True)
    kept_for: list[str] = []

    def keep(task: Task) -> IdempotencyRecord:
        kept_for.append(task.id)
        return request.record(answer(task), now)

    try:
        task = act(keep)
        if task.id not in kept_for:
            # The use case answered with a task it did not write (the earlier retry of a task).
            store.add_idempotency_record(request.record(answer(task), now), now)
    except IdempotencyKeyTaken as taken:
        # Another request with this key got there first, between our read and our write.
        replayed = idempotency.replay(taken.record, request, now)  # type: ignore[arg-type]
        if replayed is None:
            raise IdempotencyKeyInFlight() from taken
        return Reply(replayed, replayed=True)
    return Reply(answer(task))
