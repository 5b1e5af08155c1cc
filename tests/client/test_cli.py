"""The CLI: output for people and for machines (--json), the progress bar, and the exit codes."""

import io
import json

import httpx
import pytest
from async_app_client import cli

from tests.client.support import API_KEY, BASE_URL, TASK_ID, FakeClock, ScriptedApi, error, reply, task_json

ENV = {"ASYNC_APP_URL": BASE_URL, "ASYNC_APP_API_KEY": API_KEY}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Run:
    """One CLI invocation against a scripted API."""

    def __init__(self, api: ScriptedApi, *argv: str, env=None, stderr=None):
        self.api = api
        self.clock = FakeClock()
        self.out, self.err = io.StringIO(), stderr or io.StringIO()
        self.code = cli.main(
            list(argv),
            stdout=self.out,
            stderr=self.err,
            env=ENV if env is None else env,
            client_options={"transport": api.transport, "clock": self.clock, "sleep": self.clock.sleep},
        )

    @property
    def json(self):
        return json.loads(self.out.getvalue())


def test_create_prints_the_id_and_status_url():
    location = f"{BASE_URL}/tasks/{TASK_ID}"
    api = ScriptedApi(reply(202, {"id": TASK_ID}, location=location))
    run = Run(api, "tasks", "create", "TASK1", "--data", '{"duration_seconds": 1}', "--ttl", "1900000000")
    assert run.code == 0
    assert run.out.getvalue() == f"accepted {TASK_ID}\nstatus URL: {location}\n"
    assert api.bodies() == [{"task_type": "TASK1", "data": {"duration_seconds": 1}, "ttl": 1900000000}]


def test_create_json_with_every_option():
    api = ScriptedApi(reply(202, {"id": TASK_ID}, location=f"{BASE_URL}/tasks/{TASK_ID}"))
    run = Run(
        api,
        "--json",
        "tasks",
        "create",
        "TASK2",
        "--data",
        '{"text": "hi"}',
        "--idempotency-key",
        "k-1",
        "--callback-url",
        "https://hooks.test/x",
        "--run-at",
        "2030-01-01T00:00:00Z",
    )
    assert run.code == 0
    assert run.json == {"id": TASK_ID, "location": f"{BASE_URL}/tasks/{TASK_ID}"}
    assert api.requests[0].headers["idempotency-key"] == "k-1"
    assert api.bodies()[0]["run_at"] == 1893456000
    assert api.bodies()[0]["callback_url"] == "https://hooks.test/x"


def test_create_reads_data_from_a_file(tmp_path):
    data = tmp_path / "data.json"
    data.write_text('{"text": "from a file"}')
    api = ScriptedApi(reply(202, {"id": TASK_ID}))
    assert Run(api, "tasks", "create", "TASK2", "--data", f"@{data}").code == 0
    assert api.bodies()[0]["data"] == {"text": "from a file"}


def test_create_wait_follows_the_new_task_to_its_end():
    api = ScriptedApi(
        reply(202, {"id": TASK_ID}),
        reply(200, task_json(status="IN_PROGRESS", progress=50)),
        reply(200, task_json(status="COMPLETED", progress=100, status_msg="done in 1 s")),
    )
    run = Run(api, "tasks", "create", "TASK1", "--wait", "--json")
    assert run.code == 0 and run.json["status"] == "COMPLETED"


def test_get_shows_every_field_including_ones_the_client_does_not_know():
    api = ScriptedApi(reply(200, task_json(status="COMPLETED", result={"words": 4}, priority="high")))
    run = Run(api, "tasks", "get", TASK_ID)
    assert run.code == 0
    assert run.out.getvalue() == (
        f"id          {TASK_ID}\n"
        "task_type   TASK1\n"
        "status      COMPLETED\n"
        "status_msg  -\n"
        "progress    -\n"
        'data        {"duration_seconds": 2}\n'
        "created     2026-11-29 02:55:41Z\n"
        "updated     -\n"
        "ttl         2030-03-17 17:46:40Z\n"
        "retry_of    -\n"
        'result      {"words": 4}\n'
        'priority    "high"\n'
    )


def test_get_json_is_the_task_exactly_as_the_server_sent_it():
    body = task_json(status="SCHEDULED", run_at=1900000000, brand_new={"x": 1})
    run = Run(ScriptedApi(reply(200, body)), "tasks", "get", TASK_ID, "--json")
    assert run.code == 0 and run.json == body


