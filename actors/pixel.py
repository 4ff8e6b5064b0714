"""The pixel event pipeline: persist batches (dedup on shop + event id), then aggregate.

Messages carry one JSON string, built by the web process's group commit:
`{"v": 1, "batches": [{"shop_id", "received_at", "version", "events": [...]}, ...]}`, each
event already validated and sanitised. Both actors are idempotent, so the broker's
at-least-once delivery (retries, redelivery after a worker dies) never duplicates anything.
"""

from __future__ import annotations

import asyncio
from typing import Any

import dramatiq
import orjson
from redis.asyncio import Redis
from tortoise.transactions import in_transaction

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.resources import resources

PIXEL_QUEUE = "pixel"
PAYLOAD_VERSION = 1
# Aggregation takes this advisory lock per shop, so two workers never interleave the
# delete-and-recount of the same shop's days.
_AGGREGATE_LOCK = "pixel-aggregate:"


class PoisonMessage(ValueError):
    """A payload no retry can fix (wrong shape or version); dead-lettered at once."""


def parse_payload(payload: str) -> list[dict[str, Any]]:
    """The batches of a persist message; PoisonMessage when it is not one."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise PoisonMessage("payload is not JSON") from None
    if not isinstance(data, dict) or data.get("v") != PAYLOAD_VERSION:
        raise PoisonMessage("unknown payload version")
    batches = data.get("batches")
    if not isinstance(batches, list):
        raise PoisonMessage("batches must be a list")
    for batch in batches:
        if (
            not isinstance(batch, dict)
            or not isinstance(batch.get("shop_id"), int)
            or not isinstance(batch.get("received_at"), str)
            or not isinstance(batch.get("events"), list)
            or not all(
                isinstance(e, dict) and isinstance(e.get("ts"), str) for e in batch["events"]
            )
        ):
            raise PoisonMessage("a batch is malformed")
    return batches


_INSERT_EVENTS = """
WITH inserted AS (
INSERT INTO pixel_events
    (shop_id, event_id, name, "timestamp", client_id, seq, type, context, data, received_at,
     customer_email, customer_phone)
SELECT (b->>'shop_id')::bigint, e->>'event_id', e->>'name', (e->>'ts')::timestamptz,
       e->>'client_id', (e->>'seq')::bigint, e->>'type',
       coalesce(e->'context', '{}'::jsonb), coalesce(e->'data', '{}'::jsonb),
       (b->>'received_at')::timestamptz,
       -- Checkout events name the buyer: kept as columns for privacy requests.
       nullif(lower(left(e->'data'->'checkout'->>'email', 320)), ''),
       nullif(left(e->'data'->'checkout'->>'phone', 64), '')
FROM jsonb_array_elements($1::text::jsonb -> 'batches') AS b
CROSS JOIN LATERAL jsonb_array_elements(b -> 'events') AS e
-- A shop deleted (shop/redact) after its events were queued: drop them, don't fail.
WHERE EXISTS (SELECT 1 FROM shops s WHERE s.id = (b->>'shop_id')::bigint)
-- A customer redacted (customers/redact) while their events were queued: drop those too.
  AND NOT EXISTS (
    SELECT 1 FROM redacted_identities r
    WHERE r.shop_id = (b->>'shop_id')::bigint
      AND (r.kind, r.value_hash) IN (
        ('client_id', encode(sha256(convert_to(e->>'client_id', 'UTF8')), 'hex')),
        ('email', encode(sha256(convert_to(
            lower(left(e->'data'->'checkout'->>'email', 320)), 'UTF8')), 'hex')),
        ('phone', encode(sha256(convert_to(
            left(e->'data'->'checkout'->>'phone', 64), 'UTF8')), 'hex'))
      )
  )
ON CONFLICT (shop_id, event_id) DO NOTHING
RETURNING 1
)
SELECT count(*) AS n FROM inserted
"""

_TOUCH_PIXELS = """
WITH b AS (
    SELECT (b->>'shop_id')::bigint AS shop_id, (b->>'received_at')::timestamptz AS at,
           nullif(b->>'version', '') AS version
    FROM jsonb_array_elements($1::text::jsonb -> 'batches') AS b
    WHERE jsonb_array_length(b -> 'events') > 0
),
latest AS (
    SELECT DISTINCT ON (shop_id) shop_id, at, version FROM b ORDER BY shop_id, at DESC
)
UPDATE web_pixels w
SET last_event_at = GREATEST(w.last_event_at, l.at),
    version = CASE WHEN l.version IS NOT NULL
                    AND (w.last_event_at IS NULL OR l.at >= w.last_event_at)
                   THEN l.version ELSE w.version END,
    updated_at = now()
