"""Every queue and every pipeline function has its alarms, at the documented thresholds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.limits import params
from tests.deploy.packaged import dead_letter_queues, function_logical_id, mappings_of, of_type, referenced

pytestmark = pytest.mark.deploy

ALARM_TOPIC = {"Ref": "AlarmTopic"}
WEBHOOK_QUEUE = "WebhookQueue"


def alarms(resources) -> dict[str, dict[str, Any]]:
    return {
        logical_id: r["Properties"] for logical_id, r in of_type(resources, "AWS::CloudWatch::Alarm").items()
    }


def metric_stats(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its own, or those of its metric math."""
    if "MetricName" in alarm:
        return [
            {
                "Namespace": alarm["Namespace"],
                "MetricName": alarm["MetricName"],
                "Dimensions": alarm["Dimensions"],
            }
        ]
    return [query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query]


def watching(resources, namespace: str, metric: str, dimension: str) -> dict[str, list[dict[str, Any]]]:
    """Logical id of what is watched -> the alarms on ``metric`` of it."""
    found: dict[str, list[dict[str, Any]]] = {}
    for alarm in alarms(resources).values():
        for stat in metric_stats(alarm):
            if (stat["Namespace"], stat["MetricName"]) == (namespace, metric):
                (watched,) = [d["Value"] for d in stat["Dimensions"] if d["Name"] == dimension]
                found.setdefault(referenced(watched), []).append(alarm)
    return found


def queue_kinds(resources, declared) -> tuple[set[str], set[str], set[str]]:
    """Task queues (with a DLQ), DLQs, and the stream's on-failure queues."""
    queues = of_type(resources, "AWS::SQS::Queue")
    dlqs = dead_letter_queues(resources)
    on_failure = {
        referenced(m["Properties"]["DestinationConfig"]["OnFailure"]["Destination"])
        for m in of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if "DestinationConfig" in m["Properties"]
    }
    assert on_failure == {"PublisherFailureQueue"}
    # The webhook queue waits on purpose (a webhook's backoff): its own threshold, tested apart.
    return set(queues) - dlqs - on_failure - {WEBHOOK_QUEUE}, dlqs, on_failure


def pipeline_functions(declared) -> list[str]:
    """Functions fed by a stream, a queue or a schedule: all but the ones API Gateway invokes."""
    return [
        name
        for name, spec in declared["functions"].items()
        if not any(kind in event for event in spec.get("events") or [] for kind in ("http", "httpApi"))
    ]


def test_every_queue_has_an_age_alarm_at_its_documented_threshold(resources, declared):
    task_queues, dlqs, on_failure = queue_kinds(resources, declared)
    ages = watching(resources, "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName")
    limits = params(declared)
    assert set(ages) == task_queues | dlqs | on_failure | {WEBHOOK_QUEUE}, (
        "one age alarm per queue, on its name"
    )
    for queue, (alarm,) in ages.items():
        expected = (
            limits["queueAgeAlarmSeconds"] if queue in task_queues else limits["deadLetterAgeAlarmSeconds"]
        )
        if queue == WEBHOOK_QUEUE:
            expected = limits["webhookQueueAgeAlarmSeconds"]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (expected, "GreaterThanThreshold"), queue
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Maximum", 300, 1), queue
    # A message delivered again and again legitimately waits out a visibility
    # timeout before each delivery after the first; it arrives in the DLQ that old.
    for queue in task_queues:
        properties = resources[queue]["Properties"]
        visibility = properties["VisibilityTimeout"]
        redelivered = (int(properties["RedrivePolicy"]["maxReceiveCount"]) - 1) * visibility
        assert limits["queueAgeAlarmSeconds"] > redelivered, queue
        assert limits["deadLetterAgeAlarmSeconds"] > redelivered + visibility, queue


def test_the_webhook_queue_alarms_only_past_a_webhooks_whole_backoff(resources, declared):
    from app.domain.webhooks import RETRY_DELAYS_SECONDS

    properties = resources[WEBHOOK_QUEUE]["Properties"]
    longest = sum(RETRY_DELAYS_SECONDS) + properties["VisibilityTimeout"]
    assert params(declared)["webhookQueueAgeAlarmSeconds"] > longest


def test_every_dlq_and_the_failure_queue_have_a_depth_alarm(resources, declared):
    _, dlqs, on_failure = queue_kinds(resources, declared)
    visible = watching(resources, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
    hidden = watching(resources, "AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName")
    assert set(visible) == dlqs | on_failure, "one depth alarm per DLQ and on-failure queue"
    for dlq in dlqs:
        (alarm,) = visible[dlq]
        assert hidden[dlq] == [alarm], f"{dlq}: waiting and in-flight messages together"
        (depth,) = [query for query in alarm["Metrics"] if query.get("ReturnData")]
        assert depth["Expression"] == "visible + hidden"
        assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["EvaluationPeriods"]) == (
            0, "GreaterThanThreshold", 3,
        )  # fmt: skip
        assert {q["MetricStat"]["Period"] for q in alarm["Metrics"] if "MetricStat" in q} == {300}
    for queue in on_failure:
        (alarm,) = visible[queue]
        assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["EvaluationPeriods"]) == (
            0, "GreaterThanThreshold", 1,
        )  # fmt: skip


