"""The emulator's TTL sweeper keeps going after a failed sweep."""

from __future__ import annotations

from app.local import ttl
from tests.conftest import wait_until


def test_a_failed_sweep_does_not_stop_the_sweeper(monkeypatch, capsys):
    calls = []

    def tables() -> list:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("dictionary changed size during iteration")
        return []

    monkeypatch.setattr(ttl, "all_tables", tables)
    sweeper = ttl.TtlSweeper(sweep_seconds=0.01).start()
    try:
        wait_until(lambda: len(calls) >= 3, timeout=5, what="sweeps after the failed one")
    finally:
        sweeper.stop()
    assert "ttl: sweep failed" in capsys.readouterr().err
