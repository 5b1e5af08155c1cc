"""The packaged CloudFormation template deploys what the service needs, and no more.

Read from .serverless/ after `osls package --stage ci` (scripts/deploy_check.sh).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any

import pytest

from app import task_type_stack as stack
from app.task_registry import read_folder
from tests.deploy.packaged import (
    STAGE,
    STATE,
    TEMPLATE,
    function_logical_id,
    mappings_of,
    of_type,
    referenced,
)

pytestmark = pytest.mark.deploy

SERVICE = "async-app"
# The task types a package deploys (workers/tasks/, local-only ones left out).
DEPLOYED = read_folder()
FUNCTIONS = {
    "api": "app.main.handler",
    "publisher": "workers.publisher.handler",
    "changes": "workers.changes.handler",
    **{t.function_name: f"{DEPLOYED.module_of(t.name)}.handler" for t in DEPLOYED.values()},
    "deadLetters": "workers.dead_letters.handler",
    "reconciler": "workers.reconciler.handler",
    "scheduler": "workers.scheduler.handler",
    "webhooks": "workers.webhooks.handler",
}
# Actions that have no resource type in IAM: AWS requires Resource "*".
RESOURCE_LESS_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _functions(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resources[function_logical_id(name)]["Properties"]
        for name in FUNCTIONS
        if function_logical_id(name) in resources
    }


def _role_statements(resources: dict[str, Any], function: str) -> list[dict[str, Any]]:
    """Every statement the function's role can hold; both branches of an Fn::If."""
    role_id = referenced(resources[function_logical_id(function)]["Properties"]["Role"])
    role = resources[role_id]
    assert role["Type"] == "AWS::IAM::Role"
    statements = []
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                _, when_true, when_false = statement["Fn::If"]
                statements += [s for s in (when_true, when_false) if s != {"Ref": "AWS::NoValue"}]
            else:
                statements.append(statement)
    return statements


def _grants(resources: dict[str, Any], function: str) -> dict[str, set[str]]:
    """action -> the logical ids (or ARN patterns) it is allowed on."""
    granted: dict[str, set[str]] = {}
    for statement in _role_statements(resources, function):
        for action in _as_list(statement["Action"]):
            for resource in _as_list(statement["Resource"]):
                granted.setdefault(action, set()).add(_describe(resource))
    return granted


def _describe(resource: Any) -> str:
    """A logical id for !Ref/!GetAtt, 'X/index/*' for a table's indexes, else the ARN text."""
    target = referenced(resource)
    if target:
        return target
    if isinstance(resource, dict) and "Fn::Join" in resource:
        separator, parts = resource["Fn::Join"]
        return separator.join(_describe(part) for part in parts)
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        return resource["Fn::Sub"]
    return resource


# --- functions ------------------------------------------------------------------


def test_every_function_is_there_with_its_handler_runtime_and_tracing(resources):
    functions = _functions(resources)
    assert set(functions) == set(FUNCTIONS), "one function per name in FUNCTIONS (task types included)"
    lambdas = of_type(resources, "AWS::Lambda::Function")
    assert len(lambdas) == len(FUNCTIONS), f"unexpected functions: {sorted(lambdas)}"
    for name, properties in functions.items():
        assert properties["Handler"] == FUNCTIONS[name], name
        assert properties["FunctionName"] == f"{SERVICE}-{STAGE}-{name}"
        assert properties["Runtime"] == "python3.13"
        assert properties["Architectures"] == ["arm64"]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert "Layers" not in properties, f"{name}: layers appear only with New Relic on"


