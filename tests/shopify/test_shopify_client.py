"""The Admin API client against the fake: pagination, throttling, retries, errors."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import aiohttp
import orjson
import pytest
import redis.asyncio as aioredis

from server.shopify import (
    ShopCredentials,
    ShopifyAuthError,
    ShopifyClient,
    ShopifyConnectionError,
    ShopifyServerError,
    ShopifyThrottledError,
    ShopifyUserError,
    parse_retry_after,
)
from server.shopify.paging import listing_pages
from tests.fake_shopify import FakeShopify, Fault
from tests.shopify.factory import make_client


async def _read(
    client: ShopifyClient,
    creds: ShopCredentials,
    resource: str,
    *,
    first: int,
    updated_since: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every node of a synced resource, read as the sync engine reads it."""
    walk = listing_pages(client, creds, resource, first=first, updated_since=updated_since)
    return [node async for page in walk for node in page.nodes]


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("2", 2.0),
        ("2.0", 2.0),
        (" 0.25 ", 0.25),
        ("0", 0.0),
        ("abc", None),
        ("-1", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


async def test_shop_info_uses_version_and_token(
    shopify_client: ShopifyClient, creds: ShopCredentials, fake_shopify: FakeShopify
) -> None:
    info = await shopify_client.shop_info(creds)
    assert info["myshopifyDomain"] == creds.shop
    [call] = fake_shopify.calls_for(creds.shop)
    assert call.version == "2026-10"
    assert call.operation == "ShopInfo"
    assert call.status == 200


async def test_pagination_over_more_than_1000_customers(
    shopify_client: ShopifyClient, fake_shopify: FakeShopify
) -> None:
    fake_shopify.add_shop("big.myshopify.com", customers=1_100, orders=0, products=0)
    creds = ShopCredentials("big.myshopify.com", fake_shopify.issue_token("big.myshopify.com"))
    customers = await _read(shopify_client, creds, "customers", first=250)
    assert len(customers) == 1_100
    assert len({c["id"] for c in customers}) == 1_100
    stamps = [c["updatedAt"] for c in customers]
    assert stamps == sorted(stamps)  # sortKey UPDATED_AT
    assert len(fake_shopify.calls_for(creds.shop)) == 5  # 250 per page


async def test_updated_since_filter(
    shopify_client: ShopifyClient, fake_shopify: FakeShopify
) -> None:
    fake_shopify.add_shop("f.myshopify.com", customers=300, orders=0, products=0)
    creds = ShopCredentials("f.myshopify.com", fake_shopify.issue_token("f.myshopify.com"))
    everything = await _read(shopify_client, creds, "customers", first=250)
    cut = sorted(c["updatedAt"] for c in everything)[120]
    since = datetime.fromisoformat(cut.replace("Z", "+00:00"))
    recent = await _read(shopify_client, creds, "customers", first=250, updated_since=since)
    assert recent
    assert {c["id"] for c in recent} == {c["id"] for c in everything if c["updatedAt"] >= cut}


async def test_products_with_all_variants(
    shopify_client: ShopifyClient, fake_shopify: FakeShopify
) -> None:
    fake_shopify.add_shop("v.myshopify.com", products=40, variants_per_product=30)
    creds = ShopCredentials("v.myshopify.com", fake_shopify.issue_token("v.myshopify.com"))
    products = await _read(shopify_client, creds, "products", first=30)
    assert len(products) == 40
    # 30 variants exceed the nested page of 25: the rest is fetched per product.
    assert all(len(p["variants"]) == 30 for p in products)
    assert len({v["id"] for p in products for v in p["variants"]}) == 40 * 30


async def test_orders_with_line_items_and_transactions(
    shopify_client: ShopifyClient, fake_shopify: FakeShopify
) -> None:
    fake_shopify.add_shop("o.myshopify.com", orders=20, line_items_per_order=12)
    creds = ShopCredentials("o.myshopify.com", fake_shopify.issue_token("o.myshopify.com"))
    orders = await _read(shopify_client, creds, "orders", first=15)
    assert len(orders) == 20
    assert all(len(o["lineItems"]) == 12 for o in orders)
    assert all(o["transactions"][0]["kind"] == "SALE" for o in orders)
    seeded = {o["id"]: o for o in fake_shopify.shop("o.myshopify.com").data.orders}
    for order in orders:
        assert [li["id"] for li in order["lineItems"]] == [
            li["id"] for li in seeded[order["id"]]["lineItems"]
        ]


def _busy_shop(fake_shopify: FakeShopify) -> ShopCredentials:
    """300 customers behind a small bucket: 200 points, restoring 1000 a second."""
    domain = "busy.myshopify.com"
    fake_shopify.add_shop(
        domain, customers=300, orders=0, products=0, bucket_max=200, restore_rate=1000
    )
    return ShopCredentials(domain, fake_shopify.issue_token(domain))


async def _drain_customers(client: ShopifyClient, creds: ShopCredentials) -> int:
    return len(await _read(client, creds, "customers", first=50))


@pytest.mark.slow  # waits out a real restore rate
async def test_four_concurrent_callers_stay_within_the_restore_rate(
    http_session: aiohttp.ClientSession,
    redis_client: aioredis.Redis,
    redis_prefix: str,
    fake_shopify: FakeShopify,
) -> None:
    # Each page costs 2 + 50 * 2 = 102; the bucket holds 200 and restores 1000/s, so four
    # callers draining 6 pages each (~2450 points) must pace themselves for ~2 s.
    creds = _busy_shop(fake_shopify)
    workers = [
        make_client(http_session, redis_client, fake_shopify, redis_prefix) for _ in range(4)
    ]
    await workers[0].shop_info(creds)  # learns the bucket size and rate
    fake_shopify.calls.clear()

    counts = await asyncio.gather(*(_drain_customers(w, creds) for w in workers))

    assert counts == [300] * 4
    calls = fake_shopify.calls_for(creds.shop)
    assert len(calls) == 24
    assert not [c for c in calls if c.throttled], "the shared bucket let workers overspend"
    # The fake's own accounting: points charged in any window never exceed what the
    # bucket can hold plus what it restored in that window.
    charged = sorted((c.at_s, c.requested or 0) for c in calls)
    for i, (start, _) in enumerate(charged):
        for j in range(i, len(charged)):
            spent = sum(cost for _, cost in charged[i : j + 1])
            assert spent <= 200 + 1000 * (charged[j][0] - start) + 1


@pytest.mark.slow  # waits out a real restore rate
async def test_separate_buckets_do_get_throttled(
    http_session: aiohttp.ClientSession,
    redis_client: aioredis.Redis,
    redis_prefix: str,
    fake_shopify: FakeShopify,
) -> None:
    # Control for the test above: workers that do not share a bucket overspend.
    creds = _busy_shop(fake_shopify)
    workers = [
        make_client(http_session, redis_client, fake_shopify, f"{redis_prefix}{i}:")
        for i in range(4)
    ]
    for worker in workers:
        await worker.shop_info(creds)
    # Without a shared estimate they overspend; some may even give up on THROTTLED.
    outcomes = await asyncio.gather(
        *(_drain_customers(w, creds) for w in workers), return_exceptions=True
    )
    assert all(o == 300 or isinstance(o, ShopifyThrottledError) for o in outcomes), outcomes
    assert [c for c in fake_shopify.calls_for(creds.shop) if c.throttled]


async def test_throttled_answer_is_waited_out_and_retried(
    shopify_client: ShopifyClient, fake_shopify: FakeShopify
) -> None:
    domain = "t.myshopify.com"
    shop = fake_shopify.add_shop(domain, customers=100, bucket_max=500, restore_rate=1000)
    creds = ShopCredentials(domain, fake_shopify.issue_token(domain))
    shop.bucket.available = 0  # someone else drained it; our local estimate does not know
    shop.bucket.updated_at_s = time.monotonic()
    customers = await _read(shopify_client, creds, "customers", first=100)
    assert len(customers) == 100
    calls = fake_shopify.calls_for(domain)
    assert calls[0].throttled
    assert not calls[-1].throttled
    # Waited for what throttleStatus said was missing (202 points at 1000/s).
    assert calls[-1].at_s - calls[0].at_s >= 0.15


async def test_throttled_forever_surfaces(
    http_session: aiohttp.ClientSession,
    redis_client: aioredis.Redis,
    redis_prefix: str,
    fake_shopify: FakeShopify,
) -> None:
    domain = "t.myshopify.com"
    shop = fake_shopify.add_shop(domain, bucket_max=500, restore_rate=0.001)
    creds = ShopCredentials(domain, fake_shopify.issue_token(domain))
    shop.bucket.available = 0
    client = make_client(
        http_session,
        redis_client,
        fake_shopify,
        redis_prefix,
        max_throttle_retries=2,
        max_throttle_wait_s=0.01,
    )
    with pytest.raises(ShopifyThrottledError) as caught:
        await client.shop_info(creds)
    assert domain in str(caught.value) and "ShopInfo" in str(caught.value)
    # One THROTTLED answer teaches the shared bucket the shop's real state, after which
    # the client refuses to wait ~2000 s rather than hammering the shop.
    assert len(fake_shopify.calls_for(domain)) == 1


async def test_throttled_retries_are_bounded(
    http_session: aiohttp.ClientSession,
    redis_client: aioredis.Redis,
    redis_prefix: str,
    fake_shopify: FakeShopify,
) -> None:
    domain = "t2.myshopify.com"
    fake_shopify.add_shop(domain)
    creds = ShopCredentials(domain, fake_shopify.issue_token(domain))
    throttled = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {
            "cost": {
                "requestedQueryCost": 2,
                "actualQueryCost": None,
                "throttleStatus": {
                    "maximumAvailable": 2000.0,
                    "currentlyAvailable": 0.0,
                    "restoreRate": 1000.0,
                },
            }
        },
    }
    fake_shopify.inject(domain, *[Fault(status=200, body=throttled)] * 3)
    client = make_client(
        http_session, redis_client, fake_shopify, redis_prefix, max_throttle_retries=2
    )
    with pytest.raises(ShopifyThrottledError):
        await client.shop_info(creds)
    assert len(fake_shopify.calls_for(domain)) == 3


