"""The pipeline actors' code (persist, aggregate) and GET /api/analytics/summary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import orjson
import pytest
from tortoise import Tortoise

from actors.pixel import (
    PoisonMessage,
    aggregate_days,
    aggregate_pixel_days,
    persist_events,
    persist_pixel_events,
)
from models import PixelDailyAggregate, PixelDailyRevenue, PixelEvent, WebPixelVersion
from tests.helpers import bearer
from tests.pixel_helpers import (
    checkout_completed,
    clear_rate_limits,
    drain_pixel_queue,
    envelope,
    pixel_shop,
)

URL = "/pixel/events"


@pytest.fixture(autouse=True)
async def _fresh_rate_limits(redis_client):
    await clear_rate_limits(redis_client)


def _at(day: date, hour: int) -> str:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


async def _post(client, key: str, events: list, **extra) -> dict:
    response = await client.post(
        URL, data=orjson.dumps({"accountID": key, "events": events, **extra})
    )
    assert response.status == 202, await response.text()
    return await response.json()


async def test_aggregates_match_the_raw_events(client, config, stub_broker):
    shop, pixel = await pixel_shop(config)
    today = datetime.now(UTC).date()
    yesterday = today - timedelta(days=1)
    events = []
    for day in (yesterday, today):
        for client_no in range(3):
            cid = f"c{client_no}"
            events.append(envelope("page_viewed", clientId=cid, timestamp=_at(day, 1)))
            events.append(envelope("product_viewed", clientId=cid, timestamp=_at(day, 2)))
        events.append(envelope("product_viewed", clientId="c0", timestamp=_at(day, 3)))
        events.append(envelope("product_added_to_cart", clientId="c0", timestamp=_at(day, 4)))
        events.append(envelope("product_added_to_cart", clientId="c1", timestamp=_at(day, 4)))
        events.append(envelope("checkout_started", clientId="c0", timestamp=_at(day, 5)))
        events.append(checkout_completed(19.99, "EUR", clientId="c0", timestamp=_at(day, 6)))
    events.append(checkout_completed(5, "USD", clientId="c1", timestamp=_at(today, 7)))
    # Amounts Shopify never sends are skipped, not fatal.
    events.append(checkout_completed("lots", "USD", clientId="c2", timestamp=_at(today, 8)))

    await _post(client, pixel.ingest_key, events[:10])
    await drain_pixel_queue(stub_broker)
    await _post(client, pixel.ingest_key, events[10:])
    await drain_pixel_queue(stub_broker)

    connection = Tortoise.get_connection("default")
    raw = await connection.execute_query_dict(
        """
        SELECT (("timestamp" AT TIME ZONE 'UTC')::date) AS day, name,
               count(*) AS count, count(DISTINCT client_id) AS clients
        FROM pixel_events WHERE shop_id = $1 GROUP BY 1, 2
        """,
        [shop.id],
    )
    expected = {(r["day"], r["name"]): (r["count"], r["clients"]) for r in raw}
    aggregates = {
        (a.day, a.name): (a.count, a.distinct_clients)
        for a in await PixelDailyAggregate.filter(shop_id=shop.id)
    }
    assert aggregates == expected
    assert aggregates[(today, "product_viewed")] == (4, 3)
    revenue = {
        (r.day, r.currency): (r.orders, r.revenue)
        for r in await PixelDailyRevenue.filter(shop_id=shop.id)
    }
    assert revenue == {
        (yesterday, "EUR"): (1, Decimal("19.99")),
        (today, "EUR"): (1, Decimal("19.99")),
        (today, "USD"): (2, Decimal("5")),
    }

    # Aggregation is a recount: running it again changes nothing.
    await aggregate_days([[shop.id, today.isoformat()]])
    again = {
        (a.day, a.name): (a.count, a.distinct_clients)
        for a in await PixelDailyAggregate.filter(shop_id=shop.id)
    }
    assert again == expected

    response = await client.get(
        "/api/analytics/summary",
        params={"from": yesterday.isoformat(), "to": today.isoformat()},
        headers=bearer(config, shop.domain),
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert [d["day"] for d in body["days"]] == [yesterday.isoformat(), today.isoformat()]
    today_events = {e["name"]: e for e in body["days"][1]["events"]}
    assert today_events["product_viewed"] == {
        "name": "product_viewed",
        "count": 4,
        "distinct_clients": 3,
    }
    funnel = {s["name"]: s for s in body["funnel"]}
    assert [s["name"] for s in body["funnel"]] == [
        "product_viewed",
        "product_added_to_cart",
        "checkout_started",
        "checkout_completed",
    ]
    assert funnel["product_viewed"]["count"] == 8
    assert funnel["product_viewed"]["conversion_rate"] is None
    assert funnel["product_added_to_cart"]["count"] == 4
    assert funnel["product_added_to_cart"]["conversion_rate"] == 0.5
    assert funnel["checkout_started"]["conversion_rate"] == 0.5
    assert funnel["checkout_completed"]["count"] == 4
    assert funnel["checkout_completed"]["conversion_rate"] == 2.0
    assert funnel["checkout_completed"]["rate_from_first"] == 0.5
    assert body["revenue"] == [
        {"currency": "EUR", "orders": 2, "amount": "39.98"},
        {"currency": "USD", "orders": 2, "amount": "5"},
    ]

    # One day only.
    response = await client.get(
        "/api/analytics/summary",
        params={"from": today.isoformat(), "to": today.isoformat()},
        headers=bearer(config, shop.domain),
    )
    body = await response.json()
    assert [d["day"] for d in body["days"]] == [today.isoformat()]
    assert {r["currency"]: r["orders"] for r in body["revenue"]} == {"EUR": 1, "USD": 2}


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13-01"},
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
    ],
)
async def test_summary_rejects_bad_ranges(client, config, params):
    shop, _ = await pixel_shop(config)
    response = await client.get(
        "/api/analytics/summary", params=params, headers=bearer(config, shop.domain)
    )
    assert response.status == 400
    assert response.content_type == "application/problem+json"


async def test_summary_needs_a_session_token(client):
    response = await client.get("/api/analytics/summary")
    assert response.status == 401


async def test_summary_of_other_shops_is_not_visible(client, config, stub_broker):
    shop, pixel = await pixel_shop(config)
    other, _ = await pixel_shop(config)
    await _post(client, pixel.ingest_key, [envelope("product_viewed")])
    await drain_pixel_queue(stub_broker)
    response = await client.get("/api/analytics/summary", headers=bearer(config, other.domain))
    body = await response.json()
    assert body["days"] == [] and body["funnel"][0]["count"] == 0
    response = await client.get("/api/analytics/summary", headers=bearer(config, shop.domain))
    assert (await response.json())["funnel"][0]["count"] == 1


async def test_version_history_is_recorded(client, config, stub_broker):
    shop, pixel = await pixel_shop(config)
    await _post(client, pixel.ingest_key, [envelope()], version="1.0.0")
    await drain_pixel_queue(stub_broker)
    await _post(client, pixel.ingest_key, [envelope()], version="1.1.0")
    await drain_pixel_queue(stub_broker)
    await _post(client, pixel.ingest_key, [envelope()], version="not a version!")
    await drain_pixel_queue(stub_broker)
    await pixel.refresh_from_db()
    assert pixel.version == "1.1.0"
    versions = sorted(
        v.version for v in await WebPixelVersion.filter(web_pixel_id=pixel.id)
    )
    assert versions == ["1.0.0", "1.1.0"]
    response = await client.get("/api/extension", headers=bearer(config, shop.domain))
    body = await response.json()
    assert body["status"] == "active" and body["version"] == "1.1.0"
    assert body["last_event_at"] is not None
    assert [v["version"] for v in body["versions"]] == ["1.1.0", "1.0.0"]


async def test_persist_is_idempotent_and_drops_events_of_deleted_shops(
    client, config, stub_broker
):
    shop, _ = await pixel_shop(config)
    gone, _ = await pixel_shop(config)
    now = datetime.now(UTC).isoformat()
    event = {
        "event_id": "e-1",
        "name": "page_viewed",
        "ts": now,
        "client_id": "c",
        "seq": 1,
        "type": "standard",
        "context": {},
        "data": {},
    }
    payload = orjson.dumps(
        {
            "v": 1,
            "batches": [
                {"shop_id": shop.id, "received_at": now, "version": None, "events": [event]},
                {"shop_id": gone.id, "received_at": now, "version": None, "events": [event]},
            ],
        }
    ).decode()
    await gone.delete()
    assert await persist_events(payload) == 1
    assert await persist_events(payload) == 0
    assert await PixelEvent.filter(event_id="e-1").count() == 1
    stub_broker.flush_all()


@pytest.mark.parametrize(
    "payload",
    ["not json", "[]", '{"v": 2, "batches": []}', '{"v": 1, "batches": [{"shop_id": "x"}]}'],
)
async def test_malformed_messages_are_poison(payload):
    with pytest.raises(PoisonMessage):
        await persist_events(payload)
    with pytest.raises(PoisonMessage):
        await aggregate_days([["x", "2026-01-01"]])


def test_pipeline_actors_are_on_the_pixel_queue_and_give_up_on_poison():
    for actor in (persist_pixel_events, aggregate_pixel_days):
        assert actor.queue_name == "pixel"
        assert actor.options["throws"] == (PoisonMessage,)
        assert actor.options["max_retries"] > 0
        assert actor.options["min_backoff"] > 0
