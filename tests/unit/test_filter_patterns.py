"""The Lambda filter patterns we rely on, and the matcher the local runtime applies them with."""

import pytest

from app.local import sls_config
from app.local.filter_patterns import matches, matches_any


def stream_record(event_name: str, sk: str = "TASK") -> dict:
    image = {"pk": {"S": "TASK#1"}, "sk": {"S": sk}, "id": {"S": "1"}}
    record = {"eventName": event_name, "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}}}
    if event_name != "REMOVE":
        record["dynamodb"]["NewImage"] = image
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


def test_publisher_gets_new_tasks_only(publisher_patterns):
    assert matches_any(publisher_patterns, stream_record("INSERT"))
    assert not matches_any(publisher_patterns, stream_record("MODIFY"))
    assert not matches_any(publisher_patterns, stream_record("REMOVE"))
    assert not matches_any(publisher_patterns, stream_record("INSERT", sk="EVENT#0001"))


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