def test_environment_names_resources_and_parameters_only(resources):
    functions = _functions(resources)
    for name, properties in functions.items():
        env = properties["Environment"]["Variables"]
        assert env["STAGE"] == STAGE
        assert env["TABLE_NAME"] == f"{SERVICE}-{STAGE}-tasks"
        assert env["POWERTOOLS_SERVICE_NAME"] == SERVICE
        assert env["POWERTOOLS_METRICS_NAMESPACE"]
        assert env["POWERTOOLS_LOG_LEVEL"]
        assert not [key for key in env if key.startswith("NEW_RELIC_")], name
    api = functions["api"]["Environment"]["Variables"]
    assert api["ROOT_PATH"] == f"/{STAGE}"
    assert api["API_KEYS_PARAMETER"] == f"/{SERVICE}/{STAGE}/api-keys"
    assert api["DASHBOARD_USERS_PARAMETER"] == f"/{SERVICE}/{STAGE}/dashboard-users"
    assert api["SESSION_SECRET_PARAMETER"] == f"/{SERVICE}/{STAGE}/session-secret"
    assert api["PAGE_TOKEN_SECRET_PARAMETER"] == f"/{SERVICE}/{STAGE}/page-token-secret"
    assert functions["publisher"]["Environment"]["Variables"]["TOPIC_ARN"] == {"Ref": "TasksTopic"}


def test_log_groups_are_kept_for_a_bounded_time(resources):
    log_groups = of_type(resources, "AWS::Logs::LogGroup")
    assert {r["Properties"]["LogGroupName"] for r in log_groups.values()} == {
        f"/aws/lambda/{SERVICE}-{STAGE}-{name}" for name in FUNCTIONS
    }
    assert {r["Properties"]["RetentionInDays"] for r in log_groups.values()} == {30}


# --- IAM: one role per function, least privilege ----------------------------------


