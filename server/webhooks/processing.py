"""Applying stored deliveries: claim from the outbox, run the topic's handler, mark done.

The web process commits each delivery (payload included) in `webhook_deliveries` before it
answers 200 (server/webhooks/intake.py), then wakes the topic's actor with the new ids. A
worker claims each id (`FOR UPDATE SKIP LOCKED` on a pending row), runs the topic's handler
and marks the row done in the same transaction, so the effect and "done" commit together. A
handler that raises leaves the row pending with a backoff, or `failed` after
`outbox.max_attempts` (or at once for an error no retry can fix); the sweeper
(actors/sweeper.py) sends again whatever is due, so a lost message, an emptied Redis or a
killed worker only delays a delivery.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
from redis.asyncio import Redis
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.webhooks import DELIVERY_DONE, DELIVERY_FAILED
from server.config import OutboxConfig
from server.outbox import record_failure
from server.page_cache import bump_version, bump_versions
from server.store_errors import store_down
from server.webhook_topics import (
    IN_ORDER_TOPICS,
    TOPICS,
    BatchHandler,
    Change,
    PayloadError,
    Topic,
)
from server.webhooks.delivery import delivery_meta

log = logging.getLogger(__name__)


_CLAIM = """
SELECT d.id, d.shop_domain, d.topic, d.event_id, d.webhook_id, d.triggered_at,
       d.received_at, d.payload, s.id AS shop_id
FROM webhook_deliveries d LEFT JOIN shops s ON s.domain = d.shop_domain
WHERE d.id = $1 AND d.state = 'pending'
FOR UPDATE OF d SKIP LOCKED
"""

# A batch of one topic table's deliveries, claimed together (SKIP LOCKED: a row another
# worker holds is left to it).
_CLAIM_BATCH = """
SELECT d.id, d.shop_domain, d.topic, d.triggered_at, d.received_at, d.payload,
       s.id AS shop_id
FROM webhook_deliveries d LEFT JOIN shops s ON s.domain = d.shop_domain
WHERE d.id = ANY($1::bigint[]) AND d.state = 'pending' AND d.topic = ANY($2::text[])
ORDER BY d.id
FOR UPDATE OF d SKIP LOCKED
"""

_DONE_BATCH = """
UPDATE webhook_deliveries
SET state = 'done', attempts = attempts + 1, last_error = NULL, done_at = now(),
    next_attempt_at = NULL
WHERE id = ANY($1::bigint[])
"""

# Deliveries one transaction applies at most.
BATCH_DELIVERIES = 500
# The topics whose deliveries are applied in batches.
_BATCHED = {topic: row.batch for topic, row in TOPICS.items() if row.batch is not None}

_DONE = """
UPDATE webhook_deliveries
SET state = $2, attempts = attempts + 1, last_error = $3, done_at = now(),
    next_attempt_at = NULL
