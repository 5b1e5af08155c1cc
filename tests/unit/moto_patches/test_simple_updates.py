"""simple_updates: plain SET/ADD updates, applied without moto's expression engine, as moto applies them."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.moto_patches.backends import backend, new_table

update_names = st.sampled_from(["a", "n", "tags", "order", "group", "status", "pk", "#a", "#n", "#o", "#x"])
update_values = st.sampled_from([":s", ":n", ":tags", ":empty", ":missing"])
# Mostly actions DynamoDB accepts (the plain path), some it refuses (moto's path).
valid_actions = st.sampled_from(
    [("SET", "a = :s"), ("SET", "#a = :s"), ("SET", "#o = :s"), ("SET", "group = :s"), ("SET", "n = :n"),
     ("SET", "tags = :tags"), ("ADD", "n :n"), ("ADD", "#n :n"), ("ADD", "tags :tags")]
)  # fmt: skip
any_actions = st.one_of(
    st.tuples(
        st.just("SET"), st.builds(lambda name, value: f"{name} = {value}", update_names, update_values)
    ),
    st.tuples(st.just("ADD"), st.builds(lambda name, value: f"{name} {value}", update_names, update_values)),
)
update_actions = st.lists(
    st.one_of(valid_actions, valid_actions, valid_actions, any_actions), min_size=1, max_size=4
)
starting_items = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"a": st.just({"S": "x"}), "n": st.just({"N": "2"}),
                                        "tags": st.just({"SS": ["p"]}), "order": st.just({"S": "1"})}),
)  # fmt: skip
conditions_on_update = st.sampled_from([None, "attribute_exists(pk)", "attribute_not_exists(pk)", "n = :n"])


def expression_of(actions: list[tuple[str, str]]) -> str:
    by_clause: dict[str, list[str]] = {}
    for clause, text in actions:
        by_clause.setdefault(clause, []).append(text)
    return " ".join(f"{clause} {', '.join(texts)}" for clause, texts in by_clause.items())


def outcome_of(update, table_name: str, expression: str, condition: str | None):
    names = {"#a": "a", "#n": "n", "#o": "order"}
    values = {":s": {"S": "v"}, ":n": {"N": "3"}, ":tags": {"SS": ["q", "p"]}, ":empty": {"S": ""}}
    try:
        item = update(
            backend(), table_name, {"pk": {"S": "k"}, "sk": {"S": "s"}}, expression, names, values,
            condition_expression=condition, return_values_on_condition_check_failure="ALL_OLD",
        )  # fmt: skip
        result: Any = item.to_json()
    except Exception as exc:  # moto's own refusal is part of the behaviour compared
        result = (type(exc).__name__, getattr(exc, "message", str(exc)))
    records = [record.to_json() for record in backend().get_table(table_name).stream_shard.items]
    for record in records:
        # Times differ between the two runs, and so does the size of a record that holds one.
        (
            record.pop("eventID"),
            record["dynamodb"].pop("ApproximateCreationDateTime"),
            record["dynamodb"].pop("SizeBytes"),
        )
    return result, records


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=starting_items, actions=update_actions, condition=conditions_on_update)
def test_plain_updates_do_what_moto_does(start, actions, condition):
    import inspect

    from moto.dynamodb.models import DynamoDBBackend

    from app.local.moto_patches.simple_updates import fast_update_item

    moto_update = inspect.unwrap(DynamoDBBackend.update_item)
    results = []
    for update in (fast_update_item(moto_update), moto_update):
        table_name = new_table()
        if start is not None:
            backend().put_item(table_name, {"pk": {"S": "k"}, "sk": {"S": "s"}, **copy.deepcopy(start)})
        results.append(outcome_of(update, table_name, expression_of(actions), condition))
    assert results[0] == results[1]


@pytest.mark.needs_patch("simple_updates")
def test_a_plain_update_skips_moto_s_expression_engine():
    from moto.dynamodb.parsing import validators

    from app.local.moto_patches.simple_updates import parse

    assert parse("SET #s = :s, progress = :p ADD hits :one", {"#s": "status"}) is not None
    assert parse("SET a = a + :one", {}) is None  # arithmetic: moto's engine
    assert parse("SET status = :s", {}) is None  # a reserved word: moto refuses it
    table_name = new_table()
    backend().put_item(table_name, {"pk": {"S": "k"}, "sk": {"S": "s"}})
    validated: list[int] = []
    original = validators.UpdateExpressionValidator.validate
    validators.UpdateExpressionValidator.validate = lambda self: validated.append(1) or original(self)
    try:
        backend().update_item(
            table_name, {"pk": {"S": "k"}, "sk": {"S": "s"}}, "SET a = :v", {}, {":v": {"S": "x"}}
        )
    finally:
        validators.UpdateExpressionValidator.validate = original
    assert validated == []
