"""Dashboard sign-in: throttled in DynamoDB, sessions that sign-out revokes, removed users locked out."""

from __future__ import annotations

import io
import json
import threading
import uuid

import pytest
from fastapi.testclient import TestClient

from app import observability
from app.adapters.passwords import hash_password
from app.adapters.sign_in_records import SignInRecords
from app.dashboard import session as sessions
from app.domain.sign_in import session_key
from app.local.filter_patterns import matches_any
from app.main import create_app
from app.settings import Settings
from tests.integration.test_dashboard import HTMX, csrf_of

pytestmark = pytest.mark.integration
ANN, BOB = "ann-password-1", "bob-password-2"
ANN_HASH, BOB_HASH = hash_password(ANN), hash_password(BOB)
LISTING_ATTRIBUTES = {"list_sk", "created_pk", "type_pk", "status_pk", "type_status_pk"}


@pytest.fixture
def names() -> tuple[str, str]:
    """Two user names of this test only: failures are counted per name, in the table every test shares."""
    suffix = uuid.uuid4().hex[:8]
    return f"ann-{suffix}", f"bob-{suffix}"


def make(provisioned, names: tuple[str, str], address: str, **settings_values) -> TestClient:
    ann, bob = names
    values = {
        "dashboard_users": f"{ann}:{ANN_HASH},{bob}:{BOB_HASH}",
        "sign_in_failures_per_user": 3,
        "sign_in_failures_per_client": 6,
    }
    settings = Settings(
        table_name=provisioned.resources.table_name, api_keys="k", **{**values, **settings_values}
    )
    app = create_app(settings, store=provisioned.store)
    return TestClient(app, follow_redirects=False, client=(address, 50000))


def attempt(client: TestClient, user: str, password: str):
    token = csrf_of(client.get("/dashboard/login").text)
    return client.post("/dashboard/login", data={"username": user, "password": password, "csrf_token": token})


@pytest.fixture
def audit_lines():
    handler = observability.get_logger().registered_handler
    written = io.StringIO()
    stream, handler.stream = handler.stream, written
    logger = observability.get_logger()
    logger.setLevel("INFO")
    yield lambda: [json.loads(line) for line in written.getvalue().splitlines() if '"audit"' in line]
    logger.setLevel("WARNING")
    handler.stream = stream


def fresh_address() -> str:
    fresh_address.count = getattr(fresh_address, "count", 0) + 1
    return f"198.51.100.{fresh_address.count}"


def test_a_user_is_locked_out_after_the_failures_allowed(provisioned, names, audit_lines):
    ann, bob = names
    client = make(provisioned, names, fresh_address())
    for _ in range(3):
        assert attempt(client, ann, "guess").status_code == 401
    locked = attempt(client, ann, ANN)  # the right password, too late
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    assert "Too many failed sign-ins for this user name. Try again in" in locked.text
    assert 'role="alert"' in locked.text and "minute" in locked.text
    # Another user from the same client is not locked out.
    assert attempt(client, bob, BOB).status_code == 303
    events = [(line["audit"], line["user"]) for line in audit_lines()]
    assert events == [("sign_in_failed", ann)] * 3 + [("sign_in_throttled", ann), ("sign_in", bob)]
    assert all(ANN not in json.dumps(line) and "guess" not in json.dumps(line) for line in audit_lines())


def test_only_failures_count(provisioned, names):
    _, bob = names
    client = make(provisioned, names, fresh_address())
    for _ in range(5):
        assert attempt(client, bob, BOB).status_code == 303
        client.cookies.clear()
    assert attempt(client, bob, "wrong").status_code == 401


def test_a_client_is_locked_out_whatever_user_names_it_tries(provisioned, names, audit_lines):
    _, bob = names
    client = make(provisioned, names, fresh_address())
    for name in ("eve", "mallory", "trent", "peggy", "victor", "walter"):
        assert attempt(client, f"{name}-{uuid.uuid4().hex[:6]}", "guess").status_code == 401
    refused = attempt(client, bob, BOB)
    assert refused.status_code == 429 and "from this address" in refused.text
    assert attempt(make(provisioned, names, fresh_address()), bob, BOB).status_code == 303
    unknown = [line["user"] for line in audit_lines() if line["audit"] == "sign_in_failed"]
    assert unknown == ["(unknown user)"] * 6  # a name typed may be a password: unknown ones are not logged


