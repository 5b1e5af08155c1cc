"""Use cases of the dashboard beyond app/services/tasks.py. Dependencies are parameters; no AWS here."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from app import observability
from app.domain import rules
from app.domain.errors import AlreadyRetried, InvalidTransition, TaskNotFound
from app.domain.listing import TaskPage, TaskQuery
from app.domain.task import Task, TaskStatus, check_retryable, new_task
from app.domain.timeline import Hop, TaskEvent, TimelineStep, event_of, steps
from app.services import tasks, timeline
from app.services.ports import Clock, StatusCount, StatusCounter, Tally, TaskRepository

# The shape of a task id (a UUID): "x" a hex digit, "-" itself.
ID_SHAPE = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
HEX_DIGITS = frozenset("0123456789abcdef")


def is_id_prefix(text: str) -> bool:
    """Whether ``text`` (lower case) can be the start of a task id."""
    return 0 < len(text) <= len(ID_SHAPE) and all(
        char in HEX_DIGITS if shape == "x" else char == shape
        for char, shape in zip(text, ID_SHAPE, strict=False)
    )


# Most ids one request may refresh or retry: a page's worth, as listing allows.
MAX_IDS_PER_REQUEST = 100
# Most rows one page shows when it is rebuilt down to a row shown before (Back, reload).
MAX_ROWS_THROUGH = 1000
# Most new tasks one live tick inserts; past that the page offers to show the newest.
NEW_ROWS_PER_TICK = 20
# Most tasks Find lists for an id prefix that several tasks share.
MAX_PREFIX_MATCHES = 10

# A finished task's last event is written just after the task itself (and may
# be lost: events are best effort); its page follows it this much longer, at
# most, for its timeline to catch up.
TIMELINE_GRACE_SECONDS = 10


class TaskFinder(TaskRepository, Protocol):
    def find_by_id_prefix(self, prefix: str, limit: int) -> list[Task]: ...


class RowKey(NamedTuple):
    """Where a task sits in the listing: newest first is descending (created_ms, id)."""

    created_ms: int
    id: str

    def __str__(self) -> str:
        return f"{self.created_ms:013d}-{self.id}"

    @classmethod
    def of(cls, task: Task) -> RowKey:
        return cls(task.created_ms, task.id)

    @classmethod
    def parse(cls, text: str) -> RowKey:
        """``<created ms>-<task id>``, as ``str()`` writes it; ValueError otherwise."""
        millis, _, task_id = text.strip().partition("-")
        if not (millis.isascii() and millis.isdigit() and len(millis) <= 13 and rules.TASK_ID.match(task_id)):
            raise ValueError("expected <created ms>-<task id>")
        return cls(int(millis), task_id)


@dataclass(frozen=True)
class Overview:
    page: TaskPage
    tally: Tally

    @property
    def counts(self) -> list[StatusCount]:
        return self.tally.counts


def overview(
    store: TaskRepository,
    counter: StatusCounter,
    query: TaskQuery,
    page_token: str | None = None,
    through: RowKey | None = None,
) -> Overview:
    """A page of tasks (or every page down to ``through``), and how many there are in each status."""
    if through is not None and not page_token:
        page = list_through(store, query, through)
    else:
        page = tasks.list_tasks(store, query, page_token)
    return Overview(page, counter.tally(query.task_type))


def list_through(store: TaskRepository, query: TaskQuery, through: RowKey) -> TaskPage:
    """The listing from the top, page by page, down to the page that holds ``through`` or passes it.

    What "Load more" showed, rebuilt for Back or a reload: the same pages, with
    any task created since on top; its next token goes on from there.
    """
    shown: list[Task] = []
    token = None
    while True:
        page = tasks.list_tasks(store, query, token)
        shown += page.tasks
        token = page.next_token
        passed = any(RowKey.of(task) <= through for task in page.tasks)
        if token is None or passed or len(shown) >= MAX_ROWS_THROUGH:
            return TaskPage(shown, token)


@dataclass(frozen=True)
class NewTasks:
    tasks: list[Task]
    # More were created than one tick inserts: the page offers to show the newest instead.
    overflow: bool = False


def new_since(store: TaskRepository, query: TaskQuery, newest: RowKey | None) -> NewTasks:
    """Tasks matching ``query`` listed above ``newest`` (the top row shown), newest first: one Query.

    The created-time bound is in seconds, so the page may repeat rows of
    ``newest``'s second: they are dropped here.
    """
    since = query.created_from
    if newest is not None:
        since = max(since or 0, newest.created_ms // 1000)
    if query.created_to is not None and since is not None and since > query.created_to:
        return NewTasks([])
    # One more than a tick inserts: exactly NEW_ROWS_PER_TICK new tasks are inserted, more overflow.
    page = tasks.list_tasks(
        store, dataclasses.replace(query, created_from=since, limit=NEW_ROWS_PER_TICK + 1)
    )
    fresh = [task for task in page.tasks if newest is None or RowKey.of(task) > newest]
    fresh.sort(key=RowKey.of, reverse=True)
    overflow = len(fresh) > NEW_ROWS_PER_TICK or (
        len(fresh) == len(page.tasks) and page.next_token is not None
    )
    return NewTasks(fresh[:NEW_ROWS_PER_TICK], overflow=overflow)


@dataclass(frozen=True)
class Found:
    # The task when the id (or a prefix only one task has) names exactly one.
    task: Task | None = None
    # Tasks whose id starts with the prefix, when several do (at most MAX_PREFIX_MATCHES).
    matches: list[Task] = field(default_factory=list)
    # More tasks share the prefix than are listed.
    more: bool = False


def find_task(store: TaskFinder, pasted: str) -> Found:
    """The task whose id, or the start of it (a short id from the list), was pasted.

    Spaces and quotes around it are ignored, and so is case. TaskNotFound when
    no task matches; ValueError when what was pasted can't be (part of) an id.
    """
    text = pasted.strip().strip("\"'").strip().lower()
    if not text:
        raise ValueError("Paste a task id, or its first characters.")
    if rules.TASK_ID.match(text):
        return Found(task=tasks.get_task(store, text))
    if not is_id_prefix(text):
        raise ValueError("A task id is made of hex digits and dashes, like 3f2a9c1e-…")
    if len(text) < 2:
        raise ValueError("Type at least 2 characters of the id.")
    matches = store.find_by_id_prefix(text, MAX_PREFIX_MATCHES + 1)
    if not matches:
        raise TaskNotFound(text)
    if len(matches) == 1:
        return Found(task=matches[0])
    return Found(matches=matches[:MAX_PREFIX_MATCHES], more=len(matches) > MAX_PREFIX_MATCHES)


def refresh(store: TaskRepository, task_ids: Iterable[str]) -> dict[str, Task | None]:
    """The current state of each task; None for one that no longer exists (expired)."""
    wanted = wanted_ids(task_ids)
    found = store.get_many([task_id for task_id in wanted if rules.TASK_ID.match(task_id)])
    return {task_id: found.get(task_id) for task_id in wanted}


def wanted_ids(task_ids: Iterable[str]) -> list[str]:
    """The ids a request may ask about: each once, at most a page's worth."""
    return list(dict.fromkeys(task_ids))[:MAX_IDS_PER_REQUEST]


