"""The IAM check's own parts, without AWS: calls to permissions, roles evaluated, the comparison."""

from __future__ import annotations

import copy

import pytest

from app.local import sls_config
from tests.iam.calls import Call, UnmappedCall, needs_of
from tests.iam.cloudformation import Deployment, Unresolvable, evaluate
from tests.iam.policy import Grant, Need, action_matches, audit, resource_matches
from tests.iam.roles import deployed_name, grants_of, lambda_service_needs, log_group_logical_id

REGION, ACCOUNT = "eu-west-1", "123456789012"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tasks"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/work"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:work"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:topic"


def call(service: str, operation: str, response: dict | None = None, **params) -> Call:
    return Call(service, operation, params, response, REGION, "a scenario")


def permissions(*calls: Call) -> list[tuple[str, str]]:
    return [(need.action, need.resource) for need in needs_of(list(calls), ACCOUNT)]


# --- calls to permissions -------------------------------------------------------------


def test_a_transaction_needs_the_actions_of_its_parts_not_one_of_its_own():
    items = [
        {"Put": {"TableName": "tasks", "Item": {}}},
        {"Update": {"TableName": "tasks", "Key": {}}},
        {"ConditionCheck": {"TableName": "other", "Key": {}}},
        {"Delete": {"TableName": "tasks", "Key": {}}},
    ]
    assert permissions(call("dynamodb", "TransactWriteItems", TransactItems=items)) == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:ConditionCheckItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other"),
        ("dynamodb:DeleteItem", TABLE),
    ]


def test_table_operations_name_the_table_or_the_index_queried():
    assert permissions(
        call("dynamodb", "GetItem", TableName="tasks", Key={}),
        call("dynamodb", "Query", TableName="tasks", IndexName="by_status"),
        call("dynamodb", "BatchGetItem", RequestItems={"tasks": {}}),
        call("dynamodb", "BatchWriteItem", RequestItems={"tasks": []}),
        call("dynamodb", "PutItem", TableName=TABLE, Item={}),
    ) == [
        ("dynamodb:GetItem", TABLE),
        ("dynamodb:Query", f"{TABLE}/index/by_status"),
        ("dynamodb:BatchGetItem", TABLE),
        ("dynamodb:BatchWriteItem", TABLE),
        ("dynamodb:PutItem", TABLE),
    ]


def test_stream_reads_are_dynamodb_actions_on_the_stream_that_gave_the_iterator():
    stream = f"{TABLE}/stream/2026-01-01T00:00:00.000"
    assert permissions(
        call("dynamodbstreams", "DescribeStream", StreamArn=stream),
        call("dynamodbstreams", "GetShardIterator", {"ShardIterator": "i1"}, StreamArn=stream, ShardId="s"),
        call("dynamodbstreams", "GetRecords", {"NextShardIterator": "i2"}, ShardIterator="i1"),
        call("dynamodbstreams", "GetRecords", {}, ShardIterator="i2"),
    ) == [
        ("dynamodb:DescribeStream", stream),
        ("dynamodb:GetShardIterator", stream),
        ("dynamodb:GetRecords", stream),
        ("dynamodb:GetRecords", stream),
    ]


def test_batch_calls_need_their_single_actions():
    assert permissions(
        call("sns", "PublishBatch", TopicArn=TOPIC, PublishBatchRequestEntries=[]),
        call("sqs", "DeleteMessageBatch", QueueUrl=QUEUE_URL, Entries=[]),
        call("sqs", "SendMessageBatch", QueueUrl=QUEUE_URL, Entries=[]),
        call("sqs", "ChangeMessageVisibilityBatch", QueueUrl=QUEUE_URL, Entries=[]),
    ) == [
        ("sns:Publish", TOPIC),
        ("sqs:DeleteMessage", QUEUE),
        ("sqs:SendMessage", QUEUE),
        ("sqs:ChangeMessageVisibility", QUEUE),
    ]


def test_parameters_and_secrets_are_named_by_their_arns():
    assert permissions(
        call("ssm", "GetParameter", Name="/app/dev/api-keys", WithDecryption=True),
        call("secretsmanager", "GetSecretValue", SecretId="LICENSE"),
        call("sts", "GetCallerIdentity"),
    ) == [
        ("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/dev/api-keys"),
        ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:LICENSE-AbC123"),
    ]


