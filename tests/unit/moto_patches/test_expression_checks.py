"""expression_checks: each distinct expression is parsed once for its placeholders, with moto's answers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.moto_patches.backends import REGION, create_table, unique

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


@pytest.mark.needs_patch("expression_checks")
def test_a_repeated_expression_is_parsed_once_for_its_placeholders(aws):
    from moto.dynamodb import comparisons
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    dynamodb = aws("dynamodb")
    table = create_table(dynamodb)
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "s"}, "n": {"N": "1"}})
    condition_parses: list[int] = []
    update_parses: list[int] = []
    parse, make = comparisons.ConditionExpressionParser.parse, UpdateExpressionParser.make.__func__
    comparisons.ConditionExpressionParser.parse = lambda self: condition_parses.append(1) or parse(self)
    UpdateExpressionParser.make = classmethod(lambda cls, text: update_parses.append(1) or make(cls, text))
    tag = unique("v").replace("-", "_")  # an expression no other test has parsed yet
    try:
        for _ in range(4):
            dynamodb.update_item(
                TableName=table,
                Key={"pk": {"S": "a"}, "sk": {"S": "s"}},
                UpdateExpression="SET n = n + :one",  # arithmetic: moto's own update engine
                ConditionExpression=f"n >= :{tag} AND attribute_exists(pk)",
                ExpressionAttributeValues={":one": {"N": "1"}, f":{tag}": {"N": "0"}},
            )
    finally:
        comparisons.ConditionExpressionParser.parse = parse
        UpdateExpressionParser.make = classmethod(make)
    # The backend parses each request's expressions to evaluate them; the checks only the first time.
    assert len(condition_parses) <= 4 + 1
    assert len(update_parses) <= 4 + 1