@pytest.mark.parametrize("retry_after", ["0.3", "1"])
async def test_429_honours_retry_after_seconds(
    shopify_client: ShopifyClient,
    creds: ShopCredentials,
    fake_shopify: FakeShopify,
    retry_after: str,
) -> None:
    fake_shopify.inject(
        creds.shop,
        Fault(status=429, retry_after=retry_after, body={"errors": "Exceeded 2 calls per second"}),
    )
    await shopify_client.shop_info(creds)
    first, second = fake_shopify.calls_for(creds.shop)
    assert first.status == 429 and second.status == 200
    waited_s = second.at_s - first.at_s
    assert float(retry_after) <= waited_s < float(retry_after) + 0.5  # seconds, not ms


async def test_5xx_is_retried_then_succeeds(
    shopify_client: ShopifyClient, creds: ShopCredentials, fake_shopify: FakeShopify
) -> None:
    fake_shopify.inject(creds.shop, Fault(status=503), Fault(status=502))
    info = await shopify_client.shop_info(creds)
    assert info["myshopifyDomain"] == creds.shop
    assert [c.status for c in fake_shopify.calls_for(creds.shop)] == [503, 502, 200]


async def test_5xx_persisting_surfaces_a_server_error(
    shopify_client: ShopifyClient, creds: ShopCredentials, fake_shopify: FakeShopify
) -> None:
    fake_shopify.inject(creds.shop, *[Fault(status=500)] * 5)
    with pytest.raises(ShopifyServerError) as caught:
        await shopify_client.shop_info(creds)
    assert caught.value.status == 500
    assert creds.shop in str(caught.value) and "ShopInfo" in str(caught.value)
    assert creds.access_token not in str(caught.value)
    assert len(fake_shopify.calls_for(creds.shop)) == 3  # max_attempts