@pytest.mark.parametrize(
    ("service", "operation"), [("s3", "GetObject"), ("dynamodb", "DeleteTable"), ("sqs", "CreateQueue")]
)
def test_a_call_without_a_rule_is_an_error_not_a_pass(service, operation):
    with pytest.raises(UnmappedCall, match=f"{service} {operation}"):
        needs_of([call(service, operation, TableName="t", QueueUrl=QUEUE_URL)], ACCOUNT)


# --- matching and the comparison ----------------------------------------------------------


def test_iam_wildcards():
    assert resource_matches(f"{TABLE}/index/*", f"{TABLE}/index/by_created")
    assert resource_matches(
        "arn:aws:logs:r:a:log-group:/aws/lambda/f:*",
        "arn:aws:logs:r:a:log-group:/aws/lambda/f:log-stream:x/y",
    )
    assert not resource_matches(f"{TABLE}/index/*", TABLE)
    assert resource_matches(
        "arn:aws:secretsmanager:r:a:secret:KEY-??????", "arn:aws:secretsmanager:r:a:secret:KEY-AbC123"
    )
    assert not resource_matches(
        "arn:aws:secretsmanager:r:a:secret:KEY-??????", "arn:aws:secretsmanager:r:a:secret:KEY-AbC1234"
    )
    assert not resource_matches(TABLE, TABLE.upper())
    assert action_matches("DynamoDB:getitem", "dynamodb:GetItem")
    assert action_matches("dynamodb:Get*", "dynamodb:GetItem")
    assert not action_matches("dynamodb:GetItem", "dynamodb:GetItems")


def test_a_missing_and_an_unused_permission_are_both_reported_with_function_action_and_resource():
    grants = [
        Grant("ApiRole", "dynamodb:GetItem", TABLE, "!GetAtt TasksTable.Arn"),
        Grant("ApiRole", "dynamodb:ConditionCheckItem", TABLE, "!GetAtt TasksTable.Arn"),
    ]
    needs = [
        Need("dynamodb:GetItem", TABLE, "dynamodb GetItem in json_api"),
        Need("dynamodb:BatchGetItem", TABLE, "dynamodb BatchGetItem in dashboard_pages"),
    ]
    assert audit("api", grants, needs) == [
        f"api: missing dynamodb:BatchGetItem on {TABLE} in ApiRole "
        "(needed by dynamodb BatchGetItem in dashboard_pages)",
        f"api: unused dynamodb:ConditionCheckItem on !GetAtt TasksTable.Arn ({TABLE}) in ApiRole: "
        "no scenario of the function needs it",
    ]
    assert audit("api", grants[:1], needs[:1]) == []


# --- CloudFormation, evaluated --------------------------------------------------------------


