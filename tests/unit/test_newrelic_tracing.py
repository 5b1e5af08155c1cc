"""New Relic's distributed-tracing headers travel with the task and join the worker to the api.

The real agent runs in a subprocess, in developer mode (it sends nothing),
with serverless mode as in Lambda, so it never touches this test process.
"""

import json
import os
import subprocess
import sys
import textwrap

from tests.conftest import ROOT

SCRIPT = textwrap.dedent(
    """
    import json, newrelic.agent
    from app import observability
    from app.adapters import trace_attributes
    from app.domain.tracing import TraceContext

    newrelic.agent.initialize()
    application = newrelic.agent.register_application(timeout=5)
    with newrelic.agent.BackgroundTask(application, name="api") as api:
        headers = observability.newrelic_headers()
        api_trace_id = api.trace_id
    # What the publisher writes and the worker reads back from SQS.
    attributes = trace_attributes.to_message_attributes(TraceContext(newrelic=headers))
    received = {name: {"stringValue": value["StringValue"]} for name, value in attributes.items()}
    carried = trace_attributes.from_sqs_attributes(received).newrelic
    with newrelic.agent.BackgroundTask(application, name="worker") as worker:
        accepted = observability.accept_newrelic_headers(carried)
        worker_trace_id = worker.trace_id
    print("RESULT " + json.dumps({
        "headers": sorted(headers), "attributes": sorted(attributes), "accepted": accepted,
        "same_trace": api_trace_id == worker_trace_id,
    }))
    """
)

NEW_RELIC_OFFLINE = {
    "NEW_RELIC_ENABLED": "true",
    "NEW_RELIC_DEVELOPER_MODE": "true",
    "NEW_RELIC_SERVERLESS_MODE_ENABLED": "true",
    "NEW_RELIC_APP_NAME": "async-app-test",
    "NEW_RELIC_DISTRIBUTED_TRACING_ENABLED": "true",
    "NEW_RELIC_ACCOUNT_ID": "12345",
    "NEW_RELIC_TRUSTED_ACCOUNT_KEY": "12345",
    "NEW_RELIC_PRIMARY_APPLICATION_ID": "67890",
}


def test_worker_transaction_joins_the_trace_the_api_started():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={**os.environ, **NEW_RELIC_OFFLINE},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    outcome = json.loads(line.removeprefix("RESULT "))
    assert "traceparent" in outcome["headers"] and "tracestate" in outcome["headers"]
    assert set(outcome["attributes"]) == {"nr_traceparent", "nr_tracestate"}
    assert outcome["accepted"] is True
    assert outcome["same_trace"] is True


def test_new_relic_is_not_loaded_when_off():
    script = (
        "import sys; from app import observability; "
        "assert observability.newrelic_headers() == {}; "
        "assert not observability.accept_newrelic_headers({'traceparent': 'x'}); "
        "print('newrelic' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEW_RELIC")}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
