"""The write model, from real runs: tasks of each type through the pipeline, every write read off the stream.

At 10,000 tasks/s with the shards configured for that rate, no partition key
may pass 1,000 write units a second, and no task may cost more than 25 (20 before the
search index: its words cost TASK1 2 and TASK2 6).
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from app.adapters.aggregates import TaskAggregates
from app.adapters.sharding import PARTITION_WRITE_UNITS_PER_SECOND, ShardCounts
from app.services import tasks
from app.task_registry import read_folder
from tests.conftest import ROOT, wait_until

# The model is a tool (scripts/), not part of the service: loaded from its file.
_spec = importlib.util.spec_from_file_location("write_model", ROOT / "scripts" / "write_model.py")
assert _spec and _spec.loader
write_model = importlib.util.module_from_spec(_spec)
sys.modules["write_model"] = write_model  # dataclasses look their module up while it runs
_spec.loader.exec_module(write_model)
hottest_keys, indexes_of, measure = write_model.hottest_keys, write_model.indexes_of, write_model.measure
stream_batches_per_second, table_rows = write_model.stream_batches_per_second, write_model.table_rows

pytestmark = pytest.mark.integration
TASKS_PER_TYPE = 8
# Each deployed type, running its declared sample data (what it does as usual).
DATA = {name: task_type.sample_data for name, task_type in read_folder().items()}
WORKERS = {task_type.function_name for task_type in read_folder().values()}
TARGET = 10_000
WCU_PER_TASK_LIMIT = 25


@pytest.fixture(scope="module")
def measured(emulator_endpoint):
    from tests.integration.conftest import functions_running, provision_stage

    deployed = provision_stage(emulator_endpoint)
    stream_functions = {f.name for f in deployed.topology.stream_functions}
    counts = TaskAggregates(deployed.resources.table_name, deployed.clients["dynamodb"])
    # The publisher, the changes function and the workers, fed as Lambda feeds them.
    with functions_running(deployed, lambda name: name in stream_functions or name in WORKERS):
        for task_type, data in DATA.items():
            for _ in range(TASKS_PER_TYPE):
                tasks.create_task(deployed.store, task_type, data, None, max_data_bytes=65536,
                                  default_ttl_seconds=3600)  # fmt: skip
        finished = len(DATA) * TASKS_PER_TYPE
        wait_until(lambda: counts.counts()[0]["COMPLETED"] == finished, timeout=90, interval=0.5,
                   what="every task completed and counted")  # fmt: skip
    model = measure(deployed.stream_records(), indexes_of(deployed.topology.table.global_secondary_indexes))
    return model, deployed


def test_every_task_of_every_type_costs_at_most_25_write_units(measured):
    model, deployed = measured
    assert set(model.tasks) == set(DATA) and all(count == TASKS_PER_TYPE for count in model.tasks.values())
    window = changes_window(deployed)
    batches = stream_batches_per_second(model, TARGET, window)
    for task_type in DATA:
        assert model.units_per_task(task_type, batches, TARGET) <= WCU_PER_TASK_LIMIT, "\n".join(
            table_rows(model, TARGET, ShardCounts.for_rate(TARGET), window)
        )


def changes_window(deployed) -> float:
    changes = next(f for f in deployed.topology.stream_functions if f.name == "changes")
    return max(1, changes.batching_window)


def test_no_partition_key_passes_1000_write_units_a_second_at_10000_tasks_a_second(measured):
    model, deployed = measured
    window = changes_window(deployed)
    rates = hottest_keys(model, TARGET, ShardCounts.for_rate(TARGET), window)
    assert rates, "the model measured no key"
    assert rates[0].units_per_second <= PARTITION_WRITE_UNITS_PER_SECOND, "\n".join(
        table_rows(model, TARGET, ShardCounts.for_rate(TARGET), window)
    )


def test_progress_lease_and_message_updates_never_rewrite_an_index_entry(measured):
    model, _ = measured
    # A task's status moves it in two indexes: in at creation, out and in at each of its two moves.
    for index in ("by_status", "by_type_status"):
        for task_type in DATA:
            assert model.index_units_per_task(index, task_type) == 5
    for index in ("by_created", "by_type", "by_id_prefix"):
        for task_type in DATA:
            assert model.index_units_per_task(index, task_type) == 1


def test_the_model_table_names_each_type_index_and_the_ceiling(measured, capsys):
    """The table `make bench` prints (run with -s to see it)."""
    model, deployed = measured
    lines = table_rows(model, TARGET, ShardCounts.for_rate(TARGET), changes_window(deployed))
    with capsys.disabled():
        print("\nwrite model, from the stream of", sum(model.tasks.values()), "tasks:")
        print("\n".join(lines))
    text = "\n".join(lines)
    assert all(task_type in text for task_type in DATA)
    assert all(name in text for name in model.index_units)
    assert "largest sustainable rate" in text


def test_search_words_are_written_once_each_and_progress_messages_not_at_all(measured):
    model, _ = measured
    # TASK1's sample: "done in 1 s" ("done", "in"); its "1 of 1 s" progress and "attempt 1 started"
    # stand for no index entry. TASK2's: "the quick brown fox", then "counted 4 words".
    assert model.index_units_per_task("search", "TASK1") == 2
    assert model.index_units_per_task("search", "TASK2") == 6
