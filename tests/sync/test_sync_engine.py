"""Sync runs against the fake Shopify, in-process: full, incremental, bulk, deletes, webhooks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from models import Customer, Order, OrderLineItem, Product, ProductVariant, SyncRun, Transaction
from server.sync import runs
from server.sync.engine import Lease, SyncContext, run_sync
from server.sync.normalize import customer_row, order_row, product_row
from server.sync.store import SyncStore
from server.web import keys
from tests.fake_shopify.data import iso
from tests.helpers import eventually, install_shop

SHOP = "sync-store.myshopify.com"


@pytest.fixture
async def ctx(shop_client: Any, shop_config: Any, fake: Any) -> SyncContext:
    app = shop_client.server.app
    return SyncContext(config=shop_config.sync, redis=app[keys.REDIS], services=app[keys.SERVICES])


async def _installed(config: Any, fake: Any, **sizes: int) -> Any:
    fake.add_shop(SHOP, **sizes)
    return await install_shop(config, SHOP, access_token=fake.issue_token(SHOP))


async def _sync(ctx: SyncContext, shop_id: int, kind: str = "full") -> dict[str, SyncRun]:
    _, started = await runs.start_runs(shop_id, kind=kind, trigger="test", overlap_s=60)
    outcomes = await asyncio.gather(*(run_sync(ctx, r.id) for r in started))
    assert set(outcomes) == {"succeeded"}
    return {r.resource: await SyncRun.get(id=r.id) for r in started}


async def test_full_sync_by_paging_stores_everything(ctx, shop_config, fake):
    shop = await _installed(shop_config, fake, products=45, orders=40, customers=30)
    done = await _sync(ctx, shop.id)
    data = fake.shop(SHOP).data
    assert {r.mode for r in done.values()} == {"paging"}
    assert await Product.filter(shop_id=shop.id).count() == 45
    assert await ProductVariant.filter(shop_id=shop.id).count() == 45 * 3
    assert await Order.filter(shop_id=shop.id).count() == 40
    assert await OrderLineItem.filter(shop_id=shop.id).count() == 80
    expected_tx = sum(len(o["transactions"]) for o in data.orders)
    assert await Transaction.filter(shop_id=shop.id).count() == expected_tx
    assert await Customer.filter(shop_id=shop.id).count() == 30
    assert done["products"].fetched == 45 and done["products"].pages == 2
    assert done["orders"].finished_at is not None and done["orders"].error is None
    newest = max(p["updatedAt"] for p in data.products)
    assert iso(done["products"].max_updated_at) == newest
    # Transactions came inside order pages: no call per order.
    operations = {c.operation for c in fake.calls_for(SHOP)}
    assert "OrderLineItemsPage" not in operations
    order = data.orders[0]
    row = await Order.get(shop_id=shop.id, shopify_id=int(order["id"].rsplit("/", 1)[1]))
    assert row.total_price == Decimal(str(order["totalPriceSet"]["shopMoney"]["amount"]))
    assert row.financial_status in ("paid", "partially_refunded")


async def test_incremental_sync_reads_only_changes_with_overlap(ctx, shop_config, fake):
    shop = await _installed(shop_config, fake, products=30, orders=5, customers=5)
    await _sync(ctx, shop.id)
    data = fake.shop(SHOP).data
    newest = max(datetime.fromisoformat(p["updatedAt"]) for p in data.products)
    changed = data.products[0]
    changed["title"] = "Changed title"
    changed["updatedAt"] = iso(newest + timedelta(minutes=5))
    calls_before = len(fake.calls_for(SHOP))
    done = await _sync(ctx, shop.id, kind="incremental")
    assert done["products"].kind == "incremental"
    assert done["products"].since == newest - timedelta(seconds=60)
    # Only the changed product and the boundary one (overlap) are read again.
    assert done["products"].fetched == 2
    row = await Product.get(shop_id=shop.id, shopify_id=int(changed["id"].rsplit("/", 1)[1]))
    assert row.title == "Changed title"
    assert len(fake.calls_for(SHOP)) - calls_before == 3


async def test_full_sync_removes_rows_shopify_no_longer_has(ctx, shop_config, fake):
    shop = await _installed(shop_config, fake, products=10, orders=6, customers=4)
    await _sync(ctx, shop.id)
    data = fake.shop(SHOP).data
    gone_product = data.products.pop()
    gone_order = data.orders.pop()
    done = await _sync(ctx, shop.id, kind="full")
    assert done["products"].deleted == 1 and done["orders"].deleted == 1
    gone_id = int(gone_order["id"].rsplit("/", 1)[1])
    assert not await Order.filter(shop_id=shop.id, shopify_id=gone_id).exists()
    assert not await Transaction.filter(shop_id=shop.id, order_id=gone_id).exists()
    assert not await Product.filter(
        shop_id=shop.id, shopify_id=int(gone_product["id"].rsplit("/", 1)[1])
    ).exists()
    assert await Product.filter(shop_id=shop.id).count() == 9


async def test_full_sync_above_the_threshold_uses_a_bulk_operation(
    ctx, shop_config, fake, make_config
):
    shop = await _installed(shop_config, fake, products=12, orders=9, customers=7)
    bulk_ctx = SyncContext(
        config=make_config(SYNC_BULK_THRESHOLD="5").sync.__class__(
            **{
                **_asdict(ctx.config),
                "bulk_threshold": 5,
                "bulk_poll_interval_s": 0.05,
                "write_batch": 4,
            }
        ),
        redis=ctx.redis,
        services=ctx.services,
    )
    done = await _sync(bulk_ctx, shop.id)
    assert {r.mode for r in done.values()} == {"bulk"}
    data = fake.shop(SHOP).data
    assert await Product.filter(shop_id=shop.id).count() == 12
    assert await ProductVariant.filter(shop_id=shop.id).count() == 36
    assert await Order.filter(shop_id=shop.id).count() == 9
    assert await Transaction.filter(shop_id=shop.id).count() == sum(
        len(o["transactions"]) for o in data.orders
    )
    assert await Customer.filter(shop_id=shop.id).count() == 7
    assert done["products"].pages == 3  # 12 records in batches of 4: checkpointed each
    assert not any(c.operation == "ProductsPage" for c in fake.calls_for(SHOP))


def _asdict(config: Any) -> dict[str, Any]:
    return {name: getattr(config, name) for name in config.__slots__}


async def test_a_second_worker_does_not_run_a_leased_sync(ctx, shop_config, fake):
    shop = await _installed(shop_config, fake, products=3, orders=1, customers=1)
    _, started = await runs.start_runs(shop.id, kind="full", trigger="test", overlap_s=0)
    products = next(r for r in started if r.resource == "products")
    holder = Lease(ctx.redis, shop.id, "products", ttl_s=30)
    assert await holder.acquire()
    try:
        assert await run_sync(ctx, products.id) == "busy"
        assert (await SyncRun.get(id=products.id)).status == "pending"
    finally:
        await holder.release()
    assert await run_sync(ctx, products.id) == "succeeded"
    assert await run_sync(ctx, products.id) == "done"  # a duplicate message is a no-op


async def test_concurrent_starts_create_one_run_per_resource(shop_client, shop_config, fake):
    shop = await _installed(shop_config, fake)
    results = await asyncio.gather(
        *(runs.start_runs(shop.id, kind="full", trigger="test", overlap_s=0) for _ in range(8))
    )
    ids = {tuple(sorted(r.id for r in started)) for _, started in results}
    assert len(ids) == 1
    assert sum(r.created for _, started in results for r in started) == 3
    assert await SyncRun.filter(shop_id=shop.id).count() == 3


async def test_cancel_shop_syncs_stops_a_run_at_its_next_checkpoint(ctx, shop_config, fake):
    shop = await _installed(shop_config, fake, products=3, orders=1, customers=1)
    _, started = await runs.start_runs(shop.id, kind="full", trigger="test", overlap_s=0)
    await runs.cancel_shop_syncs(SHOP)
    for run in started:
        assert await run_sync(ctx, run.id) == "done"
        assert (await SyncRun.get(id=run.id)).status == "cancelled"
    with pytest.raises(runs.RunStopped):
        await runs.checkpoint(started[0].id, fetched=1)


# ------------------------------------------------------------------- webhooks


def _rest_product(product_id: int, *, title: str, updated_at: datetime) -> dict[str, Any]:
    return {
        "id": product_id,
        "admin_graphql_api_id": f"gid://shopify/Product/{product_id}",
        "title": title,
        "handle": "hat",
        "status": "active",
        "vendor": "Acme",
        "product_type": "Hat",
        "tags": "eco, sale",
        "created_at": "2026-01-01T00:00:00-05:00",
        "updated_at": updated_at.isoformat(),
        "variants": [
            {
                "id": product_id * 10,
                "product_id": product_id,
                "title": "Default Title",
                "sku": "HAT-1",
                "price": "19.99",
                "inventory_quantity": 4,
                "created_at": "2026-01-01T00:00:00-05:00",
                "updated_at": updated_at.isoformat(),
            }
        ],
    }


async def test_older_webhook_after_newer_data_changes_nothing(shop_client, shop_config, fake):
    shop = await _installed(shop_config, fake)
    store = SyncStore(None)
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    await store.upsert(
        "products", shop.id, [product_row(_rest_product(7, title="new", updated_at=now))]
    )
    old = product_row(_rest_product(7, title="old", updated_at=now - timedelta(minutes=1)))
    result = await store.upsert("products", shop.id, [old])
    assert result.applied == 0
    row = await Product.get(shop_id=shop.id, shopify_id=7)
    assert row.title == "new" and row.tags == ["eco", "sale"]
    # Deleted, then a late update: the tombstone keeps it gone.
    await store.delete("products", shop.id, [7])
    late = product_row(_rest_product(7, title="late", updated_at=now + timedelta(minutes=1)))
    assert (await store.upsert("products", shop.id, [late])).applied == 0
    assert not await Product.filter(shop_id=shop.id, shopify_id=7).exists()
    assert not await ProductVariant.filter(shop_id=shop.id, product_id=7).exists()


def test_rest_and_graphql_shapes_normalise_alike():
    rest_order = {
        "id": 450789469,
        "name": "#1001",
        "email": "bob@example.com",
        "created_at": "2026-11-01T10:00:00-04:00",
        "updated_at": "2026-11-02T10:00:00-04:00",
        "processed_at": "2026-11-01T10:00:00-04:00",
        "cancelled_at": None,
        "currency": "USD",
        "financial_status": "paid",
        "fulfillment_status": None,
        "total_price": "10.00",
        "customer": {"id": 207119551, "email": "bob@example.com"},
        "line_items": [
            {"id": 1, "title": "Hat", "quantity": 2, "sku": "H", "variant_id": 3, "price": "5.00"}
        ],
    }
    row = order_row(rest_order)
    assert row["customer_id"] == 207119551 and row["fulfillment_status"] == "unfulfilled"
    assert row["transactions"] is None  # REST payloads carry none: stored ones stay
    assert row["line_items"][0]["variant_id"] == 3
    customer = customer_row(
        {
            "id": 5,
            "email": "a@example.com",
            "first_name": "A",
            "last_name": "B",
            "state": "enabled",
            "tags": "",
            "created_at": "2026-11-01T10:00:00Z",
            "updated_at": "2026-11-01T10:00:00Z",
        }
    )
    assert customer["orders_count"] is None and customer["state"] == "enabled"


@pytest.mark.slow  # waits out the retries of a failing Shopify
async def test_a_run_that_keeps_failing_is_failed_for_good(ctx, shop_config, fake):
    from server.shopify.errors import ShopifyServerError
    from server.sync.engine import MAX_RESUMES
    from tests.fake_shopify.server import Fault

    shop = await _installed(shop_config, fake, products=5, orders=1, customers=1)
    _, started = await runs.start_runs(
        shop.id, kind="full", trigger="test", overlap_s=0, resources=["customers"]
    )
    run_id = started[0].id
    # Shopify keeps failing this shop's calls (every retry of the client too).
    fake.inject(SHOP, *[Fault(status=500)] * 200)
    with pytest.raises(ShopifyServerError):  # transient: the actor would retry
        await run_sync(ctx, run_id)
    assert (await SyncRun.get(id=run_id)).status == "running"
    await SyncRun.filter(id=run_id).update(resumed=MAX_RESUMES)
    assert await run_sync(ctx, run_id) == "failed"
    failed = await SyncRun.get(id=run_id)
    assert failed.status == "failed" and "gave up" in failed.error
    fake.shop(SHOP).faults.clear()
    # The next request starts a fresh run instead of resuming the failed one.
    _, again = await runs.start_runs(
        shop.id, kind="full", trigger="test", overlap_s=0, resources=["customers"]
    )
    assert again[0].id != run_id
    assert await run_sync(ctx, again[0].id) == "succeeded"


def _bulk_ctx(ctx: SyncContext, **overrides: Any) -> SyncContext:
    settings = {
        **_asdict(ctx.config),
        "bulk_threshold": 1,
        "bulk_poll_interval_s": 0.05,
        "write_batch": 4,
        **overrides,
    }
    return SyncContext(
        config=ctx.config.__class__(**settings), redis=ctx.redis, services=ctx.services
    )


async def test_a_bulk_run_never_sets_its_watermark_past_its_start(ctx, shop_config, fake):
    shop = await _installed(shop_config, fake, products=6, orders=1, customers=1)
    # A product that changed after the bulk job read the others (here: stamped later).
    later = datetime.now(UTC) + timedelta(hours=1)
    fake.shop(SHOP).data.products[-1]["updatedAt"] = iso(later)
    _, started = await runs.start_runs(
        shop.id, kind="full", trigger="test", overlap_s=0, resources=["products"]
    )
    assert await run_sync(_bulk_ctx(ctx), started[0].id) == "succeeded"
    run = await SyncRun.get(id=started[0].id)
    assert run.mode == "bulk"
    assert run.max_updated_at is not None and run.started_at is not None
    assert run.max_updated_at <= run.started_at


async def test_a_slow_bulk_job_is_polled_again_not_restarted(ctx, shop_config, fake):
    from server.sync.engine import BulkStillRunningError

    shop = await _installed(shop_config, fake, products=6, orders=1, customers=1)
    gate = asyncio.Event()
    fake.shop(SHOP).bulk_gate = gate  # the job stays RUNNING until the gate opens
    _, started = await runs.start_runs(
        shop.id, kind="full", trigger="test", overlap_s=0, resources=["products"]
    )
    slow = _bulk_ctx(ctx, bulk_timeout_s=0)
    with pytest.raises(BulkStillRunningError):
        await run_sync(slow, started[0].id)
    run = await SyncRun.get(id=started[0].id)
    assert run.status == "running" and run.bulk_operation_id
    gate.set()
    assert await run_sync(_bulk_ctx(ctx), started[0].id) == "succeeded"
    assert len(fake.shop(SHOP).bulk_operations) == 1  # the same job, not a new one
    assert (await SyncRun.get(id=run.id)).bulk_operation_id == run.bulk_operation_id


async def test_an_upsert_racing_a_delete_does_not_revive_the_row(ctx, shop_config, database_url):
    import asyncpg

    shop = await install_shop(shop_config, SHOP)
    store = SyncStore(ctx.redis)
    payload = {
        "id": 5,
        "email": "a@example.com",
        "first_name": "A",
        "last_name": "B",
        "state": "enabled",
        "tags": "",
        "created_at": "2026-11-01T10:00:00Z",
        "updated_at": "2026-11-01T10:00:00Z",
    }
    await store.upsert("customers", shop.id, [customer_row(payload)])
    newer = customer_row({**payload, "updated_at": "2026-11-02T10:00:00Z"})

    # A delete webhook's transaction, in flight: it holds the lock and has not committed.
    deleting = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    upsert = None
    try:
        tx = deleting.transaction()
        await tx.start()
        await deleting.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            f"sync-rows:{shop.id}:customers",
        )
        await deleting.execute(
            "INSERT INTO sync_tombstones (shop_id, resource, shopify_id, deleted_at)"
            " VALUES ($1, 'customers', 5, now())",
            shop.id,
        )
        await deleting.execute(
            "DELETE FROM customers WHERE shop_id = $1 AND shopify_id = 5", shop.id
        )
        upsert = asyncio.ensure_future(store.upsert("customers", shop.id, [newer]))
        # Wait on the thing itself: the upsert's session waiting on a lock.
        await eventually(
            lambda: deleting.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            ),
            what="the upsert waiting for the delete",
            timeout_s=4,
            interval_s=0.02,
        )
        await tx.commit()
        await upsert
    finally:
        if upsert is not None and not upsert.done():
            upsert.cancel()
        await deleting.close()
    assert not await Customer.filter(shop_id=shop.id, shopify_id=5).exists()
