import threading

import pytest

from app.domain.errors import InvalidTransition, TaskNotFound
from app.domain.listing import TaskQuery
from app.domain.task import TaskStatus
from app.domain.timeline import Hop, event_of
from app.services import tasks
from tests.factories import a_task


@pytest.fixture
def store(provisioned):
    return provisioned.store


def test_add_then_get_round_trips_every_field(store):
    task = a_task(data={"nested": {"list": [1, 2.5, "x", None, True]}, "unicode": "héllo <b>"})
    store.add(task)
    assert store.get(task.id) == task


def test_unknown_task_is_not_found(store):
    with pytest.raises(TaskNotFound):
        store.get("no-such-task")


def test_listing_is_newest_first_and_pages_without_gaps_or_duplicates(provisioned):
    from tests.integration.conftest import provision_stage

    fresh = provision_stage(provisioned.clients["dynamodb"].meta.endpoint_url).store
    created = [a_task("TASK1" if i % 2 else "TASK2", now=1_800_000_000 + i) for i in range(23)]
    for task in created:
        fresh.add(task)
    seen, token = [], None
    while True:
        page = fresh.list(TaskQuery(limit=5), token)
        assert len(page.tasks) <= 5
        seen.extend(page.tasks)
        token = page.next_token
        if token is None:
            break
    assert [t.id for t in seen] == [t.id for t in reversed(created)]

    def ids(query):
        return [t.id for t in fresh.list(query).tasks]

    newest_first = list(reversed(created))
    assert ids(TaskQuery(task_type="TASK1", limit=100)) == [
        t.id for t in newest_first if t.task_type == "TASK1"
    ]
    started = fresh.get(created[3].id)
    fresh.replace_if(started.moved_to(TaskStatus.IN_PROGRESS, "", 1_800_000_100), expected=started)
    assert ids(TaskQuery(status=TaskStatus.IN_PROGRESS)) == [created[3].id]
    assert ids(TaskQuery(status=TaskStatus.IN_PROGRESS, task_type="TASK1")) == [created[3].id]
    assert ids(TaskQuery(status=TaskStatus.IN_PROGRESS, task_type="TASK2")) == []
    assert len(ids(TaskQuery(status=TaskStatus.CREATED, limit=100))) == 22
    in_range = ids(TaskQuery(created_from=1_800_000_005, created_to=1_800_000_007))
    assert in_range == [created[7].id, created[6].id, created[5].id]


def test_last_page_has_no_token(store):
    from tests.integration.conftest import provision_stage

    fresh = provision_stage(store.dynamodb.meta.endpoint_url).store
    for i in range(4):
        fresh.add(a_task(now=1_800_000_000 + i))
    first = fresh.list(TaskQuery(limit=2))
    second = fresh.list(TaskQuery(limit=2), first.next_token)
    assert first.next_token and len(second.tasks) == 2 and second.next_token is None


def test_status_change_is_conditional_on_what_was_read(store):
    task = a_task()
    store.add(task)
    moved = tasks.change_status(store, task.id, TaskStatus.IN_PROGRESS, "picked up")
    assert store.get(task.id) == moved
    assert moved.updated_time is not None
    # A writer that read the old state loses, and learns the current status.
    with pytest.raises(InvalidTransition) as lost:
        store.replace_if(task.moved_to(TaskStatus.FAILED, "late", 1), expected=task)
    assert lost.value.current == "IN_PROGRESS"


def race(store, task_id: str, targets: tuple[TaskStatus, ...]) -> list[str]:
    """Writers that all read the same state each move it to their target at once; who won, who lost.

    Every writer reads before any writes (the barrier), so each write is
    conditional on the same state and the store must let exactly one through.
    """
    barrier = threading.Barrier(len(targets))
    outcomes: list[str] = []

    def move(target: TaskStatus) -> None:
        read = store.get(task_id)
        barrier.wait()
        try:
            store.replace_if(read.moved_to(target, "", 1_800_000_000), expected=read)
            outcomes.append("won")
        except InvalidTransition:
            outcomes.append("lost")

    threads = [threading.Thread(target=move, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_concurrent_status_changes_have_exactly_one_winner(store):
    for _ in range(5):
        task = a_task()
        store.add(task)
        assert race(store, task.id, (TaskStatus.IN_PROGRESS, TaskStatus.FAILED)) == ["lost", "won"]


def test_replace_of_a_missing_task_is_not_found(store):
    ghost = a_task()
    with pytest.raises(TaskNotFound):
        store.replace_if(ghost.moved_to(TaskStatus.IN_PROGRESS, "", 1), expected=ghost)


def test_timeline_keeps_the_writer_order_within_one_millisecond(store):
    task = a_task()
    store.add(task)
    for second in range(5):
        instant = 1_800_000_000.123 + second
        store.add_events([event_of(task, hop, instant, "test") for hop in (Hop.DEAD_LETTERED, Hop.FAILED)])
    hops = [event.hop for event in store.events(task.id)]
    assert hops == [Hop.CREATED] + [Hop.DEAD_LETTERED, Hop.FAILED] * 5


def test_get_many_reads_the_existing_tasks_in_one_call(store):
    added = [a_task() for _ in range(3)]
    for task in added:
        store.add(task)
    calls: list[str] = []

    def count(model, **_):
        calls.append(model.name)

    store.dynamodb.meta.events.register("after-call.dynamodb", count)
    try:
        found = store.get_many([added[0].id, "missing", added[1].id, added[2].id, added[0].id])
    finally:
        store.dynamodb.meta.events.unregister("after-call.dynamodb", count)
    assert found == {task.id: task for task in added}
    assert calls == ["BatchGetItem"]
