"""serverless.yml's part for each task type, made from the declarations in ``workers/tasks/``.

serverless.yml takes each part with ``${file(./scripts/task-types.js):PART}``
(that script runs ``python -m app.task_type_stack``); the local runtime's
reader of serverless.yml (app/local/sls_config.py) calls ``part()`` itself,
so `make run` and AWS get the same functions, queues and subscriptions by
construction. The parts hold serverless variables (``${self:service}``,
``${param:...}``) and CloudFormation's long-form intrinsics, resolved later
as the rest of serverless.yml is.

Per type: its worker function (timeout, batch size and concurrency from its
declaration), queue, dead-letter queue, queue policy, filtered subscription,
role, and alarms; beside them, the deadLetters function's events and the
lists of queue ARNs that other roles name.

    python -m app.task_type_stack              every part, as JSON (local-only types left out)
    python -m app.task_type_stack --local      the same with local-only types (what make run runs)
    python -m app.task_type_stack --folder F   the types declared in F instead of workers/tasks/
    python -m app.task_type_stack --capacity   each type's concurrency and the throughput it buys
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from app.domain.task_types import TaskType, TaskTypeRefused
from app.task_registry import TASKS_FOLDER, Declared, read_folder

PARTS = (
    "functions",
    "resources",
    "deadLetterEvents",
    "deadLetterQueueArns",
    "taskQueueArns",
    "deadLettersReservedConcurrency",
    "summary",
)
# The deadLetters function's mapping of each DLQ runs at Lambda's least maximum concurrency.
DEAD_LETTER_MAPPING_CONCURRENCY = 2
DEFAULT_CONCURRENCY = "${param:workerReservedConcurrency}"
NAME_PREFIX = "${self:service}-${sls:stage}-"
# Four days: a message moved to a DLQ keeps its first enqueue time, so the DLQ's
# retention (14 days) must be the longer one.
QUEUE_RETENTION_SECONDS = 345600
DEAD_LETTER_RETENTION_SECONDS = 1209600
# Six times the deadLetters function's timeout (provider.timeout, 10 s).
DEAD_LETTER_VISIBILITY_SECONDS = 60


def _get_att(logical_id: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def _ref(logical_id: str) -> dict[str, Any]:
    return {"Ref": logical_id}


def queue_id(task_type: TaskType) -> str:
    return f"{task_type.logical_prefix}Queue"


def dead_letter_queue_id(task_type: TaskType) -> str:
    return f"{task_type.logical_prefix}DeadLetterQueue"


def concurrency(task_type: TaskType) -> int | str:
    settled = task_type.settled_concurrency
    return settled if settled is not None else DEFAULT_CONCURRENCY


def function(task_type: TaskType, module: str) -> dict[str, Any]:
    return {
        "handler": f"{module}.handler",
        "package": "${self:custom.packages.pipeline}",
        "role": f"{task_type.logical_prefix}Role",
        "timeout": task_type.timeout_seconds,
        "reservedConcurrency": concurrency(task_type),
        "events": [
            {
                "sqs": {
                    "arn": _get_att(queue_id(task_type), "Arn"),
                    "batchSize": task_type.batch_size,
                    # Never more than the worker may run: a throttled receive
                    # would count towards maxReceiveCount and end in the DLQ.
                    "maximumConcurrency": concurrency(task_type),
                    "maximumBatchingWindow": 0,
                    "functionResponseType": "ReportBatchItemFailures",
                }
            }
        ],
    }


def queues(task_type: TaskType) -> dict[str, Any]:
    queue, dlq = queue_id(task_type), dead_letter_queue_id(task_type)
    return {
        queue: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": NAME_PREFIX + task_type.queue_suffix,
                "VisibilityTimeout": task_type.visibility_timeout_seconds,
                "MessageRetentionPeriod": QUEUE_RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": _get_att(dlq, "Arn"),
                    "maxReceiveCount": task_type.max_receive_count,
                },
            },
        },
        dlq: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": NAME_PREFIX + task_type.dead_letter_queue_suffix,
                "MessageRetentionPeriod": DEAD_LETTER_RETENTION_SECONDS,
                "VisibilityTimeout": DEAD_LETTER_VISIBILITY_SECONDS,
                "SqsManagedSseEnabled": True,
            },
        },
        f"{task_type.logical_prefix}QueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [_ref(queue)],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": _get_att(queue, "Arn"),
                            "Condition": {"ArnEquals": {"aws:SourceArn": _ref("TasksTopic")}},
                        }
                    ],
                },
            },
        },
        f"{task_type.logical_prefix}Subscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": _ref("TasksTopic"),
                "Protocol": "sqs",
                "Endpoint": _get_att(queue, "Arn"),
                "RawMessageDelivery": True,
                "FilterPolicy": {"task_type": [task_type.name]},
            },
        },
    }


# The New Relic extension reads the license key the plugin keeps in Secrets Manager.
NEW_RELIC_LICENSE_KEY = {
    "Fn::If": [
        "NewRelicEnabled",
        {
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": {
                "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
                ":secret:NEW_RELIC_LICENSE_KEY-??????"
            },
        },
        {"Ref": "AWS::NoValue"},
    ]
}


def role(task_type: TaskType) -> dict[str, Any]:
    """The worker's own role: its log group, X-Ray, its queue, and conditional writes of tasks."""
    prefix = task_type.logical_prefix
    return {
        f"{prefix}Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": task_type.function_name,
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                    "Resource": _get_att(f"{prefix}LogGroup", "Arn"),
                                },
                                {
                                    "Effect": "Allow",
                                    "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                                    "Resource": "*",
                                },
                                # What Lambda's SQS event source does with the function's role.
                                {
                                    "Effect": "Allow",
                                    "Action": [
                                        "sqs:ReceiveMessage",
                                        "sqs:DeleteMessage",
                                        "sqs:GetQueueAttributes",
                                        # A crashed or busy task's message brought back when it
                                        # is worth delivering again (its backoff, its lease's end).
                                        "sqs:ChangeMessageVisibility",
                                    ],
                                    "Resource": _get_att(queue_id(task_type), "Arn"),
                                },
                                # Conditional writes of the task's state (a refused claim reads
                                # the task from the refusal, ALL_OLD), and its timeline events.
                                {
                                    "Effect": "Allow",
                                    "Action": ["dynamodb:UpdateItem"],
                                    "Resource": _get_att("TasksTable", "Arn"),
                                },
                                {
                                    "Effect": "Allow",
                                    "Action": "dynamodb:BatchWriteItem",
                                    "Resource": _get_att("TasksTable", "Arn"),
                                },
                                NEW_RELIC_LICENSE_KEY,
                            ],
                        },
                    }
                ],
            },
        }
    }


