"""Fixes to moto's internals that keep the local emulator honest at scale.

moto is correct for a handful of items and collapses with thousands: it
deep-copies whole tables for every transaction, keeps every model object it
ever made, answers every Query by reading the whole table, and counts a
queue's messages on every send; and it lacks SQS's dead-letter redrive
(message_moves). Each module here replaces one of those
internals, says what it replaces, and is tested (tests/unit/test_moto_patches.py
and tests/integration/test_emulator_scale.py).

They are written against one moto release: ``apply()`` refuses any other, so
upgrading moto means re-reading each patch (pyproject.toml pins it).
"""

from __future__ import annotations

import threading

PINNED_MOTO_VERSION = "5.2.5"

_applied = False
_lock = threading.Lock()


def apply() -> None:
    """Install every patch, once per process, before the emulator serves a request."""
    global _applied
    with _lock:
        if _applied:
            return
        import moto

        if moto.__version__ != PINNED_MOTO_VERSION:
            raise RuntimeError(
                f"app/local/moto_patches is written for moto {PINNED_MOTO_VERSION}, "
                f"found {moto.__version__}: re-check each patch before moving the pin"
            )
        from app.local.moto_patches import (
            change_hooks,
            dispatch,
            expression_checks,
            fast_json,
            instance_tracking,
            message_moves,
            query_index,
            simple_updates,
            sqs_costs,
            sqs_receive,
            stream_retention,
            transactions,
            write_lock,
        )

        instance_tracking.apply()
        # Before the change hooks, which wrap whichever update_item is there.
        simple_updates.apply()
        change_hooks.apply()
        transactions.apply()
        query_index.apply()
        stream_retention.apply()
        sqs_costs.apply()
        sqs_receive.apply()
        message_moves.apply()
        dispatch.apply()
        expression_checks.apply()
        fast_json.apply()
        # Last: it wraps the writers the patches above installed.
        write_lock.apply()
        _applied = True
