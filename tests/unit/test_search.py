"""Search: the words a task is found by, a search's words, and the index entries the stream calls for."""

from __future__ import annotations

import json

import pytest

from app.adapters.search_index import entries_of, entry_item, writes_of
from app.adapters.sharding import ShardCounts, shard_of
from app.domain import search
from app.domain.errors import InvalidSearch
from app.domain.task_types import TaskType, TaskTypeRefused

TASK_ID = "0b6f3f8e-1111-4222-8333-444455556666"
CREATED_MS = 1_800_000_000_123
SHARDS = ShardCounts(search=4)


def image(status="CREATED", status_msg="", data=None, result=None, ttl=1_900_000_000, **more) -> dict:
    item = {
        "pk": {"S": f"TASK#{TASK_ID}"},
        "sk": {"S": "TASK"},
        "id": {"S": TASK_ID},
        "task_type": {"S": "TASK2"},
        "status": {"S": status},
        "status_msg": {"S": status_msg},
        "data": {"S": json.dumps(data if data is not None else {"text": "Quick brown fox"})},
        "created_ms": {"N": str(CREATED_MS)},
        "ttl": {"N": str(ttl)},
        "search_shards": {"N": "4"},
        **more,
    }
    if result is not None:
        item["result"] = {"S": json.dumps(result)}
    return item


def searchable(task_type: str) -> tuple[str, ...]:
    return ("text", "customer.name") if task_type == "TASK2" else ()


def record(old: dict | None, new: dict | None, event: str = "MODIFY", **more) -> dict:
    images = {"Keys": {"pk": {"S": f"TASK#{TASK_ID}"}, "sk": {"S": "TASK"}}}
    if old is not None:
        images["OldImage"] = old
    if new is not None:
        images["NewImage"] = new
    return {"eventName": event, "dynamodb": images, **more}


def words_indexed(writes) -> dict[str, bool]:
    """word -> True when put, False when deleted."""
    return {pk.split("#")[1]: item is not None for (pk, _sk), item in writes.items()}


# --- words ------------------------------------------------------------------------------------


def test_words_are_normalised_split_on_punctuation_and_short_ones_dropped():
    text = "\uff26\uff4f\uff4f-BAR_baz a İstanbul order#42 x Café"
    assert list(search.words_of(text, 10)) == ["foo", "bar", "baz", "istanbul", "order", "42", "cafe"]


def test_a_long_word_is_cut_so_the_same_cut_of_a_search_finds_it():
    digest = "ab" * 40
    (word,) = search.words_of(digest, 5)
    assert len(word) == search.MAX_WORD_CHARS and search.query_words(digest) == (word,)


def test_hostile_data_of_64_kib_of_unique_words_gives_at_most_the_cap():
    data = {"text": " ".join(f"w{i:06d}" for i in range(9000))}  # ~64 KiB
    assert len(json.dumps(data)) >= 63_000
    words = search.task_words(("text",), data, "COMPLETED", "ok " * 5000 + "done", False, {"x": data["text"]})
    assert len(words) <= search.MAX_WORDS_PER_TASK == 32
    assert {"w000000", "w000015"} <= words and "w000016" not in words


def test_declared_fields_at_any_depth_and_result_values_are_indexed_not_keys():
    data = {"text": "alpha", "customer": {"name": ["Ann Lee", {"nick": "annie"}], "id": 7}, "other": "hidden"}
    words = search.task_words(("text", "customer.name"), data, "CREATED", "", False, {"status_word": "beta"})
    assert words == {"alpha", "ann", "lee", "annie", "beta"}


def test_the_status_message_counts_only_while_it_stands():
    running = search.task_words((), {}, "IN_PROGRESS", "50 percent fetched", False, None)
    crashed = search.task_words((), {}, "IN_PROGRESS", "attempt crashed", True, None)
    failed = search.task_words((), {}, "FAILED", "connection refused", False, None)
    assert running == set() and crashed == {"attempt", "crashed"} and failed == {"connection", "refused"}


@pytest.mark.parametrize(
    ("q", "says"),
    [
        ("x" * 201, "at most 200"),
        ("a ! ?", "no word to look for"),
        ("one two three four five", "more than 4 words"),
    ],
)
def test_a_search_that_cannot_be_served_says_why(q, says):
    with pytest.raises(InvalidSearch, match=says):
        search.query_words(q)


def test_a_search_asks_for_its_distinct_normalised_words_and_the_longest_drives():
    words = search.query_words("  Connection REFUSED connection ")
    assert words == ("connection", "refused") and search.driving_word(words) == "connection"


@pytest.mark.parametrize(
    ("searchable_fields", "says"),
    [
        ("text", "must be a list of data field names"),
        (("text", 3), "must be a list of data field names"),
        (("a b",), "must be a data field name"),
        (("text", "text"), "names a field twice"),
        (tuple(f"f{i}" for i in range(9)), "at most 8"),
    ],
)
def test_a_declaration_with_bad_searchable_fields_is_refused(searchable_fields, says):
    with pytest.raises(TaskTypeRefused, match=says):
        TaskType(name="T", description="d", longest_run_seconds=1, searchable=searchable_fields)


