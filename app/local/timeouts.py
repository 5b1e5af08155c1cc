"""A function's ``timeout`` from serverless.yml, enforced as Lambda enforces it.

Lambda stops an invocation when its time is up: the handler gets no chance to
finish, its batch's messages come back after the visibility timeout, and the
invocation is reported as timed out. Here each invocation runs on a thread of
its own; at the deadline the runtime stops waiting for it and raises
``InvocationTimedOut`` inside that thread (at its next Python instruction:
after a sleep or an AWS call in progress returns), so the handler cannot write
anything afterwards. It derives from BaseException, so a handler's
``except Exception`` cannot swallow it.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class InvocationTimedOut(BaseException):
    """Raised inside an invocation that outlived its function's timeout."""


@dataclass(frozen=True)
class Outcome:
    response: Any = None
    error: BaseException | None = None
    timed_out: bool = False


def _stop_thread(thread: threading.Thread) -> None:
    if thread.ident is None:
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(InvocationTimedOut)
    )


def invoke(
    handler: Callable[[dict[str, Any], Any], Any],
    event: dict[str, Any],
    context: Any,
    timeout_seconds: float,
    name: str = "invocation",
) -> Outcome:
    """Call ``handler`` and wait at most ``timeout_seconds`` for it."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["response"] = handler(event, context)
        except InvocationTimedOut:
            result["timed_out"] = True
        except Exception as exc:  # the handler's own failure, reported like Lambda's function error
            result["error"] = exc

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    thread.join(timeout_seconds)
    if thread.is_alive():
        _stop_thread(thread)
        return Outcome(timed_out=True)
    if result.get("timed_out"):
        return Outcome(timed_out=True)
    return Outcome(response=result.get("response"), error=result.get("error"))
