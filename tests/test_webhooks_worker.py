"""Webhooks end to end: web app, real Redis broker, real worker process, fake Shopify."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models import ComplianceRequest, PrivacyAudit, Shop, WebhookDelivery
from server.privacy.rules import CustomerIdentity, privacy_models, shop_filter
from server.web import keys
from server.webhook_topics import SUBSCRIBED_TOPICS
from server.webhooks.subscriptions import sync_subscriptions
from server.webhooks.topics import graphql_topic
from tests.fake_shopify import WebhookSender
from tests.helpers import bearer, eventually

SHOP = "acme-store.myshopify.com"
JOHN = {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"}
MUTATIONS = {
    "WebhookSubscriptionCreate",
    "WebhookSubscriptionUpdate",
    "WebhookSubscriptionDelete",
}


@pytest.mark.worker
async def test_every_topic_end_to_end_with_a_real_worker(
    fake, make_config, make_worker_client, start_worker
):
    fake.add_shop(SHOP, products=2, variants_per_product=1)
    overrides = {
        "SHOPIFY_ADMIN_ORIGIN": fake.admin_origin,
        "SCOPES": "read_products,read_orders,read_customers,write_pixels",
    }
    config = make_config(**overrides)
    client = await make_worker_client(config)
    sender = WebhookSender(client.session, secret=config.shopify.api_secret.reveal())
    url = str(client.make_url("/webhooks"))
    uri = f"{config.app.url}/webhooks"
    worker = start_worker(overrides)
    # Install: the worker registers the shop's subscriptions.
    response = await client.post("/auth/token-exchange", headers=bearer(config, SHOP))
    assert response.status == 200, await response.text()

    async def registered():
        subs = fake.shop(SHOP).webhooks.values()
        return len(subs) == len(SUBSCRIBED_TOPICS) and subs

    subs = await eventually(registered, what="subscriptions registered", process=worker)
    assert sorted(s["topic"] for s in subs) == sorted(map(graphql_topic, SUBSCRIBED_TOPICS))
    assert {s["uri"] for s in subs} == {uri}

    # customers/data_request: an export the merchant lists and downloads.
    payload = {
        "shop_domain": SHOP,
        "customer": JOHN,
        "orders_requested": [],
        "data_request": {"id": 7},
    }
    _, response = await sender.send(url, "customers/data_request", SHOP, payload)
    assert response.status == 200
    await eventually(
        lambda: ComplianceRequest.filter(status="completed").exists(),
        what="the data request completed",
        process=worker,
    )
    listing = await client.get("/api/compliance/requests", headers=bearer(config, SHOP))
    [item] = (await listing.json())["items"]
    assert item["customer"]["id"] == JOHN["id"] and item["status"] == "completed"
    download = await client.get(item["export_url"], headers=bearer(config, SHOP))
    assert download.status == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert (await download.json())["export"]["customer"]["email"] == JOHN["email"]

    # customers/redact, delivered five times at once: done once.
    redact = sender.event("customers/redact", SHOP, {"customer": JOHN, "orders_to_redact": []})
    responses = await asyncio.gather(*(sender.deliver(url, redact) for _ in range(5)))
    assert [r.status for r in responses] == [200] * 5
    await eventually(
        lambda: PrivacyAudit.filter(topic="customers/redact", completed_at__isnull=False).exists(),
        what="the customer redacted",
        process=worker,
    )
    assert await PrivacyAudit.filter(topic="customers/redact").count() == 1
    # A copy whose row the worker held is counted once the worker lets go.
    await eventually(
        lambda: _duplicates(redact.event_id, 4), what="the copies counted", process=worker
    )
    who = CustomerIdentity.from_payload({"customer": JOHN}, orders_key="none")
    shop_row = await Shop.get(domain=SHOP)
    for model, rule in privacy_models():
        in_shop, of_john = shop_filter(rule, shop_row, SHOP), who.q(rule)
        if in_shop is not None and of_john is not None:
            assert not await model.filter(in_shop, of_john).exists(), model.__name__
    [request] = await ComplianceRequest.all()
    assert request.status == "redacted" and request.export is None

    # app/uninstalled: tokens gone, shop marked.
    _, response = await sender.send(url, "app/uninstalled", SHOP, {"domain": SHOP})
    assert response.status == 200

    async def uninstalled():
        shop = await Shop.get(domain=SHOP)
        return shop.uninstalled_at is not None and shop.access_token_enc is None

    await eventually(uninstalled, what="the shop uninstalled", process=worker)
    refused = await client.get("/api/compliance/requests", headers=bearer(config, SHOP))
    assert refused.status == 401

    # shop/redact, 48 hours later: nothing of the shop but the audit record.
    later = sender.event("shop/redact", SHOP, {"shop_domain": SHOP})
    later.triggered_at = (datetime.now(UTC) + timedelta(hours=48)).isoformat()
    assert (await sender.deliver(url, later)).status == 200
    await eventually(
        lambda: PrivacyAudit.filter(topic="shop/redact").exists(),
        what="the shop redacted",
        process=worker,
    )
    for model, rule in privacy_models():
        in_shop = shop_filter(rule, shop_row, SHOP)
        assert in_shop is not None
        count = await model.filter(in_shop).count()
        assert count == (1 if model is PrivacyAudit else 0), model.__name__
    assert await worker.stop_async() == 0, worker.output[-3000:]


async def test_registration_twice_changes_nothing_and_fixes_drift(shop_client, shop_config, fake):
    fake.add_shop(SHOP, products=1, variants_per_product=1)
    response = await shop_client.post("/auth/token-exchange", headers=bearer(shop_config, SHOP))
    assert response.status == 200
    services = shop_client.app[keys.SERVICES]
    app_url = shop_config.app.url

    first = await sync_subscriptions(services, shop=SHOP, app_url=app_url)
    assert len(first.create) == len(SUBSCRIBED_TOPICS)
    state = {k: dict(v) for k, v in fake.shop(SHOP).webhooks.items()}
    calls = len(fake.calls_for(SHOP))

    second = await sync_subscriptions(services, shop=SHOP, app_url=app_url)
    assert second.empty
    assert {k: dict(v) for k, v in fake.shop(SHOP).webhooks.items()} == state
    assert not [c for c in fake.calls_for(SHOP)[calls:] if c.operation in MUTATIONS]

    # Drift (a subscription moved elsewhere, one deleted): the next run puts it right.
    some_id, other_id = list(fake.shop(SHOP).webhooks)[:2]
    fake.shop(SHOP).webhooks[some_id]["uri"] = "https://old.example.com/hooks"
    del fake.shop(SHOP).webhooks[other_id]
    third = await sync_subscriptions(services, shop=SHOP, app_url=app_url)
    assert third.update == (some_id,) and len(third.create) == 1
    assert {s["uri"] for s in fake.shop(SHOP).webhooks.values()} == {f"{app_url}/webhooks"}
    assert len(fake.shop(SHOP).webhooks) == len(SUBSCRIBED_TOPICS)


async def _duplicates(event_id: str, expected: int) -> bool:
    return (await WebhookDelivery.get(event_id=event_id)).duplicates == expected
