"""``python -m app.local``: the whole service on this machine (what ``make run`` starts)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

    from app.local.runtime import LocalRuntime

# Where `make run` keeps its tables between runs (git-ignored); LOCAL_DATA_DIR moves it.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / ".local-data"


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    if os.environ.get("API_KEY"):
        os.environ["API_KEYS"] = os.environ["API_KEY"]
    # Handlers log JSON at WARNING locally; the runtime prints one line per hop.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", os.environ.get("LOG_LEVEL", "WARNING"))

    import uvicorn

    from app.adapters import secrets
    from app.local import webhook_secret
    from app.local.emulator import DEFAULT_TTL_SWEEP_SECONDS
    from app.local.runtime import LocalRuntime
    from app.main import create_app
    from app.settings import LOCAL_DASHBOARD_USERS, get_settings

    override = os.environ.get("LOCAL_VISIBILITY_TIMEOUT_SECONDS")
    data_dir = Path(os.environ.get("LOCAL_DATA_DIR") or DEFAULT_DATA_DIR).resolve()
    secret, given = webhook_secret.ensure(data_dir)
    webhooks_signed = (
        "with WEBHOOK_SECRET"
        if given
        else f"with {secret}   (made for this data folder, kept in it as {webhook_secret.FILE_NAME})"
    )
    runtime = LocalRuntime(
        data_dir=data_dir,
        visibility_timeout_override=int(override) if override else None,
        # Each queue is polled by as many pollers as its mapping's maximumConcurrency (what
        # Lambda runs at once: a task type's concurrency); LOCAL_WORKER_CONCURRENCY caps them.
        worker_concurrency=int(concurrency)
        if (concurrency := os.environ.get("LOCAL_WORKER_CONCURRENCY"))
        else None,
        print_hops=os.environ.get("LOCAL_PRINT_HOPS", "true").lower() not in ("0", "false", "no", "off"),
        ttl_sweep_seconds=float(os.environ.get("LOCAL_TTL_SWEEP_SECONDS", DEFAULT_TTL_SWEEP_SECONDS)),
        schedule_seconds_override=float(schedules)
        if (schedules := os.environ.get("LOCAL_SCHEDULE_SECONDS"))
        else None,
    ).start()
    try:
        settings = get_settings()
        api_key = sorted(secrets.api_keys(settings))[0]
        sign_in = (
            "sign in as admin / admin"
            if settings.dashboard_users == LOCAL_DASHBOARD_USERS
            else "sign in with an account from DASHBOARD_USERS"
        )
        print(
            f"\n  async-app is running locally\n"
            f"  Dashboard:  http://{host}:{port}/dashboard   ({sign_in})\n"
            f"  API:        http://{host}:{port}/tasks   (header x-api-key: {api_key})\n"
            f"  Health:     http://{host}:{port}/health\n"
            f"  AWS emulator (moto) at {runtime.endpoint}; table {settings.table_name}\n"
            f"  Data:       {data_dir}   (kept across restarts; `make run-fresh` starts empty)\n"
            f"  Webhooks:   signed {webhooks_signed}\n"
            f"  Ctrl-C stops everything.\n",
            flush=True,
        )
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning", lifespan="off")
        )
        # uvicorn shuts down on SIGINT / SIGTERM, then re-raises the signal
        # to the handler it found. Ours ignores it, so the pollers and the
        # emulator are stopped below and the process exits cleanly.
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, lambda *_: None)
        emulator_exit = watch_emulator(runtime, server)
        server.run()
    finally:
        runtime.stop()
        print("  stopped.", flush=True)
    if emulator_exit:
        return 1
    return 0


def watch_emulator(runtime: LocalRuntime, server: uvicorn.Server) -> list[int]:
    """Stop the whole stack if the emulator dies (killed, out of memory): every call would fail.

    Returns a list that holds the emulator's exit code once it has died.
    """
    assert runtime.emulator is not None
    process = runtime.emulator.process
    died: list[int] = []

    def wait() -> None:
        code = process.wait()
        if not server.should_exit:
            died.append(code)
            print(f"  the AWS emulator stopped (exit code {code}): stopping.", file=sys.stderr, flush=True)
            server.should_exit = True

    threading.Thread(target=wait, name="emulator-watch", daemon=True).start()
    return died


if __name__ == "__main__":
    sys.exit(main())
