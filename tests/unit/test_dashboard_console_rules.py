"""The dashboard's pure rules: row keys, spans, orders, attempts from a timeline, list filters."""

from __future__ import annotations

import dataclasses

import pytest

from app.dashboard import timing
from app.dashboard.forms import RANGES, CreateForm, ListFilters, parse_create
from app.domain.task import TaskStatus
from app.domain.timeline import Hop, event_of
from app.services.dashboard import RowKey, is_id_prefix
from tests.factories import a_task

NOW = 1_800_000_000.0


def test_row_keys_order_as_the_listing_does_and_round_trip():
    older, newer = a_task(now=NOW - 1), a_task(now=NOW)
    assert RowKey.of(newer) > RowKey.of(older)
    same_ms = [dataclasses.replace(older, id=f"{n}0000000-0000-4000-8000-000000000000") for n in (1, 2)]
    assert RowKey.of(same_ms[1]) > RowKey.of(same_ms[0])  # ties broken by id
    key = RowKey.of(newer)
    assert RowKey.parse(str(key)) == key and str(key).startswith(f"{newer.created_ms:013d}-")
    for bad in ("", "123", "abc-" + newer.id, "1-not-an-id", "12345678901234-" + newer.id):
        with pytest.raises(ValueError):
            RowKey.parse(bad)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "<1 s"), (1, "1 s"), (59, "59 s"), (60, "1 min 0 s"), (3599, "59 min 59 s"), (3600, "1 h 0 min"),
     (86399, "23 h 59 min"), (90000, "1 d 1 h")],
)  # fmt: skip
def test_span_words(seconds, words):
    assert timing.span(seconds) == words


def test_duration_and_waiting_come_from_the_task_item():
    waiting = a_task(now=NOW - 90)
    assert timing.waiting_seconds(waiting, NOW) == 90 and timing.duration_seconds(waiting, NOW) == 90
    assert timing.run_seconds(waiting, NOW) is None  # not started: no run time, whatever it waited
    running = waiting.moved_to(TaskStatus.IN_PROGRESS, "", NOW - 80)
    # The item keeps when it was first started: the wait stays what it was.
    assert timing.waiting_seconds(running, NOW) == 10 and timing.duration_seconds(running, NOW) == 90
    assert timing.waiting_seconds(running, NOW + 999) == 10
    assert timing.run_seconds(running, NOW) == 80  # its run so far, the wait aside
    done = running.moved_to(TaskStatus.COMPLETED, "", NOW - 30)
    assert timing.duration_seconds(done, NOW) == 60 and timing.duration_seconds(done, NOW + 999) == 60
    assert timing.run_seconds(done, NOW) == timing.run_seconds(done, NOW + 999) == 50


def test_orders_of_the_loaded_rows_keep_newest_first_among_ties():
    a = a_task(now=NOW - 30).moved_to(TaskStatus.IN_PROGRESS, "", NOW - 29)
    a = a.moved_to(TaskStatus.COMPLETED, "", NOW - 28)  # ran 1 s
    b = a_task(now=NOW - 100).moved_to(TaskStatus.IN_PROGRESS, "", NOW - 20)  # waited 80 s, running 20 s
    c = a_task(now=NOW - 10)  # waiting: no run time
    d = a_task(now=NOW - 40).moved_to(TaskStatus.IN_PROGRESS, "", NOW - 39)
    d = d.moved_to(TaskStatus.FAILED, "", NOW - 29)  # ran 10 s
    rows = [a, b, c, d]
    assert timing.sorted_rows(rows, "created", NOW) == [c, a, d, b]
    assert timing.sorted_rows(rows, "oldest", NOW) == [b, d, a, c]
    # By run time, queue wait aside: b waited longest in all, and ran longest too.
    assert timing.sorted_rows(rows, "duration", NOW) == [b, d, a, c]
    assert timing.sorted_rows(rows, "status", NOW) == [c, b, a, d]  # CREATED, IN_PROGRESS, COMPLETED, FAILED
    assert set(timing.SORTS) == {"created", "oldest", "duration", "status"}


