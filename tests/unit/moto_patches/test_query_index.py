"""query_index: a Query answers as moto's does, examining the page rather than the table."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.moto_patches.backends import backend, new_table, query


@contextmanager
def moto_own_query():
    """Table.query as moto ships it, for the duration."""
    from moto.dynamodb.models.table import Table

    patched = Table.query
    Table.query = getattr(patched, "__wrapped__", patched)  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = patched  # type: ignore[method-assign]


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


@pytest.mark.needs_patch("query_index")
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
    query(table_name, "by_group", "g", None, 1, None, True)  # the first Query may build an index
    table = backend().get_table(table_name)
    looked_at: list[int] = []
    original_get, original_all = table.get_item, table.all_items

    def counting_get(*args: Any, **kwargs: Any) -> Any:
        looked_at.append(1)
        return original_get(*args, **kwargs)

    def counting_all() -> Any:
        for item in original_all():
            looked_at.append(1)
            yield item

    table.get_item, table.all_items = counting_get, counting_all
    items, scanned, last = query(table_name, "by_group", "g", ("<", [{"S": "01000"}]), 21, None, False)
    assert scanned == 21 and len(items) == 21 and last is not None
    assert [item["Attributes"]["order"]["S"] for item in items][:2] == ["00999", "00998"]
    assert len(looked_at) <= 22  # the page and the one after it, not the table