def test_the_count_is_shared_by_every_instance_and_holds_under_concurrency(provisioned, names):
    ann, _ = names
    address = fresh_address()
    instances = [make(provisioned, names, address, sign_in_failures_per_user=4) for _ in range(4)]
    tokens = [csrf_of(client.get("/dashboard/login").text) for client in instances * 2]
    statuses: list[int] = []
    start = threading.Barrier(8)

    def guess(client: TestClient, token: str) -> None:
        start.wait()
        form = {"username": ann, "password": "guess", "csrf_token": token}
        statuses.append(client.post("/dashboard/login", data=form).status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(instances * 2, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [401] * 4 + [429] * 4


def test_sign_out_revokes_the_session_even_for_a_copied_cookie(provisioned, names, audit_lines):
    ann, _ = names
    client = make(provisioned, names, fresh_address())
    assert attempt(client, ann, ANN).status_code == 303
    cookie = client.cookies.get(sessions.COOKIE_NAME, path="/dashboard")
    csrf = csrf_of(client.get("/dashboard").text)
    thief = make(provisioned, names, fresh_address())
    thief.cookies.set(sessions.COOKIE_NAME, cookie, path="/dashboard")
    assert thief.get("/dashboard").status_code == 200

    assert client.post("/dashboard/logout", data={"csrf_token": csrf}).status_code == 303
    assert thief.get("/dashboard").status_code == 303
    form = {"task_type": "TASK1", "data": '{"copied": true}', "csrf_token": csrf}
    created = thief.post("/dashboard/tasks", data=form)
    assert created.status_code == 303 and created.headers["location"].startswith("/dashboard/login")
    assert thief.get("/dashboard/live", headers=HTMX).status_code == 401
    assert [line["audit"] for line in audit_lines()] == ["sign_in", "sign_out"]


def test_removing_a_user_ends_their_sessions(provisioned, names):
    ann, bob = names
    client = make(provisioned, names, fresh_address())
    assert attempt(client, ann, ANN).status_code == 303
    assert client.get("/dashboard").status_code == 200
    without_ann = make(provisioned, names, fresh_address(), dashboard_users=f"{bob}:{BOB_HASH}")
    without_ann.cookies = client.cookies
    assert without_ann.get("/dashboard").status_code == 303
    # The sign-in page does not send a removed user back to the dashboard either.
    assert without_ann.get("/dashboard/login").status_code == 200


def test_an_expired_session_record_signs_nobody_in(provisioned):
    records = SignInRecords(provisioned.resources.table_name, provisioned.clients["dynamodb"])
    key = session_key(uuid.uuid4().hex)
    records.open_session(key, "ann", now=1000, expires=2000)
    assert records.session_is_open(key, "ann", now=1999)
    assert not records.session_is_open(key, "ann", now=2000)
    assert not records.session_is_open(key, "bob", now=1500)
    records.close_session(key, now=1500)
    assert not records.session_is_open(key, "ann", now=1500)
    records.close_session(session_key("never-opened"), now=1500)  # nothing to close: no error


def test_sign_in_items_stay_out_of_the_listing_indexes_and_off_the_queues(deployed, names):
    ann, _ = names
    client = make(deployed, names, fresh_address(), root_path="")  # the fixture's env says /dev
    assert attempt(client, ann, "guess").status_code == 401
    assert attempt(client, ann, ANN).status_code == 303
    items = deployed.clients["dynamodb"].scan(TableName=deployed.resources.table_name)["Items"]
    sign_in_items = [item for item in items if item["pk"]["S"].startswith(("SIGNIN#", "SESSION#"))]
    assert {item["pk"]["S"].split("#")[0] for item in sign_in_items} == {"SIGNIN", "SESSION"}
    for item in sign_in_items:
        assert not LISTING_ATTRIBUTES & set(item), item
        assert int(item["ttl"]["N"]) > 0
        assert ANN not in json.dumps(item) and "guess" not in json.dumps(item)
    publisher = next(f for f in deployed.topology.stream_functions if f.name == "publisher")
    records = deployed.stream_records()
    assert records and not [r for r in records if matches_any(publisher.filter_patterns, r)]