def test_attempts_from_the_timeline():
    task = a_task(now=NOW)
    worker = "worker TASK1"
    events = [
        event_of(task, Hop.DELIVERED, NOW + 0.1, worker, attempt=7),  # receive count, not an attempt
        event_of(task, Hop.STARTED, NOW + 0.2, worker, attempt=1),
        event_of(task, Hop.PROGRESS, NOW + 0.5, worker, attempt=1, progress=40),
        event_of(task, Hop.CRASHED, NOW + 1.2, worker, attempt=1, message="KeyError: 'x'"),
        event_of(task, Hop.RESUMED, NOW + 4.0, worker, attempt=2),
        event_of(task, Hop.FAILED, NOW + 4.5, worker, attempt=2, message="bad input"),
        event_of(task, Hop.STARTED, NOW + 9.0, worker, attempt=3),
    ]
    first, second, third = timing.attempts(list(reversed(events)))
    assert (first.number, first.started_ms, first.ran_ms, first.last_progress) == (1, 200, 1000, 40)
    assert [outcome.hop for outcome in first.outcomes] == [Hop.CRASHED]
    assert first.outcomes[0].message == "KeyError: 'x'" and not first.resumed
    assert second.resumed and second.ran_ms == 500 and second.outcomes[0].hop is Hop.FAILED
    assert third.outcomes == () and third.ran_ms is None
    assert timing.queue_wait_ms(events) == 200
    assert timing.queue_wait_ms(events[:1]) is None and timing.attempts([]) == []


def test_range_presets_are_relative_and_give_way_to_typed_times():
    filters = ListFilters.from_params({"range": "1h"}, now=NOW)
    assert filters.created_from == NOW - 3600 and filters.created_to is None
    assert filters.params() == {"range": "1h"} and filters.describe() == "any type, created in the last 1 h"
    typed = ListFilters.from_params({"range": "1h", "created_from": "2027-01-15T08:00"}, now=NOW)
    assert typed.range is None and typed.params() == {"created_from": "2027-01-15T08:00:00"}
    assert "range" in ListFilters.from_params({"range": "2w"}, now=NOW).errors
    assert set(RANGES) == {"15m", "1h", "24h", "7d"}
    assert ListFilters.from_params({"range": "7d"}, now=NOW).with_range("15m") == {"range": "15m"}


def test_sort_and_through_are_read_and_through_is_never_carried_over():
    task = a_task(now=NOW)
    filters = ListFilters.from_params(
        {"sort": "duration", "through": str(RowKey.of(task)), "status": "FAILED"}
    )
    assert filters.sort == "duration" and filters.through == RowKey.of(task) and filters.sorted_within_page
    assert filters.params() == {"status": "FAILED", "sort": "duration"}
    assert filters.params(through="x")["through"] == "x"
    assert not ListFilters.from_params({"sort": "duration"}).active  # ordering narrows nothing
    assert "sort" in ListFilters.from_params({"sort": "random"}).errors
    assert "through" in ListFilters.from_params({"through": "nope"}).errors


def test_a_clone_carries_the_data_as_sent_and_its_source():
    task = a_task(data={"z": 1, "a": [1, 2]})
    form = CreateForm.cloned(task)
    assert form.data.index('"z"') < form.data.index('"a"') and form.cloned_from == task.id
    assert 4 <= form.data_rows <= 16
    typed, new = parse_create({"task_type": "TASK1", "data": form.data, "cloned_from": task.id})
    assert new is not None and new.data == task.data and typed.cloned_from == task.id
    typed, _ = parse_create({"task_type": "TASK1", "data": "{}", "cloned_from": "../../etc"})
    assert typed.cloned_from == ""


@pytest.mark.parametrize(
    "text", ["ab", "3f2a9c1e", "3f2a9c1e-", "3f2a9c1e-0b1c", "3f2a9c1e-0b1c-4d2e-8f3a-0123"]
)
def test_id_prefixes_accepted(text):
    assert is_id_prefix(text)


@pytest.mark.parametrize(
    "text",
    ["", "xyz", "3f2a9c1e0", "3f2a 9c1e", "-3f2a", "3f2a9c1e--0b1c", "3f2a9c1e-0b1c-4d2e-8f3a-0123456789abc"],
)
def test_id_prefixes_refused(text):
    assert not is_id_prefix(text)