async def test_slow_response_times_out_and_is_retried(
    http_session: aiohttp.ClientSession,
    redis_client: aioredis.Redis,
    redis_prefix: str,
    fake_shopify: FakeShopify,
    creds: ShopCredentials,
) -> None:
    client = make_client(http_session, redis_client, fake_shopify, redis_prefix, timeout_s=0.2)
    fake_shopify.inject(creds.shop, Fault(delay_s=0.6))
    assert (await client.shop_info(creds))["myshopifyDomain"] == creds.shop
    fake_shopify.inject(creds.shop, *[Fault(delay_s=0.6)] * 3)
    with pytest.raises(ShopifyConnectionError):
        await client.shop_info(creds)


async def test_revoked_token_raises_auth_error(
    shopify_client: ShopifyClient, creds: ShopCredentials, fake_shopify: FakeShopify
) -> None:
    fake_shopify.revoke_tokens(creds.shop)
    with pytest.raises(ShopifyAuthError) as caught:
        await shopify_client.shop_info(creds)
    assert caught.value.status == 401
    assert creds.access_token not in str(caught.value)
    assert creds.access_token not in repr(creds)
    assert len(fake_shopify.calls_for(creds.shop)) == 1  # never retried


async def test_expired_token_raises_auth_error(
    shopify_client: ShopifyClient, creds: ShopCredentials, fake_shopify: FakeShopify
) -> None:
    fake_shopify.expire_access_tokens(creds.shop)
    with pytest.raises(ShopifyAuthError):
        await shopify_client.shop_info(creds)


