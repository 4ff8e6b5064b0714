"""Subscribing, confirming the merchant's approval, cancelling: the calls to Shopify."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from models import BillingCharge, Shop
from models.billing import CHARGE_SUBSCRIPTION, STATUS_ACTIVE, STATUS_CANCELLED
from server.billing import plans
from server.billing.state import active_subscription, store_charge
from server.config import Config
from server.shopify import ShopCredentials, ShopifyClient
from server.shopify.billing import ONE_TIME_GID, SUBSCRIPTION_GID

log = logging.getLogger(__name__)

MAX_CHARGE_ID_CHARS = 64


class UnknownPlanError(Exception):
    """No configured plan has this handle."""


class UnknownChargeError(Exception):
    """Shopify knows no such charge on this shop (made up, or another shop's)."""


class NoSubscriptionError(Exception):
    """The shop has no active subscription to cancel."""


async def _trial_days(shop: Shop, plan_trial_days: int) -> int:
    """A trial once per shop: what is left of a current trial on a plan change, none after
    an earlier subscription, the plan's own otherwise."""
    current = await active_subscription(shop.id, test_ok=True)
    if current is not None and current.trial_ends_at is not None:
        left = (current.trial_ends_at - datetime.now(UTC)).days
        return max(0, min(plan_trial_days, left))
    had_one = await BillingCharge.filter(shop_id=shop.id, kind=CHARGE_SUBSCRIPTION).exists()
    return 0 if had_one else plan_trial_days


async def subscribe(
    shop: Shop, handle: str, *, config: Config, shopify: ShopifyClient, creds: ShopCredentials
) -> str:
    """The URL the merchant approves the plan on (a new plan replaces the current one once
    approved). API mode only: under managed pricing Shopify's own page makes the charges."""
    billing = config.billing
    plan = billing.plan(handle)
    if plan is None:
        raise UnknownPlanError(handle)
    return_url = plans.return_url(config.app.url, shop.domain)
    if plan.kind == "one_time":
        payload = await shopify.create_one_time_purchase(
            creds,
            name=plan.name,
            price={"amount": str(plan.amount), "currencyCode": plan.currency},
            return_url=return_url,
            test=billing.test,
        )
    else:
        payload = await shopify.create_subscription(
            creds,
            name=plan.name,
            line_items=plans.line_items(plan),
            return_url=return_url,
            trial_days=await _trial_days(shop, plan.trial_days),
            test=billing.test,
        )
    log.info("billing charge created", extra={"shop": shop.domain, "plan": plan.handle})
    return str(payload["confirmationUrl"])


def charge_gids(charge_id: str) -> list[str]:
    """The gids a return's `charge_id` may name: Shopify sends the numeric id (of a
    subscription or of a one-time purchase); a gid is taken as is."""
    if charge_id.startswith((SUBSCRIPTION_GID, ONE_TIME_GID)):
        number = charge_id.rsplit("/", 1)[-1]
        return [charge_id] if number.isdigit() else []
    if charge_id.isdigit() and len(charge_id) <= MAX_CHARGE_ID_CHARS:
        return [f"{SUBSCRIPTION_GID}{charge_id}", f"{ONE_TIME_GID}{charge_id}"]
    return []


async def confirm_return(
    shop: Shop, charge_id: str, *, config: Config, shopify: ShopifyClient, creds: ShopCredentials
) -> BillingCharge | None:
    """Read the returned charge back from Shopify; store it only if Shopify says it is
    active (a new subscription replaces the current one). None: declined or still pending.
    UnknownChargeError when Shopify knows no such charge on this shop."""
    for gid in charge_gids(charge_id):
        node = await shopify.billing_charge(creds, gid)
        if node is not None:
            break
    else:
        raise UnknownChargeError(charge_id)
    if node.get("status") != STATUS_ACTIVE:
        log.info("billing return of a charge not active", extra={"shop": shop.domain})
        return None
    charge = await store_charge(shop, node, config.billing)
    if charge.kind == CHARGE_SUBSCRIPTION:
        # Shopify cancels the replaced subscription (APPLY_IMMEDIATELY); its webhook follows.
        await (
            BillingCharge.filter(shop_id=shop.id, kind=CHARGE_SUBSCRIPTION, status=STATUS_ACTIVE)
            .exclude(id=charge.id)
            .update(status=STATUS_CANCELLED, current_period_end=None)
        )
    log.info("billing charge active", extra={"shop": shop.domain, "plan": charge.plan})
    return charge


async def cancel(
    shop: Shop, *, config: Config, shopify: ShopifyClient, creds: ShopCredentials
) -> BillingCharge:
    """Cancel the shop's active subscription on Shopify, then store what Shopify answers."""
    current = await active_subscription(shop.id, test_ok=True)
    if current is None:
        raise NoSubscriptionError(shop.domain)
    node = await shopify.cancel_subscription(creds, current.charge_gid)
    charge = await store_charge(shop, node, config.billing)
    log.info("billing subscription cancelled", extra={"shop": shop.domain})
    return charge
