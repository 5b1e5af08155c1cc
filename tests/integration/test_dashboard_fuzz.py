"""No dashboard input gets a 5xx: the cases an attack found, then a fuzz of every route (issue 18).

The API has its schemathesis run (test_openapi_contract.py); the dashboard
has no schema, so this walks its routes from the app itself and sends each
one query strings and forms hypothesis makes up, signed in and not.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.integration.test_dashboard import csrf_of, make_client, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def settings(provisioned) -> Settings:
    return Settings(table_name=provisioned.resources.table_name, api_keys="fuzz-key")


@pytest.fixture(scope="module")
def signed_in(settings, provisioned) -> tuple[TestClient, str]:
    client = make_client(settings, provisioned)
    return client, sign_in(client)


@pytest.fixture(scope="module")
def visitor(settings, provisioned) -> tuple[TestClient, str]:
    client = make_client(settings, provisioned)
    return client, csrf_of(client.get("/dashboard/login").text)


YEAR_OVERFLOW = [
    "99999-01-01T00:00",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "1" * 30,
    "9" * 5000,
    "253402300800",
    "-1",
    "0001-01-01T00:00",
]


@pytest.mark.parametrize("value", YEAR_OVERFLOW)
@pytest.mark.parametrize("name", ["created_from", "created_to"])
def test_a_time_filter_out_of_any_calendar_is_a_message_not_a_500(signed_in, name, value):
    client, _ = signed_in
    for path in ("/dashboard", "/dashboard/live", "/dashboard/retry-matching", "/dashboard/cancel-matching"):
        response = client.get(path, params={name: value})
        assert response.status_code < 500, (path, response.status_code)


def test_a_ttl_of_thousands_of_digits_is_a_form_error(signed_in):
    client, csrf = signed_in
    form = {"task_type": "TASK1", "data": "{}", "ttl": "9" * 4301, "csrf_token": csrf}
    response = client.post("/dashboard/tasks", data=form)
    assert response.status_code == 422 and "ttl" in response.text


BROKEN_MULTIPART = [
    # (content type, body)
    (
        "multipart/form-data; boundary=xyz",
        b"--xyz\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--xyz--\r\n",
    ),
    ("multipart/form-data; boundary=xyz", b"--xyz\r\nbroken"),
    ("multipart/form-data", b"--xyz\r\n\r\n"),
    ("multipart/form-data; boundary=", b"----\r\n"),
    (
        "multipart/form-data; boundary=xyz",
        b'--xyz\r\nContent-Disposition: form-data; name="a\r\n\r\nx\r\n--xyz--',
    ),
]


@pytest.mark.parametrize(("content_type", "body"), BROKEN_MULTIPART)
@pytest.mark.parametrize("who", ["signed_in", "visitor"])
def test_broken_multipart_is_refused_with_a_4xx(request, who, content_type, body):
    client, _ = request.getfixturevalue(who)
    for path in ("/dashboard/login", "/dashboard/tasks", "/dashboard/retry", "/dashboard/cancel"):
        response = client.post(path, content=body, headers={"content-type": content_type})
        assert 400 <= response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_form_of_thousands_of_fields_is_refused_with_a_4xx(signed_in, encoding):
    client, csrf = signed_in
    fields = {f"f{n}": "x" for n in range(1500)} | {"csrf_token": csrf}
    if encoding == "urlencoded":
        response = client.post("/dashboard/tasks", data=fields)
    else:
        response = client.post(
            "/dashboard/tasks", files={name: (None, value) for name, value in fields.items()}
        )
    assert 400 <= response.status_code < 500, response.status_code


def test_a_csrf_header_with_a_form_too_big_for_its_parser_is_a_4xx(signed_in):
    client, csrf = signed_in
    body = b"--xyz\r\n" + b"".join(
        f'Content-Disposition: form-data; name="f{n}"\r\n\r\nx\r\n--xyz\r\n'.encode() for n in range(1200)
    )
    response = client.post(
        "/dashboard/tasks",
        content=body + b"--\r\n",
        headers={"content-type": "multipart/form-data; boundary=xyz", "x-csrf-token": csrf},
    )
    assert 400 <= response.status_code < 500, response.status_code


@pytest.mark.parametrize(
    "body",
    [b"data=%ff%fe&task_type=TASK1", b"\xff\xfe=\x00", b"ttl=%ED%A0%80", b"&&&===", b"a=" + b"%" * 1000],
)
def test_form_bodies_that_are_not_utf_8_are_a_4xx_or_a_form_error(signed_in, body):
    client, csrf = signed_in
    response = client.post(
        "/dashboard/tasks",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded", "x-csrf-token": csrf},
    )
    assert response.status_code < 500, response.status_code


def test_unknown_ids_and_odd_paths_are_4xx(signed_in):
    client, _ = signed_in
    for path in (
        f"/dashboard/tasks/{uuid.uuid4()}",
        "/dashboard/tasks/%00",
        "/dashboard/tasks/" + "a" * 5000,
        "/dashboard/dead-letters/%ff/redrive",
        "/dashboard/rows?next_token=" + "A" * 5000,
    ):
        assert client.get(path).status_code < 500, path


# --- the fuzz -------------------------------------------------------------------

# Every parameter name a dashboard route or form reads, and a few it doesn't.
NAMES = [
    "status", "task_type", "created_from", "created_to", "limit", "sort", "range", "through",
    "next_token", "id", "next", "username", "password", "data", "ttl", "ids", "cloned_from",
    "csrf_token", "filters", "page", "",
]  # fmt: skip
ODD = [
    "", " ", "0", "-1", "1e309", "NaN", "9" * 5000, "99999-01-01T00:00", "2026-13-45T99:99",
    "0001-01-01T00:00:00+23:59", "\x00", "\u202e", "%ff", "../..", "//evil.example", "\\\\evil",
    '{"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}', "TASK1", "FAILED",
    "1h", "created_desc", str(uuid.uuid4()), "a" * 3000,
]  # fmt: skip
SKIPPED = {("POST", "/dashboard/logout")}  # it would end the session the rest of the run uses


def dashboard_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every dashboard route, from the dashboard app: a new one is fuzzed too."""
    from fastapi.routing import iter_route_contexts

    from app import dashboard

    found = []
    for context in iter_route_contexts(dashboard.build(app.state).routes):
        path = context.path_format
        if not (path == "/" or path.startswith("/dashboard")) or path.startswith("/dashboard/static"):
            continue
        for method in sorted(context.methods or ()):
            if method in ("GET", "POST") and (method, path) not in SKIPPED:
                found.append((method, path))
    return found


