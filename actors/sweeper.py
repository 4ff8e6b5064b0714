"""The outbox sweeper: committed work that no worker finished is sent to the workers again.

A delivery or pixel day is committed in PostgreSQL before the web process answers 2xx; the
broker message that follows only wakes a worker. Whatever loses that message (Redis down
or restarted empty, a worker SIGKILLed holding it, a send that failed) leaves the work
pending in PostgreSQL, and every worker process's sweeper thread finds it once it has been
pending for `outbox.stale_after_s`, and sends it again. Concurrent sweepers do not double
the sends: each claims what it re-sends (`FOR UPDATE SKIP LOCKED`) and pushes its due time
forward. Once a minute it also purges webhook payloads and delivery rows past retention.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import Middleware
from tortoise import Tortoise

from server.config import Config, OutboxConfig

log = logging.getLogger(__name__)

# Rows re-sent or purged per statement; a sweep runs statements until one comes back short.
SWEEP_BATCH = 1000
MAX_ROUNDS = 20
PURGE_INTERVAL_S = 60.0

_DUE_DELIVERIES = """
UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => $2)
WHERE id IN (
    SELECT id FROM webhook_deliveries
    WHERE state = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
RETURNING id, topic
"""

# Payloads past retention (a pending delivery keeps its payload: it is still owed).
_PURGE_PAYLOADS = """
UPDATE webhook_deliveries SET payload = NULL
WHERE id IN (
    SELECT id FROM webhook_deliveries
    WHERE payload IS NOT NULL AND received_at < now() - make_interval(secs => $2)
      AND state <> 'pending'
    ORDER BY received_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
"""

# Delivery rows (the dedup key) past their longer retention: ids grow with time, so the
# oldest rows are the lowest ids, and looking at a bounded slice of them costs the same
# however many rows the table holds.
_PURGE_DELIVERIES = """
DELETE FROM webhook_deliveries
WHERE id IN (
    SELECT id FROM (
        SELECT id, received_at, state FROM webhook_deliveries ORDER BY id LIMIT $1
    ) oldest
    WHERE received_at < now() - make_interval(secs => $2) AND state <> 'pending'
)
"""


@dataclass
class SweepResult:
    """What one sweep found: deliveries to send again, and whether the pixel inbox is owed."""

    deliveries: list[tuple[int, str]] = field(default_factory=list)
    pixel_stale: bool = False
    payloads_purged: int = 0
    deliveries_deleted: int = 0


async def sweep_once(outbox: OutboxConfig, *, purge: bool = False) -> SweepResult:
    """Claim what is due for another dispatch (and, with `purge`, apply retention)."""
    from actors.pixel import STALE_INBOX_SQL

    connection = Tortoise.get_connection("default")
    result = SweepResult()
    for _ in range(MAX_ROUNDS):
        rows = await connection.execute_query_dict(
            _DUE_DELIVERIES, [SWEEP_BATCH, outbox.stale_after_s]
        )
        result.deliveries.extend((int(r["id"]), str(r["topic"])) for r in rows)
        if len(rows) < SWEEP_BATCH:
            break
    stale = await connection.execute_query_dict(STALE_INBOX_SQL, [outbox.stale_after_s])
    result.pixel_stale = bool(stale[0]["stale"])
    if purge:
        result.payloads_purged = await _in_batches(
            connection, _PURGE_PAYLOADS, outbox.payload_retention_s
        )
        result.deliveries_deleted = await _in_batches(
            connection, _PURGE_DELIVERIES, outbox.dedup_retention_s
        )
    return result


async def _in_batches(connection: Any, statement: str, retention_s: int) -> int:
    """Run a retention statement batch by batch until one comes back short; rows changed."""
    total = 0
    for _ in range(MAX_ROUNDS):
        count, _rows = await connection.execute_query(statement, [SWEEP_BATCH, retention_s])
        total += count
        if count < SWEEP_BATCH:
            break
    return total


def send_swept(result: SweepResult, broker: dramatiq.Broker) -> int:
    """Send the sweep's work to the workers (blocking I/O: call it from a thread)."""
    from actors.webhooks import group_by_actor

    sent = 0
    for actor, ids in group_by_actor(result.deliveries).items():
        broker.get_actor(actor.actor_name).send(ids)
        sent += len(ids)
    if result.pixel_stale:
        broker.get_actor("aggregate_pixel_inbox").send()
    return sent


class OutboxSweeper(Middleware):
    """A thread per worker process that sweeps every `outbox.sweep_interval_s`."""

    def __init__(self, config: Config) -> None:
        self.outbox = config.outbox
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(broker,), name="outbox-sweeper", daemon=True
        )
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self, broker: dramatiq.Broker) -> None:
        loop_thread = get_event_loop_thread()
        if loop_thread is None:
            log.error("outbox sweeper needs the AsyncIO middleware; not sweeping")
            return
        next_purge = time.monotonic()
        while not self._stop.wait(self.outbox.sweep_interval_s):
            purge = time.monotonic() >= next_purge
            try:
                result: Any = loop_thread.run_coroutine(sweep_once(self.outbox, purge=purge))
                if purge:
                    next_purge = time.monotonic() + PURGE_INTERVAL_S
                sent = send_swept(result, broker)
            except Exception as e:
                # The database or the broker is down: the work stays pending; next sweep.
                log.warning("outbox sweep failed: %s", type(e).__name__)
                continue
            if sent or result.pixel_stale:
                log.info(
                    "outbox sweep re-sent work",
                    extra={"deliveries": sent, "pixel_inbox": result.pixel_stale},
                )
            if result.payloads_purged or result.deliveries_deleted:
                log.info(
                    "retention applied",
                    extra={
                        "payloads_purged": result.payloads_purged,
                        "deliveries_deleted": result.deliveries_deleted,
                    },
                )
