"""serverless.yml, the task-type registry and the local runtime agree."""

import importlib
from pathlib import Path

import pytest

from app import task_registry
from app.domain.task_types import START_MARGIN_SECONDS
from app.local import sls_config

SERVERLESS_YML = Path(sls_config.DEFAULT_PATH)


@pytest.fixture(scope="module")
def topology() -> sls_config.Topology:
    return sls_config.load()


def test_every_task_type_has_a_worker_queue_dlq_and_subscription(topology):
    workers = {function.name: function for function in topology.sqs_functions}
    subscriptions = {s.queue_logical_id: s for s in topology.subscriptions}
    declared = task_registry.task_types()
    for task_type in declared.values():
        worker = workers[task_type.function_name]
        assert worker.handler == f"{declared.module_of(task_type.name)}.handler"
        assert worker.report_batch_item_failures
        queue = topology.queues[worker.queue_logical_id]
        assert queue.dead_letter_logical_id in topology.queues
        # Room for a crash or two and busy deliveries before a task is given up on.
        assert queue.max_receive_count and queue.max_receive_count >= 5
        # AWS advises six times the function timeout for SQS event sources.
        assert queue.visibility_timeout >= 6 * worker.timeout
        subscription = subscriptions[worker.queue_logical_id]
        assert subscription.filter_policy == {"task_type": [task_type.name]}
        assert subscription.raw_message_delivery


def test_no_queue_or_worker_without_a_task_type(topology):
    worker_names = {f.name for f in topology.sqs_functions if f.handler.startswith("workers.tasks.")}
    assert worker_names == {task_type.function_name for task_type in task_registry.task_types().values()}
    assert {s.filter_policy["task_type"][0] for s in topology.subscriptions} == set(task_registry.names())


def test_every_task_dead_letter_queue_is_drained_by_the_dead_letter_handler(topology):
    drained = {f.queue_logical_id for f in topology.sqs_functions if f.name == "deadLetters"}
    workers = {f.queue_logical_id for f in topology.sqs_functions if f.handler.startswith("workers.tasks.")}
    dlqs = {topology.queues[queue].dead_letter_logical_id for queue in workers}
    assert drained == dlqs
    # The webhook DLQ is kept for an operator: nothing drains it.
    assert "WebhookDeadLetterQueue" not in {f.queue_logical_id for f in topology.sqs_functions}


def test_webhooks_are_tried_eight_times_with_their_backoff_within_the_queues_limits(topology):
    from app.domain import webhooks

    (deliverer,) = [f for f in topology.sqs_functions if f.name == "webhooks"]
    queue = topology.queues[deliverer.queue_logical_id]
    assert queue.max_receive_count == webhooks.MAX_ATTEMPTS
    assert queue.dead_letter_logical_id == "WebhookDeadLetterQueue"
    assert queue.visibility_timeout >= 6 * deliverer.timeout
    # Every wait fits SQS's 12 h visibility limit, and the message outlives the whole schedule.
    assert max(webhooks.RETRY_DELAYS_SECONDS) <= 12 * 3600
    assert queue.message_retention_period > sum(webhooks.RETRY_DELAYS_SECONDS) + queue.visibility_timeout
    assert len(webhooks.RETRY_DELAYS_SECONDS) == webhooks.MAX_ATTEMPTS - 1
    # Five receivers that take the whole webhook timeout still fit one invocation.
    from app.settings import Settings

    assert deliverer.timeout >= deliverer.batch_size * Settings().webhook_timeout_seconds


def test_the_scheduler_runs_every_minute_and_every_second_locally(topology):
    (scheduler,) = [f for f in topology.scheduled_functions if f.name == "scheduler"]
    assert scheduler.rate_seconds == 60 and scheduler.local_period_seconds == 1
    lookahead = int(topology.function_environment["scheduler"]["SCHEDULER_LOOKAHEAD_SECONDS"])
    # It waits for tasks due within the minute, and still ends before its timeout.
    assert lookahead == scheduler.rate_seconds < scheduler.timeout


def test_every_handler_imports(topology):
    for function in [*topology.stream_functions, *topology.sqs_functions]:
        module, _, name = function.handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name))


def test_publisher_reads_the_table_stream_with_failure_handling(topology):
    publisher = next(f for f in topology.stream_functions if f.name == "publisher")
    assert publisher.table_logical_id == topology.table.logical_id
    assert publisher.report_batch_item_failures and publisher.bisect_on_error
    assert publisher.maximum_retry_attempts >= 0
    assert publisher.on_failure_queue_logical_id in topology.queues
    assert topology.table.stream_view_type == "NEW_AND_OLD_IMAGES"
    assert topology.table.ttl_attribute == "ttl"


def test_environment_names_the_provisioned_resources(topology):
    env = topology.function_environment
    assert env["publisher"]["TABLE_NAME"] == topology.table.name
    assert env["publisher"]["TOPIC_ARN"] == {"Ref": next(iter(topology.topics))}
    for function in topology.sqs_functions:
        assert env[function.name]["TABLE_NAME"] == topology.table.name


def test_listing_indexes_match_the_store_and_project_keys_only():
    from app.adapters.task_listing import LISTING_INDEXES

    indexes = {index["IndexName"]: index for index in sls_config.load().table.global_secondary_indexes}
    for index in LISTING_INDEXES:
        assert indexes[index.name]["KeySchema"] == [
            {"AttributeName": index.partition_attr, "KeyType": "HASH"},
            {"AttributeName": "list_sk", "KeyType": "RANGE"},
        ]
    # No index carries a task's data or rewrites an entry for a progress or message update.
    assert {index["Projection"]["ProjectionType"] for index in indexes.values()} == {"KEYS_ONLY"}


def test_the_due_index_is_sparse_and_keys_only():
    from app.adapters.task_store import BY_DUE

    (index,) = [i for i in sls_config.load().table.global_secondary_indexes if i["IndexName"] == BY_DUE]
    assert index["KeySchema"] == [
        {"AttributeName": "due_pk", "KeyType": "HASH"},
        {"AttributeName": "due_sk", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_names_follow_the_stage():
    dev = sls_config.load(stage="dev")
    assert dev.table.name == "async-app-dev-tasks"
    for task_type in task_registry.task_types().values():
        queue = f"async-app-dev-{task_type.queue_suffix}"
        assert {q.name for q in dev.queues.values()} >= {queue, f"{queue}-dlq"}


def test_resolver_handles_fallbacks_and_unknown_sources(tmp_path):
    source = SERVERLESS_YML.read_text()
    source = source.replace(
        "custom:\n", "custom:\n  secret: ${ssm:/x/y}\n  fallback: ${env:NOPE, 'dflt'}\n", 1
    )
    copy = tmp_path / "serverless.yml"
    copy.write_text(source)
    document = sls_config._read(copy, "local")
    assert document["custom"]["secret"] == "${ssm:/x/y}"
    assert document["custom"]["fallback"] == "dflt"


def test_each_worker_timeout_fits_a_full_batch_of_its_longest_runs(topology):
    workers = {function.name: function for function in topology.sqs_functions}
    declared = task_registry.task_types()
    for task_type in declared.values():
        worker = workers[task_type.function_name]
        # The worker runs what its module declares, as the stack was made from.
        handler = importlib.import_module(declared.module_of(task_type.name)).handler
        assert handler.task_type == task_type
        needed = worker.batch_size * (task_type.longest_run_seconds + START_MARGIN_SECONDS)
        assert worker.timeout >= needed, f"{worker.name}: {worker.batch_size} runs need {needed} s"
