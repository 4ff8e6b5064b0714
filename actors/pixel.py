"""The pixel event pipeline after ingest: aggregation, version history, last event time.

The web process commits events in `pixel_events` and the work they create in
`pixel_pipeline_inbox` (one row per shop, UTC day and pixel version) in one statement
(server/pixel/store.py), then wakes `aggregate_pixel_inbox`. The aggregation step claims
inbox rows, recounts each claimed (shop, day) from the stored events, records versions and
the last event time, and deletes the rows in the same transaction, unless more events came
for them meanwhile (their `seq` moved on; they stay for the next step). Nothing here lives
only in the broker: a lost wake-up is found by the sweeper (actors/sweeper.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from datetime import date
from typing import Any

import dramatiq
import orjson
from tortoise import Tortoise
from tortoise.transactions import in_transaction

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.resources import resources
from models.pixel import PIPELINE_FAILED, PIPELINE_PENDING
from server.config import OutboxConfig
from server.stores import store_down

log = logging.getLogger(__name__)

PIXEL_QUEUE = "pixel"
# Inbox rows one aggregation step claims at a time. A claim holds for
# `outbox.stale_after_s`: a dead worker's claim lapses and the sweeper sends the work again.
CLAIM_ROWS = 200
# One message works at most this long, then hands the rest to a fresh message.
STEP_BUDGET_S = 30.0
# Aggregation takes this advisory lock per shop, so two workers never interleave the
# delete-and-recount of the same shop's days.
_AGGREGATE_LOCK = "pixel-aggregate:"


# The (shop, UTC day) pairs of a message, with each day's bounds: every statement below
# starts from it.
_DAYS = """
WITH t AS (
    SELECT t.shop_id, t.day,
           (t.day::timestamp AT TIME ZONE 'UTC') AS lo,
           ((t.day + 1)::timestamp AT TIME ZONE 'UTC') AS hi
    FROM jsonb_to_recordset($1::text::jsonb) AS t(shop_id bigint, day date)
)
"""

_DELETE_COUNTS = (
    _DAYS
    + """
DELETE FROM pixel_daily_aggregates a USING t WHERE a.shop_id = t.shop_id AND a.day = t.day
"""
)

_INSERT_COUNTS = (
    _DAYS
    + """
INSERT INTO pixel_daily_aggregates (shop_id, day, name, count, distinct_clients, updated_at)
SELECT t.shop_id, t.day, e.name, count(*), count(DISTINCT e.client_id), now()
FROM t JOIN pixel_events e
  ON e.shop_id = t.shop_id AND e."timestamp" >= t.lo AND e."timestamp" < t.hi
GROUP BY t.shop_id, t.day, e.name
"""
)

_DELETE_REVENUE = (
    _DAYS
    + """