# --- index entries ------------------------------------------------------------------------------


def test_an_entry_is_keyed_by_word_and_the_tasks_shard_sorted_like_the_listing():
    item = entry_item("fox", TASK_ID, CREATED_MS, "TASK2", 1_900_000_000, SHARDS.search)
    assert item == {
        "pk": {"S": f"SEARCH#fox#{shard_of(TASK_ID, 4)}"},
        "sk": {"S": f"{CREATED_MS:013d}#{TASK_ID}"},
        "task_type": {"S": "TASK2"},
        "ttl": {"N": "1900000000"},
    }
    # No listing-index attribute and no sk=TASK: out of the GSIs and of both stream filters.
    assert not {"created_pk", "type_pk", "status_pk", "type_status_pk", "id_prefix", "due_pk"} & item.keys()
    assert item["sk"]["S"] != "TASK"


def test_only_task_items_have_entries():
    assert entries_of(image(), searchable, SHARDS)
    assert entries_of({**image(), "sk": {"S": "EVENT#1"}}, searchable, SHARDS) == {}
    assert entries_of({"pk": {"S": "TASK#x"}, "sk": {"S": "TASK"}}, searchable, SHARDS) == {}
    assert entries_of({**image(), "data": {"S": "not json"}}, searchable, SHARDS) == {}


def test_a_new_task_puts_its_words_and_a_changed_message_swaps_only_what_changed():
    created = image()
    assert words_indexed(writes_of([record(None, created, "INSERT")], searchable, SHARDS)) == {
        "quick": True,
        "brown": True,
        "fox": True,
    }
    crashed = image("IN_PROGRESS", "timeout reached", retry_at={"N": "1"})
    failed = image("FAILED", "timeout again", result=None)
    writes = writes_of([record(created, crashed), record(crashed, failed)], searchable, SHARDS)
    assert words_indexed(writes) == {"timeout": True, "reached": False, "again": True}


def test_the_last_write_of_a_batch_wins_for_each_entry():
    crashed = image("IN_PROGRESS", "timeout", retry_at={"N": "1"})
    running = image("IN_PROGRESS", "timeout")  # the next attempt started: the crash message gave way
    writes = writes_of([record(image(), crashed), record(crashed, running)], searchable, SHARDS)
    assert words_indexed(writes) == {"timeout": False}


def test_a_batch_applied_twice_leaves_the_same_entries():
    batch = [
        record(None, image(), "INSERT"),
        record(image(), image("COMPLETED", "done", result={"w": "counted"})),
    ]
    state: dict = {}
    for _ in range(2):
        for key, item in writes_of(batch, searchable, SHARDS).items():
            if item is None:
                state.pop(key, None)
            else:
                state[key] = item
        snapshot = dict(state)
    assert state == snapshot
    assert {pk.split("#")[1] for pk, _ in state} == {"quick", "brown", "fox", "done", "counted"}


def test_expiry_by_ttl_writes_nothing_and_other_removals_delete():
    ttl = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert writes_of([record(image(), None, "REMOVE", userIdentity=ttl)], searchable, SHARDS) == {}
    removed = words_indexed(writes_of([record(image(), None, "REMOVE")], searchable, SHARDS))
    assert removed == {"quick": False, "brown": False, "fox": False}


def test_a_moved_ttl_rewrites_every_entry():
    writes = writes_of([record(image(), image(ttl=1_950_000_000))], searchable, SHARDS)
    assert {item["ttl"]["N"] for item in writes.values()} == {"1950000000"} and len(writes) == 3


def test_an_entry_is_deleted_where_it_was_put_after_the_search_shards_grew():
    """targetTasksPerSecond raised: the count grows, and a word put under 3 shards is still deleted
    from its partition (the item keeps the count it was created with), not left to its TTL."""
    task_id = next(f"task-{n}" for n in range(100) if shard_of(f"task-{n}", 3) != shard_of(f"task-{n}", 5))
    created = {**image(), "id": {"S": task_id}, "search_shards": {"N": "3"}}
    (put,) = [
        key
        for key, item in writes_of(
            [record(None, created, "INSERT")], searchable, ShardCounts(search=3)
        ).items()
        if "fox" in key[0]
    ]
    grown = ShardCounts(search=5)
    deleted = writes_of(
        [record(created, {**created, "data": {"S": '{"text": "quick brown"}'}})], searchable, grown
    )
    assert deleted == {put: None}


def test_a_task_written_before_the_index_has_all_its_words_put_at_its_next_change():
    """No search_shards on the item: none of its words were indexed when it was created."""
    before = {key: value for key, value in image().items() if key != "search_shards"}
    completed = {**before, "status": {"S": "COMPLETED"}, "status_msg": {"S": "done"}}
    assert words_indexed(writes_of([record(before, completed)], searchable, SHARDS)) == {
        "quick": True,
        "brown": True,
        "fox": True,
        "done": True,
    }
