"""Builds clients pointed at the fake (used by fixtures and by tests needing several)."""

from __future__ import annotations

import aiohttp
import redis.asyncio as aioredis

from server.shopify import ShopifyClient
from tests.fake_shopify import FakeShopify


def make_client(
    http_session: aiohttp.ClientSession,
    redis_client: aioredis.Redis,
    fake: FakeShopify,
    redis_prefix: str,
    **options: object,
) -> ShopifyClient:
    """A client on the fake with fast retries (tests override any option)."""
    settings: dict[str, object] = {
        "api_version": "2026-10",
        "admin_origin": fake.admin_origin,
        "timeout_s": 5.0,
        "max_attempts": 3,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
        "redis_key_prefix": redis_prefix,
        "bulk_poll_interval_s": 0.01,
    }
    settings.update(options)
    return ShopifyClient(http_session, redis_client, **settings)  # type: ignore[arg-type]
