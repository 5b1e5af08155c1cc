"""Each function's role as CloudFormation will create it, and what Lambda itself does with it.

Read from serverless.yml (app.local.sls_config.read: the framework's variables
resolved, CloudFormation's tags kept), evaluated for one stage; tests/deploy
checks that the packaged template holds the same role statements.
"""

from __future__ import annotations

from typing import Any

from tests.deploy.packaged import function_logical_id
from tests.iam.cloudformation import NO_VALUE, Deployment, describe, evaluate
from tests.iam.policy import Grant, Need

# The condition under which the New Relic plugin adds its extension (serverless.yml).
NEW_RELIC_CONDITION = "NewRelicEnabled"
# A log stream as Lambda names them ("date/[version]id").
LOG_STREAM = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"


def function_names(document: dict[str, Any]) -> list[str]:
    return list(document.get("functions") or {})


def deployed_name(document: dict[str, Any], function: str) -> str:
    """The Lambda function's name: the framework's service-stage-function unless it is given."""
    spec = document["functions"][function]
    return spec.get("name") or f"{document['service']}-{document['provider']['stage']}-{function}"


def log_group_logical_id(function: str) -> str:
    """The framework's log group of a function (naming.getLogGroupLogicalId)."""
    return function_logical_id(function).removesuffix("LambdaFunction") + "LogGroup"


def role_of(document: dict[str, Any], function: str) -> str:
    role = document["functions"][function].get("role")
    resources = document["resources"]["Resources"]
    if not isinstance(role, str) or resources.get(role, {}).get("Type") != "AWS::IAM::Role":
        raise ValueError(
            f"{function}: `role:` must name an AWS::IAM::Role of its own in resources, not {role!r}"
        )
    return role


def _chosen(statement: Any, deployment: Deployment) -> dict[str, Any] | None:
    """A statement, with a statement-level Fn::If decided; None when it is AWS::NoValue."""
    while isinstance(statement, dict) and set(statement) == {"Fn::If"}:
        condition, when_true, when_false = statement["Fn::If"]
        statement = when_true if deployment.condition(condition) else when_false
    return None if evaluate(statement, deployment) is NO_VALUE else statement


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants_of(document: dict[str, Any], function: str, deployment: Deployment) -> list[Grant]:
    """Every (action, resource) the function's role allows in ``deployment``."""
    role_id = role_of(document, function)
    role = document["resources"]["Resources"][role_id]["Properties"]
    if role.get("ManagedPolicyArns"):
        raise ValueError(f"{role_id}: managed policies can't be checked against the code; inline them")
    grants = []
    for policy in role.get("Policies", []):
        for raw in policy["PolicyDocument"]["Statement"]:
            statement = _chosen(raw, deployment)
            if statement is None:
                continue
            unsupported = set(statement) - {"Sid", "Effect", "Action", "Resource"}
            if statement.get("Effect") != "Allow" or unsupported:
                raise ValueError(f"{role_id}: only plain Allow statements are checked, not {statement}")
            for declared in _as_list(statement["Resource"]):
                for resource in _as_list(evaluate(declared, deployment)):
                    for action in _as_list(statement["Action"]):
                        grants.append(Grant(role_id, action, resource, describe(declared)))
    return grants


def lambda_service_needs(document: dict[str, Any], function: str, deployment: Deployment) -> list[Need]:
    """What the Lambda service does with the function's role, whatever the function's code does."""
    spec = document["functions"][function]
    provider = document["provider"]
    name = deployed_name(document, function)
    log_stream = (
        f"arn:{deployment.partition}:logs:{deployment.region}:{deployment.account}"
        f":log-group:/aws/lambda/{name}:log-stream:{LOG_STREAM}"
    )
    # The runtime sends the function's output to its log group (what the
    # AWSLambdaBasicExecutionRole managed policy grants, minus CreateLogGroup:
    # the stack creates the group).
    needs = [
        Need("logs:CreateLogStream", log_stream, "Lambda writing the function's logs"),
        Need("logs:PutLogEvents", log_stream, "Lambda writing the function's logs"),
    ]
    tracing = spec.get("tracing", (provider.get("tracing") or {}).get("lambda"))
    if tracing in (True, "Active", "PassThrough"):
        # Lambda's X-Ray daemon sends the segments with the function's role;
        # these two actions have no resource type, so "*".
        needs += [
            Need("xray:PutTraceSegments", "*", "Lambda's X-Ray daemon (tracing on)"),
            Need("xray:PutTelemetryRecords", "*", "Lambda's X-Ray daemon (tracing on)"),
        ]
    if NEW_RELIC_CONDITION in deployment.conditions and deployment.condition(NEW_RELIC_CONDITION):
        secret = (
            f"arn:{deployment.partition}:secretsmanager:{deployment.region}:{deployment.account}"
            ":secret:NEW_RELIC_LICENSE_KEY-AbC123"
        )
        needs.append(Need("secretsmanager:GetSecretValue", secret, "the New Relic extension's license key"))
    for event in spec.get("events") or []:
        needs += _event_source_needs(event, deployment)
    return needs


def _event_source_needs(event: dict[str, Any], deployment: Deployment) -> list[Need]:
    ((kind, settings),) = event.items()
    if kind in ("http", "httpApi", "schedule"):
        return []  # invoked through a resource-based permission: nothing on the role
    if kind == "stream":
        arn = evaluate(settings["arn"], deployment)
        # "IAM policy to allow an AWS Lambda function to access DynamoDB stream
        # records" (DynamoDB Developer Guide): GetRecords, GetShardIterator,
        # DescribeStream and ListStreams on the stream.
        why = "Lambda reading the stream for the event source mapping"
        needs = [
            Need(f"dynamodb:{action}", arn, why)
            for action in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")
        ]
        on_failure = (settings.get("destinations") or {}).get("onFailure")
        if on_failure:
            # "Your execution role must have permissions for the destination: for SQS
            # destinations sqs:SendMessage, for SNS destinations sns:Publish"
            # (Lambda Developer Guide, services-dynamodb-errors).
            action = {"sqs": "sqs:SendMessage", "sns": "sns:Publish"}[on_failure.get("type", "sqs")]
            destination = evaluate(on_failure["arn"], deployment)
            needs.append(
                Need(action, destination, "Lambda sending given-up records to the on-failure destination")
            )
        return needs
    if kind == "sqs":
        arn = evaluate(settings["arn"] if isinstance(settings, dict) else settings, deployment)
        # "The Lambda execution role must include the following permissions:
        # sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:ReceiveMessage"
        # (SQS Developer Guide, sqs-configure-lambda-function-trigger).
        why = "Lambda polling the queue for the event source mapping"
        return [
            Need(f"sqs:{action}", arn, why)
            for action in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
        ]
    raise ValueError(f"no rule yet for what Lambda needs for a {kind!r} event: add it to {__name__}")
