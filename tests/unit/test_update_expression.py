"""The update expression builder behind every conditional write of a task (app/adapters/update_expression)."""

from __future__ import annotations

import pytest

from app.adapters.update_expression import Update


def test_actions_and_conditions_go_through_placeholders_each_name_once():
    update = (
        Update()
        .set("status", {"S": "DONE"})
        .set("ttl", {"N": "5"})
        .remove("due_pk", "due_sk")
        .add("created_total", 1)
        .require_equal("status", {"S": "RUNNING"})
        .require_absent("cancel_requested")
        .require_absent_or_equal("redispatches", {"N": "0"})
    )
    assert update.arguments() == {
        "UpdateExpression": "SET #n0 = :v0, #n1 = :v1 REMOVE #n2, #n3 ADD #n4 :v2",
        "ConditionExpression": "#n0 = :v3 AND attribute_not_exists(#n5) AND "
        "(attribute_not_exists(#n6) OR #n6 = :v4)",
        "ExpressionAttributeNames": {
            "#n0": "status",
            "#n1": "ttl",
            "#n2": "due_pk",
            "#n3": "due_sk",
            "#n4": "created_total",
            "#n5": "cancel_requested",
            "#n6": "redispatches",
        },
        "ExpressionAttributeValues": {
            ":v0": {"S": "DONE"},
            ":v1": {"N": "5"},
            ":v2": {"N": "1"},
            ":v3": {"S": "RUNNING"},
            ":v4": {"N": "0"},
        },
    }


def test_a_remove_only_update_sends_no_values_and_no_condition():
    assert Update().remove("retry_at").arguments() == {
        "UpdateExpression": "REMOVE #n0",
        "ExpressionAttributeNames": {"#n0": "retry_at"},
    }


def test_an_update_with_no_action_is_refused():
    with pytest.raises(ValueError, match="no action"):
        Update().require_absent("x").arguments()


def test_a_value_set_only_when_absent_keeps_the_first_one_written():
    update = Update().add("failed", 2).set_if_absent("Tab12cd34", {"S": "timeout after N s"})
    assert update.arguments() == {
        "UpdateExpression": "SET #n1 = if_not_exists(#n1, :v1) ADD #n0 :v0",
        "ExpressionAttributeNames": {"#n0": "failed", "#n1": "Tab12cd34"},
        "ExpressionAttributeValues": {":v0": {"N": "2"}, ":v1": {"S": "timeout after N s"}},
    }


def test_an_append_starts_the_list_when_the_item_has_none():
    update = Update().append("claim_events", [{"M": {"hop": {"S": "started"}}}])
    assert update.arguments() == {
        "UpdateExpression": "SET #n0 = list_append(if_not_exists(#n0, :v0), :v1)",
        "ExpressionAttributeNames": {"#n0": "claim_events"},
        "ExpressionAttributeValues": {":v0": {"L": []}, ":v1": {"L": [{"M": {"hop": {"S": "started"}}}]}},
    }
