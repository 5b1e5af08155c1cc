"""dispatch: the server routes a request without listing moto's folder or inspecting its classes again."""

from __future__ import annotations

import inspect
import os
from typing import Any

import pytest

REQUESTS = 5


@pytest.mark.needs_patch("dispatch")
def test_requests_do_not_list_moto_s_services_or_its_handler_methods_again(aws, monkeypatch):
    import moto

    dynamodb = aws("dynamodb")
    dynamodb.list_tables()  # the first request may fill the caches
    moto_folder = os.path.dirname(moto.__file__)
    listed: list[str] = []
    inspected: list[Any] = []
    listdir, getmembers = os.listdir, inspect.getmembers

    def counting_listdir(path: Any = ".") -> list[str]:
        if os.fspath(path) == moto_folder:
            listed.append(path)
        return listdir(path)

    def counting_getmembers(thing: Any, predicate: Any = None) -> Any:
        inspected.append(thing)
        return getmembers(thing, predicate)

    monkeypatch.setattr(os, "listdir", counting_listdir)
    monkeypatch.setattr(inspect, "getmembers", counting_getmembers)
    for _ in range(REQUESTS):
        dynamodb.list_tables()
    assert listed == [] and inspected == []
