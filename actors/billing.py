"""Billing actors: the scheduled reconciliation and usage run, one shop at a time.

Thin: each calls server/billing/usage.py. The scheduler's tick (actors/scheduler.py) sends
`schedule_billing` once per sync period; it fans out one `bill_shop` per shop with a charge
or a pending usage charge. A day's usage charge is recorded once (its row is unique per
shop, period and day) however many periods run on that day.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date

import dramatiq

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.resources import resources
from models import Shop
from server import actor_names
from server.billing.usage import charge_usage, shops_to_bill, yesterday
from server.shops.tokens import ReauthRequiredError, ShopNotInstalledError
from server.tasks import send

log = logging.getLogger(__name__)

BILLING_QUEUE = "billing"


class UsageLeftPendingError(Exception):
    """Shopify did not take every pending usage charge: retried with a backoff."""


@dramatiq.actor(
    actor_name=actor_names.SCHEDULE_BILLING,
    queue_name=BILLING_QUEUE,
    max_retries=0,
    time_limit=300_000,
)
async def schedule_billing(period: int) -> None:
    """The scheduler's tick: a billing run for every shop that has something to bill."""
    shops = [s.domain for s in await shops_to_bill()]

    def send_all() -> None:
        for shop in shops:
            send(actor_names.BILL_SHOP, shop)

    await asyncio.to_thread(send_all)  # send is blocking I/O
    log.info("scheduled billing", extra={"period": period, "shops": len(shops)})


@dramatiq.actor(
    actor_name=actor_names.BILL_SHOP,
    queue_name=BILLING_QUEUE,
    max_retries=8,
    min_backoff=10_000,
    max_backoff=900_000,
    time_limit=300_000,
    throws=(ShopNotInstalledError, ReauthRequiredError),
)
async def bill_shop(shop: str, day: str | None = None) -> None:
    """Reconcile the shop's charges with Shopify, record the day's usage charge (default:
    yesterday, UTC) and send what is pending."""
    row = await Shop.get_or_none(domain=shop, installed_at__isnull=False, uninstalled_at=None)
    if row is None:
        return
    current = resources()
    run = await charge_usage(
        row,
        date.fromisoformat(day) if day else yesterday(),
        services=current.services,
        billing=current.config.billing,
    )
    log.info(
        "billing run",
        extra={"shop": shop, "recorded": run.recorded, "sent": run.sent, "held": run.held},
    )
    if run.left_pending:
        raise UsageLeftPendingError(shop)


__all__ = ["BILLING_QUEUE", "bill_shop", "schedule_billing"]
