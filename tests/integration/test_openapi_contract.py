"""The API against its own OpenAPI document, with every check schemathesis has.

The document is fetched from the app with the API key (it is not public),
and the app's clock is frozen, so the ttl bounds the document states at that
moment are the ones the app enforces for the whole run.
"""

from __future__ import annotations

import ipaddress
import time
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from app.adapters import page_tokens, task_search
from app.adapters.task_listing import listing_id
from app.domain import search
from app.domain.listing import TaskQuery
from app.domain.task import RetryState, TaskStatus
from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.integration
KEY = {"x-api-key": "contract-key"}
FROZEN_NOW = time.time()


# What callback hosts resolve to in this test: a public address (no DNS is asked).
PUBLIC_ADDRESS = ipaddress.ip_address("93.184.215.14")
CALLBACK_URL = "https://hooks.example.com/async-app"


@pytest.fixture(scope="module")
def app(provisioned):
    settings_ = Settings(table_name=provisioned.resources.table_name, api_keys=KEY["x-api-key"])
    app = create_app(settings_, store=provisioned.store, clock=lambda: FROZEN_NOW)
    app.state.resolve = lambda host, port: [PUBLIC_ADDRESS]
    return app


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module")
def api_schema(app):
    # The key for the document itself, and as the ApiKey scheme for the cases (some leave it out on purpose).
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"ApiKey": {"api_key": KEY["x-api-key"]}}}})
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app, config=config, headers=KEY)
    loaded.hook("map_case")(valid_cases)
    return loaded


def valid_cases(context, case):
    """What no schema can say, made true of every positive case."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    if case.headers and "Idempotency-Key" in case.headers:
        # A key is one request's: a key reused with another body is refused (422), on purpose.
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    if isinstance(case.body, dict):
        if "callback_url" in case.body:
            # Any https URL is schema-valid; the API calls only hosts it can resolve to public addresses.
            case.body["callback_url"] = CALLBACK_URL
        if (case.body.get("ttl") or 0) and (case.body.get("run_at") or 0) >= case.body["ttl"]:
            # A task must not expire before it runs (the default ttl counts from run_at).
            del case.body["ttl"]
    if case.query and case.query.get("q"):
        # A search needs a word (2 letters or digits), and takes no status nor retry state (422):
        # docs/api.md#search.
        case.query["q"] = "invoice 4711"
        case.query.pop("status", None)
        case.query.pop("retry_state", None)
    return issued_next_tokens(case)


def issued_next_tokens(case):
    """A valid next_token is one the API issued for that query: no schema can say so, so valid cases get one.

    Any string is a schema-valid token, and the API refuses (400) every one it
    did not sign; a positive case carries a token signed for its own query.
    """
    if not case.query:
        return case
    if "next_token" in case.query:
        status = case.query.get("status")
        created_from, created_to = case.query.get("created_from"), case.query.get("created_to")
        query = TaskQuery(
            status=TaskStatus(status) if status else None,
            task_type=case.query.get("task_type"),
            created_from=int(created_from) if created_from is not None else None,
            created_to=int(created_to) if created_to is not None else None,
            retry_state=RetryState(case.query["retry_state"]) if case.query.get("retry_state") else None,
            words=search.query_words(case.query["q"]) if case.query.get("q") else (),
        )
        # Inside the range, when there is one: a cursor outside it is refused.
        second = FROZEN_NOW if created_to is None else max(0, min(int(created_to), 9_999_999_999))
        if created_from is not None:
            second = max(second, int(created_from))
        cursor = f"{int(second * 1000):013d}#{uuid.uuid4()}"
        listing = task_search.listing_id(query) if query.words else listing_id(query)
        case.query["next_token"] = page_tokens.encode(listing, cursor)
    return case


@schema.parametrize()
@settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)
def test_every_operation_keeps_its_contract(case):
    response = case.call_and_validate()  # every check schemathesis has, none excluded
    # Not a run of refusals: a request that carried the key was let in.
    if response.request.headers.get("x-api-key") == KEY["x-api-key"]:
        assert response.status_code != 401, response.text
