"""GET /api/billing's body: the mode, the plans, the active plan with its trial and usage."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from models import BillingCharge, Shop
from models.billing import CHARGE_ONE_TIME
from server.billing.plans import describe_plan, managed_pricing_url
from server.billing.state import active_subscription, plan_handle
from server.billing.usage import usage_view
from server.config import BillingConfig

MAX_ONE_TIME_SHOWN = 50


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | int | None) -> str | None:
    # Stored with 4 places; shown as Shopify shows money.
    return None if value is None else f"{Decimal(value):.2f}"


def _active(charge: BillingCharge, usage: dict[str, Any], billing: BillingConfig) -> dict[str, Any]:
    now = datetime.now(UTC)
    handle = plan_handle(charge, billing)
    plan = billing.plan(handle) if handle else None
    trial_days_left = (
        max(0, (charge.trial_ends_at - now).days + (1 if charge.trial_ends_at > now else 0))
        if charge.trial_ends_at is not None
        else 0
    )
    return {
        "plan": handle,
        "name": charge.name,
        "status": charge.status,
        "test": charge.test,
        "trial_ends_at": _iso(charge.trial_ends_at),
        "trial_days_left": trial_days_left,
        "current_period_end": _iso(charge.current_period_end),
        "usage": (
            {
                "balance": _money(charge.balance_used or 0),
                "capped_amount": _money(charge.capped_amount),
                "currency": charge.currency,
                "approaching_cap_at": _iso(charge.approaching_cap_at),
                "events_this_period": usage["events"],
                "included_events": plan.included_events if plan and plan.metered else None,
                "charges": usage["charges"],
            }
            if charge.capped_amount is not None
            else None
        ),
    }


async def describe(shop: Shop, billing: BillingConfig) -> dict[str, Any]:
    """The whole billing state of the shop as the app home shows it."""
    charge = await active_subscription(shop.id, test_ok=billing.test)
    purchases = (
        await BillingCharge.filter(shop_id=shop.id, kind=CHARGE_ONE_TIME)
        .order_by("-id")
        .limit(MAX_ONE_TIME_SHOWN)
    )
    body: dict[str, Any] = {
        "mode": billing.mode,
        "required": billing.required,
        "test": billing.test,
        "plans": [describe_plan(p) for p in billing.plans] if billing.mode == "api" else [],
        "active": _active(charge, await usage_view(shop.id, charge), billing) if charge else None,
        "one_time_purchases": [
            {
                "plan": plan_handle(p, billing),
                "name": p.name,
                "status": p.status,
                "test": p.test,
                "amount": _money(p.amount),
                "currency": p.currency,
                "created_at": _iso(p.shopify_created_at),
            }
            for p in purchases
        ],
    }
    if billing.mode == "managed":
        body["pricing_url"] = managed_pricing_url(shop.domain, billing.app_handle)
    return body
