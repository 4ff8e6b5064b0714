"""Bulk operations: run, poll, stream the JSONL result with bounded memory, failures."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest

from server.shopify import BulkOperationError, ShopCredentials, ShopifyClient, ShopifyUserError
from server.shopify import operations as ops
from tests.fake_shopify import FakeShopify

# 5,000 products with 4 variants each: 25,000 JSONL rows, about 4.7 MB.
PRODUCTS = 5_000


async def test_bulk_products_are_joined_with_their_variants(
    shopify_client: ShopifyClient, fake_shopify: FakeShopify
) -> None:
    domain = "bulk.myshopify.com"
    fake_shopify.add_shop(domain, products=30, variants_per_product=3)
    creds = ShopCredentials(domain, fake_shopify.issue_token(domain))
    started = await shopify_client.run_bulk_query(creds, ops.BULK_SYNC_PRODUCTS)
    assert started["status"] == "CREATED"
    done = await shopify_client.wait_for_bulk_operation(creds, started["id"], timeout_s=10)
    assert done["objectCount"] == "120" and done["rootObjectCount"] == "30"
    records = [r async for r in shopify_client.iter_bulk_records(domain, done["url"])]
    seeded = {p["id"]: p for p in fake_shopify.shop(domain).data.products}
    assert {r.node["id"] for r in records} == set(seeded)
    for record in records:
        assert "variants" not in record.node
        assert [c["id"] for c in record.children] == [
            v["id"] for v in seeded[record.node["id"]]["variants"]
        ]
        assert all(c["__parentId"] == record.node["id"] for c in record.children)


async def test_a_second_bulk_query_while_one_runs_is_a_user_error(
    shopify_client: ShopifyClient, fake_shopify: FakeShopify, creds: ShopCredentials
) -> None:
    shop = fake_shopify.shop(creds.shop)
    shop.bulk_gate = gate = asyncio.Event()
    first = await shopify_client.run_bulk_query(creds, ops.BULK_SYNC_CUSTOMERS)
    with pytest.raises(ShopifyUserError) as caught:
        await shopify_client.run_bulk_query(creds, ops.BULK_SYNC_CUSTOMERS)
    assert caught.value.user_errors[0]["code"] == "OPERATION_IN_PROGRESS"
    gate.set()
    done = await shopify_client.wait_for_bulk_operation(creds, first["id"], timeout_s=10)
    assert done["status"] == "COMPLETED"


@pytest.mark.slow  # 25,000 rows
async def test_bulk_result_of_25000_rows_is_streamed_with_bounded_memory(
    shopify_client: ShopifyClient, fake_shopify: FakeShopify
) -> None:
    domain = "huge.myshopify.com"
    fake_shopify.add_shop(domain, products=PRODUCTS, variants_per_product=4, orders=0, customers=0)
    creds = ShopCredentials(domain, fake_shopify.issue_token(domain))
    started = await shopify_client.run_bulk_query(creds, ops.BULK_SYNC_PRODUCTS)
    done = await shopify_client.wait_for_bulk_operation(creds, started["id"], timeout_s=30)
    file_size = int(done["fileSize"])
    assert done["objectCount"] == str(5 * PRODUCTS)

    tracemalloc.start()
    try:
        parents = children = 0
        async for record in shopify_client.iter_bulk_records(domain, done["url"]):
            parents += 1
            children += len(record.children)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (parents, children) == (PRODUCTS, 4 * PRODUCTS)
    assert file_size > 4_000_000
    # The peak includes the fake's own serving (same process); it stays flat as the file
    # grows, whereas reading the result whole would need more than the file size.
    assert peak < 1_000_000, (peak, file_size)
    assert peak < file_size / 4, (peak, file_size)


@pytest.mark.parametrize("outcome", ["FAILED", "CANCELED", "EXPIRED"])
async def test_bulk_failure_states_are_clear_errors(
    shopify_client: ShopifyClient,
    fake_shopify: FakeShopify,
    creds: ShopCredentials,
    outcome: str,
) -> None:
    fake_shopify.shop(creds.shop).bulk_outcome = outcome
    started = await shopify_client.run_bulk_query(creds, ops.BULK_SYNC_ORDERS)
    with pytest.raises(BulkOperationError) as caught:
        await shopify_client.wait_for_bulk_operation(creds, started["id"], timeout_s=10)
    assert caught.value.status == outcome
    assert outcome in str(caught.value) and creds.shop in str(caught.value)
    if outcome == "FAILED":
        assert caught.value.error_code == "INTERNAL_SERVER_ERROR"


async def test_bulk_orders_carry_line_items_and_transactions(
    shopify_client: ShopifyClient, fake_shopify: FakeShopify, creds: ShopCredentials
) -> None:
    started = await shopify_client.run_bulk_query(creds, ops.BULK_SYNC_ORDERS)
    done = await shopify_client.wait_for_bulk_operation(creds, started["id"], timeout_s=10)
    records = [r async for r in shopify_client.iter_bulk_records(creds.shop, done["url"])]
    assert len(records) == 20
    assert all(len(r.children) == 2 for r in records)  # line items
    assert all(r.node["transactions"][0]["kind"] == "SALE" for r in records)


async def test_wait_times_out_while_running(
    shopify_client: ShopifyClient, fake_shopify: FakeShopify, creds: ShopCredentials
) -> None:
    fake_shopify.shop(creds.shop).bulk_gate = asyncio.Event()  # never opened
    started = await shopify_client.run_bulk_query(creds, ops.BULK_SYNC_CUSTOMERS)
    with pytest.raises(BulkOperationError) as caught:
        await shopify_client.wait_for_bulk_operation(
            creds, started["id"], timeout_s=0.1, poll_interval_s=0.02
        )
    assert caught.value.status == "RUNNING"
