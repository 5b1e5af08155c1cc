"""The Lambda filter patterns we rely on, and the matcher the local runtime applies them with."""

import pytest

from app.local import sls_config
from app.local.filter_patterns import matches, matches_any


def stream_record(
    event_name: str, sk: str = "TASK", status: str = "CREATED", old_status: str | None = None, **extra: str
) -> dict:
    image = {"pk": {"S": "TASK#1"}, "sk": {"S": sk}, "id": {"S": "1"}, "status": {"S": status}}
    image.update({name: {"S": value} for name, value in extra.items()})
    record = {"eventName": event_name, "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}}}
    if event_name != "REMOVE":
        record["dynamodb"]["NewImage"] = image
    if old_status:
        record["dynamodb"]["OldImage"] = {**image, "status": {"S": old_status}}
    return record


def patterns_of(name: str) -> list[dict]:
    return next(f for f in sls_config.load().stream_functions if f.name == name).filter_patterns


@pytest.fixture(scope="module")
def publisher_patterns():
    return patterns_of("publisher")


def test_the_changes_function_gets_every_change_to_a_task_item_and_nothing_else():
    changes = patterns_of("changes")
    for event_name in ("INSERT", "MODIFY", "REMOVE"):
        assert matches_any(changes, stream_record(event_name))
        assert not matches_any(changes, stream_record(event_name, sk="EVENT#0001"))
    assert not matches_any(changes, stream_record("INSERT", sk="BATCH"))


@pytest.fixture(scope="module")
def webhook_patterns(publisher_patterns):
    """The publisher also queues webhooks: its third pattern (the stream keeps two readers)."""
    return publisher_patterns[2:]


def test_publisher_gets_tasks_ready_to_run_only(publisher_patterns):
    assert matches_any(publisher_patterns, stream_record("INSERT"))
    # A scheduled task once it is due, not before.
    assert not matches_any(publisher_patterns, stream_record("INSERT", status="SCHEDULED"))
    assert matches_any(publisher_patterns, stream_record("MODIFY", status="CREATED", old_status="SCHEDULED"))
    assert not matches_any(
        publisher_patterns, stream_record("MODIFY", status="IN_PROGRESS", old_status="CREATED")
    )
    assert not matches_any(
        publisher_patterns, stream_record("MODIFY", status="CANCELLED", old_status="SCHEDULED")
    )
    assert not matches_any(
        publisher_patterns, stream_record("MODIFY", status="COMPLETED", old_status="IN_PROGRESS")
    )
    assert not matches_any(publisher_patterns, stream_record("REMOVE"))
    assert not matches_any(publisher_patterns, stream_record("INSERT", sk="EVENT#0001"))


def test_webhooks_get_the_write_that_ends_a_task_with_a_callback(webhook_patterns):
    url = {"callback_url": "https://hooks.example.com/x"}
    for before in ("SCHEDULED", "CREATED", "IN_PROGRESS"):
        for final in ("COMPLETED", "FAILED", "CANCELLED"):
            assert matches_any(
                webhook_patterns, stream_record("MODIFY", status=final, old_status=before, **url)
            )
    # Not without a callback, not a later write of a finished task (a retry's mark), not a timeline item.
    assert not matches_any(
        webhook_patterns, stream_record("MODIFY", status="COMPLETED", old_status="IN_PROGRESS")
    )
    assert not matches_any(
        webhook_patterns, stream_record("MODIFY", status="FAILED", old_status="FAILED", **url)
    )
    assert not matches_any(
        webhook_patterns, stream_record("MODIFY", status="IN_PROGRESS", old_status="CREATED", **url)
    )
    assert not matches_any(webhook_patterns, stream_record("INSERT", status="CREATED", **url))
    assert not matches_any(
        webhook_patterns, stream_record("MODIFY", sk="WEBHOOK", status="FAILED", old_status="CREATED", **url)
    )


def test_no_patterns_let_everything_through():
    assert matches_any([], {"anything": 1})


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (["a", "b"], "b", True),
        (["a"], "c", False),
        ([{"prefix": "TASK#"}], "TASK#1", True),
        ([{"prefix": "TASK#"}], "EVENT#1", False),
        ([{"suffix": ".json"}], "x.json", True),
        ([{"anything-but": ["A", "B"]}], "C", True),
        ([{"anything-but": "A"}], "A", False),
        ([{"anything-but": [{"prefix": "x"}]}], "xy", False),
        ([{"numeric": [">", 0, "<=", 5]}], 5, True),
        ([{"numeric": [">", 0, "<=", 5]}], 6, False),
        ([{"numeric": [">", 0]}], "7", False),
        ([{"equals-ignore-case": "insert"}], "INSERT", True),
        ([1], True, False),
        ([{"exists": True}], "x", True),
    ],
)
def test_rules(rule, value, expected):
    assert matches({"field": rule}, {"field": value}) is expected


def test_exists_false_matches_a_missing_field():
    assert matches({"field": [{"exists": False}]}, {})
    assert not matches({"field": [{"exists": True}]}, {})
    assert not matches({"field": ["a"]}, {})


def test_list_values_match_when_any_element_does():
    assert matches({"tags": ["b"]}, {"tags": ["a", "b"]})


def test_patterns_are_or_and_fields_are_and():
    patterns = [{"a": ["1"], "b": ["2"]}, {"c": ["3"]}]
    assert matches_any(patterns, {"a": "1", "b": "2"})
    assert not matches_any(patterns, {"a": "1", "b": "x"})
    assert matches_any(patterns, {"c": "3"})
