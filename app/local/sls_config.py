"""serverless.yml, read the way the local runtime needs it.

The local runtime provisions the emulator and runs its pollers from this, so
serverless.yml stays the one place where the table, queues, subscriptions,
filter patterns and batch settings are declared.

Only the variables this project uses are resolved (${self:...}, ${sls:stage},
${opt:...}, ${aws:region}, ${param:...} from `params`, and
${file(./scripts/task-types.js):PART}, the task types' part, which
app/task_type_stack.py makes here as it does for the framework); any other
source (ssm, env) is kept as text unless a fallback literal follows it.
`functions` and `resources` given as lists are merged, as the framework does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "serverless.yml"
LOCAL_STAGE = "local"
TASK_TYPES_SCRIPT = "./scripts/task-types.js"
# The account moto's resources live in; what ${AWS::AccountId} is locally.
LOCAL_ACCOUNT_ID = "123456789012"

# Lambda's defaults when an event leaves a setting out.
STREAM_DEFAULT_BATCH_SIZE = 100
SQS_DEFAULT_BATCH_SIZE = 10
DEFAULT_FUNCTION_TIMEOUT = 6


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    attribute_definitions: list[dict[str, str]]
    key_schema: list[dict[str, str]]
    global_secondary_indexes: list[dict[str, Any]]
    stream_view_type: str
    ttl_attribute: str | None


@dataclass(frozen=True)
class TopicSpec:
    logical_id: str
    name: str


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    visibility_timeout: int
    message_retention_period: int | None
    dead_letter_logical_id: str | None
    max_receive_count: int | None


@dataclass(frozen=True)
class SubscriptionSpec:
    logical_id: str
    topic_logical_id: str
    queue_logical_id: str
    filter_policy: dict[str, Any] | None
    raw_message_delivery: bool


@dataclass(frozen=True)
class StreamFunction:
    name: str
    handler: str
    timeout: int
    table_logical_id: str
    starting_position: str
    batch_size: int
    batching_window: int
    filter_patterns: list[dict[str, Any]]
    maximum_retry_attempts: int  # -1: until the record expires, as in Lambda
    bisect_on_error: bool
    report_batch_item_failures: bool
    on_failure_queue_logical_id: str | None


@dataclass(frozen=True)
class SqsFunction:
    name: str
    handler: str
    timeout: int
    queue_logical_id: str
    batch_size: int
    batching_window: int
    report_batch_item_failures: bool
    # The event source's maximumConcurrency: batches of this queue run at once (None: not capped).
    maximum_concurrency: int | None = None


@dataclass(frozen=True)
class ScheduledFunction:
    name: str
    handler: str
    timeout: int
    rate_seconds: int
    rule_name: str
    # Seconds between runs under the local runtime, from custom.localSchedules (None: its rate).
    local_period_seconds: float | None = None


@dataclass(frozen=True)
class Topology:
    service: str
    stage: str
    region: str
    table: TableSpec
    topics: dict[str, TopicSpec]
    queues: dict[str, QueueSpec]
    subscriptions: list[SubscriptionSpec]
    stream_functions: list[StreamFunction]
    sqs_functions: list[SqsFunction]
    scheduled_functions: list[ScheduledFunction] = field(default_factory=list)
    function_environment: dict[str, dict[str, Any]] = field(default_factory=dict)


# --- YAML with CloudFormation's short-form tags --------------------------------


class CloudFormationLoader(yaml.SafeLoader):
    pass


def _intrinsic(name: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _tag in ("Ref", "Condition"):
    CloudFormationLoader.add_constructor(f"!{_tag}", _intrinsic(_tag))
for _tag in (
    "GetAtt", "Sub", "Join", "If", "Equals", "Not", "And", "Or", "Select", "Split",
    "ImportValue", "FindInMap", "Base64", "GetAZs", "Cidr",
):  # fmt: skip
    CloudFormationLoader.add_constructor(f"!{_tag}", _intrinsic(f"Fn::{_tag}"))


# --- Serverless variables --------------------------------------------------------

_VARIABLE = re.compile(r"\$\{([^${}]+)\}")
_UNRESOLVED = object()


class _Resolver:
    def __init__(
        self, document: dict[str, Any], stage: str, region: str | None, include_local_only: bool = True
    ):
        self.document = document
        self.stage = stage
        self.region = region
        self.include_local_only = include_local_only

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict):
            return {key: self.resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self.resolve(value) for value in node]
        if isinstance(node, str):
            return self._resolve_string(node)
        return node

    def _resolve_string(self, text: str) -> Any:
        start = 0
        for _ in range(100):  # nested variables resolve from the inside out
            match = _VARIABLE.search(text, start)
            if match is None:
                return text
            value = self._variable(match.group(1))
            if value is _UNRESOLVED:
                # Kept as text (CloudFormation's own ${AWS::Region} in a !Sub, say);
                # the variables after it are still resolved.
                start = match.end()
                continue
            if match.group(0) == text and not isinstance(value, str):
                return value
            text = text[: match.start()] + str(value) + text[match.end() :]
            # From the variable around this one, if any: ${self:a.${param:b}.c} resolves outward.
            enclosing = text.rfind("${", 0, match.start())
            start = enclosing if enclosing != -1 else match.start()
        raise ValueError(f"variables nest too deep in {text!r}")

    def _variable(self, expression: str) -> Any:
        for source in (part.strip() for part in expression.split(",")):
            value = self._source(source)
            if value is not _UNRESOLVED:
                return value
        return _UNRESOLVED

    def _source(self, source: str) -> Any:
        if source.startswith(f"file({TASK_TYPES_SCRIPT}):"):
            from app.task_type_stack import part

            # The local runtime runs the local-only task types too; packaging never does.
            return self.resolve(part(source.rsplit(":", 1)[1], include_local_only=self.include_local_only))
        if len(source) >= 2 and source[0] == source[-1] and source[0] in "'\"":
            return source[1:-1]
        if source.isdigit():
            return int(source)
        if source in ("sls:stage", "opt:stage", "self:provider.stage"):
            return self.stage
        if source in ("opt:region", "aws:region", "self:provider.region"):
            return self.region if self.region else _UNRESOLVED
        if source.startswith("param:"):
            # The framework's params: this stage's value, else the default one.
            params = self.document.get("params") or {}
            for scope in (self.stage, "default"):
                values = params.get(scope) or {}
                if source.removeprefix("param:") in values:
                    return self.resolve(values[source.removeprefix("param:")])
            return _UNRESOLVED
        if source.startswith("self:"):
            node: Any = self.document
            for part in source.removeprefix("self:").split("."):
                if not isinstance(node, dict) or part not in node:
                    return _UNRESOLVED
                node = node[part]
            return self.resolve(node)
        return _UNRESOLVED


# --- The topology ---------------------------------------------------------------


def referenced_logical_id(node: Any) -> str:
    """The logical id named by !Ref X or !GetAtt X.Attr."""
    if isinstance(node, dict):
        if "Ref" in node:
            return node["Ref"]
        if "Fn::GetAtt" in node:
            return node["Fn::GetAtt"][0]
    raise ValueError(f"expected !Ref or !GetAtt, got {node!r}")


def merged(value: Any) -> Any:
    """A list of mappings merged into one, deeply, later ones winning (the framework's mergeArrays)."""
    if not isinstance(value, list):
        return value
    merged: dict[str, Any] = {}
    for item in value:
        merged = _merge(merged, item or {})
    return merged


def _merge(into: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    result = dict(into)
    for key, value in other.items():
        if isinstance(result.get(key), dict) and isinstance(value, dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
    return result


def _read(path: Path, stage: str, include_local_only: bool = True) -> dict[str, Any]:
    # A SafeLoader subclass: only the CloudFormation tags are added.
    document = yaml.load(path.read_text(), Loader=CloudFormationLoader)
    region = _Resolver(document, stage, None).resolve(document["provider"].get("region", "us-east-1"))
    resolved = _Resolver(document, stage, region, include_local_only).resolve(document)
    for key in ("functions", "resources"):
        resolved[key] = merged(resolved.get(key))
    return resolved


_PSEUDO_PARAMETER = re.compile(r"\$\{AWS::(\w+)\}")


def substitute_pseudo_parameters(text: str, region: str) -> str:
    """A !Sub of AWS's pseudo parameters only, with the local account's values."""
    values = {
        "Region": region,
        "AccountId": LOCAL_ACCOUNT_ID,
        "Partition": "aws",
        "URLSuffix": "amazonaws.com",
    }

    def value(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise ValueError(f"the local runtime can't resolve ${{AWS::{match.group(1)}}} in {text!r}")
        return values[match.group(1)]

    return _PSEUDO_PARAMETER.sub(value, text)


def read(
    path: str | Path = DEFAULT_PATH, stage: str = LOCAL_STAGE, include_local_only: bool = True
) -> dict[str, Any]:
    """serverless.yml as a whole, its variables resolved for ``stage``; CloudFormation's tags kept."""
    return _read(Path(path), stage, include_local_only)


def _resources_of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in resources.items()
        if resource.get("Type") == kind
    }


def _table(resources: dict[str, Any]) -> TableSpec:
    tables = _resources_of_type(resources, "AWS::DynamoDB::Table")
    if len(tables) != 1:
        raise ValueError(f"expected one DynamoDB table in serverless.yml, found {sorted(tables)}")
    logical_id, props = next(iter(tables.items()))
    ttl = props.get("TimeToLiveSpecification") or {}
    return TableSpec(
        logical_id=logical_id,
        name=props["TableName"],
        attribute_definitions=props["AttributeDefinitions"],
        key_schema=props["KeySchema"],
        global_secondary_indexes=props.get("GlobalSecondaryIndexes", []),
        stream_view_type=props["StreamSpecification"]["StreamViewType"],
        ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") else None,
    )


def _json_property(props: dict[str, Any], name: str) -> Any:
    """A property CloudFormation accepts as an object or as its JSON text."""
    value = props.get(name)
    return json.loads(value) if isinstance(value, str) else value


def _queue(logical_id: str, props: dict[str, Any]) -> QueueSpec:
    redrive = _json_property(props, "RedrivePolicy")
    return QueueSpec(
        logical_id=logical_id,
        name=props["QueueName"],
        visibility_timeout=int(props.get("VisibilityTimeout", 30)),
        message_retention_period=props.get("MessageRetentionPeriod"),
        dead_letter_logical_id=referenced_logical_id(redrive["deadLetterTargetArn"]) if redrive else None,
        max_receive_count=int(redrive["maxReceiveCount"]) if redrive else None,
    )


def _subscription(logical_id: str, props: dict[str, Any]) -> SubscriptionSpec:
    policy = _json_property(props, "FilterPolicy")
    return SubscriptionSpec(
        logical_id=logical_id,
        topic_logical_id=referenced_logical_id(props["TopicArn"]),
        queue_logical_id=referenced_logical_id(props["Endpoint"]),
        filter_policy=policy,
        raw_message_delivery=str(props.get("RawMessageDelivery", False)).lower() == "true",
    )


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    """Seconds between runs of an EventBridge rate expression, e.g. "rate(5 minutes)"."""
    match = _RATE.match(expression.strip())
    if match is None:
        raise ValueError(f"the local runtime runs rate(...) schedules only, not {expression!r}")
    count, unit = int(match.group(1)), match.group(2)
    if count < 1 or (count == 1) != (not unit.endswith("s")):
        raise ValueError(f"not a valid rate expression: {expression!r}")
    return count * _UNIT_SECONDS[unit.rstrip("s")]


def _schedules(
    name: str, spec: dict[str, Any], timeout: int, event: Any, local_period: float | None
) -> list[ScheduledFunction]:
    schedule = event["schedule"]
    settings = schedule if isinstance(schedule, dict) else {"rate": schedule}
    if not settings.get("enabled", True):
        return []
    rates = settings["rate"] if isinstance(settings["rate"], list) else [settings["rate"]]
    return [
        ScheduledFunction(
            name, spec["handler"], timeout, rate_seconds(rate), f"{name}-schedule-{index + 1}", local_period
        )
        for index, rate in enumerate(rates)
    ]


def _functions(
    functions: dict[str, Any], default_timeout: int, local_periods: dict[str, Any] | None = None
) -> tuple[list[StreamFunction], list[SqsFunction], list[ScheduledFunction]]:
    streams: list[StreamFunction] = []
    queues: list[SqsFunction] = []
    scheduled: list[ScheduledFunction] = []
    for name, spec in functions.items():
        timeout = int(spec.get("timeout", default_timeout))
        for event in spec.get("events", []):
            if "schedule" in event:
                local_period = (local_periods or {}).get(name)
                scheduled.extend(
                    _schedules(name, spec, timeout, event, float(local_period) if local_period else None)
                )
            elif "stream" in event:
                stream = event["stream"]
                on_failure = (stream.get("destinations") or {}).get("onFailure")
                streams.append(
                    StreamFunction(
                        name=name,
                        handler=spec["handler"],
                        timeout=timeout,
                        table_logical_id=referenced_logical_id(stream["arn"]),
                        starting_position=stream.get("startingPosition", "TRIM_HORIZON"),
                        batch_size=int(stream.get("batchSize", STREAM_DEFAULT_BATCH_SIZE)),
                        # The framework calls it batchWindow on stream events.
                        batching_window=int(stream.get("batchWindow", 0)),
                        filter_patterns=stream.get("filterPatterns", []),
                        maximum_retry_attempts=int(stream.get("maximumRetryAttempts", -1)),
                        bisect_on_error=bool(stream.get("bisectBatchOnFunctionError", False)),
                        report_batch_item_failures=(
                            stream.get("functionResponseType") == "ReportBatchItemFailures"
                        ),
                        on_failure_queue_logical_id=(
                            referenced_logical_id(on_failure["arn"]) if on_failure else None
                        ),
                    )
                )
            elif "sqs" in event:
                sqs = event["sqs"]
                queues.append(
                    SqsFunction(
                        name=name,
                        handler=spec["handler"],
                        timeout=timeout,
                        queue_logical_id=referenced_logical_id(sqs["arn"]),
                        batch_size=int(sqs.get("batchSize", SQS_DEFAULT_BATCH_SIZE)),
                        batching_window=int(sqs.get("maximumBatchingWindow", 0)),
                        report_batch_item_failures=sqs.get("functionResponseType")
                        == "ReportBatchItemFailures",
                        maximum_concurrency=(
                            int(sqs["maximumConcurrency"]) if sqs.get("maximumConcurrency") else None
                        ),
                    )
                )
    return streams, queues, scheduled


def load(
    path: str | Path = DEFAULT_PATH, stage: str = LOCAL_STAGE, include_local_only: bool = True
) -> Topology:
    """What the local runtime runs; without the local-only task types, what a package deploys."""
    document = _read(Path(path), stage, include_local_only)
    provider = document["provider"]
    resources = document["resources"]["Resources"]
    functions = document.get("functions", {})
    streams, queues, scheduled = _functions(
        functions,
        int(provider.get("timeout", DEFAULT_FUNCTION_TIMEOUT)),
        (document.get("custom") or {}).get("localSchedules"),
    )
    # The pipeline's topics and queue subscriptions. Others (the alarms' topic
    # and its email subscription) only AWS uses; nothing local needs them.
    subscriptions = [
        _subscription(logical_id, props)
        for logical_id, props in _resources_of_type(resources, "AWS::SNS::Subscription").items()
        if props.get("Protocol") == "sqs"
    ]
    delivering = {subscription.topic_logical_id for subscription in subscriptions}
    return Topology(
        service=document["service"],
        stage=stage,
        region=provider.get("region", "us-east-1"),
        table=_table(resources),
        topics={
            logical_id: TopicSpec(logical_id, props["TopicName"])
            for logical_id, props in _resources_of_type(resources, "AWS::SNS::Topic").items()
            if logical_id in delivering
        },
        queues={
            logical_id: _queue(logical_id, props)
            for logical_id, props in _resources_of_type(resources, "AWS::SQS::Queue").items()
        },
        subscriptions=subscriptions,
        stream_functions=streams,
        sqs_functions=queues,
        scheduled_functions=scheduled,
        function_environment={
            name: {**provider.get("environment", {}), **spec.get("environment", {})}
            for name, spec in functions.items()
        },
    )
