"""Webhook signing, checked against the reference implementation (standardwebhooks); the retry schedule."""

import base64
import json
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from app.domain import webhooks

SECRET = webhooks.new_secret(bytes(range(32)))


def test_the_signature_is_what_a_standard_webhooks_receiver_verifies():
    key = webhooks.secret_key(SECRET)
    body = json.dumps({"id": "0b6f3f8e-6a0e-4a55-9d4f-2f0c1d7b9a10", "status": "COMPLETED"}).encode()
    now = int(datetime.now(UTC).timestamp())
    headers = webhooks.signed_headers(key, "0b6f3f8e-6a0e-4a55-9d4f-2f0c1d7b9a10", now, body)

    assert headers["webhook-id"] == "msg_0b6f3f8e-6a0e-4a55-9d4f-2f0c1d7b9a10"
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(SECRET).verify(body, headers) == {
        "id": "0b6f3f8e-6a0e-4a55-9d4f-2f0c1d7b9a10",
        "status": "COMPLETED",
    }
    # The reference signs the same message the same way.
    reference = Webhook(SECRET).sign(headers["webhook-id"], datetime.fromtimestamp(now, UTC), body.decode())
    assert reference == headers["webhook-signature"]


def test_a_changed_body_a_wrong_secret_or_an_old_timestamp_fail_verification():
    key = webhooks.secret_key(SECRET)
    body = b'{"status":"COMPLETED"}'
    now = int(datetime.now(UTC).timestamp())
    headers = webhooks.signed_headers(key, "t1", now, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(b'{"status":"FAILED"}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret(bytes(32))).verify(body, headers)
    stale = webhooks.signed_headers(key, "t1", now - 3600, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, stale)


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("not-a-secret", "starts with whsec_"),
        ("whsec_!!!", "base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "at least 24 bytes"),
    ],
)
def test_a_malformed_secret_is_refused(secret, why):
    with pytest.raises(webhooks.InvalidSecret, match=why):
        webhooks.secret_key(secret)


def test_eight_attempts_over_about_a_day():
    delays = [webhooks.retry_delay(attempt) for attempt in range(1, webhooks.MAX_ATTEMPTS + 1)]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000, None]
    assert 24 * 3600 <= sum(d for d in delays if d) <= 30 * 3600
    # A shorter schedule (tests, make run) is used as given, its last delay repeated.
    assert [webhooks.retry_delay(n, (1, 2)) for n in (1, 2, 3, 8)] == [1, 2, 2, None]


def test_the_queue_message_round_trips_and_refuses_other_shapes():
    message = webhooks.WebhookMessage("t1", 3)
    assert webhooks.WebhookMessage.from_json(message.to_json()) == message
    assert webhooks.WebhookMessage.from_json('{"task_id": "t2"}') == webhooks.WebhookMessage("t2", 1)
    with pytest.raises(ValueError):
        webhooks.WebhookMessage.from_json('{"task_id": 5}')


def test_the_retry_schedule_setting_is_whole_seconds_within_sqs_limits():
    from app.settings import InvalidSetting, Settings

    assert Settings(webhook_retry_delays="1, 2,3").webhook_retry_schedule == (1, 2, 3)
    assert Settings().webhook_retry_schedule == webhooks.RETRY_DELAYS_SECONDS
    for bad in ("", "soon", "5,-1", "43201", "1.5"):
        with pytest.raises(InvalidSetting, match="WEBHOOK_RETRY_DELAYS"):
            Settings(webhook_retry_delays=bad)
