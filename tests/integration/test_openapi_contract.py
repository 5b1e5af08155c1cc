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
from app.adapters.task_store import choose_index
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
        query = TaskQuery(
            status=TaskStatus(status) if status else None, task_type=case.query.get("task_type")
        )
        index, partition_value = choose_index(query)
        task_id = str(uuid.uuid4())
        key = {"pk": f"TASK#{task_id}", "sk": "TASK", "list_sk": f"{int(FROZEN_NOW * 1000):013d}#{task_id}"}
        case.query["next_token"] = page_tokens.encode(
            index.name, {**key, index.partition_attr: partition_value}
        )
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
