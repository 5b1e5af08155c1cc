"""Search, through the stream: the changes function keeps the index as the local runtime feeds it,
and the API and the dashboard page through it."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.adapters.aggregates import TaskAggregates
from app.adapters.search_index import SearchIndex
from app.adapters.sharding import ShardCounts
from app.adapters.task_item import task_key
from app.domain.task import TaskStatus
from app.main import create_app
from app.settings import Settings
from tests.conftest import wait_until
from tests.factories import a_task
from tests.integration.conftest import functions_running, provision_stage
from tests.integration.test_dashboard import sign_in

pytestmark = pytest.mark.integration
KEY = {"x-api-key": "test-key"}
INDEXED = 15  # seconds: a stream batch waits up to its 1 s window, then one BatchWriteItem


@dataclasses.dataclass
class Searching:
    stage: object
    api: TestClient
    dashboard: TestClient

    def ids(self, q: str, **params) -> list[str]:
        response = self.api.get("/tasks", params={"q": q, **params}, headers=KEY)
        assert response.status_code == 200, response.text
        return [task["id"] for task in response.json()["tasks"]]

    def entries(self, word: str) -> list[dict]:
        """The index entries of ``word`` as stored (every shard)."""
        dynamodb, table = self.stage.clients["dynamodb"], self.stage.resources.table_name
        found = []
        for shard in range(self.stage.store.shards.search):
            response = dynamodb.query(
                TableName=table,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": f"SEARCH#{word}#{shard}"}},
            )
            found += response["Items"]
        return found


@pytest.fixture(scope="module")
def searching(emulator_endpoint) -> Iterator[Searching]:
    """A fresh stage whose stream feeds the changes function, as the local runtime does."""
    stage = provision_stage(emulator_endpoint)
    settings = Settings(table_name=stage.resources.table_name, api_keys="test-key")
    counter = TaskAggregates(stage.resources.table_name, stage.clients["dynamodb"])
    app = create_app(settings, store=stage.store, counter=counter)
    dashboard = TestClient(app, follow_redirects=False)
    sign_in(dashboard)
    with functions_running(stage, lambda name: name == "changes"):
        yield Searching(stage, TestClient(app), dashboard)


def word() -> str:
    return f"w{uuid.uuid4().hex[:10]}"


def created(searching: Searching, task_type: str, data: dict) -> str:
    body = {"task_type": task_type, "data": data, "ttl": int(time.time()) + 3600}
    response = searching.api.post("/tasks", json=body, headers=KEY)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def test_a_new_task_is_found_by_the_words_of_its_searchable_data_only(searching):
    found, other = word(), word()
    task_id = created(searching, "TASK2", {"text": f"Invoice {found.upper()} paid", "note": other})
    wait_until(lambda: searching.ids(found) == [task_id], timeout=INDEXED, what="the task found")
    assert searching.ids(f"invoice {found}") == [task_id]
    assert searching.ids(other) == [], "data.note is not declared searchable"


def test_a_standing_message_and_a_result_are_found_and_a_replaced_message_is_not(searching):
    crash, final, result = word(), word(), word()
    task = a_task("TASK1", {"duration_seconds": 1})
    store = searching.stage.store
    store.add(task)
    now = time.time()
    running = task.moved_to(TaskStatus.IN_PROGRESS, f"running {crash}", now)
    store.replace_if(running, expected=task)
    between = dataclasses.replace(running, status_msg=f"attempt 1 crashed: {crash}", retry_at=int(now) + 60)
    store.replace_if(between, expected=running)
    wait_until(lambda: searching.ids(crash) == [task.id], timeout=INDEXED, what="the crash message found")
    done = dataclasses.replace(
        between.moved_to(TaskStatus.COMPLETED, f"done {final}", now + 1), retry_at=None, result={"r": result}
    )
    store.replace_if(done, expected=between)
    wait_until(
        lambda: searching.ids(final) == [task.id] and searching.ids(crash) == [] and searching.ids(result),
        timeout=INDEXED,
        what="the new message and the result found, the old message gone",
    )
    assert searching.entries(crash) == []


def test_an_expired_task_is_not_found_and_expiry_or_deletion_removes_its_entries(searching):
    expiring, deleted = word(), word()
    soon = dataclasses.replace(a_task("TASK2", {"text": expiring}), ttl=int(time.time()) + 3)
    gone = a_task("TASK2", {"text": deleted})
    for task in (soon, gone):
        searching.stage.store.add(task)
    wait_until(lambda: searching.ids(expiring) == [soon.id], timeout=INDEXED, what="the task found")
    wait_until(lambda: searching.ids(deleted) == [gone.id], timeout=INDEXED, what="the task found")
    # Past its ttl it is not found, before TTL deletes anything; its entries carry the task's
    # ttl, so TTL deletes them too, at no write cost (the emulator's sweep: test_local_durability).
    wait_until(lambda: searching.ids(expiring) == [], timeout=10, what="the expired task not found")
    assert [entry["ttl"]["N"] for entry in searching.entries(expiring)] == [str(soon.ttl)]
    # Deleted otherwise than by TTL, a task's entries are deleted from the stream.
    table_name = searching.stage.resources.table_name
    searching.stage.clients["dynamodb"].delete_item(TableName=table_name, Key=task_key(gone.id))
    wait_until(
        lambda: searching.entries(deleted) == [], timeout=INDEXED, what="a deleted task's entries deleted"
    )


def test_results_are_paged_newest_first_with_the_listings_tokens(searching):
    shared = word()
    made = [created(searching, "TASK2", {"text": f"{shared} number {n}"}) for n in range(5)]
    wait_until(lambda: len(searching.ids(shared, limit=100)) == 5, timeout=INDEXED, what="all five found")
    pages, token = [], None
    while True:
        params = {"q": shared, "limit": 2, **({"next_token": token} if token else {})}
        body = searching.api.get("/tasks", params=params, headers=KEY).json()
        pages.append([task["id"] for task in body["tasks"]])
        token = body["next_token"]
        if not token:
            break
    assert [task_id for page in pages for task_id in page] == made[::-1]
    assert [len(page) for page in pages] == [2, 2, 1]


def test_a_search_combines_with_the_type_and_every_word_is_required(searching):
    shared, alpha = word(), word()
    first = created(searching, "TASK1", {"fail_message": f"{shared} one", "duration_seconds": 0})
    second = created(searching, "TASK2", {"text": f"{shared} {alpha}"})
    third = created(searching, "TASK2", {"text": f"{shared} two"})
    wait_until(lambda: len(searching.ids(shared)) == 3, timeout=INDEXED, what="all three found")
    assert searching.ids(shared, task_type="TASK2") == [third, second]
    assert searching.ids(shared, task_type="TASK1") == [first]
    assert searching.ids(f"{alpha} {shared}") == [second]
    assert searching.ids(f"{alpha} {shared}", task_type="TASK1") == []


def test_a_typed_search_checks_the_other_words_of_no_more_candidates_than_the_page_needs(searching):
    """A type filter reads up to 100 entries a Query; only those the merge asked for are looked up
    for the other words (a BatchGetItem key each), so a page's cost stays the documented one."""
    shared, rare = word(), word()
    made = [created(searching, "TASK2", {"text": f"{shared} {rare} n{n}"}) for n in range(12)]
    wait_until(lambda: len(searching.ids(shared, limit=100)) == 12, timeout=INDEXED, what="all found")
    looked_up: list[int] = []

    def record(params, **_):
        looked_up.extend(len(table["Keys"]) for table in params["RequestItems"].values())

    events = searching.stage.store.dynamodb.meta.events
    events.register("provide-client-params.dynamodb.BatchGetItem", record)
    try:
        pages, token = [], None
        while True:
            params = {"q": f"{shared} {rare}", "task_type": "TASK2", "limit": 2}
            body = searching.api.get(
                "/tasks", params={**params, **({"next_token": token} if token else {})}, headers=KEY
            ).json()
            pages.append([task["id"] for task in body["tasks"]])
            token = body["next_token"]
            if not token:
                break
    finally:
        events.unregister("provide-client-params.dynamodb.BatchGetItem", record)
    assert [task_id for page in pages for task_id in page] == made[::-1]
    shards = searching.stage.store.shards.search
    # Per page: the other word of at most p + 2s candidates, and the page's tasks themselves.
    assert sum(looked_up) <= len(pages) * ((2 + 2 * shards) + 2), looked_up


