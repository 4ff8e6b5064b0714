"""Data deliveries applied many to a transaction: each is applied once, and one that fails
(its payload, or a value PostgreSQL refuses) fails alone while its neighbours are applied."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from models import Customer, Product, ProductVariant, Shop, WebhookDelivery
from server.webhooks.http import WEBHOOK_WAKER
from server.webhooks.processing import process_deliveries
from tests.fake_shopify import WebhookSender
from tests.helpers import install_shop

SHOPS = ("batch-one.myshopify.com", "batch-two.myshopify.com")


def product(product_id: int, *, title: str, at: datetime, quantity: int = 1) -> dict:
    return {
        "id": product_id,
        "title": title,
        "handle": f"p-{product_id}",
        "status": "active",
        "vendor": "Acme",
        "product_type": "Mug",
        "tags": "",
        "created_at": at.isoformat(),
        "updated_at": at.isoformat(),
        "variants": [
            {
                "id": product_id * 10,
                "product_id": product_id,
                "title": "Default",
                "sku": f"SKU-{product_id}",
                "price": "9.50",
                "inventory_quantity": quantity,
                "updated_at": at.isoformat(),
            }
        ],
    }


async def test_a_batch_of_deliveries_of_two_shops_is_applied_and_a_bad_one_fails_alone(
    client, config
):
    shops = [await install_shop(config, domain) for domain in SHOPS]
    sender = WebhookSender(client.session, secret=config.shopify.api_secret.reveal())
    url = str(client.make_url("/webhooks"))
    at = datetime.now(UTC) - timedelta(minutes=5)
    for n in range(40):
        shop = SHOPS[n % 2]
        _, sent = await sender.send(
            url, "products/update", shop, product(1000 + n, title=f"P{n}", at=at)
        )
        assert sent.status == 200
    # A later update of the same product in the same batch: the newer one wins.
    later = product(1000, title="P0 renamed", at=at + timedelta(minutes=1))
    await sender.send(url, "products/update", SHOPS[0], later)
    # A value PostgreSQL refuses (an inventory count past its integer column).
    await sender.send(
        url, "products/update", SHOPS[1], product(2000, title="Huge", at=at, quantity=3_000_000_000)
    )
    # A payload without an id: the delivery's own fault, no retry can fix it.
    await sender.send(
        url, "products/update", SHOPS[1], {"title": "no id", "updated_at": at.isoformat()}
    )
    ids = [d.id for d in await WebhookDelivery.all().order_by("id")]
    assert len(ids) == 43

    outcomes = await process_deliveries(ids, outbox=config.outbox, redis=None)

    assert outcomes == {"done": 41, "failed": 2}
    assert await Product.all().count() == 40
    assert await ProductVariant.all().count() == 40
    assert {p.shop_id for p in await Product.all()} == {s.id for s in shops}
    assert (await Product.get(shopify_id=1000)).title == "P0 renamed"
    failed = sorted(d.last_error for d in await WebhookDelivery.filter(state="failed"))
    assert failed[0].startswith("OperationalError") and "out of int32 range" in failed[0]
    assert failed[1].startswith("PayloadError")
    assert not await Product.filter(shopify_id=2000).exists()
    # Applied once: the same ids again find nothing pending.
    assert await process_deliveries(ids, outbox=config.outbox, redis=None) == {"skipped": 43}


async def test_deletes_and_upserts_of_one_batch_leave_the_deleted_object_gone(client, config):
    await install_shop(config, SHOPS[0])
    sender = WebhookSender(client.session, secret=config.shopify.api_secret.reveal())
    url = str(client.make_url("/webhooks"))
    at = datetime.now(UTC) - timedelta(minutes=5)
    await sender.send(url, "products/create", SHOPS[0], product(7, title="Made", at=at))
    await sender.send(url, "products/delete", SHOPS[0], {"id": 7})
    # A late update, older or newer, cannot bring a deleted object back (its tombstone).
    await sender.send(
        url, "products/update", SHOPS[0], product(7, title="Late", at=at + timedelta(seconds=1))
    )
    await sender.send(url, "products/create", SHOPS[0], product(8, title="Kept", at=at))
    ids = [d.id for d in await WebhookDelivery.all().order_by("id")]

    assert await process_deliveries(ids, outbox=config.outbox, redis=None) == {"done": 4}

    assert [p.shopify_id for p in await Product.all()] == [8]
    assert not await ProductVariant.filter(product_id=7).exists()


async def test_a_sample_delivery_without_an_update_time_is_ordered_by_when_it_was_triggered(
    client, config
):
    # Shopify's "send test notification" sends sample objects: customers/update with a null
    # updated_at. The row is applied, ordered by X-Shopify-Triggered-At.
    await install_shop(config, SHOPS[0])
    sender = WebhookSender(client.session, secret=config.shopify.api_secret.reveal())
    url = str(client.make_url("/webhooks"))
    sample = {
        "id": 706405506930370084,
        "email": "bob@biller.com",
        "created_at": None,
        "updated_at": None,
        "first_name": "Bob",
        "last_name": "Biller",
        "state": "disabled",
        "tags": "",
        "currency": "USD",
    }
    _, sent = await sender.send(url, "customers/update", SHOPS[0], sample)
    assert sent.status == 200
    ids = [d.id for d in await WebhookDelivery.all()]

    assert await process_deliveries(ids, outbox=config.outbox, redis=None) == {"done": 1}

    row = await Customer.get(shopify_id=706405506930370084)
    stored = await WebhookDelivery.get(id=ids[0])
    assert row.updated_at == stored.triggered_at


@pytest.mark.slow  # a flood of deliveries
async def test_a_flooding_shop_does_not_stand_in_front_of_another_shops_delivery(
    client, config, stub_broker, stub_worker
):
    # A bulk edit in one shop's admin: thousands of products/update at once. Its deliveries
    # wake the busy queue; another shop's delivery, sent after the flood, wakes the usual
    # one, and is applied while the flood still waits; so are another shop's privacy
    # request and a third shop's uninstall (queues of their own).
    loud, quiet = SHOPS
    leaving = "batch-three.myshopify.com"
    await install_shop(config, loud)
    await install_shop(config, quiet)
    await install_shop(config, leaving)
    sender = WebhookSender(client.session, secret=config.shopify.api_secret.reveal())
    url = str(client.make_url("/webhooks"))
    at = datetime.now(UTC) - timedelta(minutes=5)
    flood = 4000
    semaphore = asyncio.Semaphore(64)

    async def send(n: int) -> int:
        async with semaphore:
            _, sent = await sender.send(
                url, "products/update", loud, product(n, title="bulk", at=at)
            )
            return sent.status

    statuses = await asyncio.gather(*(send(10_000 + n) for n in range(flood)))
    assert set(statuses) == {200}
    _, sent = await sender.send(url, "products/update", quiet, product(5, title="quiet", at=at))
    assert sent.status == 200
    request = {
        "shop_domain": quiet,
        "orders_requested": [],
        "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
        "data_request": {"id": 9999},
    }
    _, sent = await sender.send(url, "customers/data_request", quiet, request)
    assert sent.status == 200
    _, sent = await sender.send(url, "app/uninstalled", leaving, {"domain": leaving})
    assert sent.status == 200
    await client.app[WEBHOOK_WAKER].idle()
    busy = [
        i for raw in stub_broker.queues["sync_busy"].queue for i in orjson.loads(raw)["args"][0]
    ]
    assert len(busy) > flood * 0.9  # the flood, once it was seen as one

    await stub_worker.drain("sync", only=True)
    await stub_worker.drain("privacy", only=True)
    await stub_worker.drain("webhooks", only=True)

    quiet_row = await Product.get(shopify_id=5)
    assert quiet_row.title == "quiet"
    others = await WebhookDelivery.filter(shop_domain__in=[quiet, leaving]).values_list(
        "topic", "state"
    )
    assert sorted(others) == [
        ("app/uninstalled", "done"),
        ("customers/data_request", "done"),
        ("products/update", "done"),
    ]
    assert (await Shop.get(domain=leaving)).uninstalled_at is not None
    pending = await WebhookDelivery.filter(shop_domain=loud, state="pending").count()
    assert pending >= len(busy)  # none of the busy queue's deliveries ran before them
    await stub_worker.drain("sync_busy")
    assert await WebhookDelivery.filter(state="pending").count() == 0
    assert await Product.filter(title="bulk").count() == flood