def test_each_function_has_its_own_role_and_there_is_no_shared_role(resources):
    roles = [referenced(properties["Role"]) for properties in _functions(resources).values()]
    assert len(set(roles)) == len(FUNCTIONS)
    assert "IamRoleLambdaExecution" not in resources, "the framework's shared role must not be created"
    for role_id in roles:
        role = resources[role_id]["Properties"]
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust == {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
        assert not role.get("ManagedPolicyArns"), f"{role_id}: no managed policies"


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_every_statement_names_specific_resources(resources, function):
    for statement in _role_statements(resources, function):
        assert statement["Effect"] == "Allow"
        actions = _as_list(statement["Action"])
        assert all("*" not in action for action in actions), f"{function}: wildcard action in {statement}"
        for resource in _as_list(statement["Resource"]):
            if set(actions) <= RESOURCE_LESS_ACTIONS:
                assert resource == "*"
                continue
            described = _describe(resource)
            assert described != "*", f"{function}: {actions} on every resource"
            if referenced(resource):
                assert referenced(resource) in resources, f"{function}: {resource} names nothing"
            elif described.endswith("/index/*"):
                # The indexes of one table, named by its ARN.
                assert described == "TasksTable/index/*", described
            else:
                # An ARN built from the partition, region and account, ending in a name.
                assert "*" not in described, f"{function}: wildcard in {described}"


def test_api_can_read_and_write_tasks_and_read_its_parameters_only(resources):
    granted = _grants(resources, "api")
    for action in ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"):
        assert granted[action] == {"TasksTable"}, action  # nothing on the indexes but Query
    assert granted["dynamodb:Query"] == {"TasksTable", "TasksTable/index/*"}
    assert granted["dynamodb:BatchWriteItem"] == {"TasksTable"}  # timeline events
    env = _functions(resources)["api"]["Environment"]["Variables"]
    parameter_names = {value for key, value in env.items() if key.endswith("_PARAMETER")}
    assert {arn.split(":parameter", 1)[1] for arn in granted["ssm:GetParameter"]} == parameter_names
    # POST /tasks/{id}/webhook/resend sends to the webhook queue; a dashboard redrive moves a
    # DLQ's messages back to its task queue, which SQS authorizes as the caller's SendMessage.
    queues = {stack.queue_id(t) for t in DEPLOYED.values()}
    assert granted.pop("sqs:SendMessage") == {"WebhookQueue", *queues}
    # The dashboard's dead-letters page: it looks at the DLQs and publisher-failures (and the
    # queues view at the task queues' depth), finds, deletes or purges their messages, redrives DLQs.
    dlqs = {stack.dead_letter_queue_id(t) for t in DEPLOYED.values()}
    assert granted.pop("sqs:GetQueueAttributes") == {*dlqs, "PublisherFailureQueue", *queues}
    for action in (
        "sqs:ReceiveMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:PurgeQueue",
    ):
        assert granted.pop(action) == {*dlqs, "PublisherFailureQueue"}, action
    for action in ("sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks"):
        assert granted.pop(action) == dlqs, action
    assert not [action for action in granted if action.startswith(("sqs:", "sns:"))]
    assert {key: env[key] for key in env if key.endswith("QUEUE_URL")} == {
        "WEBHOOK_QUEUE_URL": {"Ref": "WebhookQueue"},
        "PUBLISHER_FAILURES_QUEUE_URL": {"Ref": "PublisherFailureQueue"},
    }
    # Each task type's queue URL is this prefix and its queue's name (one variable, whatever the types).
    prefix = env["TASK_QUEUE_URL_PREFIX"]["Fn::Sub"]
    assert (
        prefix == f"https://sqs.${{AWS::Region}}.${{AWS::URLSuffix}}/${{AWS::AccountId}}/{SERVICE}-{STAGE}-"
    )
    for logical_id in queues | dlqs:
        assert resources[logical_id]["Properties"]["QueueName"].startswith(f"{SERVICE}-{STAGE}-")


def test_publisher_reads_the_stream_publishes_to_the_topic_and_parks_failures(resources):
    granted = _grants(resources, "publisher")
    for action in (
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:DescribeStream",
        "dynamodb:ListStreams",
    ):
        assert granted[action] == {"TasksTable"}  # !GetAtt TasksTable.StreamArn
    statement = next(
        s for s in _role_statements(resources, "publisher") if "dynamodb:GetRecords" in _as_list(s["Action"])
    )
    assert statement["Resource"] == {"Fn::GetAtt": ["TasksTable", "StreamArn"]}
    assert granted["sns:Publish"] == {"TasksTopic"}
    # Given-up records, and the webhooks of tasks that end.
    assert granted["sqs:SendMessage"] == {"PublisherFailureQueue", "WebhookQueue"}
    # A webhook's delivery record; no timeline events (the worker records the publish hop).
    assert granted["dynamodb:PutItem"] == {"TasksTable"}
    assert "dynamodb:BatchWriteItem" not in granted
    assert not [action for action in granted if action.startswith("ssm:")]


def test_each_worker_consumes_its_own_queue_only(resources):
    queue_actions = {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    }
    for task_type in DEPLOYED.values():
        function = task_type.function_name
        granted = _grants(resources, function)
        (mapping,) = mappings_of(resources, function)
        queue = referenced(mapping["EventSourceArn"])
        for action in queue_actions:
            assert granted[action] == {queue}, f"{function}: {action}"
        sqs_actions = {action for action in granted if action.startswith("sqs:")}
        # And a crashed or busy task's message brought back when worth delivering again.
        assert granted["sqs:ChangeMessageVisibility"] == {queue}
        assert sqs_actions == queue_actions | {"sqs:ChangeMessageVisibility"}
        for action in ("dynamodb:UpdateItem", "dynamodb:BatchWriteItem"):
            assert granted[action] == {"TasksTable"}
        assert "dynamodb:GetItem" not in granted, f"{function}: its claim reads the task it could not take"
        assert not [action for action in granted if action.startswith(("ssm:", "sns:"))]
    dead_letters = _grants(resources, "deadLetters")
    dlqs = {referenced(m["EventSourceArn"]) for m in mappings_of(resources, "deadLetters")}
    for action in queue_actions:
        assert dead_letters[action] == dlqs
    for action in ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"):
        assert dead_letters[action] == {"TasksTable"}


def test_new_relic_license_access_is_conditional(template, resources):
    """Only when New Relic is on may a role read the license key secret."""
    for function in FUNCTIONS:
        role_id = referenced(resources[function_logical_id(function)]["Properties"]["Role"])
        for policy in resources[role_id]["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                if "secretsmanager:GetSecretValue" in json.dumps(statement):
                    assert statement["Fn::If"][0] == "NewRelicEnabled"
    assert template["Conditions"]["NewRelicEnabled"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "NewRelicAccountId"}, ""]}]
    }


