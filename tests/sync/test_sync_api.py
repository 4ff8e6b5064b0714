"""The data API: lists, cursors, cache invalidation, sync control, re-auth and bad input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models import Shop, SyncRun
from server.sync import runs
from server.sync.engine import SyncContext, run_sync
from server.sync.normalize import product_row
from server.sync.store import SyncStore
from server.web import keys
from tests.helpers import bearer, install_shop

SHOP = "api-store.myshopify.com"
EARLY_ID, LATE_ID = 10**12 + 1, 10**12 + 2


@pytest.fixture
async def synced(shop_client: Any, shop_config: Any, fake: Any) -> Shop:
    fake.add_shop(SHOP, products=7, orders=5, customers=4)
    shop = await install_shop(shop_config, SHOP, access_token=fake.issue_token(SHOP))
    app = shop_client.server.app
    ctx = SyncContext(config=shop_config.sync, redis=app[keys.REDIS], services=app[keys.SERVICES])
    _, started = await runs.start_runs(shop.id, kind="full", trigger="test", overlap_s=0)
    assert {await run_sync(ctx, r.id) for r in started} == {"succeeded"}
    return shop


async def _all(client: Any, config: Any, path: str, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = await client.get(path + query, headers=bearer(config, SHOP))
        assert response.status == 200, await response.text()
        body = await response.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_lists_page_through_everything_in_a_stable_order(shop_client, shop_config, synced):
    products = await _all(shop_client, shop_config, "/api/products", 3)
    assert len(products) == 7
    keys_ = [(p["updated_at"], p["id"]) for p in products]
    assert keys_ == sorted(keys_)
    assert len(products[0]["variants"]) == 3
    assert set(products[0]) >= {"id", "title", "handle", "status", "tags", "updated_at"}
    orders = await _all(shop_client, shop_config, "/api/orders", 2)
    assert len(orders) == 5 and all(len(o["line_items"]) == 2 for o in orders)
    transactions = await _all(shop_client, shop_config, "/api/transactions", 250)
    assert transactions and {t["kind"] for t in transactions} <= {"sale", "refund"}
    assert len(await _all(shop_client, shop_config, "/api/customers", 250)) == 4


async def test_pagination_stays_stable_while_rows_are_inserted(shop_client, shop_config, synced):
    store = SyncStore(shop_client.server.app[keys.REDIS])
    response = await shop_client.get("/api/products?limit=3", headers=bearer(shop_config, SHOP))
    first = await response.json()
    # New rows land before and after the cursor while the client pages.
    early = datetime(2020, 1, 1, tzinfo=UTC)
    late = datetime(2030, 1, 1, tzinfo=UTC)
    await store.upsert("products", synced.id, [_product(EARLY_ID, early), _product(LATE_ID, late)])
    seen = [p["id"] for p in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        response = await shop_client.get(
            f"/api/products?limit=3&cursor={cursor}", headers=bearer(shop_config, SHOP)
        )
        body = await response.json()
        seen.extend(p["id"] for p in body["items"])
        cursor = body["next_cursor"]
    assert len(seen) == len(set(seen))  # nothing twice
    assert len(seen) == 8  # the 7 first rows and the later insert; the earlier one is behind
    assert LATE_ID in seen and EARLY_ID not in seen


def _product(product_id: int, updated_at: datetime, title: str = "Inserted") -> dict[str, Any]:
    return product_row(
        {
            "id": product_id,
            "title": title,
            "handle": f"p-{product_id}",
            "status": "active",
            "tags": "",
            "created_at": updated_at.isoformat(),
            "updated_at": updated_at.isoformat(),
            "variants": [],
        }
    )


async def test_a_write_invalidates_cached_pages(shop_client, shop_config, synced, fake):
    headers = bearer(shop_config, SHOP)
    first = await shop_client.get("/api/products?limit=250", headers=headers)
    assert first.headers["X-Cache"] == "miss"
    again = await shop_client.get("/api/products?limit=250", headers=bearer(shop_config, SHOP))
    assert again.headers["X-Cache"] == "hit"
    assert await again.json() == await first.json()
    target = (await first.json())["items"][0]
    newer = datetime.fromisoformat(target["updated_at"]) + timedelta(hours=1)
    await SyncStore(shop_client.server.app[keys.REDIS]).upsert(
        "products", synced.id, [_product(target["id"], newer, title="Renamed")]
    )
    after = await shop_client.get("/api/products?limit=250", headers=bearer(shop_config, SHOP))
    assert after.headers["X-Cache"] == "miss"
    titles = {p["id"]: p["title"] for p in (await after.json())["items"]}
    assert titles[target["id"]] == "Renamed"
    metrics = await (await shop_client.get("/metrics")).text()
    assert 'api_cache_lookups_total{resource="products",result="hit"} 1.0' in metrics
    assert 'api_cache_lookups_total{resource="products",result="miss"} 2.0' in metrics


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=251",
        "limit=x",
        "cursor=abc",
        "updated_since=yesterday",
        "updated_since=2026-01-01T00:00:00",
        "colour=red",
    ],
)
async def test_bad_list_input_is_a_400_problem(shop_client, shop_config, synced, query):
    response = await shop_client.get(f"/api/orders?{query}", headers=bearer(shop_config, SHOP))
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    assert (await response.json())["detail"]


async def test_cursor_of_another_list_is_refused(shop_client, shop_config, synced):
    body = await (
        await shop_client.get("/api/products?limit=1", headers=bearer(shop_config, SHOP))
    ).json()
    response = await shop_client.get(
        f"/api/orders?cursor={body['next_cursor']}", headers=bearer(shop_config, SHOP)
    )
    assert response.status == 400


async def test_updated_since_filters(shop_client, shop_config, synced):
    everything = await _all(shop_client, shop_config, "/api/customers", 250)
    middle = sorted(c["updated_at"] for c in everything)[2]
    response = await shop_client.get(
        f"/api/customers?updated_since={middle}", headers=bearer(shop_config, SHOP)
    )
    items = (await response.json())["items"]
    assert items and all(c["updated_at"] >= middle for c in items)
    assert len(items) == sum(1 for c in everything if c["updated_at"] >= middle)


async def test_post_sync_queues_once_and_get_sync_reports(
    shop_client, shop_config, synced, stub_broker
):
    responses = await asyncio.gather(
        *(
            shop_client.post("/api/sync", json={"kind": "full"}, headers=bearer(shop_config, SHOP))
            for _ in range(5)
        )
    )
    bodies = [await r.json() for r in responses]
    assert {r.status for r in responses} == {202}
    run_sets = {tuple(sorted(run["id"] for run in b["runs"])) for b in bodies}
    assert len(run_sets) == 1  # every request joined the same three runs
    assert sum(run["new"] for b in bodies for run in b["runs"]) == 3
    assert stub_broker.queues["sync"].qsize() == 5
    state = await (await shop_client.get("/api/sync", headers=bearer(shop_config, SHOP))).json()
    products = state["resources"]["products"]
    assert products["running"] is True and products["last_run"]["status"] == "pending"
    assert products["last_success_at"] is not None and products["next_run_at"]
    # What the app home shows as "stored": the rows held now, per resource.
    stored = {name: r["stored"] for name, r in state["resources"].items()}
    assert stored == {"products": 7, "orders": 5, "customers": 4}


async def test_post_sync_with_bad_body_changes_nothing(shop_client, shop_config, synced):
    before = await SyncRun.all().count()
    for body in ({"kind": "weekly"}, {"resources": ["planets"]}, {"resources": []}, [1]):
        response = await shop_client.post("/api/sync", json=body, headers=bearer(shop_config, SHOP))
        assert response.status == 400
    assert await SyncRun.all().count() == before


async def test_broker_down_is_a_503_and_leaves_no_pending_run(
    shop_client, shop_config, synced, stub_broker, monkeypatch
):
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(stub_broker, "enqueue", refuse)
    response = await shop_client.post("/api/sync", headers=bearer(shop_config, SHOP))
    assert response.status == 503 and response.headers["Retry-After"]
    assert not await SyncRun.filter(status__in=["pending", "running"]).exists()


async def test_a_shop_that_needs_reauth_gets_a_clear_problem(shop_client, shop_config, synced):
    await Shop.filter(id=synced.id).update(needs_reauth=True)
    for method, path in (("GET", "/api/products"), ("POST", "/api/sync"), ("GET", "/api/sync")):
        response = await shop_client.request(method, path, headers=bearer(shop_config, SHOP))
        assert response.status == 403
        body = await response.json()
        assert body["title"] == "Re-authorization required"
        assert body["reauthorize_url"].endswith(f"shop={SHOP}")
        assert response.headers["X-Shopify-API-Request-Failure-Reauthorize"] == "1"


async def test_an_uninstalled_shop_gets_a_401_problem(shop_client, shop_config, synced):
    await Shop.filter(id=synced.id).update(uninstalled_at=datetime.now(UTC))
    response = await shop_client.get("/api/orders", headers=bearer(shop_config, SHOP))
    assert response.status == 401
    assert "not installed" in (await response.json())["detail"]
