"""Fixes to moto's internals that keep the local emulator honest at scale.

moto is correct for a handful of items and collapses with thousands: it
deep-copies whole tables for every transaction, keeps every model object it
ever made, answers every Query by reading the whole table, and counts a
queue's messages on every send; and it lacks SQS's dead-letter redrive
(message_moves). Each module here replaces one of those internals, says what
it replaces, and is tested in tests/unit/moto_patches/, where each patch has a
test that fails when that patch alone is left out (docs/local.md lists them,
with what each is for and what upstream change would retire it).

They are written against one moto release: ``apply()`` refuses any other, so
upgrading moto means re-checking each patch (pyproject.toml pins it;
``make check-moto-latest`` tries them on the newest moto).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Collection, Mapping

PINNED_MOTO_VERSION = "5.2.5"
# Set (to anything but empty) to apply the patches to another moto release: the
# upgrade check does, to see which patches that release still needs.
ANY_VERSION_VARIABLE = "MOTO_PATCHES_ANY_VERSION"

# In the order they are applied; the order matters where one wraps what another installs.
PATCHES = (
    "instance_tracking",
    # Before the change hooks, which wrap whichever update_item is there.
    "simple_updates",
    "change_hooks",
    "transactions",
    "query_index",
    "stream_retention",
    "sqs_costs",
    "sqs_receive",
    "message_moves",
    "dispatch",
    "expression_checks",
    "fast_json",
    # Last: it wraps the writers the patches above installed.
    "write_lock",
)

_applied = False
_lock = threading.Lock()


class UnsupportedMoto(RuntimeError):
    """The installed moto is not the release the patches were written against."""


def check_version(found: str, environ: Mapping[str, str] = os.environ) -> None:
    """Refuse a moto release other than the pinned one, unless ANY_VERSION_VARIABLE is set."""
    if found == PINNED_MOTO_VERSION or environ.get(ANY_VERSION_VARIABLE):
        return
    raise UnsupportedMoto(
        f"app/local/moto_patches is written for moto {PINNED_MOTO_VERSION}, found {found}: "
        f"re-check each patch before moving the pin (make check-moto-latest)"
    )


def apply(skip: Collection[str] = ()) -> None:
    """Install every patch but those in ``skip``, once per process, before the emulator serves a request.

    ``skip`` is for the tests that show a patch is needed: moto without it.
    """
    global _applied
    unknown = set(skip) - set(PATCHES)
    if unknown:
        raise ValueError(f"no such moto patch: {', '.join(sorted(unknown))}")
    with _lock:
        if _applied:
            return
        import moto

        check_version(moto.__version__)
        for name in PATCHES:
            if name not in skip:
                importlib.import_module(f"{__name__}.{name}").apply()
        _applied = True
