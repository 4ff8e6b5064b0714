"""Sync with real workers (real Redis broker, `python -m server worker` subprocesses)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from models import Customer, Order, Product, SyncRun
from server.sync import runs
from server.sync.engine import lease_key
from tests.fake_shopify import WebhookSender
from tests.helpers import bearer, eventually, install_shop

SHOP = "worker-store.myshopify.com"


@pytest.mark.worker
async def test_install_syncs_and_webhooks_show_in_the_next_read(
    fake, make_config, make_worker_client, start_worker
):
    fake.add_shop(SHOP, products=12, orders=8, customers=6)
    overrides = {
        "SHOPIFY_ADMIN_ORIGIN": fake.admin_origin,
        "SCOPES": "read_products,read_orders,read_customers,write_pixels",
    }
    config = make_config(**overrides)
    client = await make_worker_client(config)
    worker = start_worker(overrides, threads=4)
    response = await client.post("/auth/token-exchange", headers=bearer(config, SHOP))
    assert response.status == 200, await response.text()

    async def synced() -> bool:
        done = await SyncRun.filter(status="succeeded", trigger="install").count()
        return done == 3

    await eventually(synced, what="the install's three syncs", process=worker)
    assert await Product.all().count() == 12
    assert await Order.all().count() == 8
    assert await Customer.all().count() == 6
    page = await (await client.get("/api/products?limit=250", headers=bearer(config, SHOP))).json()
    target = page["items"][0]
    cached = await client.get("/api/products?limit=250", headers=bearer(config, SHOP))
    assert cached.headers["X-Cache"] == "hit"
    newer = datetime.fromisoformat(target["updated_at"]) + timedelta(minutes=1)
    payload = {
        "id": target["id"],
        "title": "From a webhook",
        "handle": target["handle"],
        "status": "active",
        "vendor": "Acme",
        "product_type": "Mug",
        "tags": "",
        "created_at": target["created_at"],
        "updated_at": newer.isoformat(),
        "variants": [],
    }
    # Signed deliveries through POST /webhooks, as Shopify sends them.
    sender = WebhookSender(client.session, secret=config.shopify.api_secret.reveal())
    hook_url = str(client.make_url("/webhooks"))
    _, sent = await sender.send(hook_url, "products/update", SHOP, payload)
    assert sent.status == 200 and (await sent.json()) == {"status": "queued"}
    older = {**payload, "title": "Stale", "updated_at": (newer - timedelta(days=1)).isoformat()}
    _, sent = await sender.send(hook_url, "products/update", SHOP, older)
    assert sent.status == 200

    async def updated() -> bool:
        row = await Product.get(shopify_id=target["id"])
        return row.title == "From a webhook"

    await eventually(updated, what="the webhook's update", process=worker)
    fresh = await client.get("/api/products?limit=250", headers=bearer(config, SHOP))
    titles = {p["id"]: p["title"] for p in (await fresh.json())["items"]}
    assert titles[target["id"]] == "From a webhook"
    deleted_id = page["items"][1]["id"]
    _, sent = await sender.send(hook_url, "products/delete", SHOP, {"id": deleted_id})
    assert sent.status == 200

    async def gone() -> bool:
        return not await Product.filter(shopify_id=deleted_id).exists()

    await eventually(gone, what="the webhook's delete", process=worker)
    # The stale update was processed too (one queue, in order) and changed nothing.
    assert (await Product.get(shopify_id=target["id"])).title == "From a webhook"
    after = await (await client.get("/api/products?limit=250", headers=bearer(config, SHOP))).json()
    assert deleted_id not in {p["id"] for p in after["items"]}
    assert await worker.stop_async() == 0, worker.output[-3000:]


@pytest.mark.worker
async def test_a_killed_worker_s_sync_resumes_from_its_checkpoint(
    fake, make_config, redis_client, start_worker
):
    # A slow bucket: each products page waits for points, so the sync is caught mid-way.
    fake.add_shop(SHOP, products=300, orders=1, customers=1, restore_rate=1500, bucket_max=1000)
    overrides = {"SHOPIFY_ADMIN_ORIGIN": fake.admin_origin, "SYNC_LEASE_S": "2"}
    config = make_config(**overrides)
    from actors.broker import setup_broker
    from actors.sync import sync_resource, sync_shop
    from server.db import close_db, init_db

    broker = setup_broker(config)
    await init_db(config)
    first = start_worker(overrides)
    try:
        shop = await install_shop(config, SHOP, access_token=fake.issue_token(SHOP))
        _, started = await runs.start_runs(
            shop.id, kind="full", trigger="test", overlap_s=0, resources=["products"]
        )
        run_id = started[0].id
        await asyncio.to_thread(sync_resource.send, run_id)

        async def some_pages() -> bool:
            return (await SyncRun.get(id=run_id)).pages >= 3

        await eventually(some_pages, what="three pages synced", process=first)
        first.kill()
        checkpoint = await SyncRun.get(id=run_id)
        assert checkpoint.status == "running" and checkpoint.cursor

        # Wait on the lease itself: it expires because nobody renews it.
        async def lease_expired() -> bool:
            return not await redis_client.exists(lease_key(shop.id, "products"))

        await eventually(lease_expired, what="the dead worker's lease expired", timeout_s=10)
        calls_before = sum(1 for c in fake.calls_for(SHOP) if c.operation == "ProductsPage")
        second = start_worker(overrides)
        await asyncio.to_thread(sync_shop.send, SHOP, "full", "retry")

        async def finished() -> SyncRun | None:
            run = await SyncRun.get(id=run_id)
            return run if run.status == "succeeded" else None

        run = await eventually(finished, what="the run resumed", timeout_s=120, process=second)
        assert run.resumed >= 1
        assert await Product.filter(shop_id=shop.id).count() == 300
        after = sum(1 for c in fake.calls_for(SHOP) if c.operation == "ProductsPage")
        # 10 pages in all: the resumed run read only what was left (plus the page in flight).
        assert after - calls_before <= 10 - checkpoint.pages + 1
        assert await SyncRun.filter(shop_id=shop.id, resource="products").count() == 1
        assert await second.stop_async() == 0, second.output[-3000:]
    finally:
        broker.close()
        await close_db()
