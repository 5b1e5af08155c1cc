"""Sign-in, CSRF, escaping, security headers and the stage prefix of the dashboard."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import time
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.dashboard import session as sessions
from app.domain.task import TaskStatus
from app.services import tasks
from app.settings import Settings
from tests.factories import a_task
from tests.integration.test_dashboard import HTMX, csrf_of, make_client, sign_in

EVENTS = Path(__file__).resolve().parents[1] / "events"
XSS_SCRIPT = "<script>alert('xss')</script>"
XSS_ATTRIBUTE = '" onmouseover="alert(1)'


@pytest.fixture(scope="module")
def settings(provisioned) -> Settings:
    return Settings(table_name=provisioned.resources.table_name, api_keys="test-key")


@pytest.fixture
def anonymous(settings, provisioned) -> TestClient:
    return make_client(settings, provisioned)


@pytest.fixture
def signed_in(settings, provisioned) -> tuple[TestClient, str]:
    client = make_client(settings, provisioned)
    return client, sign_in(client)


def failed_task(provisioned, **changes):
    task = a_task(**changes)
    provisioned.store.add(task)
    tasks.change_status(provisioned.store, task.id, TaskStatus.IN_PROGRESS, "")
    return tasks.change_status(provisioned.store, task.id, TaskStatus.FAILED, XSS_SCRIPT + XSS_ATTRIBUTE)


# --- sign-in -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/dashboard", "/dashboard?status=FAILED", "/dashboard/tasks/x", "/dashboard/live", "/dashboard/find"],
)
def test_every_page_needs_sign_in(anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/dashboard/login?next=")
    assert anonymous.get(location).status_code == 200


def test_htmx_without_sign_in_is_sent_to_the_login_page(anonymous):
    response = anonymous.get(
        "/dashboard/live", headers={**HTMX, "HX-Current-URL": "http://testserver/dashboard?status=FAILED"}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/dashboard/login?next=%2Fdashboard%3Fstatus%3DFAILED"


def test_sign_in_goes_back_to_the_page_asked_for(anonymous):
    login = anonymous.get("/dashboard?status=FAILED").headers["location"]
    page = anonymous.get(login).text
    assert 'name="next" value="/dashboard?status=FAILED"' in page
    response = anonymous.post(
        "/dashboard/login",
        data={
            "username": "admin",
            "password": "admin",
            "csrf_token": csrf_of(page),
            "next": "/dashboard?status=FAILED",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/dashboard?status=FAILED"


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/tasks", "/dashboard\\@evil", "/dashboardx"]
)
def test_sign_in_never_redirects_off_the_dashboard(anonymous, target):
    token = csrf_of(anonymous.get("/dashboard/login").text)
    response = anonymous.post(
        "/dashboard/login",
        data={"username": "admin", "password": "admin", "csrf_token": token, "next": target},
    )
    assert response.headers["location"] == "/dashboard"


def test_wrong_password_keeps_the_user_name_escaped(anonymous):
    token = csrf_of(anonymous.get("/dashboard/login").text)
    response = anonymous.post(
        "/dashboard/login", data={"username": XSS_ATTRIBUTE, "password": "nope", "csrf_token": token}
    )
    assert response.status_code == 401 and "Wrong user name or password." in response.text
    assert 'value="&#34; onmouseover=&#34;alert(1)"' in response.text
    assert anonymous.get("/dashboard").status_code == 303


def test_the_session_cookie(anonymous):
    sign_in(anonymous)
    cookie = next(c for c in anonymous.cookies.jar if c.name == sessions.COOKIE_NAME)
    assert cookie.path == "/dashboard" and not cookie.secure
    assert cookie.has_nonstandard_attr("HttpOnly")
    set_cookie = anonymous.get("/dashboard/login").headers.get("set-cookie")
    assert set_cookie is None  # signed in: no new anonymous session
    # The JSON API never accepts the cookie in place of its key.
    assert anonymous.get("/tasks").status_code == 401


def test_the_cookie_is_secure_over_https(settings, provisioned):
    client = make_client(settings, provisioned, base_url="https://testserver")
    response = client.get("/dashboard/login")
    set_cookie = response.headers["set-cookie"]
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_tampered_or_expired_sessions_are_refused(settings, provisioned, anonymous, monkeypatch):
    sign_in(anonymous)
    value = anonymous.cookies.get(sessions.COOKIE_NAME, path="/dashboard")
    anonymous.cookies.clear()
    _payload, rest = value.split(".", 1)
    forged = json.dumps({"c": "x", "u": "root"}).encode()
    anonymous.cookies.set(
        sessions.COOKIE_NAME,
        base64.urlsafe_b64encode(forged).decode().rstrip("=") + "." + rest,
        path="/dashboard",
    )
    assert anonymous.get("/dashboard").status_code == 303

    serializer = sessions._serializer(settings)
    monkeypatch.setattr(
        "itsdangerous.timed.TimestampSigner.get_timestamp",
        lambda self: int(time.time()) - settings.session_max_age_seconds - 60,
    )
    old = serializer.dumps({"c": "x", "u": "admin"})
    monkeypatch.undo()
    anonymous.cookies.clear()
    anonymous.cookies.set(sessions.COOKIE_NAME, old, path="/dashboard")
    assert anonymous.get("/dashboard").status_code == 303


def test_sign_out(signed_in):
    client, csrf = signed_in
    refused = client.post("/dashboard/logout")
    assert refused.status_code == 403
    response = client.post("/dashboard/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/login"
    assert 'dashboard_session=""' in response.headers["set-cookie"]
    assert client.get("/dashboard").status_code == 303


def test_sign_in_is_refused_with_local_defaults_in_a_deployed_stage(provisioned):
    deployed = Settings(
        stage="dev", local_mode=False, table_name=provisioned.resources.table_name, api_keys="k"
    )
    client = make_client(deployed, provisioned)
    page = client.get("/dashboard/login")
    assert page.status_code == 503 and "not configured" in page.text


# --- CSRF --------------------------------------------------------------------------------------------


def test_state_changes_need_the_csrf_token(signed_in, provisioned):
    client, csrf = signed_in
    failed = failed_task(provisioned)
    form = {"task_type": "TASK1", "data": "{}", "ttl": ""}
    attempts = [
        ("/dashboard/tasks", form, {}),
        ("/dashboard/tasks", {**form, "csrf_token": "forged"}, {}),
        ("/dashboard/tasks", form, {"X-CSRF-Token": "forged"}),
        (f"/dashboard/tasks/{failed.id}/retry", {}, HTMX),
        ("/dashboard/retry", {"ids": failed.id}, HTMX),
        ("/dashboard/logout", {}, {}),
    ]
    for path, data, headers in attempts:
        response = client.post(path, data=data, headers=headers)
        assert response.status_code == 403, (path, response.text)
        assert "expired or did not come from this dashboard" in response.text
    assert provisioned.store.get(failed.id).status is TaskStatus.FAILED
    accepted = client.post("/dashboard/tasks", data=form, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 303


def test_a_token_from_another_session_is_refused(signed_in, settings, provisioned):
    client, _ = signed_in
    other = make_client(settings, provisioned)
    other_token = sign_in(other)
    response = client.post(
        "/dashboard/tasks", data={"task_type": "TASK1", "data": "{}", "csrf_token": other_token}
    )
    assert response.status_code == 403


def test_sign_in_itself_needs_the_token(anonymous):
    anonymous.get("/dashboard/login")
    response = anonymous.post("/dashboard/login", data={"username": "admin", "password": "admin"})
    assert response.status_code == 403


# --- escaping, CSP, headers ------------------------------------------------------------------------------


def test_what_users_typed_renders_as_text(signed_in, provisioned):
    client, _ = signed_in
    task = failed_task(provisioned, data={"html": XSS_SCRIPT, "attr": XSS_ATTRIBUTE, XSS_SCRIPT: 1})
    pages = [
        client.get("/dashboard?status=FAILED&limit=100").text,
        client.get(f"/dashboard/tasks/{task.id}").text,
        client.get("/dashboard/live", params={"live": f"{task.id}|CREATED::"}, headers=HTMX).text,
    ]
    for html in pages:
        assert task.id in html
        assert "<script>alert" not in html and 'onmouseover="alert' not in html
        assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
    assert unescape(pages[1]).count(XSS_SCRIPT) >= 2  # shown in full, as text


def inline_code(html: str) -> list[str]:
    scripts = re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html)
    handlers = re.findall(r"<[^>]+\son[a-z]+\s*=", html)
    styles = re.findall(r"<[^>]+\sstyle\s*=", html)
    javascript_urls = re.findall(r"javascript:", html, re.I)
    return scripts + handlers + styles + javascript_urls


def test_pages_carry_no_inline_code_and_the_headers(signed_in, anonymous, provisioned):
    client, _ = signed_in
    task = failed_task(provisioned)
    pages = ("/dashboard", f"/dashboard/tasks/{task.id}", f"/dashboard/tasks/{task.id}/retry")
    for response in [*(client.get(path) for path in pages), anonymous.get("/dashboard/login")]:
        path = response.request.url.path
        assert response.status_code == 200, path
        assert inline_code(response.text) == [], path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["cache-control"] == "no-store"
    # The JSON API and the static files get the same headers.
    assert client.get("/health").headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in client.get("/tasks").headers


def test_static_files_are_served_and_versioned(anonymous):
    page = anonymous.get("/dashboard/login").text
    for src in re.findall(r'(?:src|href)="(/dashboard/static/[^"]+)"', page):
        response = anonymous.get(unescape(src))
        assert response.status_code == 200, src
        assert "immutable" in response.headers["cache-control"]
    assert re.search(r'src="/dashboard/static/htmx-2\.0\.11\.min\.js\?v=[0-9a-f]{12}"', page)


# --- the stage prefix -------------------------------------------------------------------------------------


def test_every_link_form_and_redirect_works_under_a_prefix(settings, provisioned):
    client = make_client(dataclasses.replace(settings, root_path="/dev"), provisioned)
    assert client.get("/dev/").headers["location"] == "/dev/dashboard"
    assert client.get("/dev/dashboard").headers["location"] == "/dev/dashboard/login?next=%2Fdev%2Fdashboard"
    csrf = sign_in(client, prefix="/dev")
    cookie = next(c for c in client.cookies.jar if c.name == sessions.COOKIE_NAME)
    assert cookie.path == "/dev/dashboard"

    task = failed_task(provisioned)
    pages = {
        "/dev/dashboard": client.get("/dev/dashboard?limit=100").text,
        "detail": client.get(f"/dev/dashboard/tasks/{task.id}").text,
        "confirm": client.get(f"/dev/dashboard/tasks/{task.id}/retry").text,
    }
    for name, html in pages.items():
        urls = re.findall(r'\s(?:href|src|action|hx-get|hx-post)="([^"]+)"', html)
        assert urls, name
        # Fragments ("#main", the skip link) stay on the page.
        outside = [u for u in urls if not u.startswith(("/dev/dashboard", "#"))]
        assert outside == [], (name, outside)
        for url in {u for u in urls if "static" in u}:
            assert client.get(unescape(url)).status_code == 200, url

    found = client.get("/dev/dashboard/find", params={"id": task.id})
    assert found.headers["location"] == f"/dev/dashboard/tasks/{task.id}"
    retried = client.post(f"/dev/dashboard/tasks/{task.id}/retry", data={"csrf_token": csrf})
    assert retried.status_code == 303 and retried.headers["location"].startswith("/dev/dashboard/tasks/")
    created = client.post(
        "/dev/dashboard/tasks", data={"task_type": "TASK1", "data": "{}", "csrf_token": csrf}
    )
    assert created.headers["location"] == "/dev/dashboard"
    out = client.post("/dev/dashboard/logout", data={"csrf_token": csrf})
    assert out.headers["location"] == "/dev/dashboard/login"


def test_the_lambda_handler_serves_the_dashboard_under_the_stage(deployed):
    from app.main import handler

    request = json.loads((EVENTS / "apigw_rest_event.json").read_text())
    request.update(httpMethod="GET", path="/dashboard", body=None, isBase64Encoded=False)
    request["requestContext"]["path"] = "/dev/dashboard"
    request["requestContext"]["httpMethod"] = "GET"
    response = handler(request, None)
    assert response["statusCode"] == 303
    location = response["headers"].get("location") or response["multiValueHeaders"]["location"][0]
    assert location == "/dev/dashboard/login?next=%2Fdev%2Fdashboard"

    request.update(path="/dashboard/login")
    login = handler(request, None)
    assert login["statusCode"] == 200 and 'action="/dev/dashboard/login"' in login["body"]
    cookie = login.get("multiValueHeaders", {}).get("set-cookie") or [login["headers"]["set-cookie"]]
    assert "Path=/dev/dashboard" in cookie[0] and "HttpOnly" in cookie[0]

    # Static files go out as text, which a REST API passes through as it is.
    for src in re.findall(r'(?:src|href)="/dev(/dashboard/static/[^"?]+)', login["body"]):
        request.update(path=src)
        asset = handler(request, None)
        assert asset["statusCode"] == 200 and asset["isBase64Encoded"] is False, src