# --- data: table, topic, queues ------------------------------------------------------


def test_table_is_on_demand_recoverable_encrypted_and_streams_new_and_old_images(resources):
    table = resources["TasksTable"]["Properties"]
    assert table["TableName"] == f"{SERVICE}-{STAGE}-tasks"
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}


def test_topic_and_queues_are_encrypted(resources):
    topics = of_type(resources, "AWS::SNS::Topic")
    # The alarms' topic can't be under SNS's AWS managed key (CloudWatch could
    # not publish to it); its messages hold no task data.
    assert topics.pop("AlarmTopic")["Properties"]["TopicName"] == f"{SERVICE}-{STAGE}-alarms"
    (topic,) = topics.values()
    assert topic["Properties"]["TopicName"] == f"{SERVICE}-{STAGE}-tasks"
    assert topic["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    for logical_id, queue in of_type(resources, "AWS::SQS::Queue").items():
        properties = queue["Properties"]
        # SQS-managed SSE: SNS can deliver to it (it could not with aws/sqs).
        assert properties.get("SqsManagedSseEnabled") is True, logical_id
        assert "KmsMasterKeyId" not in properties, logical_id
        assert properties["QueueName"].startswith(f"{SERVICE}-{STAGE}-")


def _queue_subscriptions(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Subscriptions of a queue to a topic (not the alarms' email one)."""
    subscriptions = of_type(resources, "AWS::SNS::Subscription").items()
    return {logical_id: s for logical_id, s in subscriptions if s["Properties"]["Protocol"] == "sqs"}


def test_every_task_type_has_queue_dlq_policy_subscription_and_worker(resources):
    subscriptions = _queue_subscriptions(resources)
    policies = of_type(resources, "AWS::SQS::QueuePolicy")
    functions = _functions(resources)
    drained_dlqs = {referenced(m["EventSourceArn"]) for m in mappings_of(resources, "deadLetters")}
    worker_queues = set()
    for task_type in DEPLOYED.values():
        function = task_type.function_name
        (mapping,) = mappings_of(resources, function)
        queue_id = referenced(mapping["EventSourceArn"])
        worker_queues.add(queue_id)
        queue = resources[queue_id]["Properties"]
        assert queue["QueueName"] == f"{SERVICE}-{STAGE}-{task_type.queue_suffix}"

        # Redrive to a DLQ that the deadLetters function drains.
        redrive = queue["RedrivePolicy"]
        dlq_id = referenced(redrive["deadLetterTargetArn"])
        assert resources[dlq_id]["Type"] == "AWS::SQS::Queue"
        assert (
            resources[dlq_id]["Properties"]["QueueName"] == f"{SERVICE}-{STAGE}-{task_type.queue_suffix}-dlq"
        )
        # At least five deliveries, as AWS advises, so a busy task's returns don't exhaust them.
        assert int(redrive["maxReceiveCount"]) >= 5
        assert dlq_id in drained_dlqs

        # AWS advises a visibility timeout of at least six times the function timeout.
        assert int(queue["VisibilityTimeout"]) >= 6 * int(functions[function]["Timeout"])
        dlq_timeout = int(resources[dlq_id]["Properties"].get("VisibilityTimeout", 30))
        assert dlq_timeout >= 6 * int(functions["deadLetters"]["Timeout"])
        # A dead letter keeps its first enqueue time: the DLQ must keep it longer.
        dlq_retention = int(resources[dlq_id]["Properties"]["MessageRetentionPeriod"])
        assert dlq_retention > int(queue["MessageRetentionPeriod"])

        # Only the topic may send to the queue.
        (policy,) = [p for p in policies.values() if {"Ref": queue_id} in p["Properties"]["Queues"]]
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
        assert statement["Action"] == "sqs:SendMessage"
        assert referenced(statement["Resource"]) == queue_id
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "TasksTopic"}}}

        # Subscribed to the topic for this task type only, raw.
        (subscription,) = [
            s["Properties"]
            for s in subscriptions.values()
            if referenced(s["Properties"]["Endpoint"]) == queue_id
        ]
        assert subscription["TopicArn"] == {"Ref": "TasksTopic"}
        assert subscription["Protocol"] == "sqs"
        assert subscription["FilterPolicy"] == {"task_type": [task_type.name]}
        assert subscription["RawMessageDelivery"] is True

    assert len(subscriptions) == len(DEPLOYED), "a subscription without a task type"
    assert drained_dlqs == {
        referenced(resources[q]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]) for q in worker_queues
    }


