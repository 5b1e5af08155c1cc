"""The async-app task API from a shell: async-app tasks create|get|wait|list|cancel|retry|events.

Exit codes: 0 done (for wait: COMPLETED), 1 the task FAILED, 2 bad usage or configuration,
3 the task was CANCELLED, 4 wait timed out, 5 the API refused the request,
6 no answer from the service, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from async_app_client import display
from async_app_client.client import DEFAULT_WAIT_TIMEOUT, AsyncAppClient
from async_app_client.config import API_KEY_VARIABLE, DEFAULT_URL, URL_VARIABLE
from async_app_client.errors import (
    ApiError,
    ConfigurationError,
    ServiceUnreachable,
    Unauthorized,
    WaitTimeout,
)
from async_app_client.models import Accepted, Task, TaskStatus

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 3
EXIT_TIMEOUT = 4
EXIT_API_ERROR = 5
EXIT_UNREACHABLE = 6
EXIT_INTERRUPTED = 130

EXIT_FOR_STATUS = {
    TaskStatus.COMPLETED.value: EXIT_OK,
    TaskStatus.FAILED.value: EXIT_FAILED,
    TaskStatus.CANCELLED.value: EXIT_CANCELLED,
}
DEFAULT_LIST_MAX = 20
# Set here, not with set_defaults: the parsers share these options' actions, so a default
# set on one would make every subcommand overwrite what was given before it.
GLOBAL_DEFAULTS = {"url": None, "api_key": None, "json": False}


class Output:
    """Where a command writes: JSON for machines (--json) or text for people, and stderr."""

    def __init__(self, as_json: bool, out: TextIO, err: TextIO):
        self.as_json = as_json
        self.out = out
        self.err = err

    def emit(self, value: Any, text: str) -> None:
        print(json.dumps(value, indent=2) if self.as_json else text, file=self.out)


def epoch_argument(value: str) -> int:
    """Epoch seconds, or an ISO 8601 time (UTC unless it names its offset)."""
    if value.isdigit():
        return int(value)
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not epoch seconds or an ISO 8601 time: {value!r}") from None
    return int((when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp())


def data_argument(value: str) -> dict[str, Any]:
    """A JSON object, given inline, as @file, or as @- for stdin."""
    if value.startswith("@"):
        try:
            value = sys.stdin.read() if value == "@-" else Path(value[1:]).read_text()
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"cannot read --data {value}: {exc.strerror}") from None
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--data is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise argparse.ArgumentTypeError("--data must be a JSON object")
    return data


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given after the subcommand, these override the top-level ones; absent, they don't.
    common.add_argument(
        "--url", default=argparse.SUPPRESS, help=f"base URL (env {URL_VARIABLE}, default {DEFAULT_URL})"
    )
    common.add_argument("--api-key", default=argparse.SUPPRESS, help=f"API key (env {API_KEY_VARIABLE})")
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )

    parser = argparse.ArgumentParser(
        prog="async-app",
        description=__doc__.split("\n", 1)[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    groups = parser.add_subparsers(dest="group", required=True)
    tasks = groups.add_parser("tasks", help="create, follow and manage tasks", parents=[common])
    commands = tasks.add_subparsers(dest="command", required=True)

    def command(name: str, run: Callable[..., int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=[common])
        sub.set_defaults(run=run)
        return sub

    def waiting(sub: argparse.ArgumentParser, *, optional: bool) -> None:
        if optional:
            sub.add_argument("--wait", action="store_true", help="then follow the task until it finishes")
        sub.add_argument(
            "--timeout", type=float, default=DEFAULT_WAIT_TIMEOUT, help="seconds to wait (default 300)"
        )
        sub.add_argument("--quiet", action="store_true", help="no progress bar on stderr")

    create = command("create", run_create, "submit a task")
    create.add_argument("task_type", help="e.g. TASK1")
    create.add_argument(
        "--data", type=data_argument, default={}, help="JSON object, @file or @- (default {})"
    )
    create.add_argument("--ttl", type=epoch_argument, help="expiry: epoch seconds or ISO 8601")
    create.add_argument(
        "--run-at", type=epoch_argument, help="start no earlier than: epoch seconds or ISO 8601"
    )
    create.add_argument("--callback-url", help="URL to POST the finished task to")
    create.add_argument("--idempotency-key", help="the same key and body return the same task")
    waiting(create, optional=True)

    command("get", run_get, "show a task").add_argument("task_id")

    wait = command("wait", run_wait, "follow a task until it is COMPLETED, FAILED or CANCELLED")
    wait.add_argument("task_id")
    waiting(wait, optional=False)

    listing = command("list", run_list, "list tasks, newest first")
    listing.add_argument("--status")
    listing.add_argument("--task-type")
    listing.add_argument("--created-from", type=epoch_argument, help="epoch seconds or ISO 8601, inclusive")
    listing.add_argument("--created-to", type=epoch_argument, help="epoch seconds or ISO 8601, inclusive")
    listing.add_argument(
        "--retry-state", choices=("retrying", "gave_up", "none"), help="between attempts, or out of them"
    )
    listing.add_argument("--search", "-q", help="tasks with every one of these words (not with --status)")
    listing.add_argument("--page-size", type=int, help="tasks per request (the API's limit)")
    listing.add_argument(
        "--max", type=int, default=DEFAULT_LIST_MAX, help="tasks to show, 0 for all (default 20)"
    )

    cancel = command("cancel", run_cancel, "cancel a task that has not finished")
    cancel.add_argument("task_id")
    waiting(cancel, optional=True)

    retry = command("retry", run_retry, "run a FAILED task's work again, as a new task")
    retry.add_argument("task_id")
    retry.add_argument("--idempotency-key")
    waiting(retry, optional=True)

    command("events", run_events, "show a task's timeline, oldest first").add_argument("task_id")
    command(
        "resend-webhook", run_resend_webhook, "send a finished task's webhook to its callback_url again"
    ).add_argument("task_id")
    return parser


def follow(client: AsyncAppClient, task_id: str, args: argparse.Namespace, output: Output) -> int:
    """Wait for the task with a progress bar on stderr; the exit code says how it ended."""
    bar = None if args.quiet else display.ProgressBar(output.err)
    try:
        task = client.wait(task_id, args.timeout, on_update=bar.update if bar else None)
    except WaitTimeout as timeout:
        if timeout.last is not None:
            show_task(timeout.last, output)
        raise
    finally:
        if bar:
            bar.close()
    show_task(task, output)
    return EXIT_FOR_STATUS.get(task.status, EXIT_OK)


def show_task(task: Task, output: Output) -> int:
    output.emit(task.raw, display.task_details(task))
    return EXIT_OK


def show_or_follow(
    client: AsyncAppClient, accepted: Accepted, args: argparse.Namespace, output: Output
) -> int:
    """After a create or a retry: follow the new task with --wait, else say where it is."""
    if args.wait:
        return follow(client, accepted.id, args, output)
    text = f"accepted {accepted.id}" + (f"\nstatus URL: {accepted.location}" if accepted.location else "")
    output.emit({**accepted.raw, "location": accepted.location}, text)
    return EXIT_OK


def run_create(client: AsyncAppClient, args: argparse.Namespace, output: Output) -> int:
    accepted = client.create(
        args.task_type,
        args.data,
        ttl=args.ttl,
        idempotency_key=args.idempotency_key,
        callback_url=args.callback_url,
        run_at=args.run_at,
    )
    return show_or_follow(client, accepted, args, output)


def run_get(client: AsyncAppClient, args: argparse.Namespace, output: Output) -> int:
    return show_task(client.get(args.task_id), output)


def run_wait(client: AsyncAppClient, args: argparse.Namespace, output: Output) -> int:
    return follow(client, args.task_id, args, output)


def run_list(client: AsyncAppClient, args: argparse.Namespace, output: Output) -> int:
    filters = {
        "status": args.status,
        "task_type": args.task_type,
        "created_from": args.created_from,
        "created_to": args.created_to,
        "limit": args.page_size,
        "retry_state": args.retry_state,
        "q": args.search,
    }
    tasks: list[Task] = []
    for task in client.iter_tasks(**filters):
        tasks.append(task)
        if len(tasks) == args.max:
            break
    output.emit([task.raw for task in tasks], display.task_table(tasks) if tasks else "no tasks")
    return EXIT_OK


def run_cancel(client: AsyncAppClient, args: argparse.Namespace, output: Output) -> int:
    """A running task ends CANCELLED at its worker's next step: --wait follows it there."""
    task = client.cancel(args.task_id)
    if not args.wait:
        return show_task(task, output)
    if not task.is_final:
        return follow(client, task.id, args, output)
    show_task(task, output)
    return EXIT_FOR_STATUS.get(task.status, EXIT_OK)


