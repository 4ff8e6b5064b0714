"""A fake Shopify (OAuth + GraphQL Admin API) for tests and local trials."""

from tests.fake_shopify.server import CallRecord, FakeShop, FakeShopify, Fault, sign_query
from tests.fake_shopify.webhooks import WebhookDelivery, WebhookSender, webhook_hmac

__all__ = [
    "CallRecord",
    "FakeShop",
    "FakeShopify",
    "Fault",
    "WebhookDelivery",
    "WebhookSender",
    "sign_query",
    "webhook_hmac",
]
