"""Idempotency-Key: scoped to the API key, bound to the request, replayed for 24 hours."""

import pytest

from app.domain import idempotency
from app.domain.errors import IdempotencyKeyReused, InvalidIdempotencyKey
from app.domain.idempotency import StoredResponse

BODY = {"task_type": "TASK1", "data": {"a": 1}}
ANSWER = StoredResponse(202, {"id": "t1"}, "https://api.example.com/tasks/t1")


def test_the_same_key_and_request_map_to_one_record_whatever_the_body_order():
    first = idempotency.request_of("api-key-1", "order-42", "POST", "/tasks", BODY)
    again = idempotency.request_of(
        "api-key-1", "order-42", "POST", "/tasks", {"data": {"a": 1}, "task_type": "TASK1"}
    )
    assert first == again
    # Neither the API key nor the Idempotency-Key is in what is stored.
    assert "api-key-1" not in first.scope and "order-42" not in first.scope and len(first.scope) == 64


def test_keys_are_scoped_to_the_api_key_and_bound_to_the_request():
    mine = idempotency.request_of("api-key-1", "k", "POST", "/tasks", BODY)
    theirs = idempotency.request_of("api-key-2", "k", "POST", "/tasks", BODY)
    assert mine.scope != theirs.scope
    other_body = idempotency.request_of("api-key-1", "k", "POST", "/tasks", {**BODY, "data": {"a": 2}})
    other_route = idempotency.request_of("api-key-1", "k", "POST", "/tasks/t1/retry", None)
    assert other_body.scope == mine.scope and other_body.fingerprint != mine.fingerprint
    assert other_route.fingerprint != mine.fingerprint


def test_replay_answers_the_same_request_refuses_another_and_forgets_after_a_day():
    request = idempotency.request_of("api-key-1", "k", "POST", "/tasks", BODY)
    record = request.record(ANSWER, now=1000)
    assert record.expires == 1000 + 24 * 3600
    assert idempotency.replay(None, request, now=1001) is None
    assert idempotency.replay(record, request, now=1001) == ANSWER
    different = idempotency.request_of("api-key-1", "k", "POST", "/tasks", {**BODY, "ttl": 5})
    with pytest.raises(IdempotencyKeyReused):
        idempotency.replay(record, different, now=1001)
    assert idempotency.replay(record, different, now=record.expires) is None


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "é", "new\nline"])
def test_a_key_is_1_to_255_printable_ascii_characters(key):
    with pytest.raises(InvalidIdempotencyKey):
        idempotency.check_key(key)
    idempotency.check_key("x" * 255)
    idempotency.check_key("order 42 / retry #1")
