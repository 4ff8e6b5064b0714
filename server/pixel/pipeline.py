"""The pixel pipeline's step after ingest: daily aggregates, version history, last event time.

The web process commits events in `pixel_events` and, in the same statement, appends what
they add to `pixel_pending` (server/pixel/store.py), then wakes the step's actor
(actors/pixel.py). An aggregation step claims pending rows, folds them into the daily
aggregates (counts and revenue added; distinct clients counted by the new rows of
`pixel_day_clients`), records the pixel's versions and last event time, and deletes the rows: one statement, one
transaction, so each event is counted exactly once, late ones on their own day. A step
costs what it takes, never what the day already holds. Nothing here lives only in the
broker: a lost wake-up is found by the sweeper (actors/sweeper.py).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Collection

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.pixel import PIPELINE_FAILED
from server.actor_names import AGGREGATE_PIXEL_INBOX
from server.config import OutboxConfig
from server.redact_steps import CUSTOMER_REDACT_STEPS, RedactedCustomer
from server.store_errors import store_down
from server.sweep import RESEND_STEPS, Message

log = logging.getLogger(__name__)

# Pending rows one step folds at a time.
STEP_ROWS = 5000
# One message works at most this long, then hands the rest to a fresh message.
STEP_BUDGET_S = 30.0
# Steps fold one at a time (the lock is per database): no two steps ever wait on each
# other's aggregate rows in opposite orders.
_FOLD_LOCK = "pixel-fold"

# $1: how many rows; $2: only these ids (NULL: the oldest pending ones).
FOLD_SQL = """
WITH taken AS (
    DELETE FROM pixel_pending p
    WHERE p.id IN (
        SELECT id FROM pixel_pending
        WHERE state = 'pending' AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))
        ORDER BY id
        LIMIT $1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING p.*
),
seen AS (
    -- The clients new to their (shop, day, name): only these count as distinct ones.
    INSERT INTO pixel_day_clients (shop_id, day, name, client_id)
    SELECT DISTINCT shop_id, day, name, client_id FROM taken WHERE client_id IS NOT NULL
    ON CONFLICT ON CONSTRAINT pixel_day_clients_key DO NOTHING
    RETURNING shop_id, day, name
),
counts AS (
    INSERT INTO pixel_daily_aggregates AS a
        (shop_id, day, name, count, distinct_clients, updated_at)
    SELECT t.shop_id, t.day, t.name, t.n, coalesce(s.n, 0), now()
    FROM (SELECT shop_id, day, name, sum(events) AS n FROM taken GROUP BY 1, 2, 3) t
    LEFT JOIN (SELECT shop_id, day, name, count(*) AS n FROM seen GROUP BY 1, 2, 3) s
        USING (shop_id, day, name)
    ON CONFLICT (shop_id, day, name) DO UPDATE SET
        count = a.count + EXCLUDED.count,
        distinct_clients = a.distinct_clients + EXCLUDED.distinct_clients,
        updated_at = now()
    RETURNING 1
),
revenue AS (
    INSERT INTO pixel_daily_revenue AS r (shop_id, day, currency, orders, revenue, updated_at)
    SELECT shop_id, day, currency, sum(orders), sum(revenue), now()
    FROM taken WHERE currency IS NOT NULL
    GROUP BY 1, 2, 3
    ON CONFLICT (shop_id, day, currency) DO UPDATE SET
        orders = r.orders + EXCLUDED.orders,
        revenue = r.revenue + EXCLUDED.revenue,
        updated_at = now()
    RETURNING 1
),
latest AS (
    SELECT DISTINCT ON (shop_id) shop_id, last_at, version
    FROM taken ORDER BY shop_id, last_at DESC
),
pixels AS (
    UPDATE web_pixels w SET
        last_event_at = GREATEST(w.last_event_at, l.last_at),
        version = CASE WHEN l.version <> ''
                        AND (w.last_event_at IS NULL OR l.last_at >= w.last_event_at)
                       THEN l.version ELSE w.version END,
        updated_at = now()
    FROM latest l
    WHERE w.shop_id = l.shop_id
    RETURNING 1
),
versions AS (
    INSERT INTO web_pixel_versions (web_pixel_id, version, first_seen_at, last_seen_at)
    SELECT w.id, t.version, min(t.first_at), max(t.last_at)
    FROM taken t JOIN web_pixels w ON w.shop_id = t.shop_id
    WHERE t.version <> ''
    GROUP BY w.id, t.version
    ON CONFLICT (web_pixel_id, version) DO UPDATE SET
        first_seen_at = LEAST(web_pixel_versions.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = GREATEST(web_pixel_versions.last_seen_at, EXCLUDED.last_seen_at)
    RETURNING 1
)
SELECT count(*) AS rows, coalesce(sum(events), 0) AS events FROM taken
"""

_NEXT_IDS = "SELECT id FROM pixel_pending WHERE state = 'pending' ORDER BY id LIMIT $1"

_FAILED = """
UPDATE pixel_pending SET attempts = attempts + 1, last_error = $2, state = 'failed'
WHERE id = $1
"""


async def fold(rows: int = STEP_ROWS, *, ids: list[int] | None = None) -> tuple[int, int]:
    """One step: fold up to `rows` pending rows (or exactly `ids`); (rows, events) folded."""
    async with in_transaction() as connection:
        await connection.execute_query(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [_FOLD_LOCK]
        )
        [result] = await connection.execute_query_dict(FOLD_SQL, [rows, ids])
    return int(result["rows"]), int(result["events"])


async def aggregate_inbox(*, budget_s: float = STEP_BUDGET_S) -> dict[str, int]:
    """Fold what is pending until nothing is left (or the budget is spent).

    A store that is down raises (the rows stay pending). A step PostgreSQL refuses is
    taken apart: each of its rows is folded alone, and one that fails alone is marked
    failed with its error (visible in /metrics and `deliveries list --kind pixel`).
    """
    outcomes: dict[str, int] = defaultdict(int)
    deadline = time.monotonic() + budget_s
    while time.monotonic() < deadline:
        try:
            rows, events = await fold()
        except Exception as e:
            if store_down(e):
                raise
            await _fold_one_by_one(outcomes)
            continue
        if not rows:
            return dict(outcomes)
        outcomes["rows"] += rows
        outcomes["events"] += events
    outcomes["more"] += 1
    return dict(outcomes)


async def _fold_one_by_one(outcomes: dict[str, int]) -> None:
    connection = Tortoise.get_connection("default")
    for row in await connection.execute_query_dict(_NEXT_IDS, [STEP_ROWS]):
        try:
            rows, events = await fold(1, ids=[int(row["id"])])
        except Exception as e:
            if store_down(e):
                raise
            await connection.execute_query(
                _FAILED, [int(row["id"]), f"{type(e).__name__}: {e}"[:255]]
            )
            log.warning(
                "pixel aggregation failed: %s",
                type(e).__name__,
                extra={"pending_id": int(row["id"])},
            )
            outcomes[PIPELINE_FAILED] += 1
        else:
            outcomes["rows"] += rows
            outcomes["events"] += events


# The sweeper's question: is there owed work that no wake-up reached in time? (The oldest
# pending row is the lowest id: one index probe, whatever the table holds.)
_STALE_INBOX = """
SELECT coalesce((
    SELECT created_at < now() - make_interval(secs => $1)
    FROM pixel_pending WHERE state = 'pending' ORDER BY id LIMIT 1
), false) AS stale
"""

# A full recount of stored events, as the aggregates must equal (tests and checks).
RECOUNT_SQL = """
SELECT (("timestamp" AT TIME ZONE 'UTC')::date) AS day, name,
       count(*) AS count, count(DISTINCT client_id) AS clients
FROM pixel_events WHERE shop_id = $1 GROUP BY 1, 2
"""


@RESEND_STEPS.register("pixel inbox")
async def stale_inbox(connection: BaseDBAsyncClient, outbox: OutboxConfig) -> list[Message]:
    """A wake-up of the pipeline when pending work waited past `outbox.stale_after_s`."""
    rows = await connection.execute_query_dict(_STALE_INBOX, [outbox.stale_after_s])
    return [(AGGREGATE_PIXEL_INBOX, ())] if rows[0]["stale"] else []


# The first-seen rows are found through their key's hash index (migrations/models/5_*), one
# probe per (day, name, client): every first-seen row was inserted by the statement that
# counted it into the aggregate row of its (shop, day, name), so the shop's aggregate rows,
# from the oldest day first-seen still holds, list every (day, name) its rows can have.
_REDACT_DAY_CLIENTS = """
DELETE FROM pixel_day_clients d
USING pixel_daily_aggregates a, unnest($2::text[]) AS c(client_id)
WHERE a.shop_id = $1 AND a.day >= (SELECT min(day) FROM pixel_day_clients)
  AND d.shop_id::text || ' ' || (d.day - DATE '2000-01-01')::text || ' '
      || length(d.name)::text || ' ' || d.name || d.client_id
    = $1::bigint::text || ' ' || (a.day - DATE '2000-01-01')::text || ' '
      || length(a.name)::text || ' ' || a.name || c.client_id
"""


async def redact_pixel_clients(
    conn: BaseDBAsyncClient, shop_id: int, linked: Collection[tuple[str, str]]
) -> dict[str, int]:
    """The customer's browsers leave the pipeline's tables too: the first-seen clients
    (their counts stay: they are not the customer's) and the summaries not yet folded."""
    clients = [value for kind, value in linked if kind == "client_id"]
    if not clients:
        return {}
    seen, _ = await conn.execute_query(_REDACT_DAY_CLIENTS, [shop_id, clients])
    pending, _ = await conn.execute_query(
        "UPDATE pixel_pending SET client_id = NULL WHERE shop_id = $1"
        " AND client_id = ANY($2::text[])",
        [shop_id, clients],
    )
    return {"pixel_day_clients": int(seen), "pixel_pending": int(pending)}


@CUSTOMER_REDACT_STEPS.register("pixel clients")
async def redact_customer_clients(
    conn: BaseDBAsyncClient, customer: RedactedCustomer
) -> dict[str, int]:
    """customers/redact's step: the browsers the privacy rules linked to the customer."""
    if customer.shop_id is None:
        return {}
    return await redact_pixel_clients(conn, customer.shop_id, customer.linked)
