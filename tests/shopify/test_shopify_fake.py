"""The fake itself: seeded data, connection semantics, cost, shops, webhook sender."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from tests.fake_shopify import FakeShopify, WebhookSender, webhook_hmac
from tests.fake_shopify.data import generate_shop_data


def test_seeded_data_is_deterministic() -> None:
    one = generate_shop_data("a.myshopify.com", seed=7, products=5, orders=5, customers=5)
    two = generate_shop_data("a.myshopify.com", seed=7, products=5, orders=5, customers=5)
    other = generate_shop_data("a.myshopify.com", seed=8, products=5, orders=5, customers=5)
    assert [p["title"] for p in one.products] == [p["title"] for p in two.products]
    assert [o["totalPriceSet"] for o in one.orders] == [o["totalPriceSet"] for o in two.orders]
    assert [c["updatedAt"] for c in one.customers] != [c["updatedAt"] for c in other.customers]


async def _post(
    session: aiohttp.ClientSession,
    fake: FakeShopify,
    shop: str,
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> tuple[int, Any]:
    url = fake.admin_origin.format(shop=shop) + "/admin/api/2026-10/graphql.json"
    async with session.post(
        url,
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": token},
    ) as resp:
        return resp.status, orjson.loads(await resp.read())


PAGE = """
query Page($first: Int!, $after: String, $query: String, $sortKey: ProductSortKeys,
           $reverse: Boolean) {
  products(first: $first, after: $after, query: $query, sortKey: $sortKey, reverse: $reverse) {
    edges { cursor node { id updatedAt } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def test_connection_semantics_and_cost(
    http_session: aiohttp.ClientSession, fake_shopify: FakeShopify, shop: str
) -> None:
    token = fake_shopify.issue_token(shop)
    seeded = fake_shopify.shop(shop).data.products  # 20 products
    status, body = await _post(
        http_session, fake_shopify, shop, token, PAGE, {"first": 15, "sortKey": "ID"}
    )
    assert status == 200
    page = body["data"]["products"]
    assert [e["node"]["id"] for e in page["edges"]] == [n["id"] for n in page["nodes"]]
    assert [n["id"] for n in page["nodes"]] == [p["id"] for p in seeded[:15]]
    assert page["pageInfo"]["hasNextPage"] is True
    # requested: 2 + 15 * max(edges.node, nodes) = 2 + 15 * 1; actual the same here.
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 17 and cost["actualQueryCost"] == 17
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}

    _, body = await _post(
        http_session,
        fake_shopify,
        shop,
        token,
        PAGE,
        {"first": 15, "sortKey": "ID", "after": page["pageInfo"]["endCursor"]},
    )
    rest = body["data"]["products"]
    assert [n["id"] for n in rest["nodes"]] == [p["id"] for p in seeded[15:]]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert body["extensions"]["cost"]["actualQueryCost"] == 2 + 5  # only 5 came back

    cut = sorted(p["updatedAt"] for p in seeded)[10]
    _, body = await _post(
        http_session,
        fake_shopify,
        shop,
        token,
        PAGE,
        {"first": 50, "sortKey": "UPDATED_AT", "reverse": True, "query": f"updated_at:>'{cut}'"},
    )
    stamps = [e["node"]["updatedAt"] for e in body["data"]["products"]["edges"]]
    assert stamps == sorted((p["updatedAt"] for p in seeded if p["updatedAt"] > cut), reverse=True)


async def test_graphql_errors_and_limits(
    http_session: aiohttp.ClientSession, fake_shopify: FakeShopify, shop: str
) -> None:
    token = fake_shopify.issue_token(shop)
    status, body = await _post(
        http_session, fake_shopify, shop, token, "{ products { nodes { id } } }"
    )
    assert status == 200 and "first or last" in body["errors"][0]["message"]
    _, body = await _post(
        http_session,
        fake_shopify,
        shop,
        token,
        "{ products(first: 250) { nodes { id variants(first: 250) { nodes { id } } } } }",
    )
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


async def test_shops_are_isolated(
    http_session: aiohttp.ClientSession, fake_shopify: FakeShopify
) -> None:
    fake_shopify.add_shop("one.myshopify.com")
    fake_shopify.add_shop("two.myshopify.com")
    token = fake_shopify.issue_token("one.myshopify.com")
    query = "{ shop { myshopifyDomain } }"
    status, body = await _post(http_session, fake_shopify, "one.myshopify.com", token, query)
    assert body["data"]["shop"]["myshopifyDomain"] == "one.myshopify.com"
    status, body = await _post(http_session, fake_shopify, "two.myshopify.com", token, query)
    assert status == 401
    assert body == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


@pytest.fixture
async def receiver(aiohttp_server: AiohttpServer) -> AsyncIterator[tuple[str, list[Any]]]:
    received: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/webhooks", handler)
    server = await aiohttp_server(app)
    yield str(server.make_url("/webhooks")), received


async def test_webhook_sender_signs_like_shopify_and_retries_the_same_event(
    http_session: aiohttp.ClientSession, receiver: tuple[str, list[Any]]
) -> None:
    url, received = receiver
    sender = WebhookSender(http_session, secret="app-secret")
    delivery, resp = await sender.send(url, "orders/updated", "a.myshopify.com", {"id": 1})
    assert resp.status == 200
    await sender.redeliver(url, delivery)
    (first_headers, first_body), (second_headers, second_body) = received
    assert first_body == second_body == b'{"id":1}'
    assert first_headers["X-Shopify-Hmac-Sha256"] == webhook_hmac(first_body, "app-secret")
    assert first_headers["X-Shopify-Topic"] == "orders/updated"
    assert first_headers["X-Shopify-Shop-Domain"] == "a.myshopify.com"
    assert first_headers["X-Shopify-API-Version"] == "2026-10"
    assert first_headers["X-Shopify-Triggered-At"]
    assert first_headers["X-Shopify-Event-Id"] == second_headers["X-Shopify-Event-Id"]
    assert first_headers["X-Shopify-Webhook-Id"] != second_headers["X-Shopify-Webhook-Id"]
    await sender.deliver(url, delivery, secret="old-secret")
    assert received[2][0]["X-Shopify-Hmac-Sha256"] != first_headers["X-Shopify-Hmac-Sha256"]
