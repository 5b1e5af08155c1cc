"""Dashboard passwords: argon2id hashes only (argon2-cffi), never the password itself.

The parameters are OWASP's recommended minimum for argon2id (19 MiB, 2
passes, 1 lane): about 0.1 s per check here, and within a 512 MB Lambda.
"""

from __future__ import annotations

import functools
from typing import Any

TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1


@functools.cache
def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)


@functools.cache
def _unknown_user_hash() -> str:
    # Checked when the user name is unknown, so that timing does not tell which names exist.
    return _hasher().hash("no user has this password")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify(users: dict[str, str], user: str, password: str) -> bool:
    """Whether ``password`` is ``user``'s; the same work whether or not the user exists."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    known = user in users
    try:
        return _hasher().verify(users[user] if known else _unknown_user_hash(), password) and known
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