@dataclass(frozen=True)
class Tick:
    tally: Tally
    # The tasks on the page, as they are now (None: expired).
    current: dict[str, Task | None]
    new: NewTasks


def tick(
    store: TaskRepository,
    counter: StatusCounter,
    query: TaskQuery,
    seen: Iterable[str],
    watch: bool,
    newest: RowKey | None,
    created_before: int | None,
) -> Tick:
    """One live tick: counts and in-flight rows in one read; new tasks only if any were created.

    A quiet tick is that one read, whatever the table holds and however many
    shards its indexes have: the listing is read only when the count of
    tasks ever created has moved since the page last looked.
    """
    wanted = wanted_ids(seen)
    # Anything but a task id names no task: it is never sent to the store.
    tally = counter.tally(query.task_type, [task_id for task_id in wanted if rules.TASK_ID.match(task_id)])
    current = {task_id: tally.tasks.get(task_id) for task_id in wanted}
    grew = created_before is None or tally.created != created_before
    new = new_since(store, query, newest) if watch and grew else NewTasks([])
    return Tick(tally, current, new)


@dataclass(frozen=True)
class TaskDetail:
    task: Task
    timeline: list[TimelineStep]
    # Whether the task's page should ask again: something may still change.
    following: bool
    lineage: Lineage | None = None


