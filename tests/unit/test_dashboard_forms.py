"""What the dashboard's query strings and forms are read as."""

import pytest

from app import task_registry
from app.dashboard.forms import ListFilters, parse_create, parse_time, time_input
from app.dashboard.fragments import ago, live_key, pretty_json, short_id, utc
from app.domain.listing import DEFAULT_PAGE_SIZE
from app.domain.task import TaskStatus
from tests.factories import a_task

NOW = 1_800_000_000  # 2027-01-15T08:00:00Z


@pytest.mark.parametrize(
    ("text", "end_of", "expected"),
    [
        ("2027-01-15T08:00", False, NOW),
        ("2027-01-15T08:00", True, NOW + 59),
        ("2027-01-15T08:00:30", True, NOW + 30),
        ("2027-01-15T09:00:00+01:00", False, NOW),
        (str(NOW), False, NOW),
        (f" {NOW} ", True, NOW),
    ],
)
def test_times_are_utc_or_epoch_seconds(text, end_of, expected):
    assert parse_time(text, end_of=end_of) == expected


def test_time_input_round_trips():
    assert time_input(NOW) == "2027-01-15T08:00:00"
    assert parse_time(time_input(NOW)) == NOW
    assert time_input(None) == ""


def test_filters_from_a_query_string():
    filters = ListFilters.from_params(
        {"status": "FAILED", "task_type": "TASK2", "created_from": "2027-01-15T08:00", "limit": "5"}
    )
    query = filters.query()
    assert (query.status, query.task_type, query.created_from, query.limit) == (
        TaskStatus.FAILED, "TASK2", NOW, 5,
    )  # fmt: skip
    assert filters.errors == {} and filters.active
    assert filters.params() == {
        "status": "FAILED", "task_type": "TASK2", "created_from": "2027-01-15T08:00:00", "limit": 5,
    }  # fmt: skip
    assert filters.params(status=None, next_token="t") == {
        "task_type": "TASK2", "created_from": "2027-01-15T08:00:00", "limit": 5, "next_token": "t",
    }  # fmt: skip


def test_empty_and_bad_filters():
    assert ListFilters.from_params({"status": "", "task_type": "", "limit": ""}) == ListFilters()
    assert not ListFilters().active and ListFilters().limit == DEFAULT_PAGE_SIZE
    bad = ListFilters.from_params({"status": "done", "task_type": "X", "created_to": "soon", "limit": "101"})
    assert set(bad.errors) == {"status", "task_type", "created_to", "limit"}
    assert bad.query() == ListFilters().query()
    reversed_range = ListFilters.from_params({"created_from": str(NOW), "created_to": str(NOW - 1)})
    assert reversed_range.created_to is None and "before its start" in reversed_range.errors["created_to"]


def test_page_sizes_include_the_current_one():
    assert ListFilters(limit=3).page_sizes == [3, 10, 20, 50, 100]


def test_a_good_create_form():
    typed, new = parse_create(
        {"task_type": "TASK2", "data": '{"text": "a b"}', "ttl": f" {NOW} "}, now=NOW - 1
    )
    assert typed.errors == {}
    assert (new.task_type, new.data, new.ttl) == ("TASK2", {"text": "a b"}, NOW)
    _, empty = parse_create({"task_type": "TASK1", "data": "", "ttl": ""})
    assert (empty.data, empty.ttl) == ({}, None)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"data": "{"},
            "data",
            "Not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)",
        ),
        ({"data": '{\n  "a": 1,\n}'}, "data", "(line 3, column 1)"),
        ({"data": '"text"'}, "data", "Data must be a JSON object"),
        ({"data": '{"a": Infinity}'}, "data", "Infinity is not a JSON number"),
        ({"ttl": "12.5"}, "ttl", "ttl must be epoch seconds"),
        ({"ttl": str(NOW - 10)}, "ttl", "is in the past"),
        ({"task_type": ""}, "task_type", f"Choose one of {', '.join(task_registry.names())}"),
    ],
)
def test_bad_create_forms_keep_what_was_typed(form, field, message):
    fields = {"task_type": "TASK1", "data": "{}", "ttl": "", **form}
    typed, new = parse_create(fields, now=NOW)
    assert new is None
    assert message in typed.errors[field]
    assert (typed.task_type, typed.data, typed.ttl) == (
        fields["task_type"],
        fields["data"],
        fields["ttl"].strip(),
    )


@pytest.mark.parametrize(
    ("delta", "words"),
    [(0, "just now"), (4, "just now"), (5, "5 s ago"), (59, "59 s ago"), (60, "1 min ago"),
     (7200, "2 h ago"), (3 * 86400, "3 d ago"), (-7 * 86400, "in 7 d")],
)  # fmt: skip
def test_human_times(delta, words):
    assert ago(NOW - delta, now=NOW) == words


def test_view_helpers():
    task = a_task()
    assert short_id(task.id) == task.id[:8]
    assert live_key(task) == "CREATED::"
    assert utc(NOW) == "2027-01-15 08:00:00 UTC" and utc(None) == "—"
    assert pretty_json({"b": [1], "a": "é"}) == '{\n  "a": "é",\n  "b": [\n    1\n  ]\n}'
