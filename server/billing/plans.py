"""What a configured plan asks of Shopify, and the URLs around a charge."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from server.config import BillingPlan, Config
from server.shopify.billing import money

MYSHOPIFY_SUFFIX = ".myshopify.com"
RETURN_PATH = "/billing/return"


def line_items(plan: BillingPlan) -> list[dict[str, Any]]:
    """appSubscriptionCreate's lineItems: the recurring price (unless 0) and the usage line."""
    items: list[dict[str, Any]] = []
    if plan.amount > 0:
        details = {"price": money(plan.amount, plan.currency), "interval": plan.interval}
        items.append({"plan": {"appRecurringPricingDetails": details}})
    if plan.usage_capped_amount is not None:
        usage = {
            "cappedAmount": money(plan.usage_capped_amount, plan.currency),
            "terms": plan.usage_terms,
        }
        items.append({"plan": {"appUsagePricingDetails": usage}})
    return items


def return_url(app_url: str, shop: str) -> str:
    """Where Shopify sends the merchant after the approval page (it adds `charge_id`)."""
    return f"{app_url}{RETURN_PATH}?{urlencode({'shop': shop})}"


def managed_pricing_url(shop: str, app_handle: str) -> str:
    """Shopify's plan-selection page for the shop (managed pricing)."""
    store = shop.removesuffix(MYSHOPIFY_SUFFIX)
    return f"https://admin.shopify.com/store/{store}/charges/{app_handle}/pricing_plans"


def app_in_admin_url(config: Config, shop: str) -> str:
    """The app inside the shop's admin: where the merchant goes back after a charge."""
    return f"{config.shopify.shop_origin(shop)}/admin/apps/{config.shopify.api_key}"


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def describe_plan(plan: BillingPlan) -> dict[str, Any]:
    """A plan as GET /api/billing shows it (amounts as decimal strings)."""
    return {
        "handle": plan.handle,
        "name": plan.name,
        "kind": plan.kind,
        "amount": str(plan.amount),
        "currency": plan.currency,
        "interval": plan.interval,
        "trial_days": plan.trial_days,
        "usage_capped_amount": _amount(plan.usage_capped_amount),
        "usage_terms": plan.usage_terms,
        "price_per_1000_events": _amount(plan.price_per_1000_events),
        "included_events": plan.included_events if plan.metered else None,
    }
