"""A task type's declaration, and the Lambda and SQS settings that follow from it.

A task type is declared once, in its own module under ``workers/tasks/``
(``TASK_TYPE = TaskType(...)``). Everything else per type is derived here,
with Lambda's and SQS's limits checked, so that a type that cannot run is
refused when the stack is packaged, with what to change:

- batch size: ``batch_size`` (default 1: no task waits behind another's run);
- function timeout: a full batch of longest runs, each with its start
  margin, plus the invocation's own overhead; at least 30 s, at most
  Lambda's 900 s;
- queue visibility timeout: six times the function timeout (AWS's advice for
  SQS event sources), within SQS's 12 hours;
- maxReceiveCount: ``max_attempts``, and never under 5 (busy and early
  deliveries count as receives too);
- concurrency: ``concurrency``; or, given ``target_tasks_per_second``, the
  runs that target needs (target times the mean run, the mean being
  ``mean_run_seconds`` or else the longest run); or else the stage's
  ``workerReservedConcurrency`` param. At least 2 (the SQS event source's
  least maximumConcurrency).
- throughput: concurrency divided by the mean run, in tasks a second. A worker runs a
  batch's records one after another, so the batch size does not multiply it.

Pure Python: the api, the workers, the local runtime and packaging all read it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from app.domain.search import searchable_problems

# Lambda and SQS limits the derived settings must respect.
LAMBDA_MAX_TIMEOUT_SECONDS = 900
SQS_MAX_VISIBILITY_SECONDS = 12 * 3600
SQS_MAX_BATCH_SIZE = 10
SQS_LEAST_MAXIMUM_CONCURRENCY = 2
LEAST_MAX_RECEIVE_COUNT = 5

# A record starts only when its longest run plus this is left of the invocation
# (workers/consumer.py), so each record of a batch needs its run plus this.
START_MARGIN_SECONDS = 2
# The invocation's own work around its records: the claim and final writes, the batch response.
INVOCATION_OVERHEAD_SECONDS = 5
# No worker times out sooner: room for the first call's AWS clients on a cold start.
LEAST_TIMEOUT_SECONDS = 30
VISIBILITY_TIMEOUT_FACTOR = 6
DEFAULT_MAX_ATTEMPTS = 5
# Lambda keeps 100 of an account's default 1,000 concurrent executions unreserved.
MOST_RESERVED_CONCURRENCY = 900

# A task type's dead-letter queue is named after its queue, with this after it.
DEAD_LETTER_SUFFIX = "-dlq"
# Upper case, as the API shows it: it becomes function, queue and resource names.
NAME_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
MAX_NAME_LENGTH = 30


class TaskTypeRefused(ValueError):
    """A declaration that can't be deployed; the message says what to change."""


@dataclass(frozen=True)
class TaskType:
    """What a task type declares about itself; see the module docstring for what follows from it."""

    name: str
    description: str
    # The longest one run of this type may take, in seconds (progress writes included).
    longest_run_seconds: float
    batch_size: int = 1
    # Concurrent runs of this type; None: derived from target_tasks_per_second, or else the
    # stage's workerReservedConcurrency param.
    concurrency: int | None = None
    # The throughput this type must keep up with, in tasks a second: its concurrency follows from it.
    target_tasks_per_second: float | None = None
    # A run's mean, in seconds, when known: the throughput figures use it (else the longest run).
    mean_run_seconds: float | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    # Data a run of this type accepts: the dashboard's create form and the tests use it.
    sample_data: dict[str, Any] = field(default_factory=dict)
    # Runs under the local runtime (make run, tests) only: never packaged, refused by a deployed api.
    local_only: bool = False
    # Fields of data (dotted paths) whose words find a task (app/domain/search.py); the status
    # message and the result are searchable for every type.
    searchable: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for problem in problems(self):
            raise TaskTypeRefused(f"{self.name or 'a task type'}: {problem}")

    # --- Names: one per kind of thing, all from the type's name -------------------

    @property
    def function_name(self) -> str:
        """serverless.yml's function key: TASK1 -> task1, PARTNER_CALL -> partnerCall."""
        first, *rest = self.name.lower().split("_")
        return first + "".join(part.capitalize() for part in rest)

    @property
    def logical_prefix(self) -> str:
        """The prefix of its CloudFormation logical ids: TASK1 -> Task1, PARTNER_CALL -> PartnerCall."""
        return "".join(part.capitalize() for part in self.name.lower().split("_"))

    @property
    def queue_suffix(self) -> str:
        """Its queue's name after ``<service>-<stage>-``: TASK1 -> task1, PARTNER_CALL -> partner-call."""
        return self.name.lower().replace("_", "-")

    @property
    def dead_letter_queue_suffix(self) -> str:
        """Its DLQ's name after ``<service>-<stage>-``: task1-dlq."""
        return self.queue_suffix + DEAD_LETTER_SUFFIX

    # --- Settings that follow from the declaration ---------------------------------

    @property
    def timeout_seconds(self) -> int:
        return max(LEAST_TIMEOUT_SECONDS, needed_timeout(self.longest_run_seconds, self.batch_size))

    @property
    def visibility_timeout_seconds(self) -> int:
        return VISIBILITY_TIMEOUT_FACTOR * self.timeout_seconds

    @property
    def max_receive_count(self) -> int:
        return max(LEAST_MAX_RECEIVE_COUNT, self.max_attempts)

    @property
    def run_seconds(self) -> float:
        """A run's mean when declared; otherwise its longest, so a throughput figure is a floor."""
        return self.mean_run_seconds or self.longest_run_seconds

    @property
    def settled_concurrency(self) -> int | None:
        """Its concurrency as declared or derived from its target; None: the stage's default."""
        if self.concurrency is not None:
            return self.concurrency
        if self.target_tasks_per_second is not None:
            return concurrency_for(self.target_tasks_per_second, self.run_seconds)
        return None

    def tasks_per_second(self, concurrency: int) -> float:
        """The throughput ``concurrency`` runs of this type buy."""
        return concurrency / self.run_seconds


