"""Webhook subscriptions: webhookSubscriptionCreate / Update / Delete and their state."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.fake_shopify.data import Node
from tests.fake_shopify.state import FakeShop, FakeState, _now


class WebhookSubscriptions(FakeState):
    """The webhook subscription mutations (state in `FakeShop.webhooks`)."""

    @staticmethod
    def _uri_error(uri: str | None) -> str | None:
        if not uri:
            return "Address can't be blank"
        parts = urlsplit(uri)
        if parts.scheme == "https" and parts.hostname:
            return None
        if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost"):
            return None  # the fake lets local test servers receive webhooks
        if uri.startswith(("pubsub://", "arn:aws:events:")):
            return None
        return "Address is invalid"

    def _webhook_create(self, shop: FakeShop, topic: str, webhookSubscription: Node) -> Node:
        uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
        error = self._uri_error(uri)
        if error is None and any(
            w["topic"] == topic and w["uri"] == uri for w in shop.webhooks.values()
        ):
            error = "Address for this topic has already been taken"
        if error:
            return {
                "webhookSubscription": None,
                "userErrors": [{"field": ["webhookSubscription", "uri"], "message": error}],
            }
        now = _now()
        subscription_id = self._new_id(shop, "WebhookSubscription")
        subscription = {
            "__typename": "WebhookSubscription",
            "id": subscription_id,
            "legacyResourceId": subscription_id.rsplit("/", 1)[-1],
            "topic": topic,
            "uri": uri,
            "callbackUrl": uri,
            "format": webhookSubscription.get("format") or "JSON",
            "filter": webhookSubscription.get("filter"),
            "includeFields": webhookSubscription.get("includeFields") or [],
            "metafieldNamespaces": webhookSubscription.get("metafieldNamespaces") or [],
            "apiVersion": {
                "__typename": "ApiVersion",
                "handle": "2026-10",
                "displayName": "2026-10",
                "supported": True,
            },
            "createdAt": now,
            "updatedAt": now,
        }
        shop.webhooks[subscription_id] = subscription
        return {"webhookSubscription": subscription, "userErrors": []}

    def _webhook_update(self, shop: FakeShop, id: str, webhookSubscription: Node) -> Node:
        subscription = shop.webhooks.get(id)
        if subscription is None:
            return {
                "webhookSubscription": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
        uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
        if uri is not None:
            error = self._uri_error(uri)
            if error:
                return {
                    "webhookSubscription": None,
                    "userErrors": [{"field": ["webhookSubscription", "uri"], "message": error}],
                }
            subscription["uri"] = subscription["callbackUrl"] = uri
        for key in ("filter", "includeFields", "metafieldNamespaces", "format"):
            if webhookSubscription.get(key) is not None:
                subscription[key] = webhookSubscription[key]
        subscription["updatedAt"] = _now()
        return {"webhookSubscription": subscription, "userErrors": []}

    def _webhook_delete(self, shop: FakeShop, id: str) -> Node:
        if shop.webhooks.pop(id, None) is None:
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
        return {"deletedWebhookSubscriptionId": id, "userErrors": []}
