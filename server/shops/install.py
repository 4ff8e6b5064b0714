"""After an install: what the worker records of the shop once its new token proved good."""

from __future__ import annotations

import logging

from models import Shop
from server.services import ShopifyServices

log = logging.getLogger(__name__)


async def record_shop_profile(services: ShopifyServices, shop: str) -> None:
    """Read the shop's name and currency with its token, and store them."""
    creds = await services.credentials(shop)
    info = await services.shopify.shop_info(creds)
    await Shop.filter(domain=shop).update(
        name=str(info.get("name") or ""), currency_code=str(info.get("currencyCode") or "")
    )
    log.info("shop profile recorded", extra={"shop": shop})