def run_retry(client: AsyncAppClient, args: argparse.Namespace, output: Output) -> int:
    accepted = client.retry(args.task_id, idempotency_key=args.idempotency_key)
    return show_or_follow(client, accepted, args, output)


def run_resend_webhook(client: AsyncAppClient, args: argparse.Namespace, output: Output) -> int:
    accepted = client.resend_webhook(args.task_id)
    output.emit(accepted.raw, f"webhook of {accepted.id} queued again (send {accepted.raw.get('send', '?')})")
    return EXIT_OK


def run_events(client: AsyncAppClient, args: argparse.Namespace, output: Output) -> int:
    events = client.events(args.task_id)
    output.emit([event.raw for event in events], display.event_table(events) if events else "no events")
    return EXIT_OK


def describe(error: ApiError) -> str:
    lines = [f"error: {error.status_code} {error.code}: {error.message}"]
    lines += [
        f"  {detail.get('location', '')}: {detail.get('message', '')}"
        for detail in error.details
        if isinstance(detail, dict)
    ]
    if isinstance(error, Unauthorized):
        lines.append(f"  (pass --api-key or set {API_KEY_VARIABLE})")
    if error.retry_after is not None:
        lines.append(f"  (the server asks to retry after {error.retry_after:g} s)")
    return "\n".join(lines)


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> int:
    """Run one command; the exit code is returned (the console script exits with it).

    ``env`` and ``client_options`` (transport, clock, sleep) are for tests.
    """
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage already
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    for name, default in GLOBAL_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    output = Output(args.json, out, err)
    try:
        with AsyncAppClient(args.url, args.api_key, env=env, **(client_options or {})) as client:
            return args.run(client, args, output)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    except WaitTimeout as exc:
        print(f"error: {exc}", file=err)
        return EXIT_TIMEOUT
    except ApiError as exc:
        print(describe(exc), file=err)
        return EXIT_API_ERROR
    except ServiceUnreachable as exc:
        print(f"error: no answer from the service: {exc}", file=err)
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
