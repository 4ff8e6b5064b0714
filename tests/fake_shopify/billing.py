"""Shopify's Billing API as the fake implements it: charges, the merchant's approval page,
cancellation, usage records (capped, deduplicated by idempotency key) and status webhooks.

- `appSubscriptionCreate` / `appPurchaseOneTimeCreate` make a PENDING charge and answer a
  confirmation URL on this fake: `GET` it to see the approval page, `POST` it with
  `decision=approve|decline` to act as the merchant; Shopify then sends the merchant to
  the charge's `returnUrl` with `charge_id` (its numeric id), approved or declined.
- Approving a subscription cancels the shop's other active one (replacement
  APPLY_IMMEDIATELY), and sets `currentPeriodEnd` 30 days (or a year) on.
- `appUsageRecordCreate` refuses a price past the capped amount ("Total price exceeds
  balance remaining") and answers a repeated `idempotencyKey` (same shop) with the answer
  the key first got, creating nothing (shopify.dev changelog, 2023-04).
- Status changes owe the app webhooks (`app_subscriptions/update`,
  `app_purchases_one_time/update`, `app_subscriptions/approaching_capped_amount` at 90 %
  of the cap); they are signed as Shopify signs them and POSTed to `billing_webhook_url`
  once the call that caused them has run (tests set the URL; unset, none is sent).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
from aiohttp import web

from tests.fake_shopify.data import Node, iso
from tests.fake_shopify.state import FakeShop, FakeState
from tests.fake_shopify.webhooks import WebhookSender

APPROACHING_SHARE = Decimal("0.9")
PERIOD_DAYS = {"EVERY_30_DAYS": 30, "ANNUAL": 365}
CONFIRM_PATHS = {
    "AppSubscription": "RecurringApplicationCharge/confirm_recurring_application_charge",
    "AppPurchaseOneTime": "ApplicationCharge/confirm_application_charge",
}


def _money(amount: Decimal, currency: str) -> Node:
    return {"__typename": "MoneyV2", "amount": str(amount), "currencyCode": currency}


def _error(field: list[str] | None, message: str) -> Node:
    return {"field": field, "message": message}


def _amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _url_error(url: str) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme not in {"http", "https"} or not parts.hostname


class Billing(FakeState):
    """The billing root fields (state in `FakeShop.billing`) and the approval page."""

    billing_webhook_url: str | None

    # --- charges ------------------------------------------------------------------------

    def _charge_url(self, shop: FakeShop, charge: Node, origin: str) -> str:
        number = charge["id"].rsplit("/", 1)[-1]
        path = CONFIRM_PATHS[charge["__typename"]]
        return f"{origin}/{shop.domain}/admin/charges/{self.api_key}/{number}/{path}"

    def _line_item(self, shop: FakeShop, item: Node) -> tuple[Node | None, Node | None]:
        """(line item, user error) for one AppSubscriptionLineItemInput."""
        plan = item.get("plan") or {}
        recurring, usage = (
            plan.get("appRecurringPricingDetails"),
            plan.get("appUsagePricingDetails"),
        )
        if (recurring is None) == (usage is None):
            return None, _error(["lineItems", "plan"], "Exactly one pricing detail is required")
        if recurring is not None:
            price = _amount(recurring["price"]["amount"])
            if price is None or price <= 0:
                return None, _error(["lineItems", "plan", "price"], "Price must be greater than 0")
            details: Node = {
                "__typename": "AppRecurringPricing",
                "interval": recurring.get("interval") or "EVERY_30_DAYS",
                "price": _money(price, recurring["price"]["currencyCode"]),
                "discount": None,
                "planHandle": None,
            }
        else:
            capped = _amount(usage["cappedAmount"]["amount"])
            if capped is None or capped <= 0:
                return None, _error(
                    ["lineItems", "plan", "cappedAmount"], "Capped amount must be greater than 0"
                )
            if not str(usage.get("terms") or "").strip():
                return None, _error(["lineItems", "plan", "terms"], "Terms can't be blank")
            currency = usage["cappedAmount"]["currencyCode"]
            details = {
                "__typename": "AppUsagePricing",
                "interval": "EVERY_30_DAYS",
                "terms": usage["terms"],
                "cappedAmount": _money(capped, currency),
                "balanceUsed": _money(Decimal("0"), currency),
            }
        line = {
            "__typename": "AppSubscriptionLineItem",
            "id": self._new_id(shop, "AppSubscriptionLineItem"),
            "plan": {"__typename": "AppPlanV2", "pricingDetails": details},
            "usageRecords": [],
        }
        return line, None

    def _subscription_create(  # noqa: PLR0911 (one answer per refusal)
        self,
        shop: FakeShop,
        origin: str,
        *,
        name: str,
        lineItems: list[Node],
        returnUrl: str,
        trialDays: int | None = None,
        test: bool | None = None,
        replacementBehavior: str | None = None,
    ) -> Node:
        def refused(error: Node) -> Node:
            return {"confirmationUrl": None, "appSubscription": None, "userErrors": [error]}

        if not name.strip():
            return refused(_error(["name"], "Name can't be blank"))
        if _url_error(returnUrl):
            return refused(_error(["returnUrl"], "Return url is invalid"))
        if not 1 <= len(lineItems) <= 2:
            return refused(_error(["lineItems"], "One or two line items are required"))
        if trialDays is not None and not 0 <= trialDays <= 1000:
            return refused(_error(["trialDays"], "Trial days must be between 0 and 1000"))
        lines = []
        for item in lineItems:
            line, error = self._line_item(shop, item)
            if error is not None:
                return refused(error)
            lines.append(line)
        kinds = [line["plan"]["pricingDetails"]["__typename"] for line in lines if line]
        if len(set(kinds)) != len(kinds):
            return refused(_error(["lineItems"], "Only one line item of each pricing type"))
        subscription = {
            "__typename": "AppSubscription",
            "id": self._new_id(shop, "AppSubscription"),
            "name": name,
            "status": "PENDING",
            "test": bool(test),
            "trialDays": trialDays or 0,
            "currentPeriodEnd": None,
            "createdAt": iso(datetime.now(UTC)),
            "returnUrl": returnUrl,
            "lineItems": lines,
        }
        shop.billing.subscriptions[subscription["id"]] = subscription
        return {
            "confirmationUrl": self._charge_url(shop, subscription, origin),
            "appSubscription": subscription,
            "userErrors": [],
        }

    def _one_time_create(
        self,
        shop: FakeShop,
        origin: str,
        *,
        name: str,
        price: Node,
        returnUrl: str,
        test: bool | None = None,
    ) -> Node:
        def refused(error: Node) -> Node:
            return {"confirmationUrl": None, "appPurchaseOneTime": None, "userErrors": [error]}

        amount = _amount(price["amount"])
        if not name.strip():
            return refused(_error(["name"], "Name can't be blank"))
        if amount is None or amount <= 0:
            return refused(_error(["price"], "Price must be greater than 0"))
        if _url_error(returnUrl):
            return refused(_error(["returnUrl"], "Return url is invalid"))
        purchase = {
            "__typename": "AppPurchaseOneTime",
            "id": self._new_id(shop, "AppPurchaseOneTime"),
            "name": name,
            "status": "PENDING",
            "test": bool(test),
            "createdAt": iso(datetime.now(UTC)),
            "price": _money(amount, price["currencyCode"]),
            "returnUrl": returnUrl,
        }
        shop.billing.one_time_purchases[purchase["id"]] = purchase
        return {
            "confirmationUrl": self._charge_url(shop, purchase, origin),
            "appPurchaseOneTime": purchase,
            "userErrors": [],
        }

    def _subscription_cancel(self, shop: FakeShop, *, id: str, prorate: bool | None = None) -> Node:
        subscription = shop.billing.subscriptions.get(id)
        if subscription is None:
            return {
                "appSubscription": None,
                "userErrors": [_error(["id"], "Couldn't find RecurringApplicationCharge")],
            }
        if subscription["status"] not in {"ACTIVE", "PENDING", "FROZEN"}:
            return {
                "appSubscription": None,
                "userErrors": [_error(["id"], "The subscription is not active")],
            }
        self._set_status(shop, subscription, "CANCELLED")
        return {"appSubscription": subscription, "userErrors": []}

    def _node(self, shop: FakeShop, id: str) -> Node | None:
        billing = shop.billing
        return billing.subscriptions.get(id) or billing.one_time_purchases.get(id)

    def _installation(self, shop: FakeShop) -> Node:
        billing = shop.billing
        return {
            "__typename": "AppInstallation",
            "activeSubscriptions": [
                s for s in billing.subscriptions.values() if s["status"] == "ACTIVE"
            ],
            "oneTimePurchases": list(billing.one_time_purchases.values()),
        }

    # --- usage --------------------------------------------------------------------------

    def _usage_create(
        self,
        shop: FakeShop,
        *,
        subscriptionLineItemId: str,
        price: Node,
        description: str,
        idempotencyKey: str | None = None,
    ) -> Node:
        billing = shop.billing
        if idempotencyKey is not None and idempotencyKey in billing.answers_by_key:
            return billing.answers_by_key[idempotencyKey]
        answer = self._usage_answer(
            shop, subscriptionLineItemId, price, description, idempotencyKey
        )
        if idempotencyKey is not None:
            billing.answers_by_key[idempotencyKey] = answer
        return answer

    def _usage_answer(  # noqa: PLR0911 (one answer per refusal)
        self, shop: FakeShop, line_id: str, price: Node, description: str, key: str | None
    ) -> Node:
        def refused(error: Node) -> Node:
            return {"appUsageRecord": None, "userErrors": [error]}

        found = next(
            (
                (s, line)
                for s in shop.billing.subscriptions.values()
                for line in s["lineItems"]
                if line["id"] == line_id
            ),
            None,
        )
        if found is None:
            return refused(_error(["subscriptionLineItemId"], "Subscription line item not found"))
        subscription, line = found
        details = line["plan"]["pricingDetails"]
        if details["__typename"] != "AppUsagePricing":
            return refused(_error(["subscriptionLineItemId"], "Line item is not usage based"))
        if subscription["status"] != "ACTIVE":
            return refused(_error(["subscriptionLineItemId"], "The subscription is not active"))
        amount = _amount(price["amount"])
        cap = details["cappedAmount"]
        if amount is None or amount <= 0:
            return refused(_error(["price"], "Price must be greater than 0"))
        if price["currencyCode"] != cap["currencyCode"]:
            return refused(_error(["price"], "Currency must match the capped amount's"))
        balance = Decimal(details["balanceUsed"]["amount"]) + amount
        capped = Decimal(cap["amount"])
        if balance > capped:
            return refused(_error(None, "Total price exceeds balance remaining"))
        details["balanceUsed"] = _money(balance, cap["currencyCode"])
        record = {
            "__typename": "AppUsageRecord",
            "id": self._new_id(shop, "AppUsageRecord"),
            "createdAt": iso(datetime.now(UTC)),
            "description": description,
            "idempotencyKey": key,
            "price": _money(amount, price["currencyCode"]),
            "subscriptionLineItem": line,
        }
        line["usageRecords"].append(record)
        shop.billing.usage_records.append(record)
        if balance >= capped * APPROACHING_SHARE and subscription["id"] not in (
            shop.billing.approaching_sent
        ):
            shop.billing.approaching_sent.add(subscription["id"])
            self._owe_webhook(
                shop,
                "app_subscriptions/approaching_capped_amount",
                {
                    "app_subscription": {
                        **self._subscription_payload(shop, subscription),
                        "balance_used": float(balance),
                        "capped_amount": float(capped),
                        "currency_code": cap["currencyCode"],
                    }
                },
            )
        return {"appUsageRecord": record, "userErrors": []}

    # --- status changes and their webhooks ----------------------------------------------

    def _owe_webhook(self, shop: FakeShop, topic: str, payload: Node) -> None:
        self.billing_webhooks.append((topic, shop.domain, payload))

    def _subscription_payload(self, shop: FakeShop, subscription: Node) -> Node:
        usage = next(
            (
                line["plan"]["pricingDetails"]
                for line in subscription["lineItems"]
                if line["plan"]["pricingDetails"]["__typename"] == "AppUsagePricing"
            ),
            None,
        )
        prices = [line["plan"]["pricingDetails"] for line in subscription["lineItems"]]
        currency = next((p.get("price") or p["cappedAmount"] for p in prices), {})
        return {
            "admin_graphql_api_id": subscription["id"],
            "name": subscription["name"],
            "status": subscription["status"],
            "admin_graphql_api_shop_id": "gid://shopify/Shop/1",
            "created_at": subscription["createdAt"],
            "updated_at": iso(datetime.now(UTC)),
            "currency": currency.get("currencyCode"),
            "capped_amount": usage["cappedAmount"]["amount"] if usage else None,
        }

    def _set_status(self, shop: FakeShop, charge: Node, status: str) -> None:
        charge["status"] = status
        if charge["__typename"] == "AppPurchaseOneTime":
            self._owe_webhook(
                shop,
                "app_purchases_one_time/update",
                {
                    "app_purchase_one_time": {
                        "admin_graphql_api_id": charge["id"],
                        "name": charge["name"],
                        "status": status,
                        "admin_graphql_api_shop_id": "gid://shopify/Shop/1",
                        "created_at": charge["createdAt"],
                        "updated_at": iso(datetime.now(UTC)),
                    }
                },
            )
            return
        if status != "ACTIVE":
            charge["currentPeriodEnd"] = None
        self._owe_webhook(
            shop,
            "app_subscriptions/update",
            {"app_subscription": self._subscription_payload(shop, charge)},
        )

    def approve(self, shop: str, charge_gid: str, *, approve: bool = True) -> Node:
        """Act as the merchant on a pending charge (what the approval page's POST does)."""
        fake_shop = self.shops[shop]
        charge = self._node(fake_shop, charge_gid)
        if charge is None or charge["status"] != "PENDING":
            raise KeyError(charge_gid)
        if not approve:
            self._set_status(fake_shop, charge, "DECLINED")
            return charge
        if charge["__typename"] == "AppSubscription":
            for other in list(fake_shop.billing.subscriptions.values()):
                if other is not charge and other["status"] == "ACTIVE":
                    self._set_status(fake_shop, other, "CANCELLED")
            interval = next(
                (
                    line["plan"]["pricingDetails"]["interval"]
                    for line in charge["lineItems"]
                    if line["plan"]["pricingDetails"]["__typename"] == "AppRecurringPricing"
                ),
                "EVERY_30_DAYS",
            )
            end = datetime.now(UTC) + timedelta(days=PERIOD_DAYS[interval])
            charge["status"] = "ACTIVE"
            charge["currentPeriodEnd"] = iso(end)
            self._set_status(fake_shop, charge, "ACTIVE")
        else:
            self._set_status(fake_shop, charge, "ACTIVE")
        return charge

    async def send_billing_webhooks(self) -> None:
        """POST the webhooks owed so far to `billing_webhook_url` (signed), in order."""
        owed, self.billing_webhooks[:] = list(self.billing_webhooks), []
        if not owed or not self.billing_webhook_url:
            return
        async with aiohttp.ClientSession() as session:
            sender = WebhookSender(session, secret=self.api_secret)
            for topic, shop, payload in owed:
                await sender.send(self.billing_webhook_url, topic, shop, payload)

    # --- the merchant's approval page ---------------------------------------------------

    def _charge_from_path(self, request: web.Request) -> tuple[FakeShop, Node]:
        shop = self.shops.get(request.match_info["shop"])
        kind = request.match_info["kind"]
        typename = next((t for t, path in CONFIRM_PATHS.items() if path.startswith(kind)), None)
        if shop is None or typename is None or request.match_info["api_key"] != self.api_key:
            raise web.HTTPNotFound()
        charge = self._node(shop, f"gid://shopify/{typename}/{request.match_info['number']}")
        if charge is None:
            raise web.HTTPNotFound()
        return shop, charge

    async def _confirm_page(self, request: web.Request) -> web.Response:
        _, charge = self._charge_from_path(request)
        test = " (test charge: the merchant is not billed)" if charge["test"] else ""
        page = (
            f"<!doctype html><title>Approve charge</title><h1>{charge['name']}{test}</h1>"
            f"<p>Status: {charge['status']}</p>"
            '<form method="post"><button name="decision" value="approve">Approve</button>'
            '<button name="decision" value="decline">Decline</button></form>'
        )
        return web.Response(text=page, content_type="text/html")

    async def _confirm(self, request: web.Request) -> web.Response:
        shop, charge = self._charge_from_path(request)
        decision = (await request.post()).get("decision")
        if decision not in {"approve", "decline"} or charge["status"] != "PENDING":
            raise web.HTTPBadRequest(text="this charge cannot be approved or declined")
        self.approve(shop.domain, charge["id"], approve=decision == "approve")
        await self.send_billing_webhooks()
        number = charge["id"].rsplit("/", 1)[-1]
        separator = "&" if "?" in charge["returnUrl"] else "?"
        raise web.HTTPFound(f"{charge['returnUrl']}{separator}{urlencode({'charge_id': number})}")

    def billing_routes(self, app: web.Application) -> None:
        """The approval page's routes."""
        path = "/{shop}/admin/charges/{api_key}/{number}/{kind}/{action}"
        app.router.add_get(path, self._confirm_page)
        app.router.add_post(path, self._confirm)

    def usage_records(self, shop: str) -> list[Node]:
        """Every usage record Shopify created for the shop (each one a charge)."""
        return list(self.shops[shop].billing.usage_records)

    def billing_root(self, shop: FakeShop, origin: str) -> dict[str, Any]:
        """The billing root fields of one shop."""
        return {
            "currentAppInstallation": lambda info: self._installation(shop),
            "node": lambda info, id: self._node(shop, id),
            "appSubscriptionCreate": lambda info, **a: self._subscription_create(shop, origin, **a),
            "appPurchaseOneTimeCreate": lambda info, **a: self._one_time_create(shop, origin, **a),
            "appSubscriptionCancel": lambda info, **a: self._subscription_cancel(shop, **a),
            "appUsageRecordCreate": lambda info, **a: self._usage_create(shop, **a),
        }
