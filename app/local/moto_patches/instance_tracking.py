"""moto keeps every model instance it ever creates; we don't.

``moto.core.common_models.BaseModel.__new__`` appends each new instance to its
class's ``instances_tracked`` list, which nothing ever empties: every DynamoDB
``Item`` (and each copy of one), stream record and SQS message stays alive for
the life of the process. Only moto's own model-listing API and S3 clean-up read
those lists, and we use neither.
"""

from __future__ import annotations

from typing import Any

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "memory"


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


def apply() -> None:
    from moto.core.common_models import BaseModel

    BaseModel.__new__ = _untracked_new  # type: ignore[method-assign,assignment]
