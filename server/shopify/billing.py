"""Shopify's Billing API calls of `ShopifyClient`: charges, cancel, usage records, state."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from server.shopify import operations as ops
from server.shopify.transport import GraphQLTransport, JsonObject, ShopCredentials

SUBSCRIPTION_GID = "gid://shopify/AppSubscription/"
ONE_TIME_GID = "gid://shopify/AppPurchaseOneTime/"


def money(amount: Decimal, currency: str) -> dict[str, str]:
    """A MoneyInput (the amount as a decimal string: never a float)."""
    return {"amount": str(amount), "currencyCode": currency}


class BillingCalls(GraphQLTransport):
    """appSubscriptionCreate, appPurchaseOneTimeCreate, appSubscriptionCancel,
    appUsageRecordCreate, currentAppInstallation and one charge by id."""

    async def create_subscription(
        self,
        creds: ShopCredentials,
        *,
        name: str,
        line_items: list[dict[str, Any]],
        return_url: str,
        trial_days: int,
        test: bool,
        replacement: str = "APPLY_IMMEDIATELY",
    ) -> JsonObject:
        """A pending subscription; the payload has `confirmationUrl` and `appSubscription`."""
        return await self.mutate(
            creds,
            ops.APP_SUBSCRIPTION_CREATE,
            {
                "name": name,
                "lineItems": line_items,
                "returnUrl": return_url,
                "trialDays": trial_days,
                "test": test,
                "replacementBehavior": replacement,
            },
            payload_field="appSubscriptionCreate",
        )

    async def create_one_time_purchase(
        self,
        creds: ShopCredentials,
        *,
        name: str,
        price: dict[str, str],
        return_url: str,
        test: bool,
    ) -> JsonObject:
        """A pending one-time purchase; the payload has `confirmationUrl`."""
        return await self.mutate(
            creds,
            ops.APP_PURCHASE_ONE_TIME_CREATE,
            {"name": name, "price": price, "returnUrl": return_url, "test": test},
            payload_field="appPurchaseOneTimeCreate",
        )

    async def cancel_subscription(self, creds: ShopCredentials, charge_gid: str) -> JsonObject:
        """Cancel a subscription; return it as Shopify now has it."""
        payload = await self.mutate(
            creds,
            ops.APP_SUBSCRIPTION_CANCEL,
            {"id": charge_gid},
            payload_field="appSubscriptionCancel",
        )
        subscription: JsonObject = payload["appSubscription"]
        return subscription

    async def create_usage_record(
        self,
        creds: ShopCredentials,
        *,
        line_item_gid: str,
        price: dict[str, str],
        description: str,
        idempotency_key: str,
    ) -> JsonObject:
        """A usage charge; Shopify answers a repeated `idempotency_key` with the first record."""
        payload = await self.mutate(
            creds,
            ops.APP_USAGE_RECORD_CREATE,
            {
                "subscriptionLineItemId": line_item_gid,
                "price": price,
                "description": description,
                "idempotencyKey": idempotency_key,
            },
            payload_field="appUsageRecordCreate",
        )
        record: JsonObject = payload["appUsageRecord"]
        return record

    async def app_installation(self, creds: ShopCredentials) -> JsonObject:
        """`currentAppInstallation`: active subscriptions and recent one-time purchases."""
        data = await self.query(creds, ops.CURRENT_APP_INSTALLATION)
        installation: JsonObject = data["currentAppInstallation"]
        return installation

    async def billing_charge(self, creds: ShopCredentials, charge_gid: str) -> JsonObject | None:
        """One subscription or one-time purchase of this app on this shop (by its gid); None
        when Shopify knows no such charge here (another shop's, or made up)."""
        if charge_gid.startswith(SUBSCRIPTION_GID):
            query, typename = ops.BILLING_SUBSCRIPTION, "AppSubscription"
        elif charge_gid.startswith(ONE_TIME_GID):
            query, typename = ops.BILLING_ONE_TIME_PURCHASE, "AppPurchaseOneTime"
        else:
            return None
        data = await self.query(creds, query, {"id": charge_gid})
        node = data.get("node")
        if not isinstance(node, dict) or node.get("__typename") != typename:
            return None
        return node


__all__ = ["ONE_TIME_GID", "SUBSCRIPTION_GID", "BillingCalls", "money"]