@pytest.mark.parametrize(("status", "code"), [("COMPLETED", 0), ("FAILED", 1), ("CANCELLED", 3)])
def test_wait_exits_with_how_the_task_ended(status, code):
    api = ScriptedApi(reply(200, task_json(status="IN_PROGRESS")), reply(200, task_json(status=status)))
    run = Run(api, "tasks", "wait", TASK_ID, "--json")
    assert run.code == code and run.json["status"] == status


def test_wait_prints_one_progress_line_per_change_when_stderr_is_not_a_terminal():
    api = ScriptedApi(
        reply(200, task_json(status="CREATED")),
        reply(200, task_json(status="IN_PROGRESS", progress=0, status_msg="attempt 1 started")),
        reply(200, task_json(status="IN_PROGRESS", progress=50, status_msg="1 of 2 s")),
        reply(200, task_json(status="IN_PROGRESS", progress=50, status_msg="1 of 2 s")),
        reply(200, task_json(status="COMPLETED", progress=100, status_msg="done in 2 s")),
    )
    run = Run(api, "tasks", "wait", TASK_ID)
    assert run.code == 0
    assert run.err.getvalue().splitlines() == [
        "[------------------------------]   0%  CREATED",
        "[------------------------------]   0%  IN_PROGRESS  attempt 1 started",
        "[###############---------------]  50%  IN_PROGRESS  1 of 2 s",
        "[##############################] 100%  COMPLETED  done in 2 s",
    ]
    assert run.out.getvalue().splitlines()[2].split() == ["status", "COMPLETED"]


def test_wait_redraws_the_bar_in_place_on_a_terminal():
    api = ScriptedApi(
        reply(200, task_json(status="IN_PROGRESS", progress=25)),
        reply(200, task_json(status="FAILED", progress=25, status_msg="boom")),
    )
    run = Run(api, "tasks", "wait", TASK_ID, stderr=Terminal())
    assert run.code == 1
    drawn = run.err.getvalue()
    assert drawn.startswith("\r[########----------------------]  25%  IN_PROGRESS\x1b[K\r")
    assert drawn.endswith("  25%  FAILED  boom\x1b[K\n")


def test_wait_quiet_draws_nothing():
    run = Run(ScriptedApi(reply(200, task_json(status="COMPLETED"))), "tasks", "wait", TASK_ID, "--quiet")
    assert run.code == 0 and run.err.getvalue() == ""


def test_wait_timeout_exits_4_and_prints_the_last_task_seen():
    api = ScriptedApi(*[reply(200, task_json(status="IN_PROGRESS", progress=10))] * 20)
    run = Run(api, "tasks", "wait", TASK_ID, "--timeout", "3", "--json", "--quiet")
    assert run.code == 4
    assert run.json["status"] == "IN_PROGRESS"
    assert run.err.getvalue() == f"error: task {TASK_ID} not finished after 3 s; last seen IN_PROGRESS\n"
    assert sum(run.clock.sleeps) == 3


def test_list_prints_a_table_and_follows_pages_up_to_max():
    api = ScriptedApi(
        reply(200, {"tasks": [task_json(id="a", status="COMPLETED"), task_json(id="b")], "next_token": "p2"}),
        reply(
            200,
            {
                "tasks": [task_json(id="c", status="FAILED", status_msg="data.text must be a string")],
                "next_token": "p3",
            },
        ),
    )
    run = Run(api, "tasks", "list", "--status", "FAILED", "--page-size", "2", "--max", "3")
    assert run.code == 0
    header, *rows = run.out.getvalue().splitlines()
    assert header.split() == ["ID", "TYPE", "STATUS", "PROGRESS", "CREATED", "MESSAGE"]
    assert [row.split()[:3] for row in rows] == [
        ["a", "TASK1", "COMPLETED"],
        ["b", "TASK1", "CREATED"],
        ["c", "TASK1", "FAILED"],
    ]
    assert rows[2].endswith("data.text must be a string")
    assert [dict(r.url.params) for r in api.requests] == [
        {"status": "FAILED", "limit": "2"},
        {"status": "FAILED", "limit": "2", "next_token": "p2"},
    ]


