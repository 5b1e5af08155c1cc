"""moto with the patches of app/local/moto_patches applied, in-process and as a server on loopback.

Every patch has tests marked ``needs_patch("<patch>")``: each fails on moto
without that patch. ``MOTO_PATCHES_WITHOUT=<patch>`` shows it: the patch is
left out, only its marked tests run, and each is expected to fail (a strict
xfail, so one that passes fails the run). tests/unit/test_moto_patch_checks.py
runs that for every patch; ``make check-moto-latest`` runs it on the newest moto.
``MOTO_PATCHES_SKIP=<a>,<b>`` only leaves patches out (one that no longer applies).

Nothing here imports the app beyond the patches, so these tests run in a bare
venv with moto, pytest and hypothesis (``--confcutdir`` this folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.local import moto_patches
from tests.unit.moto_patches.backends import REGION

WITHOUT = os.environ.get("MOTO_PATCHES_WITHOUT", "")
SKIPPED = {name for name in os.environ.get("MOTO_PATCHES_SKIP", "").split(",") if name} | (
    {WITHOUT} if WITHOUT else set()
)

moto_patches.apply(skip=SKIPPED)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_patch(name): fails on moto without that patch")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not WITHOUT:
        return
    kept, dropped = [], []
    for item in items:
        marks = [mark.args[0] for mark in item.iter_markers("needs_patch")]
        if WITHOUT in marks:
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"moto without the {WITHOUT} patch"))
            kept.append(item)
        else:
            dropped.append(item)
    config.hook.pytest_deselected(items=dropped)
    items[:] = kept


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server on loopback, in this process (so a test can look at its backends too)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str) -> Callable[[str], Any]:
    """A boto3 client of the server: aws("dynamodb")."""
    import boto3
    from botocore.config import Config

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=moto_endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}, proxies={}),
        )

    return client
