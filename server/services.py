"""What one process holds open (web or worker): its pools and the Shopify-facing services.

The database pool (Tortoise), one Redis pool, one HTTP session, and over them the OAuth
client, the Admin API client and the token store. `open_pools` is the one place they are
set up; the web app (server/web/app.py) and each worker process (actors/resources.py) use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import orjson
from redis.asyncio import Redis

from server.config import Config
from server.security.crypto import TokenCipher
from server.shopify.client import ShopCredentials, ShopifyClient
from server.shopify.oauth import OAuthClient
from server.shops.tokens import ShopTokens


@dataclass(frozen=True)
class ShopifyServices:
    """Built once per process over its shared HTTP session and Redis pool."""

    oauth: OAuthClient
    shopify: ShopifyClient
    tokens: ShopTokens

    async def credentials(self, shop: str) -> ShopCredentials:
        """The shop's domain with a valid (refreshed if needed) access token."""
        return ShopCredentials(shop=shop, access_token=await self.tokens.access_token(shop))


def build_services(config: Config, http: aiohttp.ClientSession, redis: Redis) -> ShopifyServices:
    """Wire the clients from the config (API version, admin origin, secrets, keys)."""
    oauth = OAuthClient(
        http,
        api_key=config.shopify.api_key,
        api_secret=config.shopify.api_secret.reveal(),
        admin_origin=config.shopify.admin_origin,
        timeout_s=config.shopify.request_timeout_s,
    )
    shopify = ShopifyClient(
        http,
        redis,
        api_version=config.shopify.api_version,
        admin_origin=config.shopify.admin_origin,
        timeout_s=config.shopify.request_timeout_s,
    )
    tokens = ShopTokens(
        oauth=oauth, cipher=TokenCipher(config.security.token_encryption_keys), redis=redis
    )
    return ShopifyServices(oauth=oauth, shopify=shopify, tokens=tokens)


@dataclass(frozen=True)
class Pools:
    """A process's open pools and the services built over them."""

    config: Config
    redis: Redis
    http: aiohttp.ClientSession
    services: ShopifyServices


async def open_pools(config: Config, *, database: bool = True, role: str = "") -> Pools:
    """Open the database pool (unless `database` is False: it is open already), Redis and
    the shared HTTP session on the running loop; `role` (web, worker) names the pool's
    connections in pg_stat_activity."""
    from server.db import init_db

    if database:
        await init_db(config, role=role)
    http = aiohttp.ClientSession(
        json_serialize=lambda obj: orjson.dumps(obj).decode(),
        # TLS verification on; per-call timeouts are set by the callers.
        timeout=aiohttp.ClientTimeout(total=config.shopify.request_timeout_s * 6),
    )
    redis = Redis.from_url(config.redis.url, health_check_interval=30)
    return Pools(
        config=config, redis=redis, http=http, services=build_services(config, http, redis)
    )


async def close_pools(pools: Pools | None, *, database: bool = True) -> None:
    """Close what open_pools opened (the database pool even when the rest never opened)."""
    from server.db import close_db

    if pools is not None:
        await pools.http.close()
        await pools.redis.aclose()
    if database:
        await close_db()