def task_detail(store: TaskRepository, task_id: str, clock: Clock = time.time) -> TaskDetail:
    """A task with its timeline, and whether its page should keep following it."""
    task = tasks.get_task(store, task_id)
    events = store.events(task_id)
    following = still_changing(task, events, clock())
    return TaskDetail(task, steps(events), following, lineage(store, task) if task.retry_of else None)


def still_changing(task: Task, events: list[TaskEvent], now: float) -> bool:
    """In flight, or finished so recently that its timeline has not caught up with its status yet."""
    if not task.status.is_terminal:
        return True
    stated = [event for event in events if event.status]
    if stated and max(stated, key=lambda event: event.at_ms).status == task.status.value:
        return False
    return now - (task.updated_time or 0) < TIMELINE_GRACE_SECONDS


@dataclass(frozen=True)
class Retried:
    original_id: str
    retry: Task


@dataclass
class RetryOutcome:
    retried: list[Retried] = field(default_factory=list)
    # Task id -> the id of its retry, for tasks retried before (by this same action, or anyone).
    already: dict[str, str] = field(default_factory=dict)
    # Task id -> why it was not retried (not FAILED, or gone).
    refused: dict[str, str] = field(default_factory=dict)


def retry_many(store: TaskRepository, task_ids: Iterable[str], *, default_ttl_seconds: int) -> RetryOutcome:
    """Retry each FAILED task once; the others are reported, not retried. A store outage stops the batch.

    Safe to repeat: a task retried before keeps its one retry (reported as
    such), however often the same selection is sent.
    """
    outcome = RetryOutcome()
    wanted = list(dict.fromkeys(task_ids))[:MAX_IDS_PER_REQUEST]
    current = refresh(store, wanted)
    for task_id in wanted:
        task = current.get(task_id)
        if task is not None and task.retried_as:
            outcome.already[task_id] = task.retried_as
            continue
        try:
            retry = tasks.retry_task(store, task_id, default_ttl_seconds=default_ttl_seconds)
        except (InvalidTransition, TaskNotFound) as exc:
            outcome.refused[task_id] = str(exc)
        else:
            outcome.retried.append(Retried(task_id, retry))
    return outcome


def retry_with_data(
    store: TaskRepository,
    original_id: str,
    task_type: str,
    data: dict[str, Any],
    ttl: Any,
    *,
    max_data_bytes: int,
    default_ttl_seconds: int,
    clock: Clock = time.time,
) -> Task:
    """ "Retry with edited data": a new task with the data typed, linked to the FAILED original both ways.

    The same transaction as a plain retry (app/services/tasks.py retry_task),
    so the original gets one retry, edited or not: AlreadyRetried names it
    when it has one.
    """
    original = tasks.get_task(store, original_id)
    if original.retried_as:
        raise AlreadyRetried(original.id, original.retried_as)
    check_retryable(original)
    now = clock()
    rules.check_data(data, max_data_bytes)
    if ttl is None:
        expires = int(now) + default_ttl_seconds
    else:
        expires = rules.parse_epoch_seconds(ttl)
        rules.check_ttl(expires, now)
    retry = new_task(task_type, data, expires, now, retry_of=original.id, callback_url=original.callback_url)
    store.add_retry(original, retry, None, now)
    observability.emit_metrics(retry.task_type, TasksCreated=("Count", 1))
    message = f"retried as {retry.id}, with edited data"
    timeline.record(
        store,
        event_of(original, Hop.RETRIED, now, "dashboard", status=original.status.value, message=message),
    )
    return retry


# Most retries a task's page walks back through to find the original.
MAX_LINEAGE = 20


@dataclass(frozen=True)
class Lineage:
    """Where a task sits among retries: the first task of its line, and which retry this one is."""

    original_id: str
    # 0 for an original, 1 for its retry, 2 for the retry of that retry...
    generation: int
    # The line goes back further than was walked.
    more: bool = False


def lineage(store: TaskRepository, task: Task) -> Lineage:
    """Walk ``retry_of`` back to the original: one read per generation, at most MAX_LINEAGE."""
    current, generation = task, 0
    while current.retry_of and generation < MAX_LINEAGE:
        generation += 1
        try:
            current = store.get(current.retry_of)
        except TaskNotFound:
            # The one before expired: it is as far back as can be seen.
            return Lineage(current.retry_of or current.id, generation)
    return Lineage(current.id, generation, more=bool(current.retry_of))