def test_list_json_and_max_zero_reads_every_page():
    api = ScriptedApi(
        reply(200, {"tasks": [task_json(id="a")], "next_token": "p2"}),
        reply(200, {"tasks": [task_json(id="b")], "next_token": None}),
    )
    run = Run(api, "tasks", "list", "--max", "0", "--json", "--created-from", "1795920000")
    assert run.code == 0 and [task["id"] for task in run.json] == ["a", "b"]
    assert api.requests[0].url.params["created_from"] == "1795920000"


def test_list_searches_and_filters_by_retry_state():
    api = ScriptedApi(reply(200, {"tasks": [task_json(id="a", status="FAILED")], "next_token": None}))
    run = Run(
        api, "tasks", "list", "--search", "upstream 503", "--retry-state", "gave_up", "--task-type", "TASK1"
    )
    assert run.code == 0
    assert dict(api.requests[0].url.params) == {
        "q": "upstream 503",
        "retry_state": "gave_up",
        "task_type": "TASK1",
    }


def test_list_of_nothing_says_so():
    run = Run(ScriptedApi(reply(200, {"tasks": [], "next_token": None})), "tasks", "list")
    assert (run.code, run.out.getvalue()) == (0, "no tasks\n")


def test_events_prints_the_timeline():
    events = [
        {
            "hop": "created",
            "at_ms": 1,
            "since_created_ms": 0,
            "source": "api",
            "status": "CREATED",
            "attempt": None,
            "progress": None,
            "message": "",
        },
        {
            "hop": "progress",
            "at_ms": 900,
            "since_created_ms": 899,
            "source": "worker TASK1",
            "status": "IN_PROGRESS",
            "attempt": 1,
            "progress": 50,
            "message": "1 of 2 s",
        },
    ]
    api = ScriptedApi(
        reply(200, {"task_id": TASK_ID, "events": events}), reply(200, {"task_id": TASK_ID, "events": events})
    )
    run = Run(api, "tasks", "events", TASK_ID)
    assert run.code == 0
    lines = run.out.getvalue().splitlines()
    assert lines[0].split() == [
        "SINCE",
        "CREATED",
        "HOP",
        "STATUS",
        "SOURCE",
        "ATTEMPT",
        "PROGRESS",
        "MESSAGE",
    ]
    assert lines[1].split() == ["+0", "ms", "created", "CREATED", "api", "-", "-"]
    assert lines[2].split() == [
        "+899",
        "ms",
        "progress",
        "IN_PROGRESS",
        "worker",
        "TASK1",
        "1",
        "50%",
        "1",
        "of",
        "2",
        "s",
    ]
    assert Run(api, "tasks", "events", TASK_ID, "--json").json == events


def test_cancel_and_retry():
    api = ScriptedApi(
        reply(202, task_json(status="CANCELLED")),
        reply(202, {"id": "new", "retry_of": TASK_ID}, location=f"{BASE_URL}/tasks/new"),
    )
    cancel = Run(api, "tasks", "cancel", TASK_ID, "--json")
    assert cancel.code == 0 and cancel.json["status"] == "CANCELLED"
    retry = Run(api, "tasks", "retry", TASK_ID, "--idempotency-key", "r1", "--json")
    assert retry.code == 0 and retry.json == {
        "id": "new",
        "retry_of": TASK_ID,
        "location": f"{BASE_URL}/tasks/new",
    }
    assert api.requests[1].headers["idempotency-key"] == "r1"


def test_an_api_error_exits_5_with_the_servers_message():
    body = {
        "error": "invalid_request",
        "message": "Invalid request: body.task_type: unknown task_type 'X'",
        "details": [{"location": "body.task_type", "message": "unknown task_type 'X'"}],
    }
    run = Run(ScriptedApi(reply(422, body)), "tasks", "create", "X")
    assert run.code == 5 and run.out.getvalue() == ""
    assert run.err.getvalue().splitlines() == [
        "error: 422 invalid_request: Invalid request: body.task_type: unknown task_type 'X'",
        "  body.task_type: unknown task_type 'X'",
    ]


def test_a_wrong_key_says_where_keys_come_from():
    run = Run(
        ScriptedApi(error(401, "unauthorized", "Missing or invalid x-api-key header")), "tasks", "get", "x"
    )
    assert run.code == 5
    assert "(pass --api-key or set ASYNC_APP_API_KEY)" in run.err.getvalue()


