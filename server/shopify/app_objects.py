"""What the app keeps on a shop through the Admin API: its webhook subscriptions and its
web pixel, and the shop's own description.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from server.shopify import operations as ops
from server.shopify.errors import ShopifyGraphQLError
from server.shopify.paging import all_nodes
from server.shopify.transport import GraphQLTransport, JsonObject, ShopCredentials


class AppObjects(GraphQLTransport):
    """Shop info, webhook subscriptions and web pixel calls of `ShopifyClient`."""

    async def shop_info(self, creds: ShopCredentials) -> JsonObject:
        """The shop's name, domain, currency, plan..."""
        data = await self.query(creds, ops.SHOP_INFO)
        shop: JsonObject = data["shop"]
        return shop

    # --- webhook subscriptions --------------------------------------------------------

    async def list_webhook_subscriptions(self, creds: ShopCredentials) -> list[JsonObject]:
        """Every webhook subscription of this app on the shop."""
        return await all_nodes(
            self,
            creds,
            ops.WEBHOOK_SUBSCRIPTIONS_PAGE,
            {"first": 100},
            connection_path=("webhookSubscriptions",),
        )

    async def create_webhook_subscription(
        self,
        creds: ShopCredentials,
        *,
        topic: str,
        uri: str,
        options: Mapping[str, Any] | None = None,
    ) -> JsonObject:
        """Subscribe `uri` to `topic` (enum name, e.g. `ORDERS_UPDATED`); `options` are more
        WebhookSubscriptionInput fields (filter, includeFields, metafieldNamespaces)."""
        subscription_input = {**(options or {}), "uri": uri, "format": "JSON"}
        payload = await self.mutate(
            creds,
            ops.WEBHOOK_SUBSCRIPTION_CREATE,
            {"topic": topic, "webhookSubscription": subscription_input},
            payload_field="webhookSubscriptionCreate",
        )
        subscription: JsonObject = payload["webhookSubscription"]
        return subscription

    async def update_webhook_subscription(
        self,
        creds: ShopCredentials,
        subscription_id: str,
        *,
        uri: str,
        options: Mapping[str, Any] | None = None,
    ) -> JsonObject:
        """Point an existing subscription at `uri` (and give it `options`, as on create)."""
        payload = await self.mutate(
            creds,
            ops.WEBHOOK_SUBSCRIPTION_UPDATE,
            {"id": subscription_id, "webhookSubscription": {**(options or {}), "uri": uri}},
            payload_field="webhookSubscriptionUpdate",
        )
        subscription: JsonObject = payload["webhookSubscription"]
        return subscription

    async def delete_webhook_subscription(
        self, creds: ShopCredentials, subscription_id: str
    ) -> str:
        """Delete a subscription; return its id."""
        payload = await self.mutate(
            creds,
            ops.WEBHOOK_SUBSCRIPTION_DELETE,
            {"id": subscription_id},
            payload_field="webhookSubscriptionDelete",
        )
        return str(payload["deletedWebhookSubscriptionId"])

    # --- web pixel --------------------------------------------------------------------

    @staticmethod
    def _decode_pixel(pixel: JsonObject) -> JsonObject:
        # Shopify returns `settings` as a JSON-encoded string.
        settings = pixel.get("settings")
        if isinstance(settings, str):
            pixel = {**pixel, "settings": orjson.loads(settings)}
        return pixel

    async def get_web_pixel(self, creds: ShopCredentials) -> JsonObject | None:
        """This app's web pixel on the shop, settings decoded; None when there is none."""
        try:
            data = await self.query(creds, ops.WEB_PIXEL)
        except ShopifyGraphQLError as e:
            # Shopify answers a missing pixel with a NOT_FOUND-style GraphQL error.
            if any("not found" in str(err).lower() for err in e.errors):
                return None
            raise
        pixel = data.get("webPixel")
        return self._decode_pixel(pixel) if isinstance(pixel, dict) else None

    async def create_web_pixel(
        self, creds: ShopCredentials, settings: Mapping[str, Any]
    ) -> JsonObject:
        """Activate the app's web pixel with `settings`."""
        payload = await self.mutate(
            creds,
            ops.WEB_PIXEL_CREATE,
            {"webPixel": {"settings": orjson.dumps(dict(settings)).decode()}},
            payload_field="webPixelCreate",
        )
        return self._decode_pixel(payload["webPixel"])

    async def update_web_pixel(
        self, creds: ShopCredentials, pixel_id: str, settings: Mapping[str, Any]
    ) -> JsonObject:
        """Replace the web pixel's settings."""
        payload = await self.mutate(
            creds,
            ops.WEB_PIXEL_UPDATE,
            {"id": pixel_id, "webPixel": {"settings": orjson.dumps(dict(settings)).decode()}},
            payload_field="webPixelUpdate",
        )
        return self._decode_pixel(payload["webPixel"])

    async def delete_web_pixel(self, creds: ShopCredentials, pixel_id: str) -> str:
        """Deactivate the web pixel; return its id."""
        payload = await self.mutate(
            creds, ops.WEB_PIXEL_DELETE, {"id": pixel_id}, payload_field="webPixelDelete"
        )
        return str(payload["deletedWebPixelId"])


__all__ = ["AppObjects"]