FROM latest l
WHERE w.shop_id = l.shop_id
"""

_UPSERT_VERSIONS = """
WITH b AS (
    SELECT (b->>'shop_id')::bigint AS shop_id, (b->>'received_at')::timestamptz AS at,
           nullif(b->>'version', '') AS version
    FROM jsonb_array_elements($1::text::jsonb -> 'batches') AS b
    WHERE jsonb_array_length(b -> 'events') > 0
)
INSERT INTO web_pixel_versions (web_pixel_id, version, first_seen_at, last_seen_at)
SELECT w.id, b.version, min(b.at), max(b.at)
FROM b JOIN web_pixels w ON w.shop_id = b.shop_id
WHERE b.version IS NOT NULL
GROUP BY w.id, b.version
ON CONFLICT (web_pixel_id, version) DO UPDATE
SET first_seen_at = LEAST(web_pixel_versions.first_seen_at, EXCLUDED.first_seen_at),
    last_seen_at = GREATEST(web_pixel_versions.last_seen_at, EXCLUDED.last_seen_at)
"""


def touched_days(batches: list[dict[str, Any]]) -> list[list[Any]]:
    """Sorted [shop_id, "YYYY-MM-DD"] pairs (UTC days) the batches have events on."""
    # `ts` is normalised to UTC ISO 8601 by the web process, so its first ten characters
    # are the UTC day.
    pairs = {(b["shop_id"], e["ts"][:10]) for b in batches for e in b["events"]}
    return [[shop_id, day] for shop_id, day in sorted(pairs)]


# Aggregation of a (shop, day) is debounced: the first persist that touches it schedules
# one recount this much later; persists meanwhile find it scheduled and add nothing. A
# recount clears the mark before it reads, so a persist that commits after the read always
# schedules another: nothing is left out, and a busy shop costs one recount per window,
# not one per batch.
AGGREGATE_DELAY_MS = 1000
# Only a lost message could leave a mark behind; it lapses and the next persist reschedules.
AGGREGATE_MARK_TTL_S = 60


def _mark_key(shop_id: int, day: str) -> str:
    return f"pixel:aggregate-scheduled:{shop_id}:{day}"


async def request_aggregation(days: list[list[Any]], redis: Redis | None) -> None:
    """Schedule a recount of these (shop, day) pairs unless one is already scheduled."""
    if redis is None:  # no shared marks (code run outside a worker): recount each time
        await asyncio.to_thread(aggregate_pixel_days.send, days)
        return
    async with redis.pipeline(transaction=False) as pipe:
        for shop_id, day in days:
            pipe.set(_mark_key(shop_id, day), 1, nx=True, ex=AGGREGATE_MARK_TTL_S)
        marked = await pipe.execute()
    fresh = [pair for pair, ok in zip(days, marked, strict=True) if ok]
    if not fresh:
        return
    try:
        await asyncio.to_thread(
            aggregate_pixel_days.send_with_options, args=(fresh,), delay=AGGREGATE_DELAY_MS
        )
    except BaseException:
        # Not scheduled after all: clear the marks so this message's retry schedules it.
        await redis.delete(*(_mark_key(shop_id, day) for shop_id, day in fresh))
        raise


async def persist_events(payload: str, *, redis: Redis | None = None) -> int:
    """Store a batch message's events once each; return how many rows were new."""
    batches = parse_payload(payload)
    if not any(b["events"] for b in batches):
        return 0
    async with in_transaction() as connection:
        rows = await connection.execute_query_dict(_INSERT_EVENTS, [payload])
        await connection.execute_query(_TOUCH_PIXELS, [payload])
        await connection.execute_query(_UPSERT_VERSIONS, [payload])
    # After the commit: a retry of this message re-sends it, so no day is left unaggregated.
    await request_aggregation(touched_days(batches), redis)
    return int(rows[0]["n"])


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

