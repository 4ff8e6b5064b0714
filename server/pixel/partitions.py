"""`pixel_events` is partitioned by UTC day of the event's own `timestamp`.

Partitions are made ahead (the edge accepts events up to `pixel.max_future_skew_s` ahead
and `MAX_EVENT_AGE` behind, so those days must exist) after the migrations (a step of
server/db.py's AFTER_MIGRATIONS), by each web process at start-up and by the workers'
sweeper once a minute (a retention step of server/sweep.py); raw events past
`pixel.retention_days` go by dropping whole partitions (detached first, without blocking
ingest), never row by row. The same step drops the pipeline's first-seen clients of days
no event can arrive on any more.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.db import AFTER_MIGRATIONS
from server.pixel.events import MAX_EVENT_AGE
from server.sweep import RETENTION_STEPS, SWEEP_BATCH, Retention, in_batches

log = logging.getLogger(__name__)

TABLE = "pixel_events"
PREFIX = "pixel_events_p"
AHEAD_DAYS = 7
_LOCK = "pixel-partitions"

_LIST = """
SELECT c.relname AS name FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'pixel_events'::regclass
"""


def partition_name(day: date) -> str:
    """The partition holding events whose UTC timestamp falls on `day`."""
    return f"{PREFIX}{day:%Y%m%d}"


def _day_of(name: str) -> date | None:
    if not name.startswith(PREFIX):
        return None
    try:
        return datetime.strptime(name[len(PREFIX) :], "%Y%m%d").replace(tzinfo=UTC).date()
    except ValueError:
        return None


def create_sql(day: date) -> str:
    """DDL of one day's partition (idempotent)."""
    return (
        f'CREATE TABLE IF NOT EXISTS "{partition_name(day)}" PARTITION OF {TABLE} '
        f"FOR VALUES FROM ('{day.isoformat()} 00:00:00+00') "
        f"TO ('{(day + timedelta(days=1)).isoformat()} 00:00:00+00')"
    )


async def existing_days(connection: Any) -> list[date]:
    """The days that have a partition, oldest first."""
    rows = await connection.execute_query_dict(_LIST)
    return sorted(d for d in (_day_of(str(r["name"])) for r in rows) if d is not None)


def needed_days(today: date, *, ahead_days: int = AHEAD_DAYS) -> list[date]:
    """Every day an accepted event can fall on, today seen from `today`, plus days ahead."""
    first = today - timedelta(days=MAX_EVENT_AGE.days + 1)
    return [first + timedelta(days=n) for n in range((today - first).days + ahead_days + 1)]


async def ensure_partitions(connection: Any, days: list[date]) -> list[str]:
    """Create the partitions of `days` that are missing (in the caller's transaction)."""
    await connection.execute_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [_LOCK])
    partitioned = await connection.execute_query_dict(
        "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table"
        " WHERE partrelid = to_regclass('pixel_events')) AS yes"
    )
    if not partitioned[0]["yes"]:
        return []  # a schema from before partitioning: its migration makes them
    have = set(await existing_days(connection))
    created = []
    for day in sorted(set(days) - have):
        await connection.execute_script(create_sql(day))
        created.append(partition_name(day))
    return created


async def drop_expired(connection: Any, *, today: date, retention_days: int) -> list[str]:
    """Drop whole partitions older than the retention; outside any transaction."""
    cutoff = today - timedelta(days=retention_days)
    dropped = []
    for day in await existing_days(connection):
        if day >= cutoff:
            break
        name = partition_name(day)
        try:
            # Detached first without blocking inserts into the other partitions.
            await connection.execute_script(
                f'ALTER TABLE {TABLE} DETACH PARTITION "{name}" CONCURRENTLY'
            )
        except Exception as e:  # another worker is detaching it right now
            log.info("partition %s not detached here: %s", name, type(e).__name__)
            continue
        await connection.execute_script(f'DROP TABLE IF EXISTS "{name}"')
        dropped.append(name)
    return dropped


async def maintain_partitions(
    connection: Any, *, today: date | None = None, retention_days: int
) -> tuple[list[str], list[str]]:
    """Create the partitions ahead and drop those past retention: (created, dropped)."""
    today = today or datetime.now(UTC).date()
    async with in_transaction() as transaction:
        created = await ensure_partitions(transaction, needed_days(today))
    dropped = await drop_expired(connection, today=today, retention_days=retention_days)
    if created or dropped:
        log.info(
            "pixel event partitions maintained",
            extra={"partitions_created": len(created), "partitions_dropped": len(dropped)},
        )
    return created, dropped


async def ensure_pixel_partitions() -> None:
    """The daily partitions of pixel_events every accepted event can land in, from today."""
    async with in_transaction() as transaction:
        await ensure_partitions(transaction, needed_days(datetime.now(UTC).date()))


AFTER_MIGRATIONS.append(ensure_pixel_partitions)

# First-seen clients of days no event can arrive on any more (MAX_EVENT_AGE).
_DELETE_DAY_CLIENTS = """
DELETE FROM pixel_day_clients WHERE id IN (
    SELECT id FROM pixel_day_clients WHERE day < $2::date LIMIT $1
)
"""


@RETENTION_STEPS.register("pixel events")
async def pixel_retention(connection: BaseDBAsyncClient, keep: Retention) -> dict[str, int]:
    """Raw event partitions made ahead and dropped past retention; old first-seen clients."""
    created, dropped = await maintain_partitions(
        connection, today=keep.today, retention_days=keep.days.pixel_events_days
    )
    clients = await in_batches(
        connection,
        _DELETE_DAY_CLIENTS,
        keep.today - MAX_EVENT_AGE - timedelta(days=1),
        batch=SWEEP_BATCH * 5,
    )
    return {
        "partitions_created": len(created),
        "partitions_dropped": len(dropped),
        "day_clients_deleted": clients,
    }