def _alarm(name_suffix: str, description: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmActions": [_ref("AlarmTopic")],
            "OKActions": [_ref("AlarmTopic")],
            # An idle queue or function sends no data: that is no alarm.
            "TreatMissingData": "notBreaching",
            "AlarmName": NAME_PREFIX + name_suffix,
            "AlarmDescription": description,
            **properties,
        },
    }


def _oldest_message_age(queue: str, threshold: str) -> dict[str, Any]:
    return {
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateAgeOfOldestMessage",
        "Dimensions": [{"Name": "QueueName", "Value": _get_att(queue, "QueueName")}],
        "Statistic": "Maximum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold",
    }


def _queue_metric(metric_id: str, queue: str, metric: str) -> dict[str, Any]:
    return {
        "Id": metric_id,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/SQS",
                "MetricName": metric,
                "Dimensions": [{"Name": "QueueName", "Value": _get_att(queue, "QueueName")}],
            },
            "Period": 300,
            "Stat": "Maximum",
        },
    }


def _function_metric(task_type: TaskType, metric: str, threshold: Any, comparison: str) -> dict[str, Any]:
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": metric,
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": threshold,
        "ComparisonOperator": comparison,
        "Dimensions": [{"Name": "FunctionName", "Value": _ref(f"{task_type.logical_prefix}LambdaFunction")}],
    }


def alarms(task_type: TaskType) -> dict[str, Any]:
    """Its queue's age, its DLQ's age and depth, its worker's errors and throttles."""
    prefix, name, suffix = task_type.logical_prefix, task_type.name, task_type.queue_suffix
    queue, dlq = queue_id(task_type), dead_letter_queue_id(task_type)
    return {
        f"{prefix}QueueAgeAlarm": _alarm(
            f"{suffix}-oldest-message-age",
            f"{name} tasks wait too long for a worker: "
            f"{task_type.function_name} is failing, throttled or too slow.",
            **_oldest_message_age(queue, "${param:queueAgeAlarmSeconds}"),
        ),
        f"{prefix}DeadLetterQueueAgeAlarm": _alarm(
            f"{suffix}-dlq-oldest-message-age",
            f"{name} dead letters are not handled: deadLetters is failing or throttled.",
            **_oldest_message_age(dlq, "${param:deadLetterAgeAlarmSeconds}"),
        ),
        # deadLetters drains a DLQ within seconds: messages there (waiting or in
        # flight) for three 5-minute periods running mean it is not being drained.
        f"{prefix}DeadLetterQueueDepthAlarm": _alarm(
            f"{suffix}-dlq-depth",
            f"{name} dead letters stay in their DLQ for 15 minutes: deadLetters is not draining it "
            "(its errors alarm and log say why), so these tasks are not ended.",
            EvaluationPeriods=3,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
            Metrics=[
                {
                    "Id": "depth",
                    "Expression": "visible + hidden",
                    "Label": "messages in the DLQ",
                    "ReturnData": True,
                },
                _queue_metric("visible", dlq, "ApproximateNumberOfMessagesVisible"),
                _queue_metric("hidden", dlq, "ApproximateNumberOfMessagesNotVisible"),
            ],
        ),
        f"{prefix}ErrorsAlarm": _alarm(
            f"{suffix}-errors",
            f"The {name} worker fails (uncaught errors, timeouts); see its log group.",
            **_function_metric(
                task_type, "Errors", "${param:functionErrorsAlarmCount}", "GreaterThanOrEqualToThreshold"
            ),
        ),
        f"{prefix}ThrottlesAlarm": _alarm(
            f"{suffix}-throttles",
            f"The {name} worker hits its reserved concurrency; raise it (params) or find what floods it.",
            **_function_metric(task_type, "Throttles", 0, "GreaterThanThreshold"),
        ),
    }


