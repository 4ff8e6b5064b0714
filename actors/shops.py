"""What follows an install or a token exchange, run in workers (never inline in the request)."""

from __future__ import annotations

import asyncio

import dramatiq

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.resources import resources
from actors.sync import sync_shop
from server.shopify.errors import ShopifyAuthError
from server.shops.install import record_shop_profile
from server.shops.tokens import ShopTokenError
from server.webhooks.subscriptions import sync_subscriptions


@dramatiq.actor(queue_name="shops", max_retries=5, time_limit=120_000, throws=(ShopTokenError,))
async def shop_installed(shop: str) -> None:
    """Check the new token, record the shop's profile, then register its webhooks."""
    await record_shop_profile(resources().services, shop)
    # send is blocking I/O: off the worker's event loop.
    await asyncio.to_thread(register_webhooks.send, shop)
    # A successful install starts a full sync (sent only once the token proved good).
    await asyncio.to_thread(sync_shop.send, shop, "full", "install")


@dramatiq.actor(
    queue_name="shops",
    max_retries=5,
    time_limit=120_000,
    throws=(ShopTokenError, ShopifyAuthError),
)
async def register_webhooks(shop: str) -> None:
    """Make the shop's webhook subscriptions match SUBSCRIBED_TOPICS at APP_URL/webhooks."""
    res = resources()
    await sync_subscriptions(res.services, shop=shop, app_url=res.config.app.url)
