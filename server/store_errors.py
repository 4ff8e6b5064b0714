"""Telling "a store is down" from a bug: the errors that mean 503 with Retry-After."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
import redis
from tortoise.exceptions import DBConnectionError

from server.problem import Problem

# Connection-level failures of PostgreSQL (asyncpg, raw or wrapped by Tortoise) and Redis,
# plus the transient ones a retry resolves (deadlock, serialization).
STORE_DOWN_ERRORS: tuple[type[BaseException], ...] = (
    # Includes ConnectionError (refused, reset) and the plain OSError asyncio raises when
    # every address of a host failed; store_down() leaves out the ones naming a file.
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # A connection whose server went away mid-operation can report this on its next use.
    asyncpg.InternalClientError,
    asyncpg.OperatorInterventionError,  # admin shutdown, cannot connect now
    asyncpg.ObjectNotInPrerequisiteStateError,  # database not accepting connections
    asyncpg.TooManyConnectionsError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    DBConnectionError,
    redis.ConnectionError,
    redis.TimeoutError,
)


def store_down(error: BaseException) -> bool:
    """Whether the error, or what caused it, says a store is unreachable or must be retried."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 6:
        if isinstance(current, STORE_DOWN_ERRORS) and not _names_a_file(current):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _names_a_file(error: BaseException) -> bool:
    # open() or stat() of a path that is missing or refused: the program's or the disk's
    # fault, not a store's (a socket's connect error carries no file name).
    return isinstance(error, OSError) and error.filename is not None


def store_down_problem() -> Problem:
    """503 with Retry-After: the client (or Shopify) should simply try again."""
    return Problem.unavailable(
        "A data store is unavailable; nothing was changed. Try again shortly."
    )