@dataclass(frozen=True)
class Matching:
    """The tasks a filter matches that a bulk action would act on (FAILED without a retry, or in flight)."""

    tasks: list[Task]
    # More match than one bulk action takes, or than were read to find these.
    more: bool


# Pages of the listing one "all matching" search reads, at most.
MAX_MATCHING_PAGES = 10
IN_FLIGHT = (TaskStatus.SCHEDULED, TaskStatus.CREATED, TaskStatus.IN_PROGRESS)


def _matching(
    store: TaskRepository,
    query: TaskQuery,
    statuses: Iterable[TaskStatus],
    keep: Callable[[Task], bool],
    limit: int,
) -> Matching:
    """The newest ``limit`` tasks in ``statuses`` matching ``query`` that ``keep`` keeps."""
    found: list[Task] = []
    more = False
    pages = 0
    for status in statuses:
        if query.retry_state and query.retry_state.status not in (None, status):
            continue  # no task of this status is in the retry state asked for
        token = None
        narrowed = dataclasses.replace(query, status=status, limit=MAX_IDS_PER_REQUEST)
        while pages < MAX_MATCHING_PAGES:
            page = tasks.list_tasks(store, narrowed, token)
            pages += 1
            found += [task for task in page.tasks if keep(task)]
            token = page.next_token
            if token is None or len(found) > limit:
                break
        more = more or token is not None
    found.sort(key=RowKey.of, reverse=True)
    return Matching(found[:limit], more=more or len(found) > limit)


def failed_matching(
    store: TaskRepository, query: TaskQuery, limit: int = MAX_IDS_PER_REQUEST, as_of_ms: int | None = None
) -> Matching:
    """The newest ``limit`` FAILED tasks matching ``query`` that have no retry yet, created by ``as_of_ms``.

    ``as_of_ms`` pins the answer to the moment the operator first asked: the
    retries made since (which may have failed too) are never in it, so Back
    then confirm retries nothing more.
    """

    def keep(task: Task) -> bool:
        made_since = as_of_ms is not None and task.created_ms > as_of_ms
        return not task.retried_as and not task.unreadable and not made_since

    return _matching(store, query, [TaskStatus.FAILED], keep, limit)


def in_flight_matching(store: TaskRepository, query: TaskQuery, limit: int = MAX_IDS_PER_REQUEST) -> Matching:
    """The newest ``limit`` tasks in flight matching ``query`` that no one has asked to cancel yet.

    In flight: SCHEDULED, CREATED or IN_PROGRESS (of those, the status the
    query names, if it names one); one listing per status.
    """
    statuses = [status for status in IN_FLIGHT if query.status in (None, status)]
    return _matching(store, query, statuses, lambda task: not task.cancel_requested, limit)


@dataclass
class CancelOutcome:
    # Ended CANCELLED at once (no worker held them).
    cancelled: list[Task] = field(default_factory=list)
    # Running: asked to stop; each ends CANCELLED at its worker's next progress write or its end.
    requested: list[Task] = field(default_factory=list)
    # Task id -> what was already so (ended before, or a cancel asked for before): nothing done.
    already: dict[str, str] = field(default_factory=dict)
    # Task id -> why it could not be cancelled (gone, or not a task id).
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def tasks(self) -> list[Task]:
        return [*self.cancelled, *self.requested]


def cancel_many(store: TaskRepository, task_ids: Iterable[str], requested_by: str) -> CancelOutcome:
    """Cancel each task (app/services/tasks.py cancel_task); the others are reported. Safe to repeat.

    A task that has ended, or that was asked to cancel before, is left as it
    is and reported as such: repeating the same request changes nothing.
    """
    outcome = CancelOutcome()
    current = refresh(store, task_ids)
    for task_id, task in current.items():
        if task is None:
            outcome.refused[task_id] = "no such task (it may have expired)"
        elif task.status.is_terminal:
            outcome.already[task_id] = f"had ended {task.status.value}"
        elif task.cancel_requested:
            outcome.already[task_id] = f"was being cancelled already (asked by {task.cancel_requested})"
        else:
            try:
                after = tasks.cancel_task(store, task_id, requested_by, source="dashboard")
            except InvalidTransition as exc:
                # It ended meanwhile (a worker finished it).
                outcome.already[task_id] = str(exc)
            except TaskNotFound:
                outcome.refused[task_id] = "no such task (it may have expired)"
            else:
                (outcome.cancelled if after.status.is_terminal else outcome.requested).append(after)
    return outcome