WHERE id = $1
"""


# A lifecycle delivery's earlier ones (same shop, in-order topics, lower id) still pending,
# oldest first. FOR UPDATE waits for one a worker is applying right now: it comes back once
# that worker is done only if it is still pending. Waits only go from a later id to an
# earlier one, never back, so two workers never wait on each other.
_EARLIER_IN_ORDER = """
SELECT id, shop_domain, topic, event_id, webhook_id, triggered_at, received_at, payload
FROM webhook_deliveries
WHERE shop_domain = $1 AND topic = ANY($2::text[]) AND id < $3 AND state = 'pending'
ORDER BY id
FOR UPDATE
"""


class EarlierDeliveryPending(Exception):
    """A delivery of the shop's lifecycle committed before this one could not be applied yet,
    so this one waits (it is retried; the earlier one keeps its own retries)."""


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    return value


def _without_nul(payload: Any, text: str) -> Any:
    """The payload with NUL characters dropped from its strings (PostgreSQL text refuses
    them, and a delivery must not fail forever for one)."""
    return _strip_nul(payload) if "\\u0000" in text else payload


async def process_deliveries(
    ids: list[int], *, outbox: OutboxConfig, redis: Redis | None
) -> dict[str, int]:
    """Apply each pending delivery of `ids` once; returns how many ended in each state.

    Topics with a batch handler (the data topics) are applied many to a transaction; the
    rest one by one. A store that is down raises (the message is retried; the rows stay
    pending); any other error is the delivery's own and is recorded on its row.
    """
    outcomes: Counter[str] = Counter()
    ids = [int(i) for i in ids]
    left = set(ids)
    if _BATCHED:
        for start in range(0, len(ids), BATCH_DELIVERIES):
            chunk = ids[start : start + BATCH_DELIVERIES]
            claimed = await _process_batch(chunk, outbox=outbox, redis=redis, outcomes=outcomes)
            left -= claimed
    for delivery_id in ids:
        if delivery_id in left:
            outcomes[await process_delivery(delivery_id, outbox=outbox, redis=redis)] += 1
    return dict(outcomes)


async def _process_batch(
    ids: list[int], *, outbox: OutboxConfig, redis: Redis | None, outcomes: Counter[str]
) -> set[int]:
    """Claim the batched topics' pending deliveries of `ids` and apply them in one
    transaction; the ids claimed (the others are left to process_delivery)."""
    failures: dict[int, Exception] = {}
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(_CLAIM_BATCH, [ids, list(_BATCHED)])
        if not rows:
            return set()
        by_topic: dict[str, list[Change]] = {}
        for row in rows:
            if row["payload"] is None:
                failures[row["id"]] = PayloadError(
                    "the payload is gone (purged after its retention)"
                )
                continue
            payload = _without_nul(orjson.loads(row["payload"]), row["payload"])
            by_topic.setdefault(row["topic"], []).append(
                Change(
                    delivery_id=row["id"],
                    topic=row["topic"],
                    shop_id=row["shop_id"],
                    payload=payload,
                    at=row["triggered_at"] or row["received_at"],
                )
            )
        # Topics sharing a batch handler go to it together (one statement per table).
        by_handler: dict[BatchHandler, list[Change]] = {}
        for topic, changes in by_topic.items():
            by_handler.setdefault(_BATCHED[topic], []).extend(changes)
        for handler, batch in by_handler.items():
            failures.update(await _apply_isolated(handler, batch))
        done = [row["id"] for row in rows if row["id"] not in failures]
        if done:
            await conn.execute_query(_DONE_BATCH, [done])
    outcomes["done"] += len(done)
    for row in rows:
        error = failures.get(row["id"])
        if error is not None:
            outcomes[await _failed(row, error, outbox=outbox)] += 1
    if redis is not None:
        # After the commit: no cached API page may show what the deliveries replaced.
        await bump_versions(redis, {int(r["shop_id"]) for r in rows if r["shop_id"] is not None})
    return {int(row["id"]) for row in rows}


async def _apply_isolated(handler: BatchHandler, changes: list[Change]) -> dict[int, Exception]:
    """The batch under one savepoint (in the claim's transaction); if a statement fails,
    each delivery again under its own, so the one that fails fails alone."""
    try:
        async with in_transaction() as savepoint:
            return await handler(savepoint, changes)
    except Exception as e:
        if store_down(e):
            raise
    failures: dict[int, Exception] = {}
    for change in changes:
        try:
            async with in_transaction() as savepoint:
                failures.update(await handler(savepoint, [change]))
        except Exception as e:
            if store_down(e):
                raise
            failures[change.delivery_id] = e
    return failures


def _refused_value(error: BaseException) -> bool:
    # PostgreSQL refused a value of the delivery (out of range, malformed): no retry helps.
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, asyncpg.DataError):
            return True
        current = current.__cause__ or current.__context__
    return False


async def _failed(row: dict[str, Any], error: Exception, *, outbox: OutboxConfig) -> str:
    route = TOPICS.get(row["topic"])
    permanent = (
        isinstance(error, PayloadError)
        or _refused_value(error)
        or (route is not None and isinstance(error, route.permanent))
    )
    state = await _record_failure(row["id"], error, permanent=permanent, outbox=outbox)
    log.warning(
        "webhook delivery failed: %s",
        type(error).__name__,
        extra={
            "delivery_id": row["id"],
            "topic": row["topic"],
            "shop": row["shop_domain"],
            "state": state,
        },
    )
    return "failed" if state == DELIVERY_FAILED else "retry"


async def process_delivery(delivery_id: int, *, outbox: OutboxConfig, redis: Redis | None) -> str:
    """Claim, apply and mark one delivery: "done", "failed", "retry" or "skipped"."""
    route: Topic | None = None
    row: dict[str, Any] | None = None
    try:
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(_CLAIM, [delivery_id])
            if not rows:
                return "skipped"  # done already, or another worker holds it right now
            row = rows[0]
            route = TOPICS.get(row["topic"])
            if route is None:  # a route removed between deploys: nothing handles it now
                await conn.execute_query(_DONE, [delivery_id, "ignored", None])
                return "ignored"
            if route.in_order:
                await _apply_earlier(conn, row)
            await _apply(conn, row, route)
    except Exception as e:
        if store_down(e) or row is None:
            raise
        permanent = isinstance(e, PayloadError) or (
            route is not None and isinstance(e, route.permanent)
        )
        state = await _record_failure(delivery_id, e, permanent=permanent, outbox=outbox)
        log.warning(
            "webhook delivery failed: %s",
            type(e).__name__,
            extra={
                "delivery_id": delivery_id,
                "topic": row["topic"],
                "shop": row["shop_domain"],
                "state": state,
            },
        )
        return "failed" if state == DELIVERY_FAILED else "retry"
    if route.changes_shop_data and row["shop_id"] is not None and redis is not None:
        # After the commit: no cached API page may show what the delivery replaced.
        await bump_version(redis, int(row["shop_id"]))
    return "done"


async def _apply(conn: BaseDBAsyncClient, row: dict[str, Any], route: Topic) -> None:
    """Run a claimed delivery's handler and mark it done, in the caller's transaction."""
    if row["payload"] is None:
        raise PayloadError("the payload is gone (purged after its retention)")
    payload = _without_nul(orjson.loads(row["payload"]), row["payload"])
    await route.handler(row["topic"], row["shop_domain"], payload, delivery_meta(row))
    await conn.execute_query(_DONE, [row["id"], DELIVERY_DONE, None])


async def _apply_earlier(conn: BaseDBAsyncClient, row: dict[str, Any]) -> None:
    """Apply, first, the shop's lifecycle deliveries committed before `row` and still pending."""
    earlier = await conn.execute_query_dict(
        _EARLIER_IN_ORDER, [row["shop_domain"], list(IN_ORDER_TOPICS), row["id"]]
    )
    for first in earlier:
        try:
            await _apply(conn, first, TOPICS[first["topic"]])
        except Exception as e:
            # Store errors stay store errors (store_down follows the cause).
            raise EarlierDeliveryPending(
                f"delivery {first['id']} ({first['topic']}) before it is not applied yet:"
                f" {type(e).__name__}"
            ) from e


async def _record_failure(
    delivery_id: int, error: BaseException, *, permanent: bool, outbox: OutboxConfig
) -> str:
    return await record_failure(
        "webhook_deliveries", delivery_id, error, permanent=permanent, outbox=outbox
    )