def concurrency_for(target_tasks_per_second: float, run_seconds: float) -> int:
    """The concurrent runs that keep up with a target: each run takes one task at a time."""
    return max(SQS_LEAST_MAXIMUM_CONCURRENCY, math.ceil(target_tasks_per_second * run_seconds))


def needed_timeout(longest_run_seconds: float, batch_size: int) -> int:
    """The timeout a full batch of longest runs needs."""
    return math.ceil(batch_size * (longest_run_seconds + START_MARGIN_SECONDS) + INVOCATION_OVERHEAD_SECONDS)


def problems(declared: TaskType) -> list[str]:
    """What keeps a declaration from being deployed, each saying what to change."""
    found: list[str] = []
    if not isinstance(declared.name, str) or not NAME_PATTERN.match(declared.name):
        found.append(
            f"name {declared.name!r} must be upper case letters and digits, "
            "words joined by '_' (e.g. RESIZE_IMAGE)"
        )
    elif len(declared.name) > MAX_NAME_LENGTH:
        found.append(f"name is {len(declared.name)} characters; at most {MAX_NAME_LENGTH} fit AWS's names")
    if not isinstance(declared.description, str) or not declared.description.strip():
        found.append("description must say in one line what the type does")
    longest = declared.longest_run_seconds
    if isinstance(longest, bool) or not isinstance(longest, int | float) or not longest > 0:
        found.append(f"longest_run_seconds must be a positive number of seconds, not {longest!r}")
        return found
    batch = declared.batch_size
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= SQS_MAX_BATCH_SIZE:
        found.append(f"batch_size must be a whole number from 1 to {SQS_MAX_BATCH_SIZE}, not {batch!r}")
        return found
    needed = needed_timeout(longest, batch)
    if needed > LAMBDA_MAX_TIMEOUT_SECONDS:
        runs = f"{batch} runs" if batch > 1 else "one run"
        need = "need" if batch > 1 else "needs"
        advice = (
            "or lower batch_size"
            if batch > 1 and longest <= longest_run_that_fits(1)
            else "split the work into shorter tasks (Lambda stops any run at 15 minutes)"
        )
        found.append(
            f"{runs} of up to {longest:g} s {need} a {needed} s timeout, past Lambda's "
            f"{LAMBDA_MAX_TIMEOUT_SECONDS} s: with batch_size {batch}, longest_run_seconds can be at most "
            f"{longest_run_that_fits(batch)}; {advice}"
        )
    concurrency = declared.concurrency
    if concurrency is not None and (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or concurrency < SQS_LEAST_MAXIMUM_CONCURRENCY
    ):
        found.append(
            f"concurrency must be a whole number of at least {SQS_LEAST_MAXIMUM_CONCURRENCY} "
            f"(SQS event sources run at least {SQS_LEAST_MAXIMUM_CONCURRENCY}), "
            f"or left out, not {concurrency!r}"
        )
    found.extend(_capacity_problems(declared))
    attempts = declared.max_attempts
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 100:
        found.append(f"max_attempts must be a whole number from 1 to 100, not {attempts!r}")
    if not isinstance(declared.sample_data, dict):
        found.append("sample_data must be a JSON object (a dict)")
    if not isinstance(declared.local_only, bool):
        found.append("local_only must be True or False")
    found.extend(searchable_problems(declared.searchable))
    return found


def _is_positive_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


def _capacity_problems(declared: TaskType) -> list[str]:
    target, mean = declared.target_tasks_per_second, declared.mean_run_seconds
    found: list[str] = []
    if target is not None and not _is_positive_number(target):
        found.append(f"target_tasks_per_second must be a positive number, not {target!r}")
    if mean is not None and not (_is_positive_number(mean) and mean <= declared.longest_run_seconds):
        found.append(f"mean_run_seconds must be a positive number, at most longest_run_seconds, not {mean!r}")
    if found:
        return found
    if target is not None and declared.concurrency is not None:
        found.append(
            "give concurrency or target_tasks_per_second (its concurrency is derived from it), not both"
        )
    elif (
        target is not None
        and (needed := concurrency_for(target, declared.run_seconds)) > MOST_RESERVED_CONCURRENCY
    ):
        found.append(
            f"{target:g} tasks/s of {declared.run_seconds:g} s runs needs {needed} concurrent runs, past the "
            f"{MOST_RESERVED_CONCURRENCY} an account's default quota lets one function reserve: raise the "
            "account's concurrency quota and declare concurrency, or lower the target"
        )
    return found


def longest_run_that_fits(batch_size: int) -> int:
    """The longest run, in whole seconds, of which a batch of this size fits Lambda's longest timeout."""
    spare = LAMBDA_MAX_TIMEOUT_SECONDS - INVOCATION_OVERHEAD_SECONDS
    return math.floor(spare / batch_size - START_MARGIN_SECONDS)