def test_every_pipeline_function_has_errors_and_throttles_alarms(resources, declared):
    errors = watching(resources, "AWS/Lambda", "Errors", "FunctionName")
    throttles = watching(resources, "AWS/Lambda", "Throttles", "FunctionName")
    functions = {function_logical_id(name) for name in pipeline_functions(declared)}
    assert "ApiLambdaFunction" not in functions
    # The api's throttles are API Gateway's 503s, in the API's 5XX-rate alarm.
    assert set(throttles) == functions, "a Throttles alarm per pipeline function"
    assert set(errors) == functions | {"ApiLambdaFunction"}, "an Errors alarm per function"
    functions.add("ApiLambdaFunction")
    for function in functions:
        (error_alarm,), throttle_alarms = errors[function], throttles.get(function, [])
        assert (error_alarm["Threshold"], error_alarm["ComparisonOperator"]) == (
            params(declared)["functionErrorsAlarmCount"], "GreaterThanOrEqualToThreshold",
        )  # fmt: skip
        for throttle_alarm in throttle_alarms:
            assert (throttle_alarm["Threshold"], throttle_alarm["ComparisonOperator"]) == (
                0,
                "GreaterThanThreshold",
            )
        for alarm in (error_alarm, *throttle_alarms):
            assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1)


def test_every_alarm_notifies_the_alarm_topic_firing_and_clearing(resources):
    for logical_id, alarm in alarms(resources).items():
        assert alarm["AlarmActions"] == [ALARM_TOPIC] and alarm["OKActions"] == [ALARM_TOPIC], logical_id
        assert alarm["TreatMissingData"] == "notBreaching", logical_id
        assert alarm["AlarmName"].startswith("async-app-ci-"), logical_id
        assert alarm["AlarmDescription"], logical_id
    names = [alarm["AlarmName"] for alarm in alarms(resources).values()]
    assert len(names) == len(set(names))


def test_the_email_subscription_exists_only_with_an_address(template, resources, declared):
    assert template["Parameters"]["AlarmEmail"]["Default"] == params(declared)["alarmEmail"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    (subscription,) = [
        r
        for r in of_type(resources, "AWS::SNS::Subscription").values()
        if r["Properties"]["Protocol"] == "email"
    ]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": ALARM_TOPIC,
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }


def stream_readers(resources, declared) -> set[str]:
    """Logical ids of the functions a DynamoDB stream invokes."""
    return {
        function_logical_id(name)
        for name in declared["functions"]
        for mapping in mappings_of(resources, name)
        if "StreamArn" in str(mapping["EventSourceArn"])
    }


def test_every_stream_reader_has_an_iterator_age_alarm(resources, declared):
    ages = watching(resources, "AWS/Lambda", "IteratorAge", "FunctionName")
    readers = stream_readers(resources, declared)
    assert readers >= {"PublisherLambdaFunction", "ChangesLambdaFunction"}
    assert set(ages) == readers, "an IteratorAge alarm per stream reader"
    for function, (alarm,) in ages.items():
        assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            "Maximum", params(declared)["streamIteratorAgeAlarmMs"], "GreaterThanThreshold",
        ), function  # fmt: skip


def _api_alarm(resources, metric: str) -> dict[str, Any]:
    (api,) = of_type(resources, "AWS::ApiGateway::RestApi").values()
    (stage,) = of_type(resources, "AWS::ApiGateway::Stage").values()
    found = []
    for alarm in alarms(resources).values():
        for stat in metric_stats(alarm):
            if (stat["Namespace"], stat["MetricName"]) == ("AWS/ApiGateway", metric):
                dimensions = {d["Name"]: d["Value"] for d in stat["Dimensions"]}
                assert dimensions == {
                    "ApiName": api["Properties"]["Name"],
                    "Stage": stage["Properties"]["StageName"],
                }
                found.append(alarm)
    (alarm,) = found
    return alarm


def test_the_api_alarms_on_its_5xx_rate_and_p99_latency(resources, declared):
    rate = _api_alarm(resources, "5XXError")
    (percent,) = [query for query in rate["Metrics"] if query.get("ReturnData")]
    (share,) = [query for query in rate["Metrics"] if "MetricStat" in query]
    assert share["MetricStat"]["Stat"] == "Average" and percent["Expression"] == f"{share['Id']} * 100"
    assert (rate["Threshold"], rate["ComparisonOperator"]) == (
        params(declared)["api5xxRateAlarmPercent"], "GreaterThanThreshold",
    )  # fmt: skip
    latency = _api_alarm(resources, "Latency")
    assert (latency["ExtendedStatistic"], latency["Threshold"]) == (
        "p99",
        params(declared)["apiLatencyP99AlarmMs"],
    )
