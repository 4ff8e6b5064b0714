"""The app proxy (`/proxy/{path}`): Shopify's `signature`, checked over HTTP.

Signatures come from tests/shopify_signing.py (the JS library's app proxy routine,
rewritten there), never from the code under test.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from yarl import URL

from server.proxy.handlers import PROXY_ROUTES, ProxyAnswer, StorefrontRequest
from tests.shopify_signing import Query, js_app_proxy_signature, query_string

SHOP = "proxy-store.myshopify.com"


@PROXY_ROUTES.register(("POST", "test-echo"))
async def _echo(request: StorefrontRequest) -> dict[str, object]:
    return {
        "shop": request.shop,
        "customer": request.customer_id,
        "params": [list(p) for p in request.params],
        "body": request.body.decode(),
    }


@PROXY_ROUTES.register(("GET", "test-liquid"))
async def _liquid(request: StorefrontRequest) -> ProxyAnswer:
    return ProxyAnswer("<p>Hello from {{ shop.name }}</p>")


def _shopify_query(secret: str, *, customer: str = "", **extra: str | list[str]) -> Query:
    query: Query = {
        "shop": SHOP,
        "logged_in_customer_id": customer,
        "path_prefix": "/apps/acme",
        "timestamp": str(int(time.time())),
        **extra,
    }
    return {**query, "signature": js_app_proxy_signature(query, secret)}


def _url(path: str, query: Query) -> URL:
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        pairs += [(key, v) for v in value] if isinstance(value, list) else [(key, value)]
    return URL(f"{path}?{query_string(pairs)}", encoded=True)


def _secret(config) -> str:
    return config.shopify.api_secret.reveal()


async def test_ping_answers_the_shop_and_an_empty_customer(client, config):
    response = await client.get(_url("/proxy/ping", _shopify_query(_secret(config))))
    assert response.status == 200, await response.text()
    assert await response.json() == {"shop": SHOP, "logged_in_customer_id": ""}


async def test_ping_answers_the_logged_in_customer(client, config):
    query = _shopify_query(_secret(config), customer="7212391247")
    response = await client.get(_url("/proxy/ping", query))
    assert response.status == 200
    assert await response.json() == {"shop": SHOP, "logged_in_customer_id": "7212391247"}


@pytest.mark.parametrize(
    "extra",
    [
        {"ids[]": ["1", "2"]},  # names with [] and a repeated key (joined with ,)
        {"tag": ["sale", "new"]},
        {"q": "fish & chips"},
        {"expr": "a=1&b=2"},
        {"name": "Crème brûlée ☕ 東京"},
        {"pct": "100%"},
    ],
    ids=lambda e: next(iter(e)),
)
async def test_shopify_s_known_pitfalls_verify(client, config, extra):
    response = await client.get(_url("/proxy/ping", _shopify_query(_secret(config), **extra)))
    assert response.status == 200, await response.text()


async def test_the_handler_gets_the_storefront_s_own_parameters_and_body(client, config):
    query = _shopify_query(_secret(config), customer="42", colour="blue")
    response = await client.post(_url("/proxy/test-echo", query), data=b"hello")
    assert response.status == 200
    assert await response.json() == {
        "shop": SHOP,
        "customer": "42",
        "params": [["colour", "blue"]],
        "body": "hello",
    }


def _tampered(query: Query) -> list[Query]:
    without_customer = {k: v for k, v in query.items() if k != "logged_in_customer_id"}
    return [
        {**query, "signature": "0" * 64},
        {k: v for k, v in query.items() if k != "signature"},
        {**query, "logged_in_customer_id": "1"},  # impersonating a customer
        {**query, "shop": "other-store.myshopify.com"},
        without_customer,  # the empty logged_in_customer_id is signed too
        {**query, "extra": "x"},
    ]


@pytest.mark.parametrize("case", range(6))
async def test_a_tampered_or_unsigned_request_is_401(client, config, case):
    query = _tampered(_shopify_query(_secret(config)))[case]
    response = await client.get(_url("/proxy/ping", query))
    assert response.status == 401
    assert response.content_type == "application/problem+json"


async def test_a_stale_request_is_401(client, config):
    old = str(int(time.time()) - config.security.proxy_timestamp_window_s - 60)
    query = {k: v for k, v in _shopify_query("unused").items() if k != "signature"}
    query["timestamp"] = old
    query["signature"] = js_app_proxy_signature(query, _secret(config))
    response = await client.get(_url("/proxy/ping", query))
    assert response.status == 401


async def test_a_repeated_shop_is_refused_even_when_signed(client, config):
    query = _shopify_query(_secret(config), shop=[SHOP, "other-store.myshopify.com"])
    assert (await client.get(_url("/proxy/ping", query))).status == 401


async def test_an_unknown_route_is_404_after_the_signature(client, config):
    response = await client.get(_url("/proxy/nothing-here", _shopify_query(_secret(config))))
    assert response.status == 404
    unsigned = await client.get("/proxy/nothing-here?shop=" + SHOP)
    assert unsigned.status == 401


async def test_the_limit_is_per_verified_shop(make_client, make_config):
    config = make_config()
    config = replace(
        config, rate_limits=replace(config.rate_limits, proxy_shop_per_s=1, proxy_shop_burst=3)
    )
    client = await make_client(config)
    statuses = [
        (await client.get(_url("/proxy/ping", _shopify_query(_secret(config))))).status
        for _ in range(5)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429
    # Unsigned requests do not spend the shop's budget (anyone can name a shop).
    for _ in range(5):
        assert (await client.get(f"/proxy/ping?shop={SHOP}")).status == 401


async def test_a_handler_may_answer_liquid_for_the_theme(client, config):
    response = await client.get(_url("/proxy/test-liquid", _shopify_query(_secret(config))))
    assert response.status == 200
    assert response.content_type == "application/liquid"
    assert await response.text() == "<p>Hello from {{ shop.name }}</p>"