def test_a_batch_delivered_again_leaves_the_same_entries(searching):
    text = word()
    task = a_task("TASK2", {"text": text})
    searching.stage.store.add(task)
    records = [
        r for r in searching.stage.stream_records() if r["dynamodb"]["Keys"]["pk"]["S"] == f"TASK#{task.id}"
    ]
    index = SearchIndex(
        searching.stage.resources.table_name, ShardCounts(), searching.stage.clients["dynamodb"]
    )
    index.apply(records)
    once = searching.entries(text)
    index.apply(records)
    assert searching.entries(text) == once and len(once) == 1


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"q": "x" * 201}, 422, "at most 200"),
        ({"q": "! ?"}, 422, "no word to look for"),
        ({"q": "a b c d e f"}, 422, "no word to look for"),
        ({"q": "one two three four five"}, 422, "more than 4 words"),
        ({"q": "timeout", "status": "FAILED"}, 422, "can't be combined with a status"),
        ({"q": "timeout", "retry_state": "gave_up"}, 422, "can't be combined with a status or retry_state"),
    ],
)
def test_a_search_that_cannot_be_served_is_a_4xx_saying_why(searching, params, status, says):
    response = searching.api.get("/tasks", params=params, headers=KEY)
    assert response.status_code == status and response.headers["content-type"].startswith("application/json")
    assert says in response.json()["message"]


