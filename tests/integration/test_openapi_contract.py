"""The API against its own OpenAPI document, with every check schemathesis has.

The document is fetched from the app with the API key (it is not public),
and the app's clock is frozen, so the ttl bounds the document states at that
moment are the ones the app enforces for the whole run.
"""

from __future__ import annotations

import time
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from app.adapters import page_tokens
from app.adapters.task_listing import listing_id
from app.domain.listing import TaskQuery
from app.domain.task import TaskStatus
from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.integration
KEY = {"x-api-key": "contract-key"}
FROZEN_NOW = time.time()


@pytest.fixture(scope="module")
def app(provisioned):
    settings_ = Settings(table_name=provisioned.resources.table_name, api_keys=KEY["x-api-key"])
    return create_app(settings_, store=provisioned.store, clock=lambda: FROZEN_NOW)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module")
def api_schema(app):
    # The key for the document itself, and as the ApiKey scheme for the cases (some leave it out on purpose).
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"ApiKey": {"api_key": KEY["x-api-key"]}}}})
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app, config=config, headers=KEY)
    loaded.hook("map_case")(issued_next_tokens)
    return loaded


def issued_next_tokens(context, case):
    """A valid next_token is one the API issued for that query: no schema can say so, so valid cases get one.

    Any string is a schema-valid token, and the API refuses (400) every one it
    did not sign; a positive case carries a token signed for its own query.
    """
    if case.meta is None or not case.meta.generation.mode.is_positive or not case.query:
        return case
    if "next_token" in case.query:
        status = case.query.get("status")
        created_from, created_to = case.query.get("created_from"), case.query.get("created_to")
        query = TaskQuery(
            status=TaskStatus(status) if status else None,
            task_type=case.query.get("task_type"),
            created_from=int(created_from) if created_from is not None else None,
            created_to=int(created_to) if created_to is not None else None,
        )
        # Inside the range, when there is one: a cursor outside it is refused.
        second = FROZEN_NOW if created_to is None else max(0, min(int(created_to), 9_999_999_999))
        if created_from is not None:
            second = max(second, int(created_from))
        cursor = f"{int(second * 1000):013d}#{uuid.uuid4()}"
        case.query["next_token"] = page_tokens.encode(listing_id(query), cursor)
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