def test_outputs_give_the_api_url_table_and_topic(template):
    outputs = template["Outputs"]
    assert outputs["ServiceEndpoint"]["Value"]["Fn::Join"][1][-1] == f"/{STAGE}"
    assert outputs["TasksTableName"]["Value"] == {"Ref": "TasksTable"}
    assert outputs["TasksTopicArn"]["Value"] == {"Ref": "TasksTopic"}


def test_api_is_a_rest_api_with_a_proxy_route(resources):
    (api,) = of_type(resources, "AWS::ApiGateway::RestApi")
    methods = of_type(resources, "AWS::ApiGateway::Method").values()
    assert {m["Properties"]["HttpMethod"] for m in methods} == {"ANY"}
    paths = {r["Properties"]["PathPart"] for r in of_type(resources, "AWS::ApiGateway::Resource").values()}
    assert paths == {"{proxy+}"}
    assert api


# --- the event source mappings: serverless.yml, the template and the local runtime agree --


def _filter_patterns(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(f["Pattern"]) for f in mapping.get("FilterCriteria", {}).get("Filters", [])]


def test_stream_mapping_is_what_serverless_yml_declares(resources, declared):
    (event,) = [e["stream"] for e in declared["functions"]["publisher"]["events"]]
    (mapping,) = mappings_of(resources, "publisher")
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["TasksTable", "StreamArn"]}
    assert mapping["StartingPosition"] == event["startingPosition"]
    assert mapping["BatchSize"] == event["batchSize"]
    assert mapping["MaximumBatchingWindowInSeconds"] == event["batchWindow"]
    assert mapping["MaximumRetryAttempts"] == event["maximumRetryAttempts"]
    assert mapping["BisectBatchOnFunctionError"] is event["bisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == [event["functionResponseType"]] == ["ReportBatchItemFailures"]
    assert (
        mapping["DestinationConfig"]["OnFailure"]["Destination"] == event["destinations"]["onFailure"]["arn"]
    )
    assert _filter_patterns(mapping) == event["filterPatterns"]
    # A param (docs/deploy.md, Capacity), 1 unless raised.
    assert mapping["ParallelizationFactor"] == 1
    # Bounded retries: a poison record cannot hold the shard until it expires.
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10
    # Only tasks ready to run (new ones, and scheduled ones once due), and the
    # ends of tasks with a callback_url (their webhooks are queued).
    ready = {"sk": {"S": ["TASK"]}, "status": {"S": ["CREATED"]}}
    new, due, ended = _filter_patterns(mapping)
    assert new == {"eventName": ["INSERT"], "dynamodb": {"NewImage": ready}}
    assert due == {
        "eventName": ["MODIFY"],
        "dynamodb": {"OldImage": {"status": {"S": ["SCHEDULED"]}}, "NewImage": ready},
    }
    assert ended["eventName"] == ["MODIFY"]
    assert ended["dynamodb"]["NewImage"]["status"] == {"S": ["COMPLETED", "FAILED", "CANCELLED"]}
    assert ended["dynamodb"]["OldImage"]["status"] == {"S": ["SCHEDULED", "CREATED", "IN_PROGRESS"]}
    assert "callback_url" in ended["dynamodb"]["NewImage"]


def test_the_stream_has_two_readers_at_most(resources):
    """DynamoDB advises at most two readers of a stream shard: the webhooks ride on the publisher's."""
    readers = [
        m
        for m in of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["TasksTable", "StreamArn"]}
    ]
    assert len(readers) <= 2
    # Both read with the same parallelization factor (a param).
    assert {m["Properties"]["ParallelizationFactor"] for m in readers} == {1}


