"""Each shop's charges as Shopify reports them, kept true by every source Shopify offers.

A charge is stored from Shopify's own answer (the return after approval reads it back;
the scheduled reconciliation reads `currentAppInstallation`), and its status follows the
`app_subscriptions/update` and `app_purchases_one_time/update` webhooks; uninstalling ends
it; `shop/redact` removes it (the models' privacy rules). Nothing here calls Shopify
except `reconcile`, which is handed the client.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models import BillingCharge, Shop
from models.billing import (
    CHARGE_ONE_TIME,
    CHARGE_SUBSCRIPTION,
    STATUS_ACTIVE,
    STATUS_CANCELLED,
)
from server.actor_names import PROCESS_LIFECYCLE_WEBHOOKS
from server.config import BillingConfig
from server.shopify import ShopCredentials, ShopifyClient
from server.shopify.billing import ONE_TIME_GID, SUBSCRIPTION_GID
from server.uninstall_steps import UNINSTALL_STEPS
from server.webhook_topics import Topic, register_topics

log = logging.getLogger(__name__)


class ChargeOwnerError(Exception):
    """The charge is stored for another shop: nothing is changed."""


class BillingPayloadError(Exception):
    """A billing webhook payload without the charge's id or status (no retry fixes it)."""


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _decimal(money: Any) -> Decimal | None:
    if isinstance(money, dict) and money.get("amount") is not None:
        return Decimal(str(money["amount"]))
    return None


def charge_fields(node: dict[str, Any], billing: BillingConfig) -> dict[str, Any]:
    """The stored columns of a charge from Shopify's AppSubscription/AppPurchaseOneTime."""
    plan = billing.plan_named(str(node.get("name")))
    created = _time(node.get("createdAt"))
    fields: dict[str, Any] = {
        "name": str(node.get("name") or ""),
        "plan": plan.handle if plan else None,
        "status": str(node.get("status")),
        "test": bool(node.get("test")),
        "shopify_created_at": created,
    }
    if str(node["id"]).startswith(ONE_TIME_GID):
        price = node.get("price") or {}
        return {
            **fields,
            "kind": CHARGE_ONE_TIME,
            "amount": _decimal(price),
            "currency": price.get("currencyCode"),
        }
    trial_days = int(node.get("trialDays") or 0)
    fields.update(
        kind=CHARGE_SUBSCRIPTION,
        trial_days=trial_days,
        trial_ends_at=created + timedelta(days=trial_days) if created and trial_days else None,
        current_period_end=_time(node.get("currentPeriodEnd")),
        amount=None,
        currency=None,
        usage_line_item_gid=None,
        capped_amount=None,
        balance_used=None,
    )
    for line in node.get("lineItems") or []:
        details = (line.get("plan") or {}).get("pricingDetails") or {}
        if details.get("__typename") == "AppRecurringPricing":
            fields["amount"] = _decimal(details.get("price"))
            fields["currency"] = (details.get("price") or {}).get("currencyCode")
        elif details.get("__typename") == "AppUsagePricing":
            fields["usage_line_item_gid"] = line.get("id")
            fields["capped_amount"] = _decimal(details.get("cappedAmount"))
            fields["balance_used"] = _decimal(details.get("balanceUsed"))
            fields["currency"] = fields["currency"] or (details.get("cappedAmount") or {}).get(
                "currencyCode"
            )
    return fields


async def store_charge(shop: Shop, node: dict[str, Any], billing: BillingConfig) -> BillingCharge:
    """Insert or update the charge from Shopify's answer; ChargeOwnerError if it is stored
    for another shop."""
    fields = charge_fields(node, billing)
    gid = str(node["id"])
    async with in_transaction():
        row = await BillingCharge.filter(charge_gid=gid).select_for_update().first()
        if row is not None and row.shop_id != shop.id:
            raise ChargeOwnerError(gid)
        if row is None:
            return await BillingCharge.create(shop_id=shop.id, charge_gid=gid, **fields)
        row.update_from_dict(fields)
        await row.save()
        return row


def plan_handle(charge: BillingCharge, billing: BillingConfig) -> str | None:
    """The charge's plan: stored, else the configured plan of its name (a charge a webhook
    told us of, not read back yet)."""
    if charge.plan is not None:
        return charge.plan
    plan = billing.plan_named(charge.name)
    return plan.handle if plan else None


def _active_q(*, test_ok: bool) -> Q:
    q = Q(status=STATUS_ACTIVE)
    return q if test_ok else q & Q(test=False)


async def active_subscription(shop_id: int, *, test_ok: bool) -> BillingCharge | None:
    """The shop's active subscription (the latest, should Shopify ever report two)."""
    return (
        await BillingCharge.filter(
            _active_q(test_ok=test_ok), shop_id=shop_id, kind=CHARGE_SUBSCRIPTION
        )
        .order_by("-updated_at", "-id")
        .first()
    )


async def has_active_plan(shop_id: int, *, test_ok: bool) -> bool:
    """What the 402 gate asks: an active subscription, or an active one-time purchase."""
    return await BillingCharge.filter(_active_q(test_ok=test_ok), shop_id=shop_id).exists()


