"""The webhook flow's part in shared steps: the sweeper's (server/sweep.py: deliveries
owed, retention) and customers/redact's (server/redact_steps.py: payloads naming them).

A delivery still pending past its due time (its wake-up was lost, or its last try failed
and its backoff ran out) is sent again to its topic's actor. Payloads go after
`outbox.payload_retention_s`, delivery rows (the dedup key) after the longer
`outbox.dedup_retention_s`; a pending delivery keeps both: it is still owed.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from server.config import OutboxConfig
from server.outbox import due_sql
from server.redact_steps import CUSTOMER_REDACT_STEPS, RedactedCustomer
from server.sweep import (
    RESEND_STEPS,
    RETENTION_STEPS,
    Message,
    Retention,
    claim_due,
    in_batches,
)
from server.webhooks.topics import group_by_actor

_DUE_DELIVERIES = due_sql("webhook_deliveries", returning="id, topic")

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

# Ids grow with time, so the oldest rows are the lowest ids, and looking at a bounded slice
# of them costs the same however many rows the table holds.
_PURGE_DELIVERIES = """
DELETE FROM webhook_deliveries
WHERE id IN (
    SELECT id FROM (
        SELECT id, received_at, state FROM webhook_deliveries ORDER BY id LIMIT $1
    ) oldest
    WHERE received_at < now() - make_interval(secs => $2) AND state <> 'pending'
)
"""


@RESEND_STEPS.register("webhook deliveries")
async def due_deliveries(connection: BaseDBAsyncClient, outbox: OutboxConfig) -> list[Message]:
    """Claim the overdue deliveries: one message of ids per actor that applies them."""
    rows = await claim_due(connection, _DUE_DELIVERIES, stale_after_s=outbox.stale_after_s)
    groups = group_by_actor([(int(r["id"]), str(r["topic"])) for r in rows])
    return [(actor, (ids,)) for actor, ids in groups.items()]


@RETENTION_STEPS.register("webhook deliveries")
async def purge_deliveries(connection: BaseDBAsyncClient, keep: Retention) -> dict[str, int]:
    """Payloads, then delivery rows, past their retention."""
    return {
        "payloads_purged": await in_batches(
            connection, _PURGE_PAYLOADS, keep.outbox.payload_retention_s
        ),
        "deliveries_deleted": await in_batches(
            connection, _PURGE_DELIVERIES, keep.outbox.dedup_retention_s
        ),
    }


# Stored webhook payloads of the shop that name the customer: purged, and a pending one is
# never applied (it would bring the customer back). Matched in the raw JSON text, by e-mail
# (case-insensitive), phone, the customer's id or an order to redact; a false match only
# purges a payload early. The customers/redact delivery's own payload is among them.
_REDACT_PAYLOADS = """
UPDATE webhook_deliveries SET
    payload = NULL,
    last_error = NULL,
    state = CASE WHEN state = 'pending' AND topic <> 'customers/redact'
                 THEN 'redacted' ELSE state END
WHERE shop_domain = $1 AND payload IS NOT NULL
  AND (topic LIKE 'customers/%' OR topic LIKE 'orders/%')
  AND (
    ($2::text IS NOT NULL AND strpos(lower(payload), $2) > 0)
    OR ($3::text IS NOT NULL AND strpos(payload, $3) > 0)
    OR ($4::text IS NOT NULL AND payload ~ ('"id"\\s*:\\s*"?(' || $4 || ')([^0-9]|$)'))
  )
"""


@CUSTOMER_REDACT_STEPS.register("webhook payloads")
async def redact_webhook_payloads(
    conn: BaseDBAsyncClient, customer: RedactedCustomer
) -> dict[str, int]:
    """Purge the shop's stored webhook payloads that name the customer."""
    ids = [str(i) for i in (customer.id, *customer.order_ids) if i is not None]
    count, _ = await conn.execute_query(
        _REDACT_PAYLOADS,
        [
            customer.domain,
            customer.email.lower() if customer.email else None,
            customer.phone or None,
            "|".join(ids) or None,
        ],
    )
    return {"webhook_deliveries": int(count)}
