"""Logger shared by every function (Powertools: JSON lines, Lambda context)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger


@lru_cache
def get_logger() -> Logger:
    from aws_lambda_powertools import Logger

    return Logger()