def test_rate_limited_says_when_to_retry():
    run = Run(ScriptedApi(error(429, "rate_limited", "slow down", retry_after="30")), "tasks", "get", "x")
    assert run.code == 5 and "retry after 30 s" in run.err.getvalue()


def test_no_answer_exits_6():
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    run = Run(ScriptedApi(refuse), "tasks", "get", TASK_ID)
    assert run.code == 6
    assert run.err.getvalue().startswith("error: no answer from the service: GET /tasks/")


def test_flags_override_the_environment_before_or_after_the_command():
    api = ScriptedApi(*[reply(200, task_json())] * 3)
    assert Run(api, "tasks", "get", TASK_ID).code == 0
    assert Run(api, "--url", "http://top.test", "tasks", "get", TASK_ID).code == 0
    assert (
        Run(
            api,
            "--url",
            "http://top.test",
            "tasks",
            "get",
            TASK_ID,
            "--url",
            "http://leaf.test",
            "--api-key",
            "leaf-key",
        ).code
        == 0
    )
    assert [(r.url.host, r.headers["x-api-key"]) for r in api.requests] == [
        ("api.test", API_KEY),
        ("top.test", API_KEY),
        ("leaf.test", "leaf-key"),
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["tasks", "create", "TASK1", "--data", "{not json"], "--data is not valid JSON"),
        (["tasks", "create", "TASK1", "--data", "[1]"], "--data must be a JSON object"),
        (
            ["tasks", "create", "TASK1", "--data", "@/no/such/file.json"],
            "cannot read --data @/no/such/file.json",
        ),
        (["tasks", "list", "--created-from", "yesterday"], "not epoch seconds or an ISO 8601 time"),
        (["tasks", "frobnicate"], "invalid choice"),
        (["tasks"], "required"),
    ],
)
def test_bad_usage_exits_2_with_a_reason(argv, message):
    run = Run(ScriptedApi(), *argv)
    assert run.code == 2 and message in run.err.getvalue()
    assert run.api.requests == []


def test_no_api_key_exits_2_before_any_request():
    run = Run(ScriptedApi(), "tasks", "get", TASK_ID, env={})
    assert run.code == 2
    assert run.err.getvalue() == (
        "error: no API key: pass one (api_key=, --api-key) or set ASYNC_APP_API_KEY\n"
    )


def test_help_lists_every_command_and_documents_the_exit_codes():
    run = Run(ScriptedApi(), "--help")
    assert run.code == 0 and "4 wait timed out" in run.out.getvalue()
    tasks_help = Run(ScriptedApi(), "tasks", "--help").out.getvalue()
    for command in ("create", "get", "wait", "list", "cancel", "retry", "events"):
        assert command in tasks_help


def test_cancel_with_wait_follows_a_running_task_to_cancelled():
    api = ScriptedApi(
        reply(202, task_json(status="IN_PROGRESS", cancel_requested="api key 12ab34cd")),
        reply(200, task_json(status="CANCELLED", status_msg="cancelled by api key 12ab34cd")),
    )
    run = Run(api, "tasks", "cancel", TASK_ID, "--wait", "--quiet", "--json")
    assert run.code == 3 and run.json["status"] == "CANCELLED"
    assert [(r.method, r.url.path) for r in api.requests] == [
        ("POST", f"/tasks/{TASK_ID}/cancel"),
        ("GET", f"/tasks/{TASK_ID}"),
    ]


def test_resend_webhook():
    api = ScriptedApi(reply(202, {"id": TASK_ID, "send": 3}, location=f"{BASE_URL}/tasks/{TASK_ID}"))
    run = Run(api, "tasks", "resend-webhook", TASK_ID)
    assert run.code == 0 and run.out.getvalue().strip() == f"webhook of {TASK_ID} queued again (send 3)"
    assert api.requests[0].url.path == f"/tasks/{TASK_ID}/webhook/resend"


def test_cancel_with_wait_of_a_task_cancelled_at_once_exits_3():
    run = Run(
        ScriptedApi(reply(202, task_json(status="CANCELLED"))), "tasks", "cancel", TASK_ID, "--wait", "--json"
    )
    assert run.code == 3 and run.json["status"] == "CANCELLED"
