"""Pixel events in privacy requests: found by the checkout's e-mail/phone and the browser."""

from __future__ import annotations

import orjson
import pytest

from models import PixelDailyAggregate, PixelEvent
from server.privacy.requests import customer_data_request, redact_customer
from tests.pixel_helpers import (
    checkout_completed,
    clear_rate_limits,
    envelope,
    pixel_shop,
    run_pixel_pipeline,
)


@pytest.fixture(autouse=True)
async def _fresh_rate_limits(redis_client):
    await clear_rate_limits(redis_client)


async def _ingest(client, key: str, events: list) -> None:
    response = await client.post(
        "/pixel/events", data=orjson.dumps({"accountID": key, "events": events})
    )
    assert response.status == 202, await response.text()


def _checkout(email: str, client_id: str) -> dict:
    event = checkout_completed(20.0, clientId=client_id)
    event["data"]["checkout"]["email"] = email
    event["data"]["checkout"]["phone"] = "+15556251199"
    return event


async def test_customer_pixel_events_are_exported_and_redacted(client, config, stub_worker):
    shop, pixel = await pixel_shop(config)
    john_browser = [
        envelope("page_viewed", clientId="john-browser"),
        envelope("product_viewed", clientId="john-browser"),
        _checkout("John@Example.com", "john-browser"),
    ]
    others = [
        envelope("page_viewed", clientId="jane-browser"),
        _checkout("jane@example.com", "jane-browser"),
    ]
    await _ingest(client, pixel.ingest_key, john_browser + others)
    await run_pixel_pipeline(stub_worker)
    assert await PixelEvent.filter(shop_id=shop.id).count() == 5
    stored = await PixelEvent.get(shop_id=shop.id, customer_email="john@example.com")
    assert stored.customer_phone == "+15556251199"

    payload = {"customer": {"id": 1, "email": "john@example.com"}, "orders_requested": []}
    await customer_data_request(shop.domain, payload, {"event_id": "dr-1"})
    from models import ComplianceRequest

    request = await ComplianceRequest.get(shop_id=shop.id)
    exported = request.export["tables"]["pixel_events"]
    # The checkout named John; the same browser's earlier events are his too.
    assert sorted(e["event_id"] for e in exported) == sorted(e["id"] for e in john_browser)

    counts = await redact_customer(
        shop.domain,
        {"customer": {"id": 1, "email": "JOHN@example.com"}, "orders_to_redact": []},
        {"event_id": "cr-1"},
    )
    assert counts["pixel_events"] == 3
    left = await PixelEvent.filter(shop_id=shop.id).values_list("client_id", flat=True)
    assert sorted(left) == ["jane-browser", "jane-browser"]
    # Aggregates are counts without people: they stay.
    assert await PixelDailyAggregate.filter(shop_id=shop.id).exists()


async def test_uninstall_deactivates_the_pixel_and_its_key(client, config, stub_broker):
    from models import WebPixel
    from server.shops.uninstall import uninstall_shop

    shop, pixel = await pixel_shop(config)
    await _ingest(client, pixel.ingest_key, [envelope("page_viewed")])
    await uninstall_shop(shop.domain, {"event_id": "u-1"})
    assert (await WebPixel.get(id=pixel.id)).status == "inactive"
    # Within the key cache's TTL other processes follow; this one refuses it at once or
    # after its cache entry expires, and a fresh process refuses it immediately.
    from server.web import keys

    client.app[keys.PIXEL].keys.forget(pixel.ingest_key)
    response = await client.post(
        "/pixel/events",
        data=orjson.dumps({"accountID": pixel.ingest_key, "events": [envelope("page_viewed")]}),
    )
    assert response.status == 401


async def test_events_posted_after_a_redaction_do_not_bring_the_customer_back(
    client, config, stub_worker
):
    shop, pixel = await pixel_shop(config)
    await _ingest(client, pixel.ingest_key, [_checkout("john@example.com", "john-browser")])
    await run_pixel_pipeline(stub_worker)
    john = [
        envelope("page_viewed", clientId="john-browser"),
        _checkout("JOHN@example.com", "another-browser-of-john"),
    ]
    jane = envelope("page_viewed", clientId="jane-browser")
    await _ingest(client, pixel.ingest_key, [*john, jane])

    counts = await redact_customer(
        shop.domain,
        {"customer": {"id": 1, "email": "john@example.com"}, "orders_to_redact": []},
        {"event_id": "cr-late"},
    )
    assert counts["pixel_events"] == 3  # all that 202 answered for is committed: all found
    # The pixel resends a batch (its retry after a timeout), and John's browser goes on.
    more = envelope("product_viewed", clientId="john-browser")
    await _ingest(client, pixel.ingest_key, [*john, more])
    await run_pixel_pipeline(stub_worker)

    left = await PixelEvent.filter(shop_id=shop.id).values_list("client_id", flat=True)
    assert left == ["jane-browser"]
    from models import RedactedIdentity

    stored = await RedactedIdentity.filter(shop_id=shop.id).values_list("value_hash", flat=True)
    assert stored and all(len(h) == 64 and "john" not in h for h in stored)


async def test_a_redaction_invalidates_cached_api_pages(client, config, redis_client):
    from datetime import UTC, datetime

    from models import Customer
    from tests.helpers import bearer, install_shop

    shop = await install_shop(config, "cache-redact.myshopify.com")
    now = datetime.now(UTC)
    for sid, email in ((1, "john@example.com"), (2, "jane@example.com")):
        await Customer.create(shop=shop, shopify_id=sid, email=email, updated_at=now, synced_at=now)
    headers = bearer(config, shop.domain)
    first = await client.get("/api/customers", headers=headers)
    cached = await client.get("/api/customers", headers=headers)
    assert cached.headers["X-Cache"] == "hit"
    assert len((await cached.json())["items"]) == 2
    await redact_customer(
        shop.domain,
        {"customer": {"id": 1, "email": "john@example.com"}},
        {"event_id": "cr-cache"},
        redis=redis_client,
    )
    after = await client.get("/api/customers", headers=headers)
    assert after.headers["X-Cache"] == "miss"
    assert [c["email"] for c in (await after.json())["items"]] == ["jane@example.com"]
    assert first.status == 200
