"""Nobody can lock an operator out by guessing: a browser that signed in before keeps getting in (issue 18).

Guessing stays throttled per user name and address, per address, per user
name from every address and overall; a browser holding the device cookie a
sign-in issued to its user counts only its own failures.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from app.dashboard import device
from tests.integration.conftest import provision_stage
from tests.integration.test_dashboard import csrf_of
from tests.integration.test_dashboard_sign_in import (
    ANN,
    BOB,
    attempt,
    audit_lines,
    fresh_address,
    make,
    names,
)

pytestmark = pytest.mark.integration
__all__ = ["audit_lines", "names"]  # the fixtures, shared with the sign-in tests

LIMITS = {
    "sign_in_failures_per_user": 3,
    "sign_in_failures_per_client": 6,
    "sign_in_failures_per_user_anywhere": 8,
}


def browser_that_signed_in(provisioned, names, user: str, password: str) -> str:
    """Sign in once (from an address of its own) and return the device cookie that browser keeps."""
    client = make(provisioned, names, fresh_address(), **LIMITS)
    assert attempt(client, user, password).status_code == 303
    cookie = client.cookies.get(device.COOKIE_NAME, path="/dashboard")
    assert cookie
    return cookie


def with_device_cookie(client: TestClient, cookie: str) -> TestClient:
    client.cookies.set(device.COOKIE_NAME, cookie, path="/dashboard")
    return client


def test_guessing_is_refused_while_the_operator_on_a_known_browser_still_signs_in(provisioned, names):
    ann, _ = names
    known = browser_that_signed_in(provisioned, names, ann, ANN)

    # The attacker guesses from one address: refused for the name there after 3 failures.
    attacker_address = fresh_address()
    attacker = make(provisioned, names, attacker_address, **LIMITS)
    assert [attempt(attacker, ann, "guess").status_code for _ in range(4)] == [401] * 3 + [429]
    # Then spreads the guessing over more addresses: refused for the name everywhere after 8.
    spread = [attempt(make(provisioned, names, fresh_address(), **LIMITS), ann, "guess") for _ in range(6)]
    assert [response.status_code for response in spread] == [401] * 5 + [429]
    refused = attempt(make(provisioned, names, fresh_address(), **LIMITS), ann, ANN)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "from browsers it has not signed in on" in refused.text

    # The operator's browser gets in, from a new address and from the attacker's own.
    for address in (fresh_address(), attacker_address):
        operator = with_device_cookie(make(provisioned, names, address, **LIMITS), known)
        assert attempt(operator, ann, ANN).status_code == 303
        assert operator.get("/dashboard").status_code == 200


def test_an_address_full_of_failures_does_not_refuse_a_known_browser_behind_it(provisioned, names):
    ann, _ = names
    known = browser_that_signed_in(provisioned, names, ann, ANN)
    shared = fresh_address()  # one NAT for the attacker and the operator
    attacker = make(provisioned, names, shared, **LIMITS)
    for _ in range(6):
        assert attempt(attacker, f"eve-{uuid.uuid4().hex[:6]}", "guess").status_code == 401
    assert "from this address" in attempt(attacker, ann, ANN).text
    assert (
        attempt(with_device_cookie(make(provisioned, names, shared, **LIMITS), known), ann, ANN).status_code
        == 303
    )


def test_a_device_cookie_vouches_only_for_its_own_user_and_only_when_intact(provisioned, names):
    ann, bob = names
    anns_browser = browser_that_signed_in(provisioned, names, ann, ANN)
    address = fresh_address()
    attacker = make(provisioned, names, address, **LIMITS)
    for _ in range(3):
        assert attempt(attacker, bob, "guess").status_code == 401
    # Ann's browser signing in as Bob, or a cookie altered to name Bob, is a stranger to Bob.
    assert (
        attempt(
            with_device_cookie(make(provisioned, names, address, **LIMITS), anns_browser), bob, BOB
        ).status_code
        == 429
    )
    tampered = anns_browser[:-2] + ("AA" if not anns_browser.endswith("AA") else "BB")
    assert (
        attempt(
            with_device_cookie(make(provisioned, names, address, **LIMITS), tampered), bob, BOB
        ).status_code
        == 429
    )
    # Bob on a browser he signed in on before gets in.
    bobs_browser = browser_that_signed_in(provisioned, names, bob, BOB)
    assert (
        attempt(
            with_device_cookie(make(provisioned, names, address, **LIMITS), bobs_browser), bob, BOB
        ).status_code
        == 303
    )


def test_a_known_browser_counts_its_own_failures(provisioned, names, audit_lines):
    ann, _ = names
    known = browser_that_signed_in(provisioned, names, ann, ANN)
    someone_at_it = with_device_cookie(make(provisioned, names, fresh_address(), **LIMITS), known)
    assert [attempt(someone_at_it, ann, "guess").status_code for _ in range(3)] == [401] * 3
    locked = attempt(someone_at_it, ann, ANN)
    assert locked.status_code == 429 and "on this browser" in locked.text
    # Its failures counted against it alone: a fresh address without the cookie is not refused.
    assert attempt(make(provisioned, names, fresh_address(), **LIMITS), ann, ANN).status_code == 303
    # The audit log tells a known browser from a new one.
    events = [(line["audit"], line["browser"]) for line in audit_lines()]
    assert events == [
        ("sign_in", "new"),
        *[("sign_in_failed", "known")] * 3,
        ("sign_in_throttled", "known"),
        ("sign_in", "new"),
    ]


def test_untrusted_guessing_is_throttled_overall(emulator_endpoint, names):
    """Guessing spread over many names and addresses slows to the overall limit; known browsers pass."""
    ann, _ = names
    fresh_table = provision_stage(emulator_endpoint)  # the overall count of this test only
    limits = {**LIMITS, "sign_in_failures_overall": 5}
    known = browser_that_signed_in(fresh_table, names, ann, ANN)
    statuses = [
        attempt(make(fresh_table, names, fresh_address(), **limits), f"eve-{n}", "guess").status_code
        for n in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    refused = attempt(make(fresh_table, names, fresh_address(), **limits), ann, ANN)
    assert refused.status_code == 429 and "from browsers not signed in on before" in refused.text
    operator = with_device_cookie(make(fresh_table, names, fresh_address(), **limits), known)
    assert attempt(operator, ann, ANN).status_code == 303


def test_under_a_stage_prefix_the_device_cookie_is_scoped_to_the_prefixed_dashboard(provisioned, names):
    ann, _ = names
    client = make(provisioned, names, fresh_address(), root_path="/dev", **LIMITS)
    token = csrf_of(client.get("/dev/dashboard/login").text)
    signed_in = client.post(
        "/dev/dashboard/login", data={"username": ann, "password": ANN, "csrf_token": token}
    )
    assert signed_in.status_code == 303
    (cookie,) = [c for c in client.cookies.jar if c.name == device.COOKIE_NAME]
    assert cookie.path == "/dev/dashboard" and cookie.has_nonstandard_attr("HttpOnly")