_DELETE_COUNTS = _DAYS + """
DELETE FROM pixel_daily_aggregates a USING t WHERE a.shop_id = t.shop_id AND a.day = t.day
"""

_INSERT_COUNTS = _DAYS + """
INSERT INTO pixel_daily_aggregates (shop_id, day, name, count, distinct_clients, updated_at)
SELECT t.shop_id, t.day, e.name, count(*), count(DISTINCT e.client_id), now()
FROM t JOIN pixel_events e
  ON e.shop_id = t.shop_id AND e."timestamp" >= t.lo AND e."timestamp" < t.hi
GROUP BY t.shop_id, t.day, e.name
"""

_DELETE_REVENUE = _DAYS + """
DELETE FROM pixel_daily_revenue r USING t WHERE r.shop_id = t.shop_id AND r.day = t.day
"""

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


def _check_pairs(pairs: Any) -> list[dict[str, Any]]:
    if not isinstance(pairs, list):
        raise PoisonMessage("pairs must be a list")
    targets = []
    for pair in pairs:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not isinstance(pair[0], int)
            or not isinstance(pair[1], str)
            or len(pair[1]) != 10
        ):
            raise PoisonMessage("a pair is malformed")
        targets.append({"shop_id": pair[0], "day": pair[1]})
    return targets


async def aggregate_days(pairs: list[list[Any]], *, redis: Redis | None = None) -> None:
    """Recount the given (shop, UTC day) pairs from the stored events."""
    targets = _check_pairs(pairs)
    if not targets:
        return
    if redis is not None:
        # Before reading: a persist committing from now on schedules its own recount.
        await redis.delete(*(_mark_key(t["shop_id"], t["day"]) for t in targets))
    shop_ids = sorted({t["shop_id"] for t in targets})
    encoded = orjson.dumps(targets).decode()
    async with in_transaction() as connection:
        # Sorted, so two aggregations of overlapping shops never deadlock.
        await connection.execute_query(
            "SELECT count(pg_advisory_xact_lock(hashtextextended($1 || s::text, 0))) "
            "FROM unnest($2::bigint[]) AS s",
            [_AGGREGATE_LOCK, shop_ids],
        )
        await connection.execute_query(_DELETE_COUNTS, [encoded])
        await connection.execute_query(_INSERT_COUNTS, [encoded])
        await connection.execute_query(_DELETE_REVENUE, [encoded])
        await connection.execute_query(_INSERT_REVENUE, [encoded])


@dramatiq.actor(
    queue_name=PIXEL_QUEUE,
    max_retries=12,
    min_backoff=500,
    max_backoff=300_000,
    time_limit=120_000,
    throws=(PoisonMessage,),
)
async def persist_pixel_events(payload: str) -> None:
    """Persist one group-commit message of pixel events, then ask for aggregation."""
    await persist_events(payload, redis=resources().redis)


@dramatiq.actor(
    queue_name=PIXEL_QUEUE,
    max_retries=12,
    min_backoff=500,
    max_backoff=300_000,
    time_limit=120_000,
    throws=(PoisonMessage,),
)
async def aggregate_pixel_days(pairs: list[list[Any]]) -> None:
    """Recount the daily aggregates of the given (shop id, UTC day) pairs."""
    await aggregate_days(pairs, redis=resources().redis)
