"""A page costs the page, whatever the table holds: listing is a Query, never a Scan."""

import pytest

from app.adapters.task_store import to_item
from app.domain.listing import TaskQuery
from app.domain.task import TaskStatus
from tests.factories import a_task
from tests.integration.conftest import provision_stage

TABLE_SIZE = 5_000
PAGE = 20


@pytest.fixture(scope="module")
def big_table(emulator_endpoint):
    provisioned = provision_stage(emulator_endpoint)
    dynamodb = provisioned.clients["dynamodb"]
    statuses = list(TaskStatus)
    items = []
    for i in range(TABLE_SIZE):
        task = a_task("TASK1" if i % 3 else "TASK2", data={}, now=1_800_000_000 + i)
        items.append(to_item(task.moved_to(statuses[i % 4], "", 1_800_000_000 + i) if i % 4 else task))
    for start in range(0, TABLE_SIZE, 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        response = dynamodb.batch_write_item(RequestItems={provisioned.resources.table_name: batch})
        assert not response.get("UnprocessedItems")
    return provisioned


@pytest.fixture
def scanned_counts(big_table):
    """The ScannedCount of every Query the store sends, read off the wire."""
    counts: list[int] = []
    operations: list[str] = []

    def record(http_response, parsed, model, **_):
        operations.append(model.name)
        if model.name == "Query":
            counts.append(parsed["ScannedCount"])

    events = big_table.store.dynamodb.meta.events
    events.register("after-call.dynamodb", record)
    yield counts, operations
    events.unregister("after-call.dynamodb", record)


@pytest.mark.parametrize(
    "query",
    [
        TaskQuery(limit=PAGE),
        TaskQuery(status=TaskStatus.FAILED, limit=PAGE),
        TaskQuery(task_type="TASK2", limit=PAGE),
        TaskQuery(status=TaskStatus.COMPLETED, task_type="TASK1", limit=PAGE),
        TaskQuery(created_from=1_800_001_000, created_to=1_800_003_000, limit=PAGE),
    ],
    ids=["all", "status", "type", "status+type", "created-range"],
)
def test_each_page_examines_at_most_the_page_plus_one(big_table, scanned_counts, query):
    counts, operations = scanned_counts
    first = big_table.store.list(query)
    second = big_table.store.list(query, first.next_token)
    assert len(first.tasks) == len(second.tasks) == PAGE
    assert not {t.id for t in first.tasks} & {t.id for t in second.tasks}
    assert set(operations) == {"Query"}, "listing must never Scan"
    assert counts == [PAGE + 1, PAGE + 1]