def test_a_page_token_of_another_search_or_of_the_list_is_refused(searching):
    shared = word()
    for _ in range(2):
        created(searching, "TASK2", {"text": shared})
    wait_until(lambda: len(searching.ids(shared)) == 2, timeout=INDEXED, what="both found")
    token = searching.api.get("/tasks", params={"q": shared, "limit": 1}, headers=KEY).json()["next_token"]
    for params in ({"q": "other"}, {}, {"q": shared, "task_type": "TASK2"}):
        response = searching.api.get("/tasks", params={**params, "next_token": token}, headers=KEY)
        assert response.status_code == 400 and response.json()["error"] == "invalid_next_token"


def test_the_dashboard_searches_from_the_list_form_and_keeps_it_in_the_url(searching):
    shared = word()
    task_id = created(searching, "TASK2", {"text": f"{shared} dashboard"})
    wait_until(lambda: searching.ids(shared) == [task_id], timeout=INDEXED, what="the task found")
    page = searching.dashboard.get("/dashboard", params={"q": shared})
    assert page.status_code == 200 and task_id in page.text
    assert f'value="{shared}"' in page.text and f"with the words {shared}" in page.text
    with_status = searching.dashboard.get("/dashboard", params={"q": shared, "status": "FAILED"})
    assert task_id in with_status.text and "the status filter is not applied" in with_status.text
    with_retries = searching.dashboard.get("/dashboard", params={"q": shared, "retry_state": "gave_up"})
    assert (
        task_id in with_retries.text and "the retries and status filters are not applied" in with_retries.text
    )
    wrong = searching.dashboard.get("/dashboard", params={"q": "!!"})
    assert (
        wrong.status_code == 200
        and 'aria-invalid="true"' in wrong.text
        and "no word to look for" in wrong.text
    )
    partial = searching.dashboard.get(
        "/dashboard", params={"q": shared}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert task_id in partial.text and f"q={shared}" in partial.headers["HX-Push-Url"]


def test_many_entries_are_written_several_calls_at_a_time_and_all_land(searching):
    """A stream batch of new tasks is hundreds of BatchWriteItem calls: sent 8 at a time."""
    from app.adapters.aws import DynamoDBTable

    stage = searching.stage
    table = DynamoDBTable(stage.resources.table_name, stage.clients["dynamodb"])
    marker = word()
    puts = [
        {"PutRequest": {"Item": {"pk": {"S": f"SEARCH#{marker}#0"}, "sk": {"S": f"{n:013d}#t{n}"}}}}
        for n in range(130)
    ]
    table.batch_write(puts, "entries", at_once=4)
    assert len(searching.entries(marker)) == 130
    table.batch_write([{"DeleteRequest": {"Key": put["PutRequest"]["Item"]}} for put in puts], at_once=4)
    assert searching.entries(marker) == []
