"""Metered usage: the pixel events a shop sends beyond its plan's included events in a
billing period, charged once a day with `appUsageRecordCreate`.

Each day's charge is first a row of `billing_usage_charges`, committed with an idempotency
key of its shop, period and day; only then is Shopify called with that key. The row is
marked sent in the same transaction that holds its lock during the call, so:

- a worker killed between Shopify's answer and the commit leaves the row pending; the next
  run sends it again with the same key and Shopify answers with the first record, charging
  nothing more;
- a second worker skips a row another holds (`FOR UPDATE SKIP LOCKED`), and the unique key
  keeps a day from getting two rows;
- a day is never lost: each charge is what the period owes through its day (its events
  beyond the included ones, at the plan's price, in whole cents) less what the period's
  earlier charges carry, so events counted late, and a held day, go into the next charge;
- a charge that would pass the capped amount is held (shown in GET /api/billing, beside
  the approaching-capped webhook), never sent.

Days are UTC days (the pixel aggregates' days); a day belongs to the 30-day period that
ends after it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from models import BillingCharge, BillingUsageCharge, Shop
from models.billing import (
    USAGE_FAILED,
    USAGE_HELD,
    USAGE_PENDING,
    USAGE_ROLLED,
    USAGE_SENT,
)
from server.billing.state import active_subscription, plan_handle, reconcile
from server.config import BillingConfig, BillingPlan
from server.services import ShopifyServices
from server.shopify import ShopifyError, ShopifyUserError
from server.shopify.billing import money

log = logging.getLogger(__name__)

PERIOD_DAYS = 30  # Shopify bills usage every 30 days
CENT = Decimal("0.01")
OWED_STATES = (USAGE_PENDING, USAGE_SENT)


@dataclass(frozen=True, slots=True)
class UsageRun:
    """What one run did for a shop: the day's new row (if any), and the rows it sent."""

    shop: str
    day: date
    recorded: str | None  # state of the day's new row; None: nothing new was owed
    sent: int
    held: int
    failed: int
    left_pending: int


def usage_key(shop: str, period_end: date, day: date) -> str:
    """appUsageRecordCreate's idempotency key: one per shop, period and day."""
    return f"usage:{shop}:{period_end.isoformat()}:{day.isoformat()}"


def period_of(current_period_end: datetime, day: date) -> tuple[date, date]:
    """(first day, end day exclusive) of the 30-day period holding `day`."""
    end = current_period_end.astimezone(UTC).date()
    step = timedelta(days=PERIOD_DAYS)
    while day < end - step:
        end -= step
    while day >= end:
        end += step
    return end - step, end


def amount_due(events: int, plan: BillingPlan) -> Decimal:
    """What the period owes for `events` (whole cents, rounded down)."""
    assert plan.price_per_1000_events is not None
    billable = max(0, events - plan.included_events)
    return (billable * plan.price_per_1000_events / 1000).quantize(CENT, rounding=ROUND_DOWN)


_EVENTS = """
SELECT COALESCE(sum(count), 0) AS events FROM pixel_daily_aggregates
WHERE shop_id = $1 AND day >= $2 AND day <= $3
"""

_CARRIED = """
SELECT COALESCE(sum(amount) FILTER (WHERE state = ANY($3::text[])), 0) AS owed,
       COALESCE(sum(amount) FILTER (WHERE state = 'sent'), 0) AS sent
FROM billing_usage_charges WHERE shop_id = $1 AND period_end = $2
"""

_INSERT = """
INSERT INTO billing_usage_charges
    (shop_id, charge_gid, line_item_gid, period_end, day, events, billable_events, amount,
     currency, idempotency_key, state, attempts, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, now())
ON CONFLICT DO NOTHING
RETURNING id
"""

_ROLL_HELD = """
UPDATE billing_usage_charges SET state = 'rolled'
WHERE shop_id = $1 AND period_end = $2 AND state = 'held' AND id <> $3
"""


async def record_day(shop: Shop, charge: BillingCharge, plan: BillingPlan, day: date) -> str | None:
    """Commit the day's usage charge row (pending, or held at the cap); None when the day
    adds nothing to what the period's charges carry, or it has its row already."""
    assert charge.current_period_end is not None and charge.usage_line_item_gid is not None
    assert charge.capped_amount is not None
    start, end = period_of(charge.current_period_end, day)
    async with in_transaction() as conn:
        # One recorder per shop at a time (the day's row is unique anyway).
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [shop.id])
        rows = await conn.execute_query_dict(_EVENTS, [shop.id, start, day])
        events = int(rows[0]["events"])
        rows = await conn.execute_query_dict(_CARRIED, [shop.id, end, list(OWED_STATES)])
        owed, sent = Decimal(rows[0]["owed"]), Decimal(rows[0]["sent"])
        amount = amount_due(events, plan) - owed
        if amount <= 0:
            return None
        # Shopify's balance counts what it has charged; ours what we sent or are sending.
        balance = max(charge.balance_used or Decimal(0), sent) + (owed - sent)
        state = USAGE_HELD if balance + amount > charge.capped_amount else USAGE_PENDING
        inserted = await conn.execute_query_dict(
            _INSERT,
            [
                shop.id,
                charge.charge_gid,
                charge.usage_line_item_gid,
                end,
                day,
                events,
                max(0, events - plan.included_events),
                amount,
                charge.currency or plan.currency,
                usage_key(shop.domain, end, day),
                state,
            ],
        )
        if not inserted:
            return None
        await conn.execute_query(_ROLL_HELD, [shop.id, end, inserted[0]["id"]])
    log.info("usage charge recorded", extra={"shop": shop.domain, "day": str(day), "state": state})
    return state