def dead_letter_event(task_type: TaskType) -> dict[str, Any]:
    return {
        "sqs": {
            "arn": _get_att(dead_letter_queue_id(task_type), "Arn"),
            "batchSize": 10,
            "maximumConcurrency": DEAD_LETTER_MAPPING_CONCURRENCY,
            "functionResponseType": "ReportBatchItemFailures",
        }
    }


def summary(declared: Declared) -> dict[str, Any]:
    """What each type's declaration gives, for people (docs, the deploy check)."""
    return {
        name: {
            "function": t.function_name,
            "module": declared.module_of(name),
            "longest_run_seconds": t.longest_run_seconds,
            "batch_size": t.batch_size,
            "timeout_seconds": t.timeout_seconds,
            "visibility_timeout_seconds": t.visibility_timeout_seconds,
            "max_receive_count": t.max_receive_count,
            "concurrency": concurrency(t),
        }
        for name, t in declared.items()
    }


def parts(declared: Declared) -> dict[str, Any]:
    """Every part serverless.yml takes, for these task types."""
    resources: dict[str, Any] = {}
    for task_type in declared.values():
        resources.update(queues(task_type))
        resources.update(role(task_type))
        resources.update(alarms(task_type))
    return {
        "functions": {t.function_name: function(t, declared.module_of(t.name)) for t in declared.values()},
        "resources": {"Resources": resources},
        "deadLetterEvents": [dead_letter_event(t) for t in declared.values()],
        "deadLetterQueueArns": [_get_att(dead_letter_queue_id(t), "Arn") for t in declared.values()],
        "taskQueueArns": [_get_att(queue_id(t), "Arn") for t in declared.values()],
        "deadLettersReservedConcurrency": DEAD_LETTER_MAPPING_CONCURRENCY * len(declared),
        "summary": summary(declared),
    }


def part(name: str, *, include_local_only: bool) -> Any:
    """One part (``functions``, ``resources``, ...) for the task types declared in workers/tasks/."""
    if name not in PARTS:
        raise KeyError(f"no part {name!r}; the parts are {', '.join(PARTS)}")
    return parts(read_folder(include_local_only=include_local_only))[name]


def capacity_table(declared: dict[str, TaskType]) -> str:
    """Each type's concurrency and the throughput it buys, as docs/task-types.md shows it."""
    rows = ["| Type | Concurrency | Run taken | Throughput |", "| --- | --- | --- | --- |"]
    for name, t in declared.items():
        run = f"{t.run_seconds:g} s ({'mean' if t.mean_run_seconds else 'longest'})"
        settled = t.settled_concurrency
        if settled is None:
            given, bought = "`workerReservedConcurrency` (the stage's param)", f"param ÷ {t.run_seconds:g} s"
        else:
            source = "declared" if t.concurrency is not None else f"for {t.target_tasks_per_second:g} tasks/s"
            given, bought = f"{settled} ({source})", f"{t.tasks_per_second(settled):.3g} tasks/s"
        rows.append(f"| `{name}` | {given} | {run} | {bought} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    folder = Path(argv[argv.index("--folder") + 1]) if "--folder" in argv else TASKS_FOLDER
    try:
        declared = read_folder(folder, include_local_only="--local" in argv)
    except TaskTypeRefused as refused:
        print(f"task type refused: {refused}", file=sys.stderr)
        return 2
    if "--capacity" in argv:
        sys.stdout.write(capacity_table(declared))
    else:
        json.dump(parts(declared), sys.stdout, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
