"""The patches to moto's internals (app/local/moto_patches) keep moto's answers, at a page's cost.

moto is used in-process here, its backend called directly: the indexed Query
is compared with moto's own on the same tables (hypothesis draws the items,
the writes and the queries); transactions, stream retention and queue
attributes are checked against what DynamoDB and SQS promise.
"""

from __future__ import annotations

import copy
import sys
import threading
import uuid
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.local import moto_patches

moto_patches.apply()

from moto.dynamodb.exceptions import TransactionCanceledException  # noqa: E402 (after the patches)
from moto.dynamodb.models import dynamodb_backends  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402

ACCOUNT, REGION = "123456789012", "eu-west-1"
GSIS = [
    {
        "IndexName": "by_group",
        "KeySchema": [
            {"AttributeName": "group", "KeyType": "HASH"},
            {"AttributeName": "order", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    },
    {
        "IndexName": "by_kind",
        "KeySchema": [
            {"AttributeName": "kind", "KeyType": "HASH"},
            {"AttributeName": "order", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    },
]


def backend() -> Any:
    return dynamodb_backends[ACCOUNT][REGION]


def new_table(stream: bool = True) -> str:
    name = f"t-{uuid.uuid4().hex[:10]}"
    backend().create_table(
        name,
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        throughput=None,
        attr=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "group", "kind", "order")],
        global_indexes=GSIS,
        indexes=[],
        streams={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"} if stream else None,
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    return name


@contextmanager
def moto_own_query():
    """Table.query as moto ships it, for the duration."""
    patched = Table.query
    Table.query = patched.__wrapped__  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = patched  # type: ignore[method-assign]


def query(table_name: str, index: str | None, partition: str, condition: tuple | None, limit, start, forward):
    hash_attr = {"by_group": "group", "by_kind": "kind", None: "pk"}[index]
    range_attr = "sk" if index is None else "order"
    comparison, values = condition or (None, [])
    items, scanned, last = backend().query(
        table_name,
        {"S": partition},
        comparison,
        values,
        limit,
        start,
        forward,
        None,
        index_name=index,
        hash_key_conditions=[(hash_attr, {"S": partition})],
        range_key_conditions=[(range_attr, comparison, values)] if comparison else None,
    )
    shown_last = {name: value.to_json() for name, value in last.items()} if last else None
    return [item.to_json() for item in items], scanned, shown_last


values = st.sampled_from(["a", "ab", "abc", "b", "ba", "c", "m", "z", "é"])
items = st.fixed_dictionaries(
    {"pk": st.sampled_from(["p1", "p2", "p3"]), "sk": values},
    optional={"group": st.sampled_from(["g1", "g2"]), "kind": st.sampled_from(["k1", "k2"]), "order": values},
)
conditions = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["=", "<", "<=", ">", ">=", "BEGINS_WITH"]), values.map(lambda v: [{"S": v}])),
    st.tuples(st.just("BETWEEN"), st.tuples(values, values).map(lambda p: [{"S": min(p)}, {"S": max(p)}])),
)


@settings(max_examples=500, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    writes=st.lists(st.tuples(st.sampled_from(["put", "delete"]), items), min_size=1, max_size=40),
    index=st.sampled_from([None, "by_group", "by_kind"]),
    partition=st.sampled_from(["p1", "p2", "g1", "g2", "k1", "k2"]),
    condition=conditions,
    limit=st.one_of(st.none(), st.integers(1, 6)),
    forward=st.booleans(),
)
def test_indexed_query_answers_as_moto_does_page_by_page(writes, index, partition, condition, limit, forward):
    table_name = new_table(stream=False)
    for kind, attrs in writes:
        item = {name: {"S": value} for name, value in attrs.items()}
        if kind == "put":
            backend().put_item(table_name, item)
        else:
            backend().delete_item(table_name, {"pk": item["pk"], "sk": item["sk"]})
    start = None
    for _ in range(50):  # every page, following LastEvaluatedKey
        ours = query(table_name, index, partition, condition, limit, start, forward)
        with moto_own_query():
            theirs = query(table_name, index, partition, condition, limit, start, forward)
        assert ours == theirs
        if ours[2] is None:
            break
        start = ours[2]


def test_indexed_query_examines_only_the_page():
    table_name = new_table(stream=False)
    for number in range(2000):
        backend().put_item(
            table_name,
            {
                "pk": {"S": f"p{number}"},
                "sk": {"S": "x"},
                "group": {"S": "g"},
                "order": {"S": f"{number:05d}"},
            },
        )
    table = backend().get_table(table_name)
    looked_at: list[int] = []
    original_get = table.get_item

    def counting_get(*args: Any, **kwargs: Any) -> Any:
        looked_at.append(1)
        return original_get(*args, **kwargs)

    table.get_item = counting_get
    items, scanned, last = query(table_name, "by_group", "g", ("<", [{"S": "01000"}]), 21, None, False)
    assert scanned == 21 and len(items) == 21 and last is not None
    assert [item["Attributes"]["order"]["S"] for item in items][:2] == ["00999", "00998"]
    assert len(looked_at) <= 22  # the page and the one after it, not the table


def put(table_name: str, pk: str, **attrs: str) -> dict[str, Any]:
    return {"Put": {"TableName": table_name, "Item": {"pk": {"S": pk}, "sk": {"S": "s"}, **{
        name: {"S": value} for name, value in attrs.items()}}}}  # fmt: skip


def stream_length(table_name: str) -> int:
    return len(backend().get_table(table_name).stream_shard.items)


def test_a_transaction_whose_condition_fails_writes_nothing():
    table_name = new_table()
    backend().put_item(table_name, {"pk": {"S": "taken"}, "sk": {"S": "s"}})
    before = stream_length(table_name)
    guarded = put(table_name, "taken", kind="k1")
    guarded["Put"]["ConditionExpression"] = "attribute_not_exists(pk)"
    with pytest.raises(TransactionCanceledException) as refused:
        backend().transact_write_items([put(table_name, "new", kind="k1"), guarded])
    assert "ConditionalCheckFailed" in refused.value.message
    table = backend().get_table(table_name)
    assert table.get_item(*backend().get_keys_value(table, {"pk": {"S": "new"}, "sk": {"S": "s"}})) is None
    assert stream_length(table_name) == before


def test_a_transaction_that_fails_midway_is_rolled_back_with_its_stream_records_and_index_entries():
    table_name = new_table()
    backend().put_item(
        table_name, {"pk": {"S": "old"}, "sk": {"S": "s"}, "group": {"S": "g"}, "order": {"S": "1"}}
    )
    query(table_name, "by_group", "g", None, None, None, True)  # the index is built
    before = stream_length(table_name)
    breaking = {"Update": {"TableName": table_name, "Key": {"pk": {"S": "old"}, "sk": {"S": "s"}},
                           "UpdateExpression": "SET order = order + :one",  # a string plus a number
                           "ExpressionAttributeValues": {":one": {"N": "1"}}}}  # fmt: skip
    with pytest.raises(Exception):  # noqa: B017 (moto's own error for the bad update)
        backend().transact_write_items([put(table_name, "fresh", group="g", order="2"), breaking])
    assert stream_length(table_name) == before
    listed = query(table_name, "by_group", "g", None, None, None, True)[0]
    assert [item["Attributes"]["pk"]["S"] for item in listed] == ["old"]


def test_a_successful_transaction_applies_every_write_once():
    table_name = new_table()
    backend().transact_write_items(
        [put(table_name, "a", group="g", order="1"), put(table_name, "b", group="g", order="2")]
    )
    listed = query(table_name, "by_group", "g", None, None, None, True)[0]
    assert [item["Attributes"]["pk"]["S"] for item in listed] == ["a", "b"]
    assert stream_length(table_name) == 2


def test_moto_keeps_no_item_alive_once_it_is_overwritten():
    from moto.core.common_models import BaseModel
    from moto.dynamodb.models.dynamo_type import Item

    table_name = new_table(stream=False)
    for round_ in range(20):
        backend().transact_write_items([put(table_name, "a", group="g", order=str(round_))])
    assert not any(getattr(cls, "instances_tracked", None) for cls in (BaseModel, Item))
    assert len(query(table_name, "by_group", "g", None, None, None, True)[0]) == 1


def test_the_stream_keeps_its_newest_records_and_reads_on_from_a_trimmed_position(monkeypatch):
    from app.local.moto_patches import stream_retention

    monkeypatch.setattr(stream_retention, "STREAM_RECORDS_KEPT", 10)
    monkeypatch.setattr(stream_retention, "_TRIM_CHUNK", 5)
    table_name = new_table()
    for number in range(40):
        backend().put_item(table_name, {"pk": {"S": f"p{number}"}, "sk": {"S": "s"}})
    shard = backend().get_table(table_name).stream_shard
    assert len(shard.items) < 15
    oldest = shard.starting_sequence_number
    records = shard.get(oldest - 20, 100)  # a position already trimmed
    assert records[0]["dynamodb"]["SequenceNumber"] == str(oldest)
    assert records[-1]["dynamodb"]["Keys"]["pk"] == {"S": "p39"}


def test_shard_iterators_expire_instead_of_piling_up(monkeypatch):
    from app.local.moto_patches import stream_retention

    iterators = stream_retention.ExpiringIterators()
    clock = iter([0.0, 1.0, 2.0, 2000.0])
    monkeypatch.setattr(stream_retention.time, "monotonic", lambda: next(clock))
    for name in ("a", "b", "c"):
        iterators[name] = name
    iterators["d"] = "d"  # 2000 s later: the others are past their 15 minutes
    assert list(iterators) == ["d"]


def test_a_send_reads_no_message_count_and_attributes_are_all_listed():
    from moto.sqs.models import sqs_backends

    sqs = sqs_backends[ACCOUNT][REGION]
    queue = sqs.create_queue(f"q-{uuid.uuid4().hex[:8]}")
    for number in range(3):
        sqs.send_message(queue.name, f"m{number}")
    counted: list[int] = []
    original = type(queue).messages

    type(queue).messages = property(lambda q: counted.append(1) or original.fget(q))  # type: ignore[assignment]
    try:
        sqs.send_message(queue.name, "one more")
        assert counted == []
        attributes = dict(queue.attributes)
    finally:
        type(queue).messages = original  # type: ignore[assignment]
    assert attributes["ApproximateNumberOfMessages"] == 4
    assert "QueueArn" in attributes and "VisibilityTimeout" in attributes


def test_a_receive_sees_what_moto_would_with_one_clock_reading():
    from moto.sqs.models import sqs_backends

    sqs = sqs_backends[ACCOUNT][REGION]
    queue = sqs.create_queue(f"q-{uuid.uuid4().hex[:8]}")
    for number in range(6):
        sqs.send_message(queue.name, f"m{number}", delay_seconds=600 if number == 5 else 0)
    received = sqs.receive_message(queue.name, 2, 0, 600)  # in flight for 10 minutes
    assert len(received) == 2
    expected = [
        m for m in queue._messages if m.visible and not m.delayed
    ]  # moto's own rule, message by message
    assert list(queue.messages) == expected
    assert len(queue.messages) == 3 and queue.messages
    assert {m.body for m in queue.messages} == {"m0", "m1", "m2", "m3", "m4"} - {m.body for m in received}


def test_a_delete_takes_its_message_by_any_of_its_receipt_handles_once():
    from moto.sqs.exceptions import ReceiptHandleIsInvalid
    from moto.sqs.models import sqs_backends

    sqs = sqs_backends[ACCOUNT][REGION]
    queue = sqs.create_queue(f"q-{uuid.uuid4().hex[:8]}")
    for number in range(5):
        sqs.send_message(queue.name, f"m{number}")
    (first,) = sqs.receive_message(queue.name, 1, 0, 0)  # visible again at once
    (again,) = sqs.receive_message(queue.name, 1, 0, 600)
    assert again.body == first.body and again.receipt_handle != first.receipt_handle
    sqs.delete_message(queue.name, first.receipt_handle)  # an older handle of the same message
    sqs.delete_message(queue.name, again.receipt_handle)  # deleted before: accepted
    assert [m.body for m in queue._messages] == ["m1", "m2", "m3", "m4"]
    assert again.body not in {m.body for m in queue.pending_messages}
    with pytest.raises(ReceiptHandleIsInvalid):
        sqs.delete_message(queue.name, "no-such-handle")


def test_concurrent_receives_never_take_the_same_message():
    from moto.sqs.models import sqs_backends

    sqs = sqs_backends[ACCOUNT][REGION]
    queue = sqs.create_queue(f"q-{uuid.uuid4().hex[:8]}")
    for number in range(400):
        sqs.send_message(queue.name, f"m{number}")
    taken: list[str] = []
    failures: list[BaseException] = []

    def receive_and_delete() -> None:
        try:
            while batch := sqs.receive_message(queue.name, 1, 0, 600):
                taken.extend(message.body for message in batch)
                sqs.delete_message(queue.name, batch[0].receipt_handle)
        except BaseException as exc:  # a 500 in the emulator
            failures.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: unpatched, moto fails this every time
    try:
        threads = [threading.Thread(target=receive_and_delete) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert failures == []
    assert sorted(taken) == sorted(f"m{number}" for number in range(400))


def test_a_long_poll_gets_a_message_sent_while_it_waits_and_nothing_otherwise():
    from moto.sqs.models import sqs_backends

    sqs = sqs_backends[ACCOUNT][REGION]
    queue = sqs.create_queue(f"q-{uuid.uuid4().hex[:8]}")
    assert sqs.receive_message(queue.name, 10, 1, 30) == []
    waiting = threading.Thread(target=lambda: received.extend(sqs.receive_message(queue.name, 10, 20, 30)))
    received: list[Any] = []
    waiting.start()
    sqs.send_message(queue.name, "late")
    waiting.join()
    assert [message.body for message in received] == ["late"]


CONDITIONS = [
    "#s = :s AND attempt = :a",
    "attribute_not_exists(pk) OR (#s IN (:s, :t) AND size(#d) < :n)",
    "NOT begins_with(#s, :s) AND attempt BETWEEN :a AND :n",
]


@pytest.mark.parametrize("expression", CONDITIONS)
def test_an_expression_check_finds_the_placeholders_moto_finds(expression):
    from moto.dynamodb.comparisons import ConditionExpressionParser

    from app.local.moto_patches.expression_checks import CheckedCondition

    names = {"#s": "status", "#d": "data"}
    values = {":s": {"S": "x"}, ":t": {"S": "y"}, ":a": {"N": "1"}, ":n": {"N": "9"}}
    for _ in range(2):  # the second is remembered
        checked, moto_own = (
            CheckedCondition(expression, names, values),
            ConditionExpressionParser(expression, names, values),
        )
        checked.parse(), moto_own.parse()
        assert checked.expr_attr_names_found == moto_own.expr_attr_names_found
        assert checked.expr_attr_values_found == moto_own.expr_attr_values_found


def test_unused_placeholders_and_bad_expressions_are_refused_every_time():
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
        update = {"TableName": "t", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET n = :v"}

        def conditional(condition: str, values: dict, **more: Any) -> None:
            dynamodb.update_item(
                **update, ConditionExpression=condition, ExpressionAttributeValues=values, **more
            )

        one, two = {":v": {"N": "1"}, ":one": {"N": "1"}}, {":v": {"N": "1"}, ":two": {"N": "2"}}
        for _ in range(2):  # the second time, the expressions are remembered
            conditional("n = :one", one)
            with pytest.raises(ClientError, match="unused"):
                conditional("n = :one", one, ExpressionAttributeNames={"#x": "x"})
            with pytest.raises(ClientError, match="unused"):
                conditional("n = :one", {**one, ":extra": {"S": "x"}})
            with pytest.raises(ClientError, match="ConditionalCheckFailed"):
                conditional("n = :two", two)


def test_the_pin_is_checked():
    import moto

    assert moto.__version__ == moto_patches.PINNED_MOTO_VERSION


# --- UpdateItem without moto's expression engine ------------------------------------------

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
