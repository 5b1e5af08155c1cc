"""The composition root: the one place that builds the adapters the api's use cases are given.

Each is made on first use and kept on the app's state (one per warm Lambda),
with the app's settings, sharing the store's DynamoDB client where it has one
(the tests' emulator). Tests put their own on ``app.state`` first. AWS
modules are imported only when something is built (cold start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the api's cold start imports none of the dashboard's code
    from app.services.ports import Queues, StatusCounter, TaskRepository
    from app.services.sign_in import SignInRecords


def _client_of(state: Any) -> Any:
    return getattr(state.store, "dynamodb", None)


def store(state: Any) -> TaskRepository:
    if getattr(state, "store", None) is None:
        from app.adapters.task_store import TaskStore

        state.store = TaskStore(state.settings.table_name)
    return state.store


def counter(state: Any) -> StatusCounter:
    """The aggregates (app/adapters/aggregates.py): the counts, and the stats reader too."""
    if getattr(state, "counter", None) is None:
        from app.adapters.aggregates import TaskAggregates

        state.counter = TaskAggregates(state.settings.table_name, _client_of(state))
    return state.counter


def sign_in_records(state: Any) -> SignInRecords:
    if getattr(state, "sign_in_records", None) is None:
        from app.adapters.sign_in_records import SignInRecords as DynamoDBSignInRecords

        state.sign_in_records = DynamoDBSignInRecords(state.settings.table_name, _client_of(state))
    return state.sign_in_records


@dataclass(frozen=True)
class DeadLetterSetup:
    queues: Queues
    # Task type (or "publisher-failures") -> (queue URL, redrivable)
    configured: dict[str, tuple[str, bool]]


def dead_letters(state: Any) -> DeadLetterSetup:
    """The queues the dead-letters and queues pages show, from the api's settings."""
    if getattr(state, "dead_letters", None) is None:
        from app.adapters.dead_letters import DeadLetterQueues, dead_letter_queue_urls
        from app.services.dead_letters import configured_queues

        settings = state.settings
        state.dead_letters = DeadLetterSetup(
            DeadLetterQueues(),
            configured_queues(
                dead_letter_queue_urls(settings.task_queue_url_prefix), settings.publisher_failures_queue_url
            ),
        )
    return state.dead_letters


@dataclass(frozen=True)
class WebhookResend:
    """What a webhook's resend needs besides the store: its delivery records and its queue."""

    deliveries: Any
    queue: Any


def webhook_resend(state: Any) -> WebhookResend:
    from app.adapters.webhook_deliveries import WebhookDeliveries
    from app.adapters.webhook_queue import WebhookQueue

    settings = state.settings
    return WebhookResend(
        WebhookDeliveries(settings.table_name, _client_of(state)), WebhookQueue(settings.webhook_queue_url)
    )
