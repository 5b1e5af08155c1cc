"""Retrying and gave up: what puts a task in each, how it is listed, and how it is counted (pure rules)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from app.adapters.sharding import ShardCounts
from app.adapters.task_item import to_item
from app.adapters.task_listing import choose_index, listed_status, listing_id
from app.dashboard import timing
from app.dashboard.forms import ListFilters
from app.domain.aggregates import TaskChange, TaskFacts, deltas_of, status_breakdown
from app.domain.listing import TaskQuery, retry_filter_conflict
from app.domain.task import RetryState, TaskStatus, retry_state_of
from app.local.recount import recounted
from tests.factories import a_task

NOW = 1_800_000_000


def between_attempts(**changes):
    task = dataclasses.replace(
        a_task("TASK1", now=NOW - 100),
        status=TaskStatus.IN_PROGRESS,
        attempt=1,
        started_ms=(NOW - 90) * 1000,
        updated_time=NOW - 60,
        retry_at=NOW + 5,
    )
    return dataclasses.replace(task, **changes)


# --- what counts as retrying, and as gave up -------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retry_at", "gave_up", "state"),
    [
        ("IN_PROGRESS", NOW, False, RetryState.RETRYING),  # a crashed attempt's backoff
        ("IN_PROGRESS", None, False, None),  # running
        ("FAILED", None, True, RetryState.GAVE_UP),  # recovery ended it: attempts ran out
        ("FAILED", None, False, None),  # its run (or a client) failed it
        ("FAILED", NOW, False, None),  # failed while waiting for its next attempt: not retrying any more
        ("CANCELLED", NOW, False, None),
        ("COMPLETED", None, True, None),
    ],
)
def test_the_retry_state_is_read_off_the_status_and_two_fields(status, retry_at, gave_up, state):
    assert retry_state_of(status, retry_at, gave_up) is state


def test_the_api_shows_the_retry_state_beside_an_unchanged_status():
    retrying = between_attempts().to_public()
    assert (retrying["status"], retrying["retry_state"]) == ("IN_PROGRESS", "retrying")
    gave_up = dataclasses.replace(between_attempts(), status=TaskStatus.FAILED, gave_up=True).to_public()
    assert (gave_up["status"], gave_up["retry_state"], gave_up["retry_at"]) == ("FAILED", "gave_up", None)
    assert a_task().to_public()["retry_state"] is None


def test_the_mark_survives_the_item():
    from app.adapters.task_item import from_item

    gave_up = dataclasses.replace(between_attempts(), status=TaskStatus.FAILED, gave_up=True)
    item = to_item(gave_up, ShardCounts())
    assert item["gave_up"] == {"BOOL": True} and item["status_pk"] == {"S": "GAVE_UP#0"}
    assert from_item(item).retry_state is RetryState.GAVE_UP
    assert "gave_up" not in to_item(a_task(), ShardCounts())


# --- listing: one Query on the status indexes ------------------------------------------------


def test_a_task_in_a_retry_state_is_listed_under_it_instead_of_its_status():
    assert listed_status(between_attempts()) == "RETRYING"
    assert listed_status(dataclasses.replace(between_attempts(), retry_at=None)) == "IN_PROGRESS"
    assert listed_status(dataclasses.replace(a_task(), status=TaskStatus.FAILED, gave_up=True)) == "GAVE_UP"
    assert listed_status(dataclasses.replace(a_task(), status=TaskStatus.FAILED)) == "FAILED"


@pytest.mark.parametrize(
    ("query", "index", "prefixes"),
    [
        # A status lists all its tasks, as it always did: its retry state's partition is read too.
        (TaskQuery(status=TaskStatus.IN_PROGRESS), "by_status", ["IN_PROGRESS", "RETRYING"]),
        (TaskQuery(status=TaskStatus.FAILED), "by_status", ["FAILED", "GAVE_UP"]),
        (TaskQuery(status=TaskStatus.COMPLETED), "by_status", ["COMPLETED"]),
        (TaskQuery(retry_state=RetryState.RETRYING), "by_status", ["RETRYING"]),
        (TaskQuery(status=TaskStatus.FAILED, retry_state=RetryState.GAVE_UP), "by_status", ["GAVE_UP"]),
        (TaskQuery(status=TaskStatus.IN_PROGRESS, retry_state=RetryState.NONE), "by_status", ["IN_PROGRESS"]),
        (
            TaskQuery(task_type="TASK2", retry_state=RetryState.GAVE_UP),
            "by_type_status",
            ["TASK2#GAVE_UP"],
        ),
        (
            TaskQuery(task_type="TASK2", status=TaskStatus.IN_PROGRESS),
            "by_type_status",
            ["TASK2#IN_PROGRESS", "TASK2#RETRYING"],
        ),
    ],
)
def test_each_filter_is_served_by_the_status_indexes_partitions(query, index, prefixes):
    chosen, found = choose_index(query)
    assert (chosen.name, found) == (index, prefixes)


def test_page_tokens_of_a_status_listing_stay_valid_and_a_retry_filter_has_its_own():
    assert listing_id(TaskQuery(status=TaskStatus.IN_PROGRESS)) == "by_status|IN_PROGRESS|None|None"
    assert listing_id(TaskQuery(retry_state=RetryState.RETRYING)) == "by_status|RETRYING~retrying|None|None"


@pytest.mark.parametrize(
    ("status", "retry_state"),
    [(TaskStatus.COMPLETED, RetryState.RETRYING), (TaskStatus.IN_PROGRESS, RetryState.GAVE_UP)],
)
def test_a_retry_filter_no_task_of_the_status_can_match_reads_nothing(status, retry_state):
    _, prefixes = choose_index(TaskQuery(status=status, retry_state=retry_state))
    assert prefixes == [] and retry_filter_conflict(status, retry_state)


def test_none_without_a_status_reads_every_status_s_own_partition():
    _, prefixes = choose_index(TaskQuery(retry_state=RetryState.NONE))
    assert prefixes == [status.value for status in TaskStatus]


def test_the_dashboard_drops_a_contradicting_retry_filter_with_a_message_and_implies_the_status():
    filters = ListFilters.from_params({"status": "COMPLETED", "retry_state": "retrying"})
    assert filters.retry_state is None and "COMPLETED" in filters.errors["retry_state"]
    assert "retry_state" in ListFilters.from_params({"retry_state": "sometimes"}).errors
    implied = ListFilters.from_params({"retry_state": "gave_up"})
    assert (implied.status, implied.query().retry_state) == (TaskStatus.FAILED, RetryState.GAVE_UP)
    assert implied.params() == {"status": "FAILED", "retry_state": "gave_up"}


# --- counts: kept by the changes function, exact ---------------------------------------------


def facts(status: str, retry_state: RetryState | None = None) -> TaskFacts:
    return TaskFacts("TASK1", status, created_ms=NOW * 1000, started_ms=NOW * 1000, retry_state=retry_state)


def test_a_crash_and_the_next_claim_move_the_retrying_count_and_no_status_count():
    running, retrying = facts("IN_PROGRESS"), facts("IN_PROGRESS", RetryState.RETRYING)
    assert deltas_of([TaskChange(running, retrying)]).counts == Counter({("TASK1", "RETRYING"): 1})
    assert deltas_of([TaskChange(retrying, running)]).counts == Counter({("TASK1", "RETRYING"): -1})
    assert deltas_of([TaskChange(retrying, retrying)]).counts == Counter()  # a write while it waits
    assert deltas_of([TaskChange(running, retrying), TaskChange(retrying, running)]).counts == Counter()


def test_giving_up_moves_a_task_from_retrying_to_gave_up_and_its_expiry_takes_it_out():
    retrying, gave_up = facts("IN_PROGRESS", RetryState.RETRYING), facts("FAILED", RetryState.GAVE_UP)
    assert deltas_of([TaskChange(retrying, gave_up)]).counts == Counter(
        {
            ("TASK1", "RETRYING"): -1,
            ("TASK1", "IN_PROGRESS"): -1,
            ("TASK1", "GAVE_UP"): 1,
            ("TASK1", "FAILED"): 1,
        }
    )
    assert deltas_of([TaskChange(gave_up, None)]).counts == Counter(
        {("TASK1", "GAVE_UP"): -1, ("TASK1", "FAILED"): -1}
    )


def test_a_run_that_fails_is_failed_not_gave_up():
    counts = deltas_of([TaskChange(facts("IN_PROGRESS"), facts("FAILED"))]).counts
    assert counts == Counter({("TASK1", "IN_PROGRESS"): -1, ("TASK1", "FAILED"): 1})


def test_the_counts_shown_split_in_progress_and_add_up_to_every_task():
    counted = {"CREATED": 2, "IN_PROGRESS": 5, "RETRYING": 2, "COMPLETED": 7, "FAILED": 4, "GAVE_UP": 3}
    shown = {(status.value, state and state.value): n for status, state, n in status_breakdown(counted)}
    assert shown[("IN_PROGRESS", "none")] == 3 and shown[("IN_PROGRESS", "retrying")] == 2
    assert shown[("FAILED", None)] == 4 and shown[("FAILED", "gave_up")] == 3
    assert sum(n for (_, state), n in shown.items() if state != "gave_up") == 2 + 5 + 7 + 4


def test_the_counts_restored_locally_are_recounted_with_the_retry_states():
    def record(task):
        item = to_item(task, ShardCounts())
        return {"h": item["pk"], "r": item["sk"], "i": item}

    failed = dataclasses.replace(a_task(), status=TaskStatus.FAILED)
    tasks = [between_attempts(), between_attempts(), dataclasses.replace(failed, gave_up=True), failed]
    (counts,) = [r["i"] for r in recounted([record(task) for task in tasks]) if r["r"] == {"S": "COUNTS"}]
    numbers = {name: int(value["N"]) for name, value in counts.items() if "N" in value and int(value["N"])}
    assert numbers == {"IN_PROGRESS": 2, "RETRYING": 2, "FAILED": 2, "GAVE_UP": 1, "created_total": 4}


# --- the run time of a task between attempts stands still -------------------------------------


def test_between_attempts_the_run_time_stands_at_the_last_attempt_s_crash():
    waiting = between_attempts()
    assert timing.run_seconds(waiting, NOW) == timing.run_seconds(waiting, NOW + 3600) == 30
    running = dataclasses.replace(waiting, retry_at=None)
    assert timing.run_seconds(running, NOW + 10) == 100  # ticking again once the next attempt runs


def test_a_task_between_attempts_when_this_release_came_is_counted_as_it_was_listed():
    """The code before listed (and counted) a task between attempts under IN_PROGRESS: its next
    claim must not take one off RETRYING, which never counted it, or the counts drift for good."""
    from workers.changes import change_of

    shards = ShardCounts()
    waiting = between_attempts()
    claimed = dataclasses.replace(waiting, retry_at=None, attempt=2)

    def record(old: dict, new: dict) -> dict:
        return {"dynamodb": {"Keys": {"sk": new["sk"]}, "OldImage": old, "NewImage": new}}

    listed_before = {**to_item(waiting, shards), "status_pk": to_item(claimed, shards)["status_pk"]}
    assert deltas_of([change_of(record(listed_before, to_item(claimed, shards)))]).counts == Counter()
    # Written by this release, it is listed under RETRYING, and counted there until its claim.
    assert to_item(waiting, shards)["status_pk"]["S"].startswith("RETRYING#")
    assert deltas_of(
        [change_of(record(to_item(waiting, shards), to_item(claimed, shards)))]
    ).counts == Counter({("TASK1", "RETRYING"): -1})