def test_sqs_mappings_are_what_serverless_yml_declares(resources, declared):
    for name, spec in declared["functions"].items():
        events = [e["sqs"] for e in spec.get("events", []) if "sqs" in e]
        mappings = {
            referenced(m["EventSourceArn"]): m
            for m in mappings_of(resources, name)
            if resources[referenced(m["EventSourceArn"])]["Type"] == "AWS::SQS::Queue"
        }
        assert len(mappings) == len(events), name
        for event in events:
            mapping = mappings[referenced(event["arn"])]
            assert mapping["BatchSize"] == event.get("batchSize", 10)
            assert mapping.get("MaximumBatchingWindowInSeconds", 0) == event.get("maximumBatchingWindow", 0)
            assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            assert event["functionResponseType"] == "ReportBatchItemFailures"


# The local runtime's side: app.local.sls_config reads serverless.yml for its
# pollers. These tests hold it to what the packaged template gives AWS.


@pytest.fixture(scope="module")
def topology():
    from app.local import sls_config

    # Without the local-only task types, which no package deploys.
    return sls_config.load(stage=STAGE, include_local_only=False)


@pytest.mark.parametrize("name", ["publisher", "changes"])
def test_local_stream_poller_uses_the_template_settings(resources, topology, name):
    local = next(f for f in topology.stream_functions if f.name == name)
    assert local.handler == FUNCTIONS[name]
    (mapping,) = mappings_of(resources, local.name)
    assert local.filter_patterns == _filter_patterns(mapping)
    assert local.batch_size == mapping["BatchSize"]
    # serverless.yml's stream key is batchWindow (the framework rejects
    # maximumBatchingWindow on a stream; its sqs events use that name).
    assert local.batching_window == mapping["MaximumBatchingWindowInSeconds"], (
        "app.local.sls_config must read the stream's batchWindow"
    )
    # Lambda's defaults where the template leaves a setting out.
    assert local.maximum_retry_attempts == mapping.get("MaximumRetryAttempts", -1)
    assert local.bisect_on_error == mapping.get("BisectBatchOnFunctionError", False)
    assert local.report_batch_item_failures == (
        "ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", [])
    )


def test_local_sqs_pollers_use_the_template_settings(resources, topology):
    local = {(f.name, f.queue_logical_id): f for f in topology.sqs_functions}
    template = {
        (name, referenced(m["EventSourceArn"])): m for name in FUNCTIONS for m in mappings_of(resources, name)
    }
    # The stream's readers (the tests above hold them to serverless.yml).
    template.pop(("publisher", "TasksTable"))
    template.pop(("changes", "TasksTable"))
    assert set(local) == set(template)
    for key, function in local.items():
        mapping = template[key]
        assert function.handler == FUNCTIONS[function.name]
        assert function.batch_size == mapping["BatchSize"]
        assert function.batching_window == mapping.get("MaximumBatchingWindowInSeconds", 0)
        assert function.report_batch_item_failures == (
            "ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", [])
        )
        # make run polls a queue with as many pollers as Lambda runs batches of it at once.
        assert function.maximum_concurrency == mapping.get("ScalingConfig", {}).get("MaximumConcurrency")


