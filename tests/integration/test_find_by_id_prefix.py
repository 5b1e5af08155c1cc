"""Finding tasks by the start of their id: the keys-only by_id_prefix index, then one BatchGetItem."""

from __future__ import annotations

import dataclasses

import pytest

from tests.factories import a_task
from tests.integration.operations import operations_sent


@pytest.fixture
def requests_sent(provisioned):
    with operations_sent(provisioned.store.dynamodb) as sent:
        yield sent


def with_id(task_id: str):
    return dataclasses.replace(a_task(), id=task_id)


def test_finds_every_task_whose_id_starts_with_the_prefix_in_two_requests(provisioned, requests_sent):
    stem = "e7c4a1"
    mine = [with_id(f"{stem}{n:02x}-0000-4000-8000-{n:012x}") for n in range(3)]
    other = with_id(f"{stem[:5]}f99-0000-4000-8000-000000000000")  # same partition, another prefix
    for task in [*mine, other]:
        provisioned.store.add(task)
    requests_sent.clear()

    found = provisioned.store.find_by_id_prefix(stem, limit=10)

    assert [task.id for task in found] == [task.id for task in mine]  # sorted by id
    assert found[0].data == mine[0].data  # whole tasks, not the index's keys
    assert requests_sent == ["Query", "BatchGetItem"]
    assert [t.id for t in provisioned.store.find_by_id_prefix(mine[1].id[:8], limit=10)] == [mine[1].id]
    assert [t.id for t in provisioned.store.find_by_id_prefix(mine[2].id, limit=10)] == [mine[2].id]


def test_the_limit_bounds_what_is_read(provisioned):
    stem = "5ab0c2"
    for n in range(4):
        provisioned.store.add(with_id(f"{stem}{n:02x}-0000-4000-8000-{n:012x}"))
    assert len(provisioned.store.find_by_id_prefix(stem, limit=2)) == 2


def test_no_match_is_an_empty_list_and_a_short_prefix_is_refused(provisioned):
    assert provisioned.store.find_by_id_prefix("ffffffff-ffff", limit=5) == []
    with pytest.raises(ValueError, match="at least 2"):
        provisioned.store.find_by_id_prefix("f", limit=5)


def test_every_new_task_carries_its_prefix(provisioned):
    task = a_task()
    provisioned.store.add(task)
    item = provisioned.clients["dynamodb"].get_item(
        TableName=provisioned.resources.table_name, Key={"pk": {"S": f"TASK#{task.id}"}, "sk": {"S": "TASK"}}
    )["Item"]
    assert item["id_prefix"] == {"S": task.id[:2]}
