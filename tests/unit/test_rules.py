import pytest

from app.domain import rules
from app.domain.errors import (
    DataTooLarge,
    InvalidJson,
    InvalidResult,
    InvalidTaskInput,
    TaskNotFound,
    TooDeeplyNested,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1_900_000_000, 1_900_000_000), ("1900000000", 1_900_000_000), (1.9e9, 1_900_000_000)],
)
def test_ttl_accepts_int_and_numeric_string(value, expected):
    assert rules.parse_epoch_seconds(value) == expected


@pytest.mark.parametrize(
    "value", [True, 1.5, "1.9e9", "soon", "", "-5", [1], {"s": 1}, "\uff11\uff12"]
)  # full-width digits
def test_ttl_refuses_anything_else(value):
    with pytest.raises(InvalidTaskInput, match="epoch seconds"):
        rules.parse_epoch_seconds(value)


def test_ttl_is_in_the_future_and_at_most_a_year_ahead():
    with pytest.raises(InvalidTaskInput, match="in the past"):
        rules.check_ttl(1000, now=1000)
    rules.check_ttl(1001, now=1000)
    rules.check_ttl(1000 + rules.MAX_TTL_SECONDS, now=1000)
    with pytest.raises(InvalidTaskInput, match="more than 365 days ahead"):
        rules.check_ttl(1001 + rules.MAX_TTL_SECONDS, now=1000)
    with pytest.raises(InvalidTaskInput, match=r"\(201 digits\)"):
        rules.check_ttl(rules.parse_epoch_seconds("9" * 201), now=1000)


def test_data_size_limit_counts_utf8_bytes():
    rules.check_data({"k": "x" * 10}, limit=100)
    with pytest.raises(DataTooLarge) as too_large:
        rules.check_data({"k": "é" * 60}, limit=100)
    assert too_large.value.size > 100
    assert "limit is 100 bytes" in str(too_large.value)


def nested(depth: int) -> dict:
    """An object nesting objects and arrays, ``depth`` levels in all."""
    value: dict | list = {}
    for level in range(depth - 2):
        value = {"d": value} if level % 2 else [value]
    return {"top": value}


def depth_of(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


def test_data_nests_at_most_the_documented_depth():
    deepest = nested(rules.MAX_DATA_DEPTH)
    assert depth_of(deepest) == rules.MAX_DATA_DEPTH
    rules.check_data(deepest, limit=10_000)
    too_deep = {"one_more": deepest}
    with pytest.raises(TooDeeplyNested, match=f"more than {rules.MAX_DATA_DEPTH} levels"):
        rules.check_data(too_deep, limit=10_000)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": [Infinity]}', "Infinity is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ('{"a": 1e400}', "overflows to infinity"),
        ('{"a": "\\ud800"}', "lone surrogate"),
        ('{"\\udfff": 1}', "lone surrogate"),
        ('{"a": ' + "1" * 5000 + "}", "too many digits"),
        ('{"a": 1,}', "(line 1, column 9)"),
    ],
)
def test_only_standard_json_is_read(text, reason):
    with pytest.raises(InvalidJson, match="Not valid JSON") as refused:
        rules.parse_json(text)
    assert reason in str(refused.value)


def test_raw_utf8_surrogates_and_non_utf8_bodies_are_refused():
    with pytest.raises(InvalidJson, match="lone surrogate"):
        rules.parse_request_body(b'{"a": "\xed\xa0\x80"}')
    with pytest.raises(InvalidJson, match="not UTF-8"):
        rules.parse_request_body(b'{"a": "\xff"}')


def test_a_body_nests_one_level_more_than_its_data_whatever_the_depth():
    fits = '{"data": ' + "[" * rules.MAX_DATA_DEPTH + "]" * rules.MAX_DATA_DEPTH + "}"
    assert rules.parse_request_body(fits.encode())
    for depth in (rules.MAX_DATA_DEPTH + 1, 5_000, 200_000):
        body = '{"data": ' + "[" * depth + "]" * depth + "}"
        with pytest.raises(TooDeeplyNested, match=f"data may nest at most {rules.MAX_DATA_DEPTH} levels"):
            rules.parse_request_body(body.encode())


def test_unicode_that_is_valid_passes_untouched():
    value = rules.parse_json('{"emoji": "\\ud83d\\ude00", "é": ["ß", 1.5, -0.0, 12345678901234567890]}')
    assert value == {"emoji": "\U0001f600", "é": ["ß", 1.5, -0.0, 12345678901234567890]}


@pytest.mark.parametrize(
    "task_id", ["x", "0B6F3F8E-6A0E-4A55-9D4F-2F0C1D7B9A10", "0b6f3f8e6a0e4a559d4f2f0c1d7b9a10", "a" * 5000]
)
def test_only_task_ids_name_tasks(task_id):
    with pytest.raises(TaskNotFound) as refused:
        rules.check_task_id(task_id)
    assert len(str(refused.value)) < 100
    rules.check_task_id("0b6f3f8e-6a0e-4a55-9d4f-2f0c1d7b9a10")


def test_run_at_is_now_or_later_and_at_most_a_year_ahead():
    rules.check_run_at(1000, now=1000.7)  # this very second: it runs at once
    with pytest.raises(InvalidTaskInput, match="run_at 999 is in the past"):
        rules.check_run_at(999, now=1000)
    rules.check_run_at(1000 + rules.MAX_RUN_AT_SECONDS, now=1000)
    with pytest.raises(InvalidTaskInput, match="more than 365 days ahead"):
        rules.check_run_at(1001 + rules.MAX_RUN_AT_SECONDS, now=1000)
    with pytest.raises(InvalidTaskInput, match="expire before it runs"):
        rules.check_ttl_after_run_at(2000, run_at=2000)
    with pytest.raises(InvalidTaskInput, match="run_at must be epoch seconds"):
        rules.parse_epoch_seconds("tomorrow", "run_at")


def test_a_result_is_standard_json_within_its_size_limit():
    assert rules.encode_result({"words": 4}, limit=100) == '{"words":4}'
    assert rules.encode_result(None, limit=100) == "null"
    assert rules.encode_result([1, "two", 3.5], limit=100) == '[1,"two",3.5]'
    with pytest.raises(InvalidResult, match="the result is 112 bytes as JSON; the limit is 100 bytes"):
        rules.encode_result("x" * 110, limit=100)
    for not_json in (float("nan"), {1: "int key"}, {"a": {1, 2}}, b"bytes", "\ud800", nested(40)):
        with pytest.raises(InvalidResult, match="not standard JSON"):
            rules.encode_result(not_json, limit=10_000)
