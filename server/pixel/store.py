"""Committing pixel events: one statement per group-commit flush stores the events and the work
they create for the pipeline.

The flush's batches travel as one JSON document,
`{"batches": [{"shop_id", "received_at", "version", "events": [...]}, ...]}`, each event
already validated and sanitised by the edge. The statement inserts every event once (dedup
on shop + event id, see models/pixel.py), drops events of a deleted shop or of a redacted
customer, and appends what it stored for the first time, summed per (shop, UTC day, name,
client, currency, version), to `pixel_pending`, the aggregation's queue: all in the one
transaction the 202 waits for.
"""

from __future__ import annotations

from typing import Any

import asyncpg  # type: ignore[import-untyped]
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from server.groupcommit import CommitConnections, resolving_loss
from server.retry import retry

INGEST_SQL = """
WITH b AS MATERIALIZED (
    SELECT (b->>'shop_id')::bigint AS shop_id,
           (b->>'received_at')::timestamptz AS received_at,
           coalesce(b->>'version', '') AS version,
           b->'events' AS events
    FROM jsonb_array_elements($1::text::jsonb -> 'batches') AS b
    -- A shop deleted (shop/redact) after the edge looked its key up: nothing is kept.
    WHERE EXISTS (SELECT 1 FROM shops s WHERE s.id = (b->>'shop_id')::bigint)
),
e AS MATERIALIZED (
    SELECT b.shop_id, b.received_at, b.version, e
    FROM b CROSS JOIN LATERAL jsonb_array_elements(b.events) AS e
),
redacting AS MATERIALIZED (
    SELECT DISTINCT r.shop_id FROM redacted_identities r
    WHERE r.shop_id IN (SELECT shop_id FROM b)
),
inserted AS (
    INSERT INTO pixel_events
        (shop_id, event_id, name, "timestamp", client_id, seq, type, context, data,
         received_at, customer_email, customer_phone)
    SELECT e.shop_id, e.e->>'event_id', e.e->>'name', (e.e->>'ts')::timestamptz,
           e.e->>'client_id', (e.e->>'seq')::bigint, e.e->>'type',
           coalesce(e.e->'context', '{}'::jsonb), coalesce(e.e->'data', '{}'::jsonb),
           e.received_at,
           -- Checkout events name the buyer: kept as columns for privacy requests.
           nullif(lower(left(e.e->'data'->'checkout'->>'email', 320)), ''),
           nullif(left(e.e->'data'->'checkout'->>'phone', 64), '')
    FROM e
    -- A customer redacted (customers/redact): their events are not stored again. Only the
    -- shops that have redacted anyone are looked into per event.
    WHERE e.shop_id NOT IN (SELECT shop_id FROM redacting)
       OR NOT EXISTS (
        SELECT 1 FROM redacted_identities r
        WHERE r.shop_id = e.shop_id
          AND (r.kind, r.value_hash) IN (
            ('client_id', encode(sha256(convert_to(e.e->>'client_id', 'UTF8')), 'hex')),
            ('email', encode(sha256(convert_to(
                lower(left(e.e->'data'->'checkout'->>'email', 320)), 'UTF8')), 'hex')),
            ('phone', encode(sha256(convert_to(
                left(e.e->'data'->'checkout'->>'phone', 64), 'UTF8')), 'hex'))
          )
    )
    ON CONFLICT (shop_id, event_id, "timestamp") DO NOTHING
    RETURNING id, shop_id, "timestamp", name, client_id, received_at,
        -- checkout_completed carries data.checkout.totalPrice {amount, currencyCode}
        -- (MoneyV2); anything else in there is left out of the revenue, not fatal.
        CASE WHEN name = 'checkout_completed'
              AND coalesce(data #>> '{checkout,totalPrice,currencyCode}',
                           data #>> '{checkout,currencyCode}') ~ '^[A-Z]{3}$'
             THEN coalesce(data #>> '{checkout,totalPrice,currencyCode}',
                           data #>> '{checkout,currencyCode}') END AS currency,
        CASE WHEN name <> 'checkout_completed' THEN NULL
             WHEN jsonb_typeof(data #> '{checkout,totalPrice,amount}') = 'number'
              AND abs((data #>> '{checkout,totalPrice,amount}')::numeric) < 1e12
             THEN (data #>> '{checkout,totalPrice,amount}')::numeric
             WHEN jsonb_typeof(data #> '{checkout,totalPrice,amount}') = 'string'
              AND (data #>> '{checkout,totalPrice,amount}') ~ '^-?[0-9]{1,12}(\\.[0-9]{1,4})?$'
             THEN (data #>> '{checkout,totalPrice,amount}')::numeric END AS amount
),
pending AS (
    INSERT INTO pixel_pending
        (shop_id, day, name, client_id, events, currency, orders, revenue, version,
         first_at, last_at, state, attempts, created_at)
    SELECT i.shop_id, (i."timestamp" AT TIME ZONE 'UTC')::date, i.name, i.client_id,
           count(*), i.currency, count(*) FILTER (WHERE i.currency IS NOT NULL),
           coalesce(sum(i.amount) FILTER (WHERE i.currency IS NOT NULL), 0),
           coalesce(v.version, ''), min(i.received_at), max(i.received_at), 'pending', 0,
           now()
    FROM inserted i
    -- The request an event came in says the pixel's version.
    LEFT JOIN LATERAL (
        SELECT b.version FROM b WHERE b.shop_id = i.shop_id AND b.received_at = i.received_at
        LIMIT 1
    ) v ON true
    GROUP BY i.shop_id, 2, i.name, i.client_id, i.currency, v.version
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) AS stored
"""

