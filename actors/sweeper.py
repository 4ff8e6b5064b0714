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
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from tortoise import Tortoise

from actors.middleware import BackgroundThread
from server.config import Config, OutboxConfig, RetentionConfig

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


# The rest of retention: small tables, or bounded by an index.
_EXPIRE_EXPORTS = """
UPDATE compliance_requests SET export = NULL, status = 'expired'
WHERE status = 'completed' AND completed_at < now() - make_interval(days => $1)
"""
_DELETE_TOMBSTONES = """
DELETE FROM sync_tombstones WHERE deleted_at < now() - make_interval(days => $1)
"""
# First-seen clients of days no event can arrive on any more (pixel.MAX_EVENT_AGE).
_DELETE_DAY_CLIENTS = """
DELETE FROM pixel_day_clients WHERE id IN (
    SELECT id FROM pixel_day_clients WHERE day < $2::date LIMIT $1
)
"""


@dataclass
class SweepResult:
    """What one sweep found: deliveries to send again, and whether the pixel inbox is owed."""

    deliveries: list[tuple[int, str]] = field(default_factory=list)
    flow_runs: list[int] = field(default_factory=list)
    pixel_stale: bool = False
    payloads_purged: int = 0
    deliveries_deleted: int = 0
    flow_runs_deleted: int = 0
    retained: dict[str, int] = field(default_factory=dict)


async def apply_retention(
    retention: RetentionConfig, *, today: date | None = None
) -> dict[str, int]:
    """Everything past its retention goes: raw event partitions, exports, tombstones, clients."""
    from server.pixel.events import MAX_EVENT_AGE
    from server.pixel.partitions import maintain_partitions

    today = today or datetime.now(UTC).date()
    connection = Tortoise.get_connection("default")
    created, dropped = await maintain_partitions(
        connection, today=today, retention_days=retention.pixel_events_days
    )
    exports, _ = await connection.execute_query(_EXPIRE_EXPORTS, [retention.privacy_exports_days])
    tombstones, _ = await connection.execute_query(
        _DELETE_TOMBSTONES, [retention.sync_tombstones_days]
    )
    clients = 0
    for _ in range(MAX_ROUNDS):
        count, _rows = await connection.execute_query(
            _DELETE_DAY_CLIENTS, [SWEEP_BATCH * 5, today - MAX_EVENT_AGE - timedelta(days=1)]
        )
        clients += count
        if count < SWEEP_BATCH * 5:
            break
    return {
        "partitions_created": len(created),
        "partitions_dropped": len(dropped),
        "exports_expired": exports,
        "tombstones_deleted": tombstones,
        "day_clients_deleted": clients,
    }


async def sweep_once(
    outbox: OutboxConfig, *, purge: bool = False, retention: RetentionConfig | None = None
) -> SweepResult:
    """Claim what is due for another dispatch (and, with `purge`, apply retention)."""
    from server.flow.actions import DUE_RUNS_SQL, PURGE_RUNS_SQL
    from server.pixel.pipeline import STALE_INBOX_SQL

    connection = Tortoise.get_connection("default")
    result = SweepResult()
    for _ in range(MAX_ROUNDS):
        rows = await connection.execute_query_dict(
            _DUE_DELIVERIES, [SWEEP_BATCH, outbox.stale_after_s]
        )
        result.deliveries.extend((int(r["id"]), str(r["topic"])) for r in rows)
        if len(rows) < SWEEP_BATCH:
            break
    for _ in range(MAX_ROUNDS):
        rows = await connection.execute_query_dict(
            DUE_RUNS_SQL, [SWEEP_BATCH, outbox.stale_after_s]
        )
        result.flow_runs.extend(int(r["id"]) for r in rows)
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
        result.flow_runs_deleted = await _in_batches(
            connection, PURGE_RUNS_SQL, outbox.dedup_retention_s
        )
        if retention is not None:
            result.retained = await apply_retention(retention)
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
    from server.flow.actions import APPLY_ACTOR
    from server.webhooks.topics import group_by_actor

    sent = 0
    for actor_name, ids in group_by_actor(result.deliveries).items():
        broker.get_actor(actor_name).send(ids)
        sent += len(ids)
    if result.flow_runs:
        broker.get_actor(APPLY_ACTOR).send(result.flow_runs)
        sent += len(result.flow_runs)
    if result.pixel_stale:
        broker.get_actor("aggregate_pixel_inbox").send()
    return sent


class OutboxSweeper(BackgroundThread):
    """A thread per worker process that sweeps every `outbox.sweep_interval_s`."""

    thread_name = "outbox-sweeper"
    join_timeout_s = 10.0

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.outbox = config.outbox
        self.retention = config.retention

    def run(self, broker: dramatiq.Broker) -> None:
        loop_thread = get_event_loop_thread()
        if loop_thread is None:
            log.error("outbox sweeper needs the AsyncIO middleware; not sweeping")
            return
        next_purge = time.monotonic()
        while not self.stopping.wait(self.outbox.sweep_interval_s):
            purge = time.monotonic() >= next_purge
            try:
                result: Any = loop_thread.run_coroutine(
                    sweep_once(self.outbox, purge=purge, retention=self.retention)
                )
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
            purged = (result.payloads_purged, result.deliveries_deleted, result.flow_runs_deleted)
            if any(purged) or any(result.retained.values()):
                log.info(
                    "retention applied",
                    extra={
                        "payloads_purged": result.payloads_purged,
                        "deliveries_deleted": result.deliveries_deleted,
                        "flow_runs_deleted": result.flow_runs_deleted,
                        **result.retained,
                    },
                )
