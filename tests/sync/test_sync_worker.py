"""Sync with real workers (real Redis broker, `python -m server worker` subprocesses)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from models import Customer, Order, Product, SyncRun
from server.sync import runs
from server.sync.engine import lease_key
from server.web.app import create_app
from tests.fake_shopify import WebhookSender
from tests.helpers import bearer, install_shop

ROOT = Path(__file__).resolve().parent.parent.parent
SHOP = "worker-store.myshopify.com"


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "server", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(worker: subprocess.Popen[bytes]) -> str:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=60)
    return output.decode()[-3000:]


async def _until(
    check: Callable[[], Any], worker: subprocess.Popen[bytes], timeout_s: float = 60
) -> Any:
    """Poll the database (the thing itself) until check() is truthy or the deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        value = await check()
        if value:
            return value
        assert worker.poll() is None, "the worker died"
        await asyncio.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.mark.worker
async def test_install_syncs_and_webhooks_show_in_the_next_read(
    base_env, fake, make_config, aiohttp_client
):
    fake.add_shop(SHOP, products=12, orders=8, customers=6)
    overrides = {
        "SHOPIFY_ADMIN_ORIGIN": fake.admin_origin,
        "SCOPES": "read_products,read_orders,read_customers,write_pixels",
    }
    config = make_config(**overrides)
    from actors.broker import setup_broker

    broker = setup_broker(config)
    client = await aiohttp_client(create_app(config, broker=broker))
    worker = _worker(
        {**os.environ, **base_env, **overrides, "WORKER_PROCESSES": "1", "WORKER_THREADS": "4"}
    )
    try:
        response = await client.post("/auth/token-exchange", headers=bearer(config, SHOP))
        assert response.status == 200, await response.text()

        async def synced() -> bool:
            done = await SyncRun.filter(status="succeeded", trigger="install").count()
            return done == 3

        await _until(synced, worker)
        assert await Product.all().count() == 12
        assert await Order.all().count() == 8
        assert await Customer.all().count() == 6
        page = await (
            await client.get("/api/products?limit=250", headers=bearer(config, SHOP))
        ).json()
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

        await _until(updated, worker)
        fresh = await client.get("/api/products?limit=250", headers=bearer(config, SHOP))
        titles = {p["id"]: p["title"] for p in (await fresh.json())["items"]}
        assert titles[target["id"]] == "From a webhook"
        deleted_id = page["items"][1]["id"]
        _, sent = await sender.send(hook_url, "products/delete", SHOP, {"id": deleted_id})
        assert sent.status == 200

        async def gone() -> bool:
            return not await Product.filter(shopify_id=deleted_id).exists()

        await _until(gone, worker)
        # The stale update was processed too (one queue, in order) and changed nothing.
        assert (await Product.get(shopify_id=target["id"])).title == "From a webhook"
        after = await (
            await client.get("/api/products?limit=250", headers=bearer(config, SHOP))
        ).json()
        assert deleted_id not in {p["id"] for p in after["items"]}
    finally:
        output = await asyncio.to_thread(_stop, worker)
        broker.close()
    assert worker.returncode == 0, output


@pytest.mark.worker
async def test_a_killed_worker_s_sync_resumes_from_its_checkpoint(
    base_env, fake, make_config, redis_client
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
    env = {**os.environ, **base_env, **overrides, "WORKER_PROCESSES": "1", "WORKER_THREADS": "2"}
    first = _worker(env)
    second = None
    try:
        shop = await install_shop(config, SHOP, access_token=fake.issue_token(SHOP))
        _, started = await runs.start_runs(
            shop.id, kind="full", trigger="test", overlap_s=0, resources=["products"]
        )
        run_id = started[0].id
        await asyncio.to_thread(sync_resource.send, run_id)

        async def some_pages() -> bool:
            return (await SyncRun.get(id=run_id)).pages >= 3

        await _until(some_pages, first)
        os.killpg(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)
        checkpoint = await SyncRun.get(id=run_id)
        assert checkpoint.status == "running" and checkpoint.cursor
        # Wait on the lease itself: it expires because nobody renews it.
        for _ in range(100):
            if not await redis_client.exists(lease_key(shop.id, "products")):
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the dead worker's lease never expired")
        calls_before = sum(1 for c in fake.calls_for(SHOP) if c.operation == "ProductsPage")
        second = _worker(env)
        await asyncio.to_thread(sync_shop.send, SHOP, "full", "retry")

        async def finished() -> SyncRun | None:
            run = await SyncRun.get(id=run_id)
            return run if run.status == "succeeded" else None

        run = await _until(finished, second, timeout_s=120)
        assert run.resumed >= 1
        assert await Product.filter(shop_id=shop.id).count() == 300
        after = sum(1 for c in fake.calls_for(SHOP) if c.operation == "ProductsPage")
        # 10 pages in all: the resumed run read only what was left (plus the page in flight).
        assert after - calls_before <= 10 - checkpoint.pages + 1
        assert await SyncRun.filter(shop_id=shop.id, resource="products").count() == 1
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.communicate(timeout=30)
        output = await asyncio.to_thread(_stop, second) if second is not None else ""
        broker.close()
        await close_db()
    assert second is None or second.returncode == 0, output
