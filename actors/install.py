"""What follows an install or a token exchange, run in workers (never inline in the request)."""

from __future__ import annotations

import asyncio
import logging

import dramatiq

import actors.broker  # noqa: F401  (the broker must exist before any actor is declared)
from actors.resources import resources
from actors.sync import sync_shop
from actors.webhooks import register_webhooks
from models import Shop
from server.shops import ShopTokenError

log = logging.getLogger(__name__)


@dramatiq.actor(queue_name="shops", max_retries=5, time_limit=120_000, throws=(ShopTokenError,))
async def shop_installed(shop: str) -> None:
    """Check the new token, record the shop's profile, then register its webhooks."""
    services = resources().services
    creds = await services.credentials(shop)
    info = await services.shopify.shop_info(creds)
    await Shop.filter(domain=shop).update(
        name=str(info.get("name") or ""), currency_code=str(info.get("currencyCode") or "")
    )
    log.info("shop profile recorded", extra={"shop": shop})
    # send is blocking I/O: off the worker's event loop.
    await asyncio.to_thread(register_webhooks.send, shop)
    # A successful install starts a full sync (sent only once the token proved good).
    await asyncio.to_thread(sync_shop.send, shop, "full", "install")
