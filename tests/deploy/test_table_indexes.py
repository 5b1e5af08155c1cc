"""A redeploy into an existing stack changes at most one of the table's indexes.

CloudFormation creates or deletes only one global secondary index per table
update: a template that adds two (or adds one and changes another) fails to
deploy over the last release, though it deploys into a new account. The
packaged table is compared with the last release's index list, kept in
released_table_indexes.json (update it when a release is cut, as its note says).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.deploy

RELEASED = Path(__file__).with_name("released_table_indexes.json")
# An index is replaced (deleted, then created) when its keys or its projection change.
Index = tuple[str, tuple[tuple[str, str], ...], str]


def index_of(declared: dict[str, Any]) -> Index:
    keys = tuple((key["AttributeName"], key["KeyType"]) for key in declared["KeySchema"])
    return declared["IndexName"], keys, declared["Projection"]["ProjectionType"]


def released() -> set[Index]:
    listed = json.loads(RELEASED.read_text())["indexes"]
    return {(i["IndexName"], tuple(tuple(key) for key in i["KeySchema"]), i["Projection"]) for i in listed}


def changes(before: set[Index], after: set[Index]) -> int:
    """Indexes CloudFormation must create or delete to go from ``before`` to ``after``."""
    return len(after - before) + len(before - after)


def test_the_packaged_table_adds_or_removes_one_index_at_most_over_the_last_release(resources):
    packaged = {index_of(index) for index in resources["TasksTable"]["Properties"]["GlobalSecondaryIndexes"]}
    assert changes(released(), packaged) <= 1, (
        f"one table update can create or delete one index: added {sorted(packaged - released())}, "
        f"removed {sorted(released() - packaged)}; ship them in separate releases"
    )


def test_the_rule_counts_a_changed_index_as_two_changes():
    base = released()
    (status,) = [index for index in base if index[0] == "by_status"]
    new = ("by_retry", (("retry_pk", "HASH"), ("list_sk", "RANGE")), "KEYS_ONLY")
    assert changes(base, base | {new}) == 1
    assert changes(base, base - {status}) == 1
    assert changes(base, (base - {status}) | {(status[0], status[1], "ALL")}) == 2
    assert changes(base, base | {new, ("by_other", (("other_pk", "HASH"),), "KEYS_ONLY")}) == 2
