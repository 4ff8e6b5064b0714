"""Fixtures: the fake Shopify on a real port, and a client pointed at it.

Redis is the suite's (tests/conftest.py: REDIS_URL, else the embedded server).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis
from pytest_aiohttp import AiohttpServer

from server.shopify import ShopCredentials, ShopifyClient
from tests.fake_shopify import FakeShopify
from tests.shopify.factory import make_client

SHOP = "acme-store.myshopify.com"


@pytest.fixture
async def redis_prefix(redis_client: aioredis.Redis) -> AsyncIterator[str]:
    """A key prefix unique to this test; its keys are deleted afterwards."""
    prefix = f"test:shopify:{uuid.uuid4().hex}:"
    yield prefix
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}*")]
    if keys:
        await redis_client.delete(*keys)


@pytest.fixture
async def fake_shopify(aiohttp_server: AiohttpServer) -> AsyncIterator[FakeShopify]:
    """The fake, serving on 127.0.0.1; fails the test if it received an invalid operation."""
    # A high restore rate keeps tests fast; throttle tests set their own bucket per shop.
    fake = FakeShopify(restore_rate=50_000.0, bucket_max=2000.0)
    server = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("")).rstrip("/")
    yield fake
    await fake.close()
    assert not fake.invalid_operations, f"invalid GraphQL sent: {fake.invalid_operations}"


@pytest.fixture
def shop(fake_shopify: FakeShopify) -> str:
    """A seeded shop on the fake."""
    fake_shopify.add_shop(SHOP)
    return SHOP


@pytest.fixture
def creds(fake_shopify: FakeShopify, shop: str) -> ShopCredentials:
    """A valid access token for `shop`."""
    return ShopCredentials(shop=shop, access_token=fake_shopify.issue_token(shop))


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    """One shared ClientSession, as the app has."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def shopify_client(
    http_session: aiohttp.ClientSession,
    redis_client: aioredis.Redis,
    fake_shopify: FakeShopify,
    redis_prefix: str,
) -> ShopifyClient:
    """The client under test, pointed at the fake."""
    return make_client(http_session, redis_client, fake_shopify, redis_prefix)
