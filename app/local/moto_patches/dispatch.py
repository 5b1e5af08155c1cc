"""moto's per-request bookkeeping, done once instead of on every request.

- ``moto.backends.list_of_moto_modules`` lists moto's package folder and
  stats every entry to learn which services exist; the server asks it on every
  request to route the request (about 5-10 % of the emulator's CPU).
- ``moto.core.utils.method_names_from_class`` runs ``inspect.getmembers`` on
  the response class on every request to check the action is implemented.

Neither answer changes while the process runs, so both are cached.
"""

from __future__ import annotations

import functools
from typing import Any

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "speed"


def apply() -> None:
    from moto import backends
    from moto.core import responses

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]

    @functools.cache
    def method_names(clazz: Any) -> list[str]:
        from moto.core.utils import method_names_from_class

        return method_names_from_class(clazz)

    responses.method_names_from_class = method_names  # type: ignore[assignment]
