"""A webhook attempt ends by its deadline whatever the receiver does, and is on the timeline (issue 18)."""

from __future__ import annotations

import ipaddress
import time

import pytest

from app.domain.task import TaskStatus
from app.domain.webhooks import WebhookMessage
from tests.integration.test_webhooks import SECRET, deliver, finished_task, queued
from tests.slow_receiver import slow_receiver

pytestmark = pytest.mark.integration


@pytest.fixture
def stage(deployed, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("WEBHOOK_QUEUE_URL", deployed.queue_url("WebhookQueue"))
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "30,60")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    yield deployed
    get_settings.cache_clear()


def test_a_receiver_sending_a_byte_at_a_time_cannot_hold_the_post_past_its_deadline():
    from app.adapters import webhook_sender
    from app.domain.callbacks import CallbackTarget

    with slow_receiver(interval=0.1) as receiver:
        target = CallbackTarget(receiver.url, "http", "127.0.0.1", receiver.port, "/hooks/slow")
        started = time.monotonic()
        outcome = webhook_sender.post(target, ipaddress.ip_address("127.0.0.1"), {}, b"{}", 1.0)
        took = time.monotonic() - started
    # Each byte came well within a per-read timeout of 1 s: only a total deadline ends it.
    assert receiver.dripped >= 5
    assert took < 1.5, took
    assert (outcome.delivered, outcome.http_status, outcome.detail) == (False, None, "no answer within 1 s")


def _sent(stage, task_id: str) -> dict:
    stage.clients["sqs"].send_message(
        QueueUrl=stage.queue_url("WebhookQueue"), MessageBody=WebhookMessage(task_id).to_json()
    )
    (record,) = queued(stage)
    return record


def test_a_slow_receiver_costs_one_timed_out_attempt_on_the_timeline_then_the_backoff(stage):
    with slow_receiver(interval=0.1) as receiver:
        task = finished_task(stage, receiver.url, TaskStatus.COMPLETED)
        started = time.monotonic()
        response = deliver([_sent(stage, task.id)])
        took = time.monotonic() - started
    assert response["batchItemFailures"] and took < 4, took
    (event,) = [e for e in stage.store.events(task.id) if e.hop.value == "webhook"]
    assert event.attempt == 1 and event.http_status is None
    assert event.message == "send 1, attempt 1 of 8: failed (no answer within 1 s)"
    # Waiting out its backoff (30 s here), not back at once.
    assert queued(stage, wait=1) == []


class ShortOnTime:
    function_name = "webhooks"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:webhooks"
    aws_request_id = "req-short"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 2_500  # less than the 1 s attempt and its bookkeeping


def test_a_message_is_not_taken_when_the_invocation_has_too_little_time_left(stage):
    from workers.webhooks import handler

    with slow_receiver(interval=0.1) as receiver:
        task = finished_task(stage, receiver.url, TaskStatus.COMPLETED)
        record = _sent(stage, task.id)
        response = handler({"Records": [record]}, ShortOnTime())
        assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
        assert receiver.connections == 0
    assert [e for e in stage.store.events(task.id) if e.hop.value == "webhook"] == []
    # Back on the queue at once, for an invocation with the time.
    (again,) = queued(stage, wait=1)
    assert again["messageId"] == record["messageId"]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for hooks.test, and a client context that trusts it alone."""
    import datetime
    import ssl

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cafile=str(folder / "cert.pem"))
    return server, client


def test_over_tls_the_deadline_holds_and_a_prompt_receiver_is_reached(certificate, monkeypatch):
    import http.server
    import threading

    from app.adapters import webhook_sender
    from app.domain.callbacks import CallbackTarget

    server_tls, client_tls = certificate
    monkeypatch.setattr(webhook_sender, "_tls", lambda: client_tls)
    loopback = ipaddress.ip_address("127.0.0.1")

    with slow_receiver(interval=0.1, tls=server_tls) as receiver:
        target = CallbackTarget("https://hooks.test/in", "https", "hooks.test", receiver.port, "/in")
        started = time.monotonic()
        outcome = webhook_sender.post(target, loopback, {}, b"{}", 1.0)
        took = time.monotonic() - started
    assert receiver.dripped >= 3 and took < 1.5, (receiver.dripped, took)
    assert outcome.detail == "no answer within 1 s"

    class Prompt(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Prompt)
    server.socket = server_tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        target = CallbackTarget(
            "https://hooks.test/in", "https", "hooks.test", server.server_address[1], "/in"
        )
        outcome = webhook_sender.post(target, loopback, {}, b"{}", 5.0)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert (outcome.delivered, outcome.http_status) == (True, 204)


def test_a_resolver_that_hangs_costs_the_attempt_its_deadline_not_more(stage, monkeypatch):
    import threading

    released = threading.Event()

    def hanging_resolver(host, port):
        released.wait(10)  # bounded: the test releases it at the end
        return []

    # The lookup itself (not socket.getaddrinfo, which the emulator's clients use too).
    monkeypatch.setattr("app.adapters.dns.resolve", hanging_resolver)
    task = finished_task(stage, "https://slow-dns.example.com/hook", TaskStatus.COMPLETED)
    try:
        started = time.monotonic()
        response = deliver([_sent(stage, task.id)])
        took = time.monotonic() - started
    finally:
        released.set()
    assert response["batchItemFailures"] and took < 3, took
    (event,) = [e for e in stage.store.events(task.id) if e.hop.value == "webhook"]
    assert (
        event.message
        == "send 1, attempt 1 of 8: failed (no answer within 1 s: resolving the host took it all)"
    )