# After a statement whose connection died: whether every event of the flush is stored (by
# it, or before it). An event of a deleted shop or a redacted customer never is: such a
# flush is answered 503 and its resend finds the rest stored.
_ALL_STORED_SQL = """
WITH e AS (
    SELECT DISTINCT (b->>'shop_id')::bigint AS shop_id, x->>'event_id' AS event_id,
           (x->>'ts')::timestamptz AS ts
    FROM jsonb_array_elements($1::text::jsonb -> 'batches') AS b
    CROSS JOIN LATERAL jsonb_array_elements(b->'events') AS x
)
SELECT count(*) = (SELECT count(*) FROM e)
FROM e JOIN pixel_events p
  ON p.shop_id = e.shop_id AND p.event_id = e.event_id AND p."timestamp" = e.ts
"""

# Two flushes carrying the same event at once can meet in opposite orders (the events
# and the inbox rows are written by parallel parts of one statement): PostgreSQL breaks
# the deadlock by failing one, which is simply run again: 3 tries in all, at once. The first
# try is outside tenacity, which costs ~30 us a call even when nothing fails (a flush is
# the pixel's hot path).
_DEADLOCK_RETRIES = 3
AFTER_A_DEADLOCK = AsyncRetrying(
    retry=retry_if_exception_type(asyncpg.DeadlockDetectedError),
    stop=stop_after_attempt(_DEADLOCK_RETRIES - 1),
    reraise=True,
)


async def store_batches(document: str, *, connections: CommitConnections, timeout_s: float) -> int:
    """Commit one flush's batches in one autocommit statement; how many events were new
    (0 when a lost connection left that unknown and the probe found them all stored)."""

    async def statement(conn: Any) -> int:
        row = await conn.fetchrow(INGEST_SQL, document, timeout=timeout_s)
        return int(row["stored"])

    async def run() -> int:
        try:
            return await connections.run(statement)
        except asyncpg.DeadlockDetectedError:
            return await retry(AFTER_A_DEADLOCK, connections.run, statement)

    async def all_stored(conn: Any) -> bool:
        return bool(await conn.fetchval(_ALL_STORED_SQL, document, timeout=timeout_s))

    stored = await resolving_loss(
        run, probe=all_stored, connect=connections.connect, what="pixel_events"
    )
    return 0 if stored is None else stored