DEPLOYMENT = Deployment(
    region=REGION,
    account=ACCOUNT,
    attributes={"TasksTable": {"Ref": "tasks", "Arn": TABLE}},
    parameters={"AccountId": ""},
    conditions={"HasAccount": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AccountId"}, ""]}]}},
)


def test_intrinsic_functions():
    assert evaluate(
        {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/x"}, DEPLOYMENT
    ) == (f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/x")
    assert evaluate({"Fn::Sub": "${TasksTable.Arn}/index/*"}, DEPLOYMENT) == f"{TABLE}/index/*"
    assert evaluate({"Fn::Join": ["", [{"Fn::GetAtt": ["TasksTable", "Arn"]}, "/index/*"]]}, DEPLOYMENT) == (
        f"{TABLE}/index/*"
    )
    conditional = [{"Fn::If": ["HasAccount", "on", {"Ref": "AWS::NoValue"}]}, "always"]
    assert evaluate(conditional, DEPLOYMENT) == ["always"]
    assert evaluate(conditional, DEPLOYMENT.with_parameters(AccountId="1")) == ["on", "always"]


@pytest.mark.parametrize(
    "node",
    [{"Ref": "Nothing"}, {"Fn::GetAtt": ["TasksTable", "StreamArn"]}, {"Fn::If": ["Unknown", 1, 2]}],
)
def test_what_cannot_be_resolved_is_an_error(node):
    with pytest.raises(Unresolvable):
        evaluate(node, DEPLOYMENT)


# --- the real serverless.yml, with made-up ARNs --------------------------------------------


def fake_deployment(document: dict) -> Deployment:
    topology = sls_config.load()
    attributes = {topology.table.logical_id: {"Ref": "tasks", "Arn": TABLE, "StreamArn": f"{TABLE}/stream/1"}}
    for logical_id in topology.topics:
        attributes[logical_id] = {"Ref": f"{TOPIC}-{logical_id}"}
    for logical_id in topology.queues:
        attributes[logical_id] = {"Ref": f"{QUEUE_URL}-{logical_id}", "Arn": f"{QUEUE}-{logical_id}"}
    for function in document["functions"]:
        group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{deployed_name(document, function)}:*"
        attributes[log_group_logical_id(function)] = {"Arn": group}
    template = document["resources"]
    return Deployment(
        REGION,
        ACCOUNT,
        attributes,
        {name: spec.get("Default", "") for name, spec in template.get("Parameters", {}).items()},
        template.get("Conditions", {}),
    )


def test_serverless_yml_variables_after_a_cloudformation_one_are_resolved():
    document = sls_config.read(stage="dev")
    statement = document["resources"]["Resources"]["ApiRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    subs = [
        r["Fn::Sub"]
        for s in statement["Statement"]
        if "Resource" in s
        for r in s["Resource"]
        if "Fn::Sub" in r
    ]
    assert (
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/async-app/dev/api-keys" in subs
    )


def test_every_role_evaluates_and_the_new_relic_secret_is_granted_only_with_new_relic():
    document = sls_config.read(stage="dev")
    deployment = fake_deployment(document)
    for function in document["functions"]:
        off = {grant.action for grant in grants_of(document, function, deployment)}
        on = {
            grant.action
            for grant in grants_of(document, function, deployment.with_parameters(NewRelicAccountId="1"))
        }
        assert "secretsmanager:GetSecretValue" not in off
        assert on - off == {"secretsmanager:GetSecretValue"}, function


def test_lambda_uses_each_role_for_logs_tracing_and_event_sources():
    document = sls_config.read(stage="dev")
    deployment = fake_deployment(document)
    needs = {
        f: {(n.action, n.resource) for n in lambda_service_needs(document, f, deployment)}
        for f in document["functions"]
    }
    for function, used in needs.items():
        assert {action for action, _ in used} >= {
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
        }, function
    stream = f"{TABLE}/stream/1"
    assert {("dynamodb:GetRecords", stream), ("dynamodb:ListStreams", stream)} <= needs["publisher"]
    assert ("sqs:SendMessage", f"{QUEUE}-PublisherFailureQueue") in needs["publisher"]
    assert ("sqs:ReceiveMessage", f"{QUEUE}-Task1Queue") in needs["task1"]
    assert not [action for action, _ in needs["api"] if action.startswith(("sqs:", "dynamodb:"))]


def test_a_grant_removed_from_serverless_yml_is_reported_missing():
    document = sls_config.read(stage="dev")
    deployment = fake_deployment(document)
    live_rows = [Need("dynamodb:BatchGetItem", TABLE, "dynamodb BatchGetItem in dashboard_pages")]
    assert not [p for p in audit("api", grants_of(document, "api", deployment), live_rows) if "missing" in p]
    stripped = copy.deepcopy(document)
    for statement in stripped["resources"]["Resources"]["ApiRole"]["Properties"]["Policies"][0][
        "PolicyDocument"
    ]["Statement"]:
        if isinstance(statement.get("Action"), list) and "dynamodb:BatchGetItem" in statement["Action"]:
            statement["Action"].remove("dynamodb:BatchGetItem")
    problems = audit("api", grants_of(stripped, "api", deployment), live_rows)
    missing = f"api: missing dynamodb:BatchGetItem on {TABLE} in ApiRole"
    assert f"{missing} (needed by dynamodb BatchGetItem in dashboard_pages)" in problems
