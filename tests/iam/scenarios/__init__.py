"""What each function does, scenario by scenario: every code path that reaches AWS.

One module per function (or family of functions); each registers its
scenarios with ``@scenario("functionName")``. tests/integration/test_iam.py
fails for a function of serverless.yml without one, so a new function comes
with its scenarios: add a module here. A scenario gets a Stage
(tests/iam/harness.py) and drives the function the way AWS does:
``stage.api()`` for the api, ``stage.lambda_service(name)`` for a function fed
by a stream or queue, ``stage.invoke(name, event)`` for one on a schedule.
Set up and check with the stage's own clients (``stage.store``,
``stage.provisioned.clients``): their calls are not the function's.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from tests.iam.harness import Stage

Run = Callable[[Stage], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Run


_SCENARIOS: dict[str, list[Scenario]] = {}


def register(function: str, name: str, run: Run) -> None:
    _SCENARIOS.setdefault(function, []).append(Scenario(name, run))


def scenario(*functions: str) -> Callable[[Run], Run]:
    """Register the decorated function as a scenario of each of ``functions``."""

    def decorate(run: Run) -> Run:
        for function in functions:
            register(function, run.__name__, run)
        return run

    return decorate


def registry() -> dict[str, list[Scenario]]:
    """Every function's scenarios, from every module of this package."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return _SCENARIOS
