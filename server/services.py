"""The Shopify-facing services one process holds: OAuth client, Admin API client, tokens."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
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