DELETE FROM pixel_daily_revenue r USING t WHERE r.shop_id = t.shop_id AND r.day = t.day
"""
)

# checkout_completed carries data.checkout.totalPrice {amount, currencyCode} (MoneyV2);
# anything else in there is skipped rather than failing the whole day.
_REVENUE_BY_CURRENCY = """
c AS (
    SELECT t.shop_id, t.day,
           coalesce(e.data #>> '{checkout,totalPrice,currencyCode}',
                    e.data #>> '{checkout,currencyCode}') AS currency,
           e.data #> '{checkout,totalPrice,amount}' AS amount
    FROM t JOIN pixel_events e
      ON e.shop_id = t.shop_id AND e."timestamp" >= t.lo AND e."timestamp" < t.hi
    WHERE e.name = 'checkout_completed'
)
INSERT INTO pixel_daily_revenue (shop_id, day, currency, orders, revenue, updated_at)
SELECT shop_id, day, currency, count(*),
       coalesce(sum(CASE
           WHEN jsonb_typeof(amount) = 'number' AND abs((amount #>> '{}')::numeric) < 1e12
           THEN (amount #>> '{}')::numeric
           WHEN jsonb_typeof(amount) = 'string' AND (amount #>> '{}') ~ '^-?[0-9]{1,12}(\\.[0-9]{1,4})?$'
           THEN (amount #>> '{}')::numeric
       END), 0),
       now()
FROM c
WHERE currency ~ '^[A-Z]{3}$'
GROUP BY shop_id, day, currency
"""
_INSERT_REVENUE = _DAYS.rstrip() + ",\n" + _REVENUE_BY_CURRENCY


_CLAIM = """
UPDATE pixel_pipeline_inbox SET claimed_until = now() + make_interval(secs => $2)
WHERE id IN (
    SELECT id FROM pixel_pipeline_inbox
    WHERE state = 'pending' AND (claimed_until IS NULL OR claimed_until < now())
    ORDER BY shop_id, day
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
RETURNING id, shop_id, day, version, first_at, last_at, seq
"""

_TOUCH_PIXEL = """
UPDATE web_pixels w
SET last_event_at = GREATEST(w.last_event_at, $2),
    version = CASE WHEN $3 <> '' AND (w.last_event_at IS NULL OR $2 >= w.last_event_at)
                   THEN $3 ELSE w.version END,
    updated_at = now()
WHERE w.shop_id = $1
"""

_UPSERT_VERSIONS = """
INSERT INTO web_pixel_versions (web_pixel_id, version, first_seen_at, last_seen_at)
SELECT w.id, v.version, v.first_at, v.last_at
FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS v(version, first_at, last_at)
JOIN web_pixels w ON w.shop_id = $1
ON CONFLICT (web_pixel_id, version) DO UPDATE
SET first_seen_at = LEAST(web_pixel_versions.first_seen_at, EXCLUDED.first_seen_at),
    last_seen_at = GREATEST(web_pixel_versions.last_seen_at, EXCLUDED.last_seen_at)
"""

# Done: the claimed rows go, unless an ingest flush touched them since the claim (their
# seq moved on); those are released for the next step at once.
_FINISH = """
WITH done AS (
    DELETE FROM pixel_pipeline_inbox i
    USING unnest($1::bigint[], $2::bigint[]) AS c(id, seq)
    WHERE i.id = c.id AND i.seq = c.seq
    RETURNING i.id
)
UPDATE pixel_pipeline_inbox SET claimed_until = NULL
WHERE id = ANY($1::bigint[]) AND id NOT IN (SELECT id FROM done)
"""

_FAILED = """
UPDATE pixel_pipeline_inbox SET
    attempts = attempts + 1,
    last_error = $2,
    state = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE state END,
    claimed_until = now() + make_interval(secs => least($4 * power(2, attempts), $5))
WHERE id = ANY($1::bigint[])
RETURNING state
"""


async def aggregate_day(shop_id: int, day: date, rows: list[dict[str, Any]]) -> None:
    """Recount one (shop, UTC day), record its versions and last event, settle its rows."""
    target = orjson.dumps([{"shop_id": shop_id, "day": day.isoformat()}]).decode()
    latest = max(rows, key=lambda r: r["last_at"])
    versioned = [r for r in rows if r["version"]]
    async with in_transaction() as connection:
        await connection.execute_query(
            "SELECT pg_advisory_xact_lock(hashtextextended($1 || $2::bigint::text, 0))",
            [_AGGREGATE_LOCK, shop_id],
        )
        await connection.execute_query(_DELETE_COUNTS, [target])
        await connection.execute_query(_INSERT_COUNTS, [target])
        await connection.execute_query(_DELETE_REVENUE, [target])
        await connection.execute_query(_INSERT_REVENUE, [target])
        await connection.execute_query(
            _TOUCH_PIXEL, [shop_id, latest["last_at"], latest["version"]]
        )
        if versioned:
            await connection.execute_query(
                _UPSERT_VERSIONS,
                [
                    shop_id,
                    [r["version"] for r in versioned],
                    [r["first_at"] for r in versioned],
                    [r["last_at"] for r in versioned],
                ],
            )
        await connection.execute_query(_FINISH, [[r["id"] for r in rows], [r["seq"] for r in rows]])


async def _record_failure(
    rows: list[dict[str, Any]], error: BaseException, outbox: OutboxConfig
) -> str:
    result = await Tortoise.get_connection("default").execute_query_dict(
        _FAILED,
        [
            [r["id"] for r in rows],
            f"{type(error).__name__}: {error}"[:255],
            outbox.max_attempts,
            outbox.retry_backoff_s,
            outbox.retry_backoff_max_s,
        ],
    )
    return str(result[0]["state"]) if result else PIPELINE_PENDING


async def aggregate_inbox(
    *, outbox: OutboxConfig, budget_s: float = STEP_BUDGET_S
) -> dict[str, int]:
    """Work the inbox until it is empty (or the budget is spent); counts of days by outcome.

    A store that is down raises (the claims lapse and the work waits); a day that fails
    for any other reason is retried after a backoff, then marked failed.
    """
    outcomes: dict[str, int] = defaultdict(int)
    deadline = time.monotonic() + budget_s
    connection = Tortoise.get_connection("default")
    while time.monotonic() < deadline:
        claimed = await connection.execute_query_dict(_CLAIM, [CLAIM_ROWS, outbox.stale_after_s])
        if not claimed:
            return dict(outcomes)
        days: dict[tuple[int, date], list[dict[str, Any]]] = defaultdict(list)
        for row in claimed:
            days[(int(row["shop_id"]), row["day"])].append(row)
        for (shop_id, day), rows in sorted(days.items()):
            try:
                await aggregate_day(shop_id, day, rows)
            except Exception as e:
                if store_down(e):
                    raise
                state = await _record_failure(rows, e, outbox)
                log.warning(
                    "pixel aggregation failed: %s",
                    type(e).__name__,
                    extra={"shop_id": shop_id, "day": day.isoformat(), "state": state},
                )
                outcomes["failed" if state == PIPELINE_FAILED else "retry"] += 1
            else:
                outcomes["done"] += 1
    outcomes["more"] += 1
    return dict(outcomes)


@dramatiq.actor(
    queue_name=PIXEL_QUEUE,
    max_retries=5,
    min_backoff=1_000,
    max_backoff=60_000,
    time_limit=600_000,
)
async def aggregate_pixel_inbox() -> None:
    """Aggregate what the pixel inbox owes; a fresh message continues if work is left."""
    outcomes = await aggregate_inbox(outbox=resources().config.outbox)
    if outcomes.get("more"):
        await asyncio.to_thread(aggregate_pixel_inbox.send)  # send is blocking I/O


# The sweeper's question: is there owed work that no wake-up reached in time?
STALE_INBOX_SQL = """
SELECT EXISTS (
    SELECT 1 FROM pixel_pipeline_inbox
    WHERE state = 'pending' AND (claimed_until IS NULL OR claimed_until < now())
      AND created_at < now() - make_interval(secs => $1)
) AS stale
"""
