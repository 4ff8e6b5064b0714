"""What follows an install or a token exchange, run in workers (never inline in the request)."""

from __future__ import annotations

import asyncio

import dramatiq

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.resources import resources
from server import actor_names
from server.shopify.errors import ShopifyAuthError
from server.shops.install import record_shop_profile
from server.shops.tokens import ShopTokenError
from server.tasks import send
from server.webhooks.subscriptions import sync_subscriptions


@dramatiq.actor(
    actor_name=actor_names.SHOP_INSTALLED,
    queue_name="shops",
    max_retries=5,
    time_limit=120_000,
    throws=(ShopTokenError,),
)
async def shop_installed(shop: str) -> None:
    """Check the new token, record the shop's profile, then register its webhooks."""
    await record_shop_profile(resources().services, shop)
    # send is blocking I/O: off the worker's event loop.
    await asyncio.to_thread(send, actor_names.REGISTER_WEBHOOKS, shop)
    # A successful install starts a full sync (sent only once the token proved good).
    await asyncio.to_thread(send, actor_names.SYNC_SHOP, shop, "full", "install")


@dramatiq.actor(
    actor_name=actor_names.REGISTER_WEBHOOKS,
    queue_name="shops",
    max_retries=5,
    time_limit=120_000,
    throws=(ShopTokenError, ShopifyAuthError),
)
async def register_webhooks(shop: str) -> None:
    """Make the shop's webhook subscriptions match SUBSCRIBED_TOPICS at APP_URL/webhooks."""
    res = resources()
    await sync_subscriptions(res.services, shop=shop, app_url=res.config.app.url)
