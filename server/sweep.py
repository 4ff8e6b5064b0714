"""What the workers' sweeper runs: each flow's re-send and retention steps.

Work is committed in PostgreSQL before the web process answers; a broker message only wakes
a worker. A flow whose committed work can be left undone registers a re-send step: it
claims what is overdue (`FOR UPDATE SKIP LOCKED`, pushing its due time forward, so
concurrent sweepers do not double the sends) and says which actor to send it to. A flow
that keeps rows for a while registers a retention step. Each flow owns its SQL and its
step; actors/sweeper.py only loops over them. server/flows.py imports every flow, so the
registries are whole before the sweeper reads them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from server.config import OutboxConfig, RetentionConfig
from server.registry import HandlerRegistry

# Rows re-sent or purged per statement; a step runs statements until one comes back short.
SWEEP_BATCH = 1000
MAX_ROUNDS = 20


@dataclass(frozen=True, slots=True)
class Retention:
    """What a retention step reads: how long things are kept, and today's date."""

    outbox: OutboxConfig  # webhook payloads and delivery (dedup) rows, in seconds
    days: RetentionConfig  # pixel events, privacy exports, sync tombstones, in days
    today: date


# A message to send again: (the actor's name in server/actor_names.py, its arguments).
Message = tuple[str, tuple[Any, ...]]
ResendStep = Callable[[BaseDBAsyncClient, OutboxConfig], Awaitable[list[Message]]]
# What the step removed, by what (`exports_expired`: 3), for the sweeper's log line.
RetentionStep = Callable[[BaseDBAsyncClient, Retention], Awaitable[dict[str, int]]]

RESEND_STEPS: HandlerRegistry[str, ResendStep] = HandlerRegistry("re-send step")
RETENTION_STEPS: HandlerRegistry[str, RetentionStep] = HandlerRegistry("retention step")


async def claim_due(
    connection: BaseDBAsyncClient, statement: str, *, stale_after_s: float
) -> list[dict[str, Any]]:
    """Run a re-send claim (`$1` the batch, `$2` the new delay) until it comes back short."""
    claimed: list[dict[str, Any]] = []
    for _ in range(MAX_ROUNDS):
        rows = await connection.execute_query_dict(statement, [SWEEP_BATCH, stale_after_s])
        claimed.extend(rows)
        if len(rows) < SWEEP_BATCH:
            break
    return claimed


async def in_batches(
    connection: BaseDBAsyncClient, statement: str, bound: Any, *, batch: int = SWEEP_BATCH
) -> int:
    """Run a retention statement (`$1` the batch, `$2` its bound) batch by batch until one
    comes back short; the rows it changed."""
    total = 0
    for _ in range(MAX_ROUNDS):
        count, _rows = await connection.execute_query(statement, [batch, bound])
        total += count
        if count < batch:
            break
    return total
