"""POST /pixel/events: validation by index, limits, CORS, keys, rate limits, group commit."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from models import PixelEvent, PixelPending, WebPixel
from server.embedded import free_port
from server.web import keys
from tests.pixel_helpers import (
    aggregate_step,
    clear_rate_limits,
    envelope,
    pixel_shop,
    run_pixel_pipeline,
    stored_nothing,
)

URL = "/pixel/events"
# Storefronts post cross-origin; the CORS policy answers every origin (server/web/cors.py).
ORIGIN = "https://shop.example"


@pytest.fixture(autouse=True)
async def _fresh_rate_limits(redis_client):
    # Buckets live in Redis (shared by design), keyed by IP and shop id: start each test full.
    await clear_rate_limits(redis_client)


async def _problem(response, status: int) -> dict:
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    body = await response.json(content_type=None)
    assert body["status"] == status and body["detail"]
    return body


async def _post(client, key: str, events: list, **extra):
    return await client.post(
        URL,
        data=orjson.dumps({"accountID": key, "events": events, **extra}),
        headers={"Origin": ORIGIN},
    )


async def test_a_valid_batch_is_committed_sanitised_before_the_202(client, config, stub_broker):
    shop, pixel = await pixel_shop(config)
    secret_link = (
        "https://shop.example/p?variant=2&email=ann%40example.com&utm=x"
        "&phone=%2B44%2020%207946%200958&t=eyJhbGciOiJIUzI1NiJ9abcdefghijklmnop&access_token=z"
    )
    first = envelope("product_viewed", seq=1, data={"productVariant": {"id": "1"}})
    first["context"]["document"]["location"]["href"] = secret_link
    first["context"]["document"]["title"] = "x" * 5000
    first["context"]["extra"] = {"not": "kept"}
    first["unknownTopLevel"] = "dropped"
    second = envelope("clicked", seq=2, data={"element": {"id": "buy"}})
    third = envelope("my_app:signup", type="custom", seq=3, data={"plan": "pro"})

    response = await _post(client, pixel.ingest_key, [first, second, third], version="1.2.0")
    assert response.status == 202, await response.text()
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert await response.json() == {"accepted": 3, "rejected": []}
    # Committed before the answer: the events and the pipeline's work are in PostgreSQL.
    rows = {e.event_id: e for e in await PixelEvent.filter(shop_id=shop.id)}
    owed = await PixelPending.filter(shop_id=shop.id)
    assert sorted((o.name, o.events, o.version) for o in owed) == [
        ("clicked", 1, "1.2.0"),
        ("my_app:signup", 1, "1.2.0"),
        ("product_viewed", 1, "1.2.0"),
    ]
    # The broker only wakes the pipeline (no event in the message).
    await client.app[keys.PIXEL].wake_idle()
    [raw] = stub_broker.queues["pixel"].queue
    assert orjson.loads(raw)["actor_name"] == "aggregate_pixel_inbox"
    assert orjson.loads(raw)["args"] == []
    assert set(rows) == {first["id"], second["id"], third["id"]}
    stored = rows[first["id"]]
    assert stored.name == "product_viewed" and stored.client_id == "client-1" and stored.seq == 1
    assert stored.type == "standard"
    assert set(stored.context) == {"document", "navigator", "window"}
    href = stored.context["document"]["location"]["href"]
    assert href == "https://shop.example/p?variant=2&utm=x"
    assert len(stored.context["document"]["title"]) == config.pixel.max_string_chars
    assert stored.data == {"productVariant": {"id": "1"}}
    assert rows[third["id"]].type == "custom"
    await pixel.refresh_from_db()
    assert pixel.version is None  # the pipeline records it, once it has run
    assert await aggregate_step() == {"rows": 3, "events": 3}
    await pixel.refresh_from_db()
    assert pixel.version == "1.2.0" and pixel.last_event_at is not None
    assert await PixelPending.all().count() == 0


BAD_EVENTS = [
    ("not an object", "event must be an object"),
    ({"name": "page_viewed"}, "id must be"),
    (envelope(name="no_such_event"), "not a standard event"),
    (envelope(type="weird"), "type must be"),
    (envelope("page_viewed", type="dom"), "not a DOM event"),
    (envelope("page_viewed", type="custom"), "not a valid custom event name"),
    (envelope(clientId=""), "clientId must be"),
    (envelope(seq=-1), "seq must be"),
    (envelope(seq="1"), "seq must be"),
    (envelope(seq=True), "seq must be"),
    (envelope(timestamp="yesterday"), "not ISO 8601"),
    (envelope(timestamp="2026-01-01T00:00:00"), "no time zone"),
    (
        envelope(timestamp=(datetime.now(UTC) + timedelta(days=3)).isoformat()),
        "in the future",
    ),
    (envelope(context=[1]), "context must be an object"),
    (envelope(data="x"), "data must be an object"),
    (envelope(id="x" * 300), "longer than 255"),
    (envelope(id="a\x00b"), "control characters"),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_EVENTS)
async def test_invalid_events_are_rejected_by_index(client, config, stub_broker, bad, reason):
    _, pixel = await pixel_shop(config)
    good = envelope()
    response = await _post(client, pixel.ingest_key, [good, bad, envelope()])
    assert response.status == 202, await response.text()
    body = await response.json()
    assert body["accepted"] == 2
    assert len(body["rejected"]) == 1 and body["rejected"][0]["index"] == 1
    assert reason in body["rejected"][0]["reason"]


async def test_all_invalid_is_400_and_queues_nothing(client, config, stub_broker):
    _, pixel = await pixel_shop(config)
    response = await _post(client, pixel.ingest_key, [envelope(seq=-1), envelope(name="nope")])
    body = await _problem(response, 400)
    assert [r["index"] for r in body["rejected"]] == [0, 1]
    assert await stored_nothing()


async def test_event_over_32kb_is_rejected_by_index(client, config, stub_broker):
    _, pixel = await pixel_shop(config)
    big = envelope(data={"blob": "x" * config.pixel.max_event_bytes})
    response = await _post(client, pixel.ingest_key, [envelope(), big])
    assert response.status == 202
    body = await response.json()
    assert body["accepted"] == 1
    assert body["rejected"][0]["index"] == 1 and "larger than" in body["rejected"][0]["reason"]


async def test_request_limits_are_413(client, config, stub_broker):
    _, pixel = await pixel_shop(config)
    too_many = [envelope() for _ in range(config.pixel.max_events_per_request + 1)]
    await _problem(await _post(client, pixel.ingest_key, too_many), 413)
    # Under the per-event limit each, over the per-request body limit together.
    chunk = "y" * 30_000
    heavy = [envelope(data={"blob": chunk}) for _ in range(20)]
    await _problem(await _post(client, pixel.ingest_key, heavy), 413)
    # Without a Content-Length (chunked) the limit holds as well.
    body = orjson.dumps({"accountID": pixel.ingest_key, "events": heavy})
    await _problem(await client.post(URL, data=io.BytesIO(body), headers={"Origin": ORIGIN}), 413)
    assert await stored_nothing()


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (orjson.dumps({"events": [envelope()]}), "accountID"),
        (orjson.dumps({"accountID": "k", "events": []}), "non-empty array"),
        (orjson.dumps({"accountID": "k", "events": {"a": 1}}), "non-empty array"),
    ],
)
async def test_malformed_bodies_are_400(client, stub_broker, body, detail):
    problem = await _problem(await client.post(URL, data=body, headers={"Origin": ORIGIN}), 400)
    assert detail in problem["detail"]
    assert await stored_nothing()


async def test_unknown_and_deactivated_keys_are_401(client, config, stub_broker):
    await _problem(await _post(client, "no-such-key", [envelope()]), 401)
    _, inactive = await pixel_shop(config, active=False)
    await _problem(await _post(client, inactive.ingest_key, [envelope()]), 401)
    assert await stored_nothing()


async def test_uninstalled_shop_key_is_401(client, config, stub_broker):
    shop, pixel = await pixel_shop(config)
    shop.uninstalled_at = datetime.now(UTC)
    await shop.save()
    await _problem(await _post(client, pixel.ingest_key, [envelope()]), 401)


async def test_cors_preflight_and_responses_allow_any_origin(client, config, stub_broker):
    preflight = await client.options(
        URL,
        headers={
            "Origin": "null",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "null"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    assert int(preflight.headers["Access-Control-Max-Age"]) >= 3600
    assert "Access-Control-Allow-Credentials" not in preflight.headers

    _, pixel = await pixel_shop(config)
    response = await client.post(
        URL,
        data=orjson.dumps({"accountID": pixel.ingest_key, "events": [envelope()]}),
        headers={"Origin": "null", "Content-Type": "text/plain;charset=UTF-8"},
    )
    assert response.status == 202
    assert response.headers["Access-Control-Allow-Origin"] == "null"
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
    assert "Origin" in response.headers["Vary"]


async def test_same_event_id_in_two_batches_is_one_row(client, config, stub_worker):
    shop, pixel = await pixel_shop(config)
    event = envelope("product_viewed")
    for _ in range(2):
        response = await _post(client, pixel.ingest_key, [event, envelope()])
        assert response.status == 202
    # Twice in one request, too.
    response = await _post(client, pixel.ingest_key, [event, event])
    assert response.status == 202
    await run_pixel_pipeline(stub_worker)
    assert await PixelEvent.filter(shop_id=shop.id, event_id=event["id"]).count() == 1
    assert await PixelEvent.filter(shop_id=shop.id).count() == 3


async def test_ip_rate_limit_is_429_with_retry_after(make_client, make_config, stub_broker):
    config = make_config()
    from dataclasses import replace

    config = replace(config, pixel=replace(config.pixel, ip_requests_per_s=1, ip_burst_requests=3))
    client = await make_client(config)
    _, pixel = await pixel_shop(config)
    statuses = []
    for _ in range(4):
        response = await _post(client, pixel.ingest_key, [envelope()])
        statuses.append(response.status)
    assert statuses[:3] == [202, 202, 202]
    assert statuses[3] == 429
    assert int(response.headers["Retry-After"]) >= 1
    await _problem(response, 429)
    assert await PixelEvent.all().count() == 3


async def test_shop_rate_limit_counts_events(make_client, make_config, stub_worker, redis_client):
    config = make_config()
    from dataclasses import replace

    config = replace(config, pixel=replace(config.pixel, shop_events_per_s=1, shop_burst_events=10))
    client = await make_client(config)
    shop, pixel = await pixel_shop(config)
    first = await _post(client, pixel.ingest_key, [envelope() for _ in range(8)])
    assert first.status == 202
    second = await _post(client, pixel.ingest_key, [envelope() for _ in range(5)])
    body = await _problem(second, 429)
    assert "shop" in body["detail"]
    assert int(second.headers["Retry-After"]) >= 1
    # The bucket lives in Redis, so every web process shares it.
    assert await redis_client.exists(f"ratelimit:pixel:shop:{shop.id}") == 1
    await run_pixel_pipeline(stub_worker)
    assert await PixelEvent.filter(shop_id=shop.id).count() == 8


async def test_broker_down_is_still_202_with_every_event_stored(
    aiohttp_client, make_config, stub_broker
):
    from actors.broker import setup_broker
    from server.web.app import create_app

    config = make_config(BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")
    broker = setup_broker(config)
    try:
        client = await aiohttp_client(create_app(config, broker=broker))
        shop, pixel = await pixel_shop(config)
        response = await _post(client, pixel.ingest_key, [envelope(), envelope()])
        assert response.status == 202  # committed in PostgreSQL; only the wake-up is lost
        await client.app[keys.PIXEL].wake_idle()
        assert await PixelEvent.filter(shop_id=shop.id).count() == 2
        assert await PixelPending.filter(shop_id=shop.id).count() >= 1
    finally:
        broker.close()


async def test_redis_down_is_still_202_limited_per_process_and_counted(
    make_client, make_config, stub_broker
):
    config = make_config(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = await make_client(config)
    shop, pixel = await pixel_shop(config)
    for _ in range(3):
        response = await _post(client, pixel.ingest_key, [envelope(), envelope()])
        assert response.status == 202, await response.text()
    assert await PixelEvent.filter(shop_id=shop.id).count() == 6
    metrics = await (await client.get("/metrics")).text()
    assert 'redis_fallbacks_total{use="rate_limit"}' in metrics
    fallbacks = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('redis_fallbacks_total{use="rate_limit"}')
    ]
    assert fallbacks and fallbacks[0] >= 6  # per request: the IP's limit and the shop's


@pytest.mark.slow  # fault injection: the database refuses connections
async def test_database_down_is_503_and_accepts_nothing(client, config, clean_database):
    from tests.helpers import DatabaseDown

    shop, pixel = await pixel_shop(config)
    assert (await _post(client, pixel.ingest_key, [envelope()])).status == 202
    async with DatabaseDown(clean_database):
        response = await _post(client, pixel.ingest_key, [envelope(), envelope()])
        body = await _problem(response, 503)
        assert int(response.headers["Retry-After"]) >= 1
        assert "nothing was accepted" in body["detail"]
    assert await PixelEvent.filter(shop_id=shop.id).count() == 1


async def test_concurrent_requests_share_one_statement_per_flush(
    make_client, make_config, stub_broker
):
    config = make_config()
    from dataclasses import replace

    config = replace(config, pixel=replace(config.pixel, flush_interval_ms=50))
    client = await make_client(config)
    shop, pixel = await pixel_shop(config)
    committer = client.app[keys.PIXEL].committer
    before = committer.flush_count
    responses = await asyncio.gather(
        *(_post(client, pixel.ingest_key, [envelope(), envelope()]) for _ in range(30))
    )
    assert [r.status for r in responses] == [202] * 30
    assert 1 <= committer.flush_count - before < 30
    assert await PixelEvent.filter(shop_id=shop.id).count() == 60


async def test_deactivated_pixel_key_stops_being_accepted(client, config, stub_broker):
    _, pixel = await pixel_shop(config)
    assert (await _post(client, pixel.ingest_key, [envelope()])).status == 202
    from server.pixel.extension import mark_inactive
    from server.web import keys

    await mark_inactive(pixel, client.app[keys.PIXEL].keys)
    await _problem(await _post(client, pixel.ingest_key, [envelope()]), 401)
    assert (await WebPixel.get(id=pixel.id)).status == "inactive"


async def test_behind_a_load_balancer_the_ip_limit_is_per_visitor(
    make_client, make_config, stub_broker, redis_client
):
    from dataclasses import replace

    await clear_rate_limits(redis_client)
    config = make_config(PIXEL_TRUST_FORWARDED_FOR="true")
    config = replace(config, pixel=replace(config.pixel, ip_requests_per_s=1, ip_burst_requests=2))
    client = await make_client(config)
    _, pixel = await pixel_shop(config)

    async def post(visitor: str):
        # A forged left-most entry must not matter: the balancer's own entry is last.
        headers = {"X-Forwarded-For": f"6.6.6.6, {visitor}"}
        body = orjson.dumps({"accountID": pixel.ingest_key, "events": [envelope()]})
        return (await client.post(URL, data=body, headers=headers)).status

    assert [await post("198.51.100.1") for _ in range(3)] == [202, 202, 429]
    # Another visitor behind the same balancer has a bucket of their own.
    assert await post("198.51.100.2") == 202
