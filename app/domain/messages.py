"""The message the publisher sends for each new task, as workers read it."""

from __future__ import annotations

import json
from dataclasses import dataclass


class MalformedMessage(ValueError):
    pass


@dataclass(frozen=True)
class TaskMessage:
    task_id: str
    task_type: str

    def to_json(self) -> str:
        return json.dumps({"task_id": self.task_id, "task_type": self.task_type})

    @classmethod
    def from_json(cls, body: str) -> TaskMessage:
        try:
            fields = json.loads(body)
            task_id, task_type = fields["task_id"], fields["task_type"]
        except (ValueError, TypeError, KeyError) as exc:
            raise MalformedMessage(f"not a task message: {body[:200]!r}") from exc
        if not isinstance(task_id, str) or not isinstance(task_type, str):
            raise MalformedMessage(f"not a task message: {body[:200]!r}")
        return cls(task_id, task_type)
