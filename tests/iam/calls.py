"""Every AWS call a function makes, recorded, and the IAM permissions each one is authorized by.

Recorded at botocore's BaseClient._make_api_call, through which every call of
every client goes: clients of any boto3 session (Powertools builds its own for
SSM), cached or not. Clients given as ``ignored`` (a test's own setup clients)
are left out; everything else made while recording is the function's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from tests.iam.policy import Need


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None
    region: str
    scenario: str


@dataclass
class Recorder:
    ignored: set[int] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    scenario: str = ""


@contextmanager
def recording(ignored: Iterable[Any] = ()) -> Iterator[Recorder]:
    """Record the AWS calls of every client but ``ignored`` until the block ends."""
    from botocore.client import BaseClient

    recorder = Recorder(ignored={id(client) for client in ignored})
    original = BaseClient._make_api_call

    def make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        response = None
        try:
            response = original(client, operation_name, api_params)
            return response
        finally:
            # A refused call needed its permission all the same.
            if id(client) not in recorder.ignored:
                recorder.calls.append(
                    Call(
                        service=client.meta.service_model.service_name,
                        operation=operation_name,
                        params=api_params,
                        response=response,
                        region=client.meta.region_name,
                        scenario=recorder.scenario,
                    )
                )

    BaseClient._make_api_call = make_api_call
    try:
        yield recorder
    finally:
        BaseClient._make_api_call = original


class UnmappedCall(ValueError):
    """A call with no rule below: add one, so that its permission is checked."""


def needs_of(calls: list[Call], account: str) -> list[Need]:
    """The permissions the calls were authorized by, in the order made."""
    streams_of_iterators: dict[str, str] = {}
    needs: list[Need] = []
    for call in calls:
        arns = _Arns(call.region, account)
        why = f"{call.service} {call.operation} in {call.scenario or 'a scenario'}"
        rule = _RULES.get(call.service)
        if rule is None:
            raise UnmappedCall(f"no IAM rule for {call.service} {call.operation}: add one to {__name__}")
        needs += [Need(action, resource, why) for action, resource in rule(call, arns, streams_of_iterators)]
    return needs


@dataclass(frozen=True)
class _Arns:
    region: str
    account: str

    def table(self, name_or_arn: str) -> str:
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name_or_arn}"

    def queue(self, url: str) -> str:
        owner, name = urlparse(url).path.strip("/").split("/")[-2:]
        return f"arn:aws:sqs:{self.region}:{owner}:{name}"

    def parameter(self, name: str) -> str:
        if name.startswith("arn:"):
            return name
        return f"arn:aws:ssm:{self.region}:{self.account}:parameter/{name.lstrip('/')}"

    def secret(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        # A secret's ARN ends in six random characters after its name.
        return f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:{secret_id}-AbC123"


Permissions = list[tuple[str, str]]

# Operations authorized as the action of the same name on the table (or on
# the index a Query or Scan names).
_TABLE_OPERATIONS = {
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "DescribeTable", "DescribeTimeToLive",
}  # fmt: skip
# "Permissions for Put, Update, Delete, and Get actions are governed by the
# permissions used for the underlying PutItem, UpdateItem, DeleteItem, and
# GetItem operations. For the ConditionCheck action, you can use the
# dynamodb:ConditionCheckItem permission" (DynamoDB Developer Guide, "Using
# IAM with DynamoDB transactions"): a transaction needs no action of its own.
_TRANSACTION_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def _dynamodb(call: Call, arns: _Arns, _: dict[str, str]) -> Permissions:
    params, operation = call.params, call.operation
    if operation in _TABLE_OPERATIONS:
        resource = arns.table(params["TableName"])
        if "IndexName" in params:
            resource += f"/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", resource)]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", arns.table(table)) for table in params["RequestItems"]]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            (_TRANSACTION_ACTIONS[kind], arns.table(request["TableName"]))
            for item in params["TransactItems"]
            for kind, request in item.items()
        ]
    raise UnmappedCall(f"no IAM rule for dynamodb {operation}: add one to {__name__}")


def _dynamodb_streams(call: Call, arns: _Arns, iterators: dict[str, str]) -> Permissions:
    # The Streams API is authorized by dynamodb: actions on the stream's ARN.
    params, response = call.params, call.response or {}
    if call.operation in ("DescribeStream", "GetShardIterator"):
        if "ShardIterator" in response:
            iterators[response["ShardIterator"]] = params["StreamArn"]
        return [(f"dynamodb:{call.operation}", params["StreamArn"])]
    if call.operation == "GetRecords":
        stream = iterators[params["ShardIterator"]]
        if response.get("NextShardIterator"):
            iterators[response["NextShardIterator"]] = stream
        return [("dynamodb:GetRecords", stream)]
    if call.operation == "ListStreams":
        table = params.get("TableName")
        return [("dynamodb:ListStreams", f"{arns.table(table)}/stream/*" if table else "*")]
    raise UnmappedCall(f"no IAM rule for dynamodbstreams {call.operation}: add one to {__name__}")


def _sns(call: Call, _: _Arns, __: dict[str, str]) -> Permissions:
    # "sns:Publish: Grants permission to both publish and publish batch to a
    # topic or endpoint" (SNS Developer Guide, API permissions reference).
    if call.operation in ("Publish", "PublishBatch"):
        return [("sns:Publish", call.params.get("TopicArn") or call.params["TargetArn"])]
    raise UnmappedCall(f"no IAM rule for sns {call.operation}: add one to {__name__}")


# "Specifying SendMessage, DeleteMessage, or ChangeMessageVisibility ... also
# grants permissions for the corresponding batch versions of those actions"
# (SQS API Reference, AddPermission).
_SQS_ACTIONS = {
    "SendMessage": "sqs:SendMessage",
    "SendMessageBatch": "sqs:SendMessage",
    "DeleteMessage": "sqs:DeleteMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibility": "sqs:ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "ReceiveMessage": "sqs:ReceiveMessage",
    "GetQueueAttributes": "sqs:GetQueueAttributes",
    "PurgeQueue": "sqs:PurgeQueue",
}


def _sqs(call: Call, arns: _Arns, _: dict[str, str]) -> Permissions:
    if call.operation == "GetQueueUrl":
        owner = call.params.get("QueueOwnerAWSAccountId", arns.account)
        return [("sqs:GetQueueUrl", f"arn:aws:sqs:{arns.region}:{owner}:{call.params['QueueName']}")]
    if call.operation == "StartMessageMoveTask":
        # SQS authorizes a redrive by the caller's rights on both queues (SQS Developer
        # Guide, "Configure queue permissions for dead-letter queue redrive").
        source = call.params["SourceArn"]
        if "DestinationArn" not in call.params:
            raise UnmappedCall("sqs StartMessageMoveTask without DestinationArn: its destination is unknown")
        moves = ("StartMessageMoveTask", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
        destination = call.params["DestinationArn"]
        return [*((f"sqs:{action}", source) for action in moves), ("sqs:SendMessage", destination)]
    if call.operation == "ListMessageMoveTasks":
        return [("sqs:ListMessageMoveTasks", call.params["SourceArn"])]
    if call.operation in _SQS_ACTIONS:
        return [(_SQS_ACTIONS[call.operation], arns.queue(call.params["QueueUrl"]))]
    raise UnmappedCall(f"no IAM rule for sqs {call.operation}: add one to {__name__}")


def _ssm(call: Call, arns: _Arns, _: dict[str, str]) -> Permissions:
    if call.operation == "GetParameter":
        return [("ssm:GetParameter", arns.parameter(call.params["Name"]))]
    if call.operation == "GetParameters":
        return [("ssm:GetParameters", arns.parameter(name)) for name in call.params["Names"]]
    if call.operation == "GetParametersByPath":
        return [("ssm:GetParametersByPath", arns.parameter(call.params["Path"]))]
    raise UnmappedCall(f"no IAM rule for ssm {call.operation}: add one to {__name__}")


def _secrets_manager(call: Call, arns: _Arns, _: dict[str, str]) -> Permissions:
    if call.operation == "GetSecretValue":
        return [("secretsmanager:GetSecretValue", arns.secret(call.params["SecretId"]))]
    raise UnmappedCall(f"no IAM rule for secretsmanager {call.operation}: add one to {__name__}")


def _sts(call: Call, _: _Arns, __: dict[str, str]) -> Permissions:
    if call.operation == "GetCallerIdentity":
        return []  # "No permissions are required to perform this operation" (STS API Reference)
    raise UnmappedCall(f"no IAM rule for sts {call.operation}: add one to {__name__}")


_RULES = {
    "dynamodb": _dynamodb,
    "dynamodbstreams": _dynamodb_streams,
    "sns": _sns,
    "sqs": _sqs,
    "ssm": _ssm,
    "secretsmanager": _secrets_manager,
    "sts": _sts,
}
