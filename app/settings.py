"""All configuration, from environment variables with safe local defaults.

Each setting is read from the environment variable of its name in upper case
(``table_name`` from ``TABLE_NAME``), else takes its default; a value given
to ``Settings(...)`` wins over both (tests). Plain ``os.environ`` reading,
not pydantic-settings: that library (with dotenv, argparse and gettext) was
a tenth of the api's cold import, and the workers need no pydantic at all.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

LOCAL_API_KEY = "local-dev-key"
# Dashboard sign-in on a laptop: documented in docs/dashboard.md, refused
# outside the local stage (see app/adapters/secrets.py).
# admin / admin: the argon2id hash of "admin" (python -m app.dashboard.hash_password).
LOCAL_DASHBOARD_USERS = (
    "admin:$argon2id$v=19$m=19456,t=2,p=1$EdAs5ElqTSMpr/g5E0i05g$KWmQsRqE6c8IUgaa4hHxPUK/NwORxHqfx8nfbbXcy0A"
)
LOCAL_SESSION_SECRET = "local-dev-session-secret-not-for-deployed-stages"
LOCAL_PAGE_TOKEN_SECRET = "local-dev-page-token-secret-not-for-deployed-stages"


class InvalidSetting(ValueError):
    """A setting's value that can't be used; the message names its environment variable."""


@dataclass(frozen=True, init=False)
class Settings:
    # "local" for the laptop runtime and tests; a deployed stage otherwise.
    stage: str = "local"
    # Local behaviour (the default API key, dashboard user and signing keys,
    # webhooks to loopback over http, cookies without Secure): switched on by
    # the local runtime (app/local sets LOCAL_MODE=true), never by a stage's
    # name. serverless.yml sets it false for every function, and packaging
    # refuses the stage "local" (scripts/serverless-stage-rules.js).
    local_mode: bool = False
    table_name: str = "async-app-local-tasks"
    topic_arn: str = ""
    # Comma-separated keys accepted in x-api-key. In AWS, api_keys_parameter
    # names an SSM SecureString read at run time, so no key is in the template.
    api_keys: str = LOCAL_API_KEY
    api_keys_parameter: str = ""
    # The prefix API Gateway puts before every path (its stage, e.g. "/dev").
    root_path: str = ""
    max_data_bytes: int = 64 * 1024
    # Largest result a worker's run may return, as JSON; a larger one ends the task FAILED.
    max_result_bytes: int = 16 * 1024
    # Largest request body of any route, refused with 413 before it is parsed.
    max_request_bytes: int = 256 * 1024
    default_ttl_seconds: int = 7 * 24 * 3600
    # Signs the listing's next_token (comma-separated, oldest first, to rotate).
    page_token_secret: str = LOCAL_PAGE_TOKEN_SECRET
    page_token_secret_parameter: str = ""
    # The rate of new tasks the listing indexes' keys are sharded for
    # (app/adapters/sharding.py): one shard each up to 400 tasks/s.
    target_tasks_per_second: int = 100
    # Copies of each task-count item the changes function spreads its writes
    # over (summed on read): one takes 10,000 tasks/s (docs/deploy.md).
    counter_shards: int = 1
    # The reconciler sends a task to its workers again once it has stood still
    # this long (CREATED and not picked up, or IN_PROGRESS and not held).
    # serverless.yml sets 300 in AWS: above the task queues' visibility timeout.
    reconcile_after_seconds: int = 120
    # The scheduler also takes the SCHEDULED tasks due within this many seconds
    # and waits for each one's run_at (serverless.yml: its schedule's period, so
    # every task starts on time, not up to a minute late).
    scheduler_lookahead_seconds: int = 0

    # Webhooks: the signing secret (whsec_<base64>; in AWS an SSM SecureString
    # named by webhook_secret_parameter), the queue of deliveries, and the
    # seconds between attempts (comma-separated; Standard Webhooks' schedule).
    webhook_secret: str = ""
    webhook_secret_parameter: str = ""
    webhook_queue_url: str = ""
    webhook_retry_delays: str = "5,300,1800,7200,18000,36000,36000"
    # Seconds a receiver has to answer.
    webhook_timeout_seconds: float = 10
    # Concurrent runs of a task type that declares no concurrency of its own (serverless.yml's
    # workerReservedConcurrency, given to the api for the queues view).
    worker_reserved_concurrency: int = 10
    # A crashed attempt's task runs again after these many seconds (comma-separated: after the
    # first crash, the second, ...; the last repeats), each within SQS's 12-hour visibility limit.
    retry_delays: str = "5,30,120"

    # Dashboard sign-in: comma-separated "user:<argon2 hash>" entries (make a
    # hash with `python -m app.dashboard.hash_password`), and the key that
    # signs session cookies (comma-separated, oldest first, to rotate).
    # In AWS both come from SSM SecureStrings named by the *_parameter fields.
    dashboard_users: str = LOCAL_DASHBOARD_USERS
    dashboard_users_parameter: str = ""
    session_secret: str = LOCAL_SESSION_SECRET
    session_secret_parameter: str = ""
    session_max_age_seconds: int = 8 * 3600
    # Failed sign-ins allowed in one window; past one, sign-in answers 429
    # until the window ends. A browser that signed in as the user before (its
    # device cookie says so) counts only its own failures, up to
    # failures_per_user; any other counts per user name and address
    # (failures_per_user), per address, per user name from every address and
    # overall (app/domain/sign_in.py).
    sign_in_window_seconds: int = 15 * 60
    sign_in_failures_per_user: int = 5
    sign_in_failures_per_client: int = 20
    sign_in_failures_per_user_anywhere: int = 50
    sign_in_failures_overall: int = 500
    device_cookie_max_age_seconds: int = 180 * 86400

    def __init__(self, **values: Any) -> None:
        """Each setting from ``values``, else from its environment variable, else its default."""
        unknown = values.keys() - {setting.name for setting in fields(self)}
        if unknown:
            raise TypeError(f"no such setting: {', '.join(sorted(unknown))}")
        for setting in fields(self):
            value = values.get(setting.name, os.environ.get(setting.name.upper(), setting.default))
            if isinstance(value, str) and setting.type != "str":
                value = _parse(setting.type, setting.name.upper(), value)
            object.__setattr__(self, setting.name, value)
        self._check()

    def _check(self) -> None:
        """Rules beyond each value's type."""
        for name in ("webhook_retry_delays", "retry_delays"):
            _delays(name, getattr(self, name))

    @property
    def retry_schedule(self) -> tuple[int, ...]:
        return _delays("retry_delays", self.retry_delays)

    @property
    def webhook_retry_schedule(self) -> tuple[int, ...]:
        return _delays("webhook_retry_delays", self.webhook_retry_delays)

    @property
    def is_local(self) -> bool:
        return self.local_mode


def _delays(name: str, text: str) -> tuple[int, ...]:
    """Comma-separated whole seconds, each within SQS's 12-hour visibility limit."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() and int(part) <= 43200 for part in parts):
        raise InvalidSetting(f"{name.upper()}: comma-separated whole seconds, 0 to 43200 each")
    return tuple(int(part) for part in parts)


def _whole_number(text: str) -> int:
    if not text.strip().lstrip("+-").isdigit():
        raise ValueError
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError
    return value


def _boolean(text: str) -> bool:
    return {"true": True, "1": True, "false": False, "0": False}[text.strip().lower()]


# How a setting of each type is read from its environment variable ("str" as it is).
PARSERS = {
    "int": (_whole_number, "a whole number"),
    "float": (_number, "a number"),
    "bool": (_boolean, "true or false"),
}


def _parse(kind: str, name: str, text: str) -> Any:
    parse, expected = PARSERS[kind]
    try:
        return parse(text)
    except (ValueError, KeyError):
        raise InvalidSetting(f"{name} must be {expected}, not {text!r}") from None


@lru_cache
def get_settings() -> Settings:
    return Settings()
