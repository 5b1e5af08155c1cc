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
from dataclasses import dataclass, field, fields
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


def setting(default: Any, meaning: str, *, shown: str = "") -> Any:
    """A setting's default and what it means: docs/operations.md's Configuration table is made
    of these (scripts/code_docs.py). ``shown`` stands for the default in that table."""
    return field(default=default, metadata={"meaning": meaning, "shown": shown})


@dataclass(frozen=True, init=False)
class Settings:
    # Not a stage's name: app/local sets LOCAL_MODE=true, serverless.yml false for every function.
    stage: str = setting("local", "the deployment stage")
    local_mode: bool = setting(
        False,
        "local behaviour (the local defaults of the keys, users and secrets, webhooks to loopback, "
        "cookies without `Secure`): `make run` sets it `true`, serverless.yml `false`; a stage's name "
        "never turns it on, and packaging refuses the stage `local`",
    )
    table_name: str = setting(
        "async-app-local-tasks",
        "the tasks table (serverless.yml sets it in AWS, `make run` for its emulator)",
    )
    topic_arn: str = setting(
        "", "the tasks topic the publisher sends to (set by serverless.yml, and `make run`)"
    )
    api_keys: str = setting(
        LOCAL_API_KEY,
        "comma-separated accepted `x-api-key` values; the local default is refused outside local mode "
        "(the API answers `503`)",
    )
    # In AWS the keys are in SSM, read at run time, so no key is in the template.
    api_keys_parameter: str = setting("", "in AWS: the name of the SSM SecureString holding the keys")
    root_path: str = setting("", "path prefix in front of the app (`/dev` behind API Gateway's stage)")
    max_data_bytes: int = setting(64 * 1024, "largest `data`, as JSON")
    max_result_bytes: int = setting(
        16 * 1024,
        "largest `result` a worker's run may return, as JSON; a larger one ends the task `FAILED` saying so "
        "(store more elsewhere and return a reference)",
    )
    max_request_bytes: int = setting(
        256 * 1024, "largest request body of any route, refused with `413` before it is parsed"
    )
    default_ttl_seconds: int = setting(7 * 24 * 3600, "`ttl` when a task gives none")
    page_token_secret: str = setting(
        LOCAL_PAGE_TOKEN_SECRET,
        "signs the listing's `next_token` (at least 32 characters; comma-separated to rotate, oldest first); "
        "the local default is refused outside local mode",
        shown="a local default",
    )
    page_token_secret_parameter: str = setting(
        "", "in AWS: the name of the SSM SecureString holding `PAGE_TOKEN_SECRET`"
    )
    target_tasks_per_second: int = setting(
        100,
        "the rate of new tasks the listing indexes' keys are sharded for (app/adapters/sharding.py: one "
        "shard each up to 400 tasks/s); grow only",
        shown="`100` (serverless.yml: `targetTasksPerSecond`, 1000)",
    )
    counter_shards: int = setting(
        1,
        "items each status counter and statistic is split over, summed on read (raise past ~10,000 tasks/s)",
    )
    # Above the task queues' visibility timeout in AWS, so a message SQS will deliver again is not re-sent.
    reconcile_after_seconds: int = setting(
        120,
        "how long a task may stand still (`CREATED` and not picked up, or `IN_PROGRESS` and not held) "
        "before the reconciler sends it to its workers again",
        shown="`120` (serverless.yml: `300`)",
    )
    # serverless.yml sets the scheduler's period, so every task starts on time, not up to a minute late.
    scheduler_lookahead_seconds: int = setting(
        0,
        "the scheduler also takes tasks due this many seconds ahead and waits for each one's `run_at` "
        "within its run",
        shown="`0` (serverless.yml: `60`)",
    )
    webhook_secret: str = setting(
        "",
        "the webhook signing secret, `whsec_<base64>` (at least 24 bytes)",
        shown="`make run`: one made per data folder (`.local-data/webhook-secret`), printed at start",
    )
    webhook_secret_parameter: str = setting(
        "", "in AWS: the name of the SSM SecureString holding the webhook secret"
    )
    webhook_queue_url: str = setting(
        "", "the webhook deliveries' queue (set by serverless.yml, and `make run`)"
    )
    # Standard Webhooks' schedule.
    webhook_retry_delays: str = setting(
        "5,300,1800,7200,18000,36000,36000",
        "seconds before attempts 2 to 8 of a webhook (the last repeats if fewer are given)",
    )
    webhook_timeout_seconds: float = setting(
        10, "how long one webhook attempt may take in all (resolve, connect, TLS, send, read)"
    )
    worker_reserved_concurrency: int = setting(
        10,
        "the concurrency of a task type's workers when its declaration gives none (serverless.yml sets it "
        "from `workerReservedConcurrency`); the dashboard's queues view says what it buys",
    )
    retry_delays: str = setting(
        "5,30,120",
        "seconds a task waits after a crashed attempt before the next (after the first crash, the second, "
        "...; the last repeats): its message is hidden that long (ChangeMessageVisibility), and the task "
        "shows `retry_at`",
    )
    # serverless.yml names every task type's queue <service>-<stage>-<type> (app/task_type_stack.py).
    task_queue_url_prefix: str = setting(
        "",
        "the URL of a task type's queue without the type's name: the dashboard finds each type's DLQ with "
        "it, the reconciler each queue (serverless.yml sets it for both, and `make run`; unset: no DLQ is "
        "shown, and the reconciler takes every queue to hold messages)",
    )
    publisher_failures_queue_url: str = setting(
        "",
        "the publisher's on-failure queue the dashboard's dead-letters page shows (set like the one above)",
    )
    dashboard_users: str = setting(
        LOCAL_DASHBOARD_USERS,
        "dashboard accounts, comma-separated `user:<argon2 hash>`, each made by "
        "`python -m app.dashboard.hash_password user`; the local default is refused outside local mode",
        shown="admin / admin (its argon2 hash)",
    )
    dashboard_users_parameter: str = setting(
        "", "in AWS: the name of the SSM SecureString holding `DASHBOARD_USERS`"
    )
    session_secret: str = setting(
        LOCAL_SESSION_SECRET,
        "signs dashboard session cookies (at least 32 characters; comma-separated to rotate, oldest first)",
        shown="a local default",
    )
    session_secret_parameter: str = setting(
        "", "in AWS: the name of the SSM SecureString holding `SESSION_SECRET`"
    )
    session_max_age_seconds: int = setting(8 * 3600, "how long a dashboard sign-in lasts")
    # Past a limit, sign-in answers 429 until the window ends (app/domain/sign_in.py). A browser known
    # to the user (its device cookie) counts only its own failures, so others' guesses never lock it out.
    sign_in_window_seconds: int = setting(15 * 60, "the sign-in throttling window")
    sign_in_failures_per_user: int = setting(
        5,
        "failed dashboard sign-ins allowed per user name and address per window, and per browser that "
        "signed in as the user before (its device cookie)",
    )
    sign_in_failures_per_client: int = setting(
        20, "failed dashboard sign-ins allowed per client address per window (browsers not known to the user)"
    )
    sign_in_failures_per_user_anywhere: int = setting(
        50,
        "failed dashboard sign-ins allowed per user name from every address together per window "
        "(browsers not known to the user)",
    )
    sign_in_failures_overall: int = setting(
        500, "failed dashboard sign-ins allowed overall per window (browsers not known to the user)"
    )
    device_cookie_max_age_seconds: int = setting(
        180 * 86400,
        "how long a browser that signed in is known to its user (never locked out by others' guesses)",
    )

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