_CLAIM = """
SELECT id FROM billing_usage_charges WHERE id = $1 AND state = 'pending'
FOR UPDATE SKIP LOCKED
"""


def _description(row: BillingUsageCharge) -> str:
    return (
        f"{row.billable_events:,} storefront events beyond the plan's included events "
        f"this period, through {row.day.isoformat()}"
    )


async def send_one(row: BillingUsageCharge, *, services: ShopifyServices) -> str:
    """Send one pending row to Shopify under its lock; its new state ("skipped": another
    worker holds it, or it is no longer pending)."""
    async with in_transaction() as conn:
        if not await conn.execute_query_dict(_CLAIM, [row.id]):
            return "skipped"
        creds = await services.credentials(row.shop.domain)
        try:
            record = await services.shopify.create_usage_record(
                creds,
                line_item_gid=row.line_item_gid,
                price=money(row.amount, row.currency),
                description=_description(row),
                idempotency_key=row.idempotency_key,
            )
        except ShopifyUserError as e:
            messages = "; ".join(
                str(u.get("message")) for u in e.user_errors if isinstance(u, dict)
            )
            state = USAGE_HELD if "exceeds" in messages.lower() else USAGE_FAILED
            await conn.execute_query(
                "UPDATE billing_usage_charges SET state = $2, attempts = attempts + 1,"
                " last_error = $3 WHERE id = $1",
                [row.id, state, messages[:255]],
            )
            log.warning("usage charge refused by Shopify", extra={"usage_charge": row.id})
            return state
        await conn.execute_query(
            "UPDATE billing_usage_charges SET state = 'sent', usage_record_gid = $2,"
            " attempts = attempts + 1, last_error = NULL, sent_at = now() WHERE id = $1",
            [row.id, str(record["id"])],
        )
    log.info("usage charge sent", extra={"usage_charge": row.id})
    return USAGE_SENT


async def send_pending(shop: Shop, *, services: ShopifyServices) -> dict[str, int]:
    """Send the shop's pending rows, oldest first; a Shopify outage leaves them pending."""
    counts = {USAGE_SENT: 0, USAGE_HELD: 0, USAGE_FAILED: 0, USAGE_PENDING: 0}
    rows = await BillingUsageCharge.filter(shop_id=shop.id, state=USAGE_PENDING).order_by("id")
    for row in rows:
        row.shop = shop
        try:
            state = await send_one(row, services=services)
        except ShopifyError as e:
            await BillingUsageCharge.filter(id=row.id).update(
                last_error=f"{type(e).__name__}"[:255]
            )
            log.warning("usage charge not sent: %s", type(e).__name__, extra={"shop": shop.domain})
            counts[USAGE_PENDING] += 1
            continue
        if state in counts:
            counts[state] += 1
    return counts


async def charge_usage(
    shop: Shop, day: date, *, services: ShopifyServices, billing: BillingConfig
) -> UsageRun:
    """The day's usage run for a shop: reconcile with Shopify, record the day's charge, send
    whatever the shop's outbox holds."""
    creds = await services.credentials(shop.domain)
    await reconcile(shop, shopify=services.shopify, creds=creds, billing=billing)
    recorded = None
    charge = await active_subscription(shop.id, test_ok=billing.test)
    handle = plan_handle(charge, billing) if charge is not None else None
    plan = billing.plan(handle) if handle else None
    if (
        charge is not None
        and plan is not None
        and plan.metered
        and charge.usage_line_item_gid
        and charge.current_period_end is not None
        and charge.capped_amount is not None
    ):
        recorded = await record_day(shop, charge, plan, day)
    counts = await send_pending(shop, services=services)
    return UsageRun(
        shop=shop.domain,
        day=day,
        recorded=recorded,
        sent=counts[USAGE_SENT],
        held=counts[USAGE_HELD],
        failed=counts[USAGE_FAILED],
        left_pending=counts[USAGE_PENDING],
    )


async def shops_to_bill(shop: str | None = None) -> list[Shop]:
    """Installed shops with a charge or a usage row (or just `shop`)."""
    query = Shop.filter(installed_at__isnull=False, uninstalled_at__isnull=True)
    if shop is not None:
        return await query.filter(domain=shop)
    ids = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT DISTINCT shop_id FROM billing_charges UNION SELECT DISTINCT shop_id"
        " FROM billing_usage_charges WHERE state = 'pending'"
    )
    return await query.filter(id__in=[r["shop_id"] for r in ids])


def yesterday() -> date:
    """The last whole UTC day: what a scheduled run charges."""
    return datetime.now(UTC).date() - timedelta(days=1)


async def usage_view(shop_id: int, charge: BillingCharge | None) -> dict[str, object]:
    """This period's usage charges of the shop, for GET /api/billing."""
    if charge is None or charge.current_period_end is None:
        return {"events": None, "charges": []}
    _, end = period_of(charge.current_period_end, datetime.now(UTC).date())
    rows = await BillingUsageCharge.filter(shop_id=shop_id, period_end=end).order_by("day")
    return {
        "events": rows[-1].events if rows else 0,
        "charges": [
            {
                "day": r.day.isoformat(),
                "amount": str(r.amount),
                "currency": r.currency,
                "state": r.state,
                "error": r.last_error,
            }
            for r in rows
            if r.state != USAGE_ROLLED
        ],
    }