def test_local_queues_and_subscriptions_are_the_templates(resources, topology):
    queues = of_type(resources, "AWS::SQS::Queue")
    assert set(topology.queues) == set(queues)
    for logical_id, local in topology.queues.items():
        properties = queues[logical_id]["Properties"]
        assert local.name == properties["QueueName"]
        assert local.visibility_timeout == properties.get("VisibilityTimeout", 30)
        redrive = properties.get("RedrivePolicy")
        assert local.dead_letter_logical_id == (
            referenced(redrive["deadLetterTargetArn"]) if redrive else None
        )
        assert local.max_receive_count == (int(redrive["maxReceiveCount"]) if redrive else None)
    subscriptions = {
        referenced(s["Properties"]["Endpoint"]): s["Properties"]
        for s in _queue_subscriptions(resources).values()
    }
    assert {s.queue_logical_id for s in topology.subscriptions} == set(subscriptions)
    for local in topology.subscriptions:
        properties = subscriptions[local.queue_logical_id]
        assert local.filter_policy == properties["FilterPolicy"]
        assert local.raw_message_delivery == properties["RawMessageDelivery"]


# --- secrets --------------------------------------------------------------------------


def _strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [item for key, value in node.items() for item in _strings(value, f"{path}/{key}")]
    if isinstance(node, list):
        return [item for i, value in enumerate(node) for item in _strings(value, f"{path}[{i}]")]
    return [(path, node)] if isinstance(node, str) else []


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _looks_like_a_secret(token: str) -> bool:
    """Long, mixed-case, with digits and little repetition: a key, a token, a password."""
    return (
        len(token) >= 20
        and bool(re.search(r"[a-z]", token) and re.search(r"[A-Z]", token) and re.search(r"\d", token))
        and _entropy(token) >= 3.5
    )


def test_no_secret_is_in_the_template_or_the_service_state(template, state):
    from app.settings import LOCAL_API_KEY

    texts = {"template": TEMPLATE.read_text(), "service state": STATE.read_text()}
    for what, text in texts.items():
        for known in (LOCAL_API_KEY, "e2e-test-key"):
            assert known not in text, f"{known!r} in the {what}"
    for path, value in _strings(template):
        if path.endswith("/Code/S3Key"):
            continue  # serverless/<service>/<stage>/<timestamp>/<artifact>
        if value in template["Resources"]:
            continue  # a logical id (ReconcilerEventsRuleSchedule1, named by the framework)
        for token in re.findall(r"[A-Za-z0-9+/=_\-]{20,}", value):
            assert not _looks_like_a_secret(token), f"{path}: {token!r} looks like a secret"


def test_secrets_are_passed_as_ssm_parameter_names(resources):
    for name, properties in _functions(resources).items():
        for key, value in properties["Environment"]["Variables"].items():
            if re.search(r"KEY|SECRET|PASSWORD|TOKEN|USERS|CREDENTIAL", key):
                assert key.endswith("_PARAMETER"), f"{name}: {key} would hold a secret in plain text"
                assert isinstance(value, str) and value.startswith(f"/{SERVICE}/{STAGE}/"), f"{name}: {key}"


def test_secret_detector_finds_keys():
    assert _looks_like_a_secret("AKIAIOSFODNN7EXAMPLEwJalrXUtnFEMI")
    assert _looks_like_a_secret("sk_live_4eC39HqLyjWDarjtT1zdp7dc")
    assert not _looks_like_a_secret("ReportBatchItemFailures")
    assert not _looks_like_a_secret("/async-app/ci/session-secret")