def fuzz_inputs():
    from hypothesis import strategies as st

    # Any character but a lone surrogate, which no client can encode (raw bytes are tried above).
    chars = st.characters(exclude_categories=("Cs",))
    odd = st.sampled_from(ODD + YEAR_OVERFLOW)
    value = st.one_of(odd, odd, st.text(chars, max_size=40), st.integers().map(str))
    # Each known name present or not, plus names nobody reads.
    known = st.fixed_dictionaries({}, optional={name: value for name in NAMES}).map(lambda d: list(d.items()))
    unknown = st.lists(st.tuples(st.text(chars, max_size=8), value), max_size=3)
    params = st.tuples(known, unknown).map(lambda both: both[0] + both[1])
    segment = st.one_of(
        st.just(str(uuid.uuid4())), st.sampled_from(ODD[:20]), st.text(chars, min_size=1, max_size=20)
    )
    return params, segment


# Bodies no form encoder makes: sent as they are, under a multipart type.
RAW_BODIES = [body for _, body in BROKEN_MULTIPART] + [b"", b"--", b"\xff" * 64]
BOUNDARIES = ["multipart/form-data", "multipart/form-data; boundary=xyz", "multipart/form-data; boundary="]


EXAMPLES_PER_ROUTE = 40


def test_no_dashboard_route_answers_any_input_with_a_5xx(signed_in, visitor):
    from urllib.parse import quote

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    client, csrf = signed_in
    routes = dashboard_routes(client.app)
    assert ("GET", "/dashboard") in routes and ("POST", "/dashboard/tasks") in routes
    params, segment = fuzz_inputs()

    def send(method, template, fields, segments, who, how, with_csrf, raw, csrf_header):
        path = template
        for name, part in zip(("{task_id}", "{key}"), segments, strict=True):
            path = path.replace(name, quote(part, safe=""))
        user, token = (client, csrf) if who == "signed_in" else visitor
        headers = {"HX-Request": "true"} if how == "htmx" else {}
        if csrf_header:
            headers["x-csrf-token"] = token
        if with_csrf:
            fields = [*fields, ("csrf_token", token)]
        if how == "many_fields":
            fields = [*fields, *((f"f{n}", "x") for n in range(1001))]
        if method == "GET" or how in ("query", "htmx"):
            return user.request(method, path, params=fields, headers=headers)
        if how == "raw":
            body, content_type = raw
            return user.request(method, path, content=body, headers={**headers, "content-type": content_type})
        if how == "multipart":
            files = [(name, (None, text.encode())) for name, text in fields]
            return user.request(method, path, files=files or {"x": (None, b"")}, headers=headers)
        body = "&".join(f"{quote(n, safe='')}={quote(v, safe='')}" for n, v in fields).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
        return user.request(method, path, content=body, headers=headers)

    def fuzz(method: str, template: str) -> None:
        @settings(
            max_examples=EXAMPLES_PER_ROUTE,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(
            fields=params,
            segments=st.lists(segment, min_size=2, max_size=2),
            who=st.sampled_from(["signed_in", "visitor"]),
            how=st.sampled_from(["query", "urlencoded", "multipart", "htmx", "many_fields", "raw"]),
            with_csrf=st.booleans(),
            raw=st.tuples(st.sampled_from(RAW_BODIES), st.sampled_from(BOUNDARIES)),
        )
        def check(fields, segments, who, how, with_csrf, raw):
            headers_csrf = with_csrf and how == "raw"
            response = send(method, template, fields, segments, who, how, with_csrf, raw, headers_csrf)
            assert response.status_code < 500, (
                method,
                template,
                fields,
                response.status_code,
                response.text[:300],
            )

        check()

    for method, template in routes:
        fuzz(method, template)
