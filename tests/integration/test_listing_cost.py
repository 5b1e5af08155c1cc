"""A page costs the page, whatever the table holds and however many shards its index has.

Listing is Queries on every shard of one index (never a Scan), merged newest
first: a page examines at most page + 2 x shards index entries, then reads
exactly its tasks in one BatchGetItem, and its tasks are the true newest.
"""

import pytest

from app.adapters.sharding import ShardCounts
from app.adapters.task_item import to_item
from app.adapters.task_store import TaskStore
from app.domain.listing import TaskQuery
from app.domain.task import TaskStatus
from tests.factories import a_task
from tests.integration.conftest import provision_stage

TABLE_SIZE = 5_000
PAGE = 20
PAGES = 3
QUERIES = [
    TaskQuery(limit=PAGE),
    TaskQuery(status=TaskStatus.FAILED, limit=PAGE),
    TaskQuery(task_type="TASK2", limit=PAGE),
    TaskQuery(status=TaskStatus.COMPLETED, task_type="TASK1", limit=PAGE),
    TaskQuery(created_from=1_800_001_000, created_to=1_800_003_000, limit=PAGE),
]


def matches(query: TaskQuery, task) -> bool:
    return (
        (query.status is None or task.status is query.status)
        and (query.task_type is None or task.task_type == query.task_type)
        and (query.created_from is None or task.created_time >= query.created_from)
        and (query.created_to is None or task.created_time <= query.created_to)
    )


@pytest.fixture(scope="module", params=[1, 4, 16], ids=lambda count: f"{count}-shards")
def big_table(request, emulator_endpoint):
    count = request.param
    shards = ShardCounts(by_created=count, by_type=count, by_status=count, by_type_status=count)
    provisioned = provision_stage(emulator_endpoint)
    dynamodb = provisioned.clients["dynamodb"]
    statuses = [TaskStatus.CREATED, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED, TaskStatus.FAILED]
    tasks = []
    for i in range(TABLE_SIZE):
        task = a_task("TASK1" if i % 3 else "TASK2", data={}, now=1_800_000_000 + i)
        tasks.append(task.moved_to(statuses[i % 4], "", 1_800_000_000 + i) if i % 4 else task)
    for start in range(0, TABLE_SIZE, 25):
        batch = [{"PutRequest": {"Item": to_item(task, shards)}} for task in tasks[start : start + 25]]
        response = dynamodb.batch_write_item(RequestItems={provisioned.resources.table_name: batch})
        assert not response.get("UnprocessedItems")
    store = TaskStore(provisioned.resources.table_name, dynamodb, shards=shards)
    newest_first = sorted(tasks, key=lambda task: (task.created_ms, task.id), reverse=True)
    return store, count, newest_first


@pytest.fixture
def calls(big_table):
    """Every DynamoDB call the store makes, with each Query's ScannedCount, read off the wire."""
    store, _, _ = big_table
    seen: list[tuple[str, int]] = []

    def record(http_response, parsed, model, **_):
        seen.append((model.name, parsed.get("ScannedCount", 0)))

    events = store.dynamodb.meta.events
    events.register("after-call.dynamodb", record)
    yield seen
    events.unregister("after-call.dynamodb", record)


@pytest.mark.parametrize("query", QUERIES, ids=["all", "status", "type", "status+type", "created-range"])
def test_pages_are_the_true_newest_and_cost_the_page(big_table, calls, query):
    store, shards, newest_first = big_table
    expected = [task.id for task in newest_first if matches(query, task)]
    listed: list[str] = []
    token = None
    for _ in range(PAGES):
        calls.clear()
        page = store.list(query, token)
        assert 1 <= len(page.tasks) <= PAGE
        listed.extend(task.id for task in page.tasks)
        operations = {name for name, _ in calls}
        assert operations <= {"Query", "BatchGetItem"}, "listing must never Scan"
        examined = sum(scanned for name, scanned in calls if name == "Query")
        assert examined <= PAGE + 2 * shards, f"{examined} index entries examined for a page"
        assert [name for name, _ in calls].count("BatchGetItem") == 1
        token = page.next_token
        assert token is not None
    assert listed == expected[: len(listed)], "a page skipped or repeated a task"
    assert len(listed) >= PAGES * PAGE // 2
