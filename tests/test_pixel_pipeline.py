"""The pipeline after ingest (the inbox, aggregation) and GET /api/analytics/summary."""

from __future__ import annotations

import functools
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import orjson
import pytest
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from actors.pixel import aggregate_pixel_inbox
from models import (
    PixelDailyAggregate,
    PixelDailyRevenue,
    PixelDayClient,
    PixelEvent,
    PixelPending,
    WebPixelVersion,
)
from server.db import connect
from server.groupcommit import CommitConnections
from server.pixel import pipeline
from server.pixel.pipeline import redact_pixel_clients
from server.pixel.store import store_batches
from tests.helpers import bearer, run_cli
from tests.pixel_helpers import (
    aggregate_step,
    checkout_completed,
    clear_rate_limits,
    envelope,
    pixel_shop,
    run_pixel_pipeline,
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


async def test_aggregates_match_the_raw_events(client, config, stub_worker):
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
    await run_pixel_pipeline(stub_worker)
    await _post(client, pixel.ingest_key, events[10:])
    await run_pixel_pipeline(stub_worker)

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

    # A resent batch (all duplicates) stores nothing and adds nothing to fold.
    await _post(client, pixel.ingest_key, events[10:])
    assert await aggregate_step() == {}
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


async def test_summary_of_other_shops_is_not_visible(client, config, stub_worker):
    shop, pixel = await pixel_shop(config)
    other, _ = await pixel_shop(config)
    await _post(client, pixel.ingest_key, [envelope("product_viewed")])
    await run_pixel_pipeline(stub_worker)
    response = await client.get("/api/analytics/summary", headers=bearer(config, other.domain))
    body = await response.json()
    assert body["days"] == [] and body["funnel"][0]["count"] == 0
    response = await client.get("/api/analytics/summary", headers=bearer(config, shop.domain))
    assert (await response.json())["funnel"][0]["count"] == 1


async def test_version_history_is_recorded(client, config, stub_worker):
    shop, pixel = await pixel_shop(config)
    await _post(client, pixel.ingest_key, [envelope()], version="1.0.0")
    await run_pixel_pipeline(stub_worker)
    await _post(client, pixel.ingest_key, [envelope()], version="1.1.0")
    await run_pixel_pipeline(stub_worker)
    await _post(client, pixel.ingest_key, [envelope()], version="not a version!")
    await run_pixel_pipeline(stub_worker)
    await pixel.refresh_from_db()
    assert pixel.version == "1.1.0"
    versions = sorted(v.version for v in await WebPixelVersion.filter(web_pixel_id=pixel.id))
    assert versions == ["1.0.0", "1.1.0"]
    response = await client.get("/api/extension", headers=bearer(config, shop.domain))
    body = await response.json()
    assert body["status"] == "active" and body["version"] == "1.1.0"
    assert body["last_event_at"] is not None
    assert [v["version"] for v in body["versions"]] == ["1.1.0", "1.0.0"]


async def test_the_ingest_statement_is_idempotent_and_drops_events_of_deleted_shops(
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
    document = orjson.dumps(
        {
            "batches": [
                {"shop_id": shop.id, "received_at": now, "version": None, "events": [event]},
                {"shop_id": gone.id, "received_at": now, "version": None, "events": [event]},
            ],
        }
    ).decode()
    await gone.delete()
    connections = CommitConnections(functools.partial(connect, config, role="web", timeout_s=5))
    try:
        assert await store_batches(document, connections=connections, timeout_s=5) == 1
        assert await store_batches(document, connections=connections, timeout_s=5) == 0
    finally:
        await connections.close()
    assert await PixelEvent.filter(event_id="e-1").count() == 1
    [owed] = await PixelPending.all()
    assert (owed.shop_id, owed.events) == (shop.id, 1)  # the resend added nothing to fold


async def test_events_committed_while_a_step_runs_are_counted_by_the_next(
    client, config, stub_broker, monkeypatch
):
    shop, pixel = await pixel_shop(config)
    await _post(client, pixel.ingest_key, [envelope("page_viewed", clientId="a")])
    real = pipeline.fold
    late = envelope("page_viewed", clientId="b")

    async def with_a_flush_in_between(*args, **kwargs):
        # While this step folds, another request's events commit: they are not in it.
        monkeypatch.setattr(pipeline, "fold", real)
        result = await real(*args, **kwargs)
        await _post(client, pixel.ingest_key, [late])
        return result

    monkeypatch.setattr(pipeline, "fold", with_a_flush_in_between)
    assert await aggregate_step() == {"rows": 2, "events": 2}
    assert await PixelPending.all().count() == 0
    [row] = await PixelDailyAggregate.filter(shop_id=shop.id, name="page_viewed")
    assert (row.count, row.distinct_clients) == (2, 2)


async def test_a_row_that_cannot_be_folded_fails_alone_and_the_rest_go_on(
    client, config, stub_broker, base_env
):
    bad_shop, _ = await pixel_shop(config)
    good_shop, good_pixel = await pixel_shop(config)
    await _post(client, good_pixel.ingest_key, [envelope()])
    now = datetime.now(UTC)
    # Two summaries whose revenue together overflows the aggregate's numeric(20,4).
    for _ in range(2):
        await PixelPending.create(
            shop_id=bad_shop.id,
            day=now.date(),
            name="checkout_completed",
            client_id="c",
            events=1,
            currency="EUR",
            orders=1,
            revenue=Decimal("9000000000000000"),
            first_at=now,
            last_at=now,
            created_at=now,
        )
    outcomes = await aggregate_step()
    assert outcomes == {"failed": 1, "rows": 2, "events": 2}
    failed = await PixelPending.get(state="failed")
    assert failed.shop_id == bad_shop.id and (failed.last_error or "").startswith(
        "OperationalError"
    )
    assert await PixelDailyAggregate.filter(shop_id=good_shop.id).count() == 1
    metrics = await (await client.get("/metrics")).text()
    assert 'pixel_pipeline_pending_rows{state="failed"} 1.0' in metrics
    # An operator sees it and replays it (here the cause stays: it fails again, alone).
    listed = run_cli("deliveries", "list", "--kind", "pixel", env=base_env)
    assert str(failed.id) in listed.stdout
    replayed = run_cli("deliveries", "retry", "--kind", "pixel", "--all", env=base_env)
    assert replayed.returncode == 0, replayed.stderr
    assert (await PixelPending.get(id=failed.id)).state == "pending"


async def test_aggregates_equal_a_full_recount_on_random_data(client, config, stub_worker):
    """Random events over several days, late ones and resent ones among them, folded in
    steps between the posts: the aggregates equal a recount of the stored events."""
    rng = random.Random(1016)
    shop, pixel = await pixel_shop(config)
    today = datetime.now(UTC).date()
    names = ["page_viewed", "product_viewed", "product_added_to_cart", "checkout_started"]
    sent: list[dict] = []
    for step in range(12):
        batch = []
        for _ in range(rng.randint(1, 40)):
            day = today - timedelta(days=rng.choice([0, 0, 0, 1, 2, 6]))  # late ones too
            at = _at(day, rng.randint(0, 23))
            client_id = f"c{rng.randint(1, 15)}"
            if rng.random() < 0.15:
                amount = rng.choice([rng.randint(1, 500), "12.50", "lots", None])
                event = checkout_completed(
                    amount, rng.choice(["EUR", "USD", "bad"]), clientId=client_id, timestamp=at
                )
            else:
                event = envelope(rng.choice(names), clientId=client_id, timestamp=at)
            batch.append(event)
        if sent and rng.random() < 0.4:
            batch.extend(rng.sample(sent, min(5, len(sent))))  # resent: duplicates
        sent.extend(batch)
        await _post(client, pixel.ingest_key, batch)
        if step % 3 == 2:
            await run_pixel_pipeline(stub_worker)
    await run_pixel_pipeline(stub_worker)

    connection = Tortoise.get_connection("default")
    raw = await connection.execute_query_dict(pipeline.RECOUNT_SQL, [shop.id])
    expected = {(r["day"], r["name"]): (r["count"], r["clients"]) for r in raw}
    aggregates = {
        (a.day, a.name): (a.count, a.distinct_clients)
        for a in await PixelDailyAggregate.filter(shop_id=shop.id)
    }
    assert aggregates == expected
    revenue = await connection.execute_query_dict(
        """
        SELECT (("timestamp" AT TIME ZONE 'UTC')::date) AS day,
               data #>> '{checkout,totalPrice,currencyCode}' AS currency, count(*) AS orders
        FROM pixel_events WHERE shop_id = $1 AND name = 'checkout_completed'
          AND data #>> '{checkout,totalPrice,currencyCode}' ~ '^[A-Z]{3}$'
        GROUP BY 1, 2
        """,
        [shop.id],
    )
    stored_revenue = {
        (r.day, r.currency): r.orders for r in await PixelDailyRevenue.filter(shop_id=shop.id)
    }
    assert stored_revenue == {(r["day"], r["currency"]): r["orders"] for r in revenue}
    assert await PixelDayClient.filter(shop_id=shop.id).count() == sum(
        c for _, c in expected.values()
    )

    # customers/redact reaches the first-seen clients (found through their key's index): the
    # redacted browser's rows go, on every day and name; the others stay.
    async with in_transaction() as conn:
        done = await redact_pixel_clients(conn, shop.id, {("client_id", "c3"), ("email", "x")})
    left = await PixelDayClient.filter(shop_id=shop.id).values_list("client_id", flat=True)
    assert "c3" not in left
    assert done["pixel_day_clients"] + len(left) == sum(c for _, c in expected.values())
    assert done["pixel_day_clients"] > 0


async def test_first_seen_keys_of_different_names_and_clients_never_alias(
    client, config, stub_broker
):
    """The first-seen key spells (shop, day, name, client) so that no other four values spell
    it: ("page_viewed", "x") and ("page_viewe", "dx") are two clients of two names."""
    shop, _ = await pixel_shop(config)
    today = datetime.now(UTC).date()
    now = datetime.now(UTC)
    for name, client_id in [("page_viewed", "x"), ("page_viewe", "dx"), ("page_viewed", "x")]:
        await PixelPending.create(
            shop_id=shop.id,
            day=today,
            name=name,
            client_id=client_id,
            events=1,
            first_at=now,
            last_at=now,
            created_at=now,
        )
    await pipeline.fold()
    aggregates = {
        a.name: (a.count, a.distinct_clients)
        for a in await PixelDailyAggregate.filter(shop_id=shop.id)
    }
    assert aggregates == {"page_viewed": (2, 1), "page_viewe": (1, 1)}
    assert await PixelDayClient.filter(shop_id=shop.id).count() == 2


def test_the_pipeline_actor_is_on_the_pixel_queue_and_retries_a_store_outage():
    assert aggregate_pixel_inbox.queue_name == "pixel"
    assert aggregate_pixel_inbox.options["max_retries"] > 0
    assert aggregate_pixel_inbox.options["min_backoff"] > 0