async def reconcile(
    shop: Shop, *, shopify: ShopifyClient, creds: ShopCredentials, billing: BillingConfig
) -> dict[str, int]:
    """Re-read the shop's charges from Shopify (`currentAppInstallation`): what is active
    there is stored; a charge stored as active that Shopify no longer lists is read back
    by id (or, unknown to Shopify, cancelled). A missed webhook heals here."""
    installation = await shopify.app_installation(creds)
    nodes = list(installation.get("activeSubscriptions") or [])
    purchases = (installation.get("oneTimePurchases") or {}).get("nodes") or []
    known = set(await BillingCharge.filter(shop_id=shop.id).values_list("charge_gid", flat=True))
    nodes.extend(p for p in purchases if p.get("status") == STATUS_ACTIVE or p["id"] in known)
    listed = {str(n["id"]) for n in nodes}
    for node in nodes:
        await store_charge(shop, node, billing)
    stale = await BillingCharge.filter(
        shop_id=shop.id, status=STATUS_ACTIVE, kind=CHARGE_SUBSCRIPTION
    )
    healed = 0
    for row in stale:
        if row.charge_gid in listed:
            continue
        node = await shopify.billing_charge(creds, row.charge_gid)
        if node is not None:
            await store_charge(shop, node, billing)
        else:
            row.status = STATUS_CANCELLED
            await row.save(update_fields=["status", "updated_at"])
        healed += 1
    return {"stored": len(nodes), "healed": healed}


# ------------------------------------------------------------------- webhooks


def _payload_charge(payload: dict[str, Any], key: str) -> dict[str, Any]:
    charge = payload.get(key)
    if not isinstance(charge, dict) or not isinstance(charge.get("admin_graphql_api_id"), str):
        raise BillingPayloadError(f"{key}.admin_graphql_api_id missing")
    return charge


async def _apply_status(shop_domain: str, gid: str, *, status: str, name: str, kind: str) -> None:
    shop = await Shop.get_or_none(domain=shop_domain)
    if shop is None:
        return
    row = await BillingCharge.get_or_none(charge_gid=gid, shop_id=shop.id)
    if row is not None:
        row.status = status
        if status != STATUS_ACTIVE and kind == CHARGE_SUBSCRIPTION:
            row.current_period_end = None
        await row.save(update_fields=["status", "current_period_end", "updated_at"])
        return
    if status != STATUS_ACTIVE:
        return  # a pending or ended charge we never stored: nothing to keep
    # Not read from Shopify yet: `test` (and the plan, the period, the usage line) stay
    # unknown until the reconciliation reads the charge; the name says the plan meanwhile.
    await BillingCharge.create(
        shop_id=shop.id, charge_gid=gid, kind=kind, name=name, plan=None, status=status, test=None
    )


# The status webhooks: topic -> (payload key, gid prefix, charge kind).
STATUS_TOPICS: dict[str, tuple[str, str, str]] = {
    "app_subscriptions/update": ("app_subscription", SUBSCRIPTION_GID, CHARGE_SUBSCRIPTION),
    "app_purchases_one_time/update": ("app_purchase_one_time", ONE_TIME_GID, CHARGE_ONE_TIME),
}


async def charge_status_updated(topic: str, shop: str, payload: dict[str, Any]) -> None:
    """app_subscriptions/update, app_purchases_one_time/update: the charge's new status."""
    key, prefix, kind = STATUS_TOPICS[topic]
    charge = _payload_charge(payload, key)
    gid = charge["admin_graphql_api_id"]
    if not gid.startswith(prefix) or not isinstance(charge.get("status"), str):
        raise BillingPayloadError(f"{key}: not a {kind} id, or no status")
    await _apply_status(
        shop, gid, status=charge["status"].upper(), name=str(charge.get("name") or ""), kind=kind
    )


async def approaching_capped_amount(shop: str, payload: dict[str, Any]) -> None:
    """app_subscriptions/approaching_capped_amount: the balance and cap, and when it came."""
    charge = _payload_charge(payload, "app_subscription")
    updates: dict[str, Any] = {"approaching_cap_at": datetime.now(UTC)}
    for column, key in (("balance_used", "balance_used"), ("capped_amount", "capped_amount")):
        if isinstance(charge.get(key), int | float | str) and not isinstance(charge[key], bool):
            updates[column] = Decimal(str(charge[key]))
    of_shop = Subquery(Shop.filter(domain=shop).values("id"))
    await BillingCharge.filter(
        charge_gid=charge["admin_graphql_api_id"], shop_id__in=of_shop
    ).update(**updates)


async def _billing_topic(
    topic: str, shop: str, payload: dict[str, Any], _d: dict[str, Any]
) -> None:
    if topic in STATUS_TOPICS:
        await charge_status_updated(topic, shop, payload)
    else:
        await approaching_capped_amount(shop, payload)


# The charges' status: applied beside the shop's lifecycle.
register_topics(
    {
        topic: Topic(_billing_topic, PROCESS_LIFECYCLE_WEBHOOKS, permanent=(BillingPayloadError,))
        for topic in (*STATUS_TOPICS, "app_subscriptions/approaching_capped_amount")
    }
)


@UNINSTALL_STEPS.register("billing")
async def end_shop_billing(shop: str) -> None:
    """An uninstall step: Shopify cancels the app's charges with the app; so do we."""
    of_shop = Subquery(Shop.filter(domain=shop).values("id"))
    await BillingCharge.filter(
        shop_id__in=of_shop,
        kind=CHARGE_SUBSCRIPTION,
        status__in=[STATUS_ACTIVE, "PENDING", "FROZEN"],
    ).update(status=STATUS_CANCELLED, current_period_end=None, updated_at=datetime.now(UTC))
