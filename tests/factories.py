"""Builders of test data, unique per call so tests never share state."""

from __future__ import annotations

import time
import uuid
from typing import Any

from app.domain.task import Task, new_task

FAR_FUTURE = 4_000_000_000


def a_task(task_type: str = "TASK1", data: dict[str, Any] | None = None, now: float | None = None) -> Task:
    return new_task(
        task_type, data if data is not None else {"marker": uuid.uuid4().hex}, FAR_FUTURE, now or time.time()
    )