async def test_user_errors_raise_typed_error(
    shopify_client: ShopifyClient, creds: ShopCredentials
) -> None:
    with pytest.raises(ShopifyUserError) as caught:
        await shopify_client.create_webhook_subscription(
            creds, topic="ORDERS_UPDATED", uri="ftp://example.com/hooks"
        )
    assert caught.value.user_errors[0]["message"] == "Address is invalid"
    assert "WebhookSubscriptionCreate" in str(caught.value)


async def test_webhook_subscriptions_lifecycle(
    shopify_client: ShopifyClient, creds: ShopCredentials, fake_shopify: FakeShopify
) -> None:
    created = await shopify_client.create_webhook_subscription(
        creds, topic="APP_UNINSTALLED", uri="https://app.example.com/webhooks"
    )
    await shopify_client.create_webhook_subscription(
        creds, topic="ORDERS_UPDATED", uri="https://app.example.com/webhooks"
    )
    with pytest.raises(ShopifyUserError):  # same topic and address twice
        await shopify_client.create_webhook_subscription(
            creds, topic="ORDERS_UPDATED", uri="https://app.example.com/webhooks"
        )
    listed = await shopify_client.list_webhook_subscriptions(creds)
    assert {(w["topic"], w["uri"]) for w in listed} == {
        ("APP_UNINSTALLED", "https://app.example.com/webhooks"),
        ("ORDERS_UPDATED", "https://app.example.com/webhooks"),
    }
    updated = await shopify_client.update_webhook_subscription(
        creds, created["id"], uri="https://new.example.com/webhooks"
    )
    assert updated["uri"] == "https://new.example.com/webhooks"
    assert fake_shopify.shop(creds.shop).webhooks[created["id"]]["uri"] == updated["uri"]
    assert await shopify_client.delete_webhook_subscription(creds, created["id"]) == created["id"]
    assert created["id"] not in fake_shopify.shop(creds.shop).webhooks


async def test_web_pixel_lifecycle(
    shopify_client: ShopifyClient, creds: ShopCredentials, fake_shopify: FakeShopify
) -> None:
    assert await shopify_client.get_web_pixel(creds) is None
    url = "https://app.example.test/pixel/events"
    pixel = await shopify_client.create_web_pixel(creds, {"accountID": "k1", "ingestUrl": url})
    assert pixel["settings"] == {"accountID": "k1", "ingestUrl": url}
    with pytest.raises(ShopifyUserError) as caught:
        await shopify_client.create_web_pixel(creds, {"accountID": "k2", "ingestUrl": url})
    assert caught.value.user_errors[0]["code"] == "TAKEN"
    updated = await shopify_client.update_web_pixel(
        creds, pixel["id"], {"accountID": "k3", "ingestUrl": url}
    )
    assert updated["settings"] == {"accountID": "k3", "ingestUrl": url}
    assert await shopify_client.get_web_pixel(creds) == updated
    state = fake_shopify.shop(creds.shop).pixel
    assert state is not None and orjson.loads(state["settings"])["accountID"] == "k3"
    # Settings that do not match the extension's definition are refused, as Shopify does.
    with pytest.raises(ShopifyUserError) as caught:
        await shopify_client.update_web_pixel(creds, pixel["id"], {"ingestKey": "k4"})
    assert caught.value.user_errors[0]["code"] == "INVALID_SETTINGS"
    assert await shopify_client.delete_web_pixel(creds, pixel["id"]) == pixel["id"]
    assert fake_shopify.shop(creds.shop).pixel is None
