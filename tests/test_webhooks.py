"""POST /webhooks: HMAC, size limit, headers, dedup, routing, and stores that are down."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from datetime import timedelta

import orjson
import pytest

from actors.broker import setup_broker
from actors.sweeper import send_swept, sweep_once
from models import Customer, WebhookDelivery
from server.sync.changes import DATA_TOPICS
from server.webhook_topics import COMPLIANCE_TOPICS, TOPICS
from server.webhooks.http import WEBHOOK_WAKER
from server.webhooks.processing import process_deliveries
from tests.fake_shopify import WebhookSender, webhook_hmac
from tests.helpers import DatabaseDown, install_shop, run_cli

SHOP = "acme-store.myshopify.com"
DATA_REQUEST = {
    "shop_id": 954889,
    "shop_domain": SHOP,
    "orders_requested": [299938],
    "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
    "data_request": {"id": 9999},
}


@pytest.fixture
async def sender(client, config):
    return WebhookSender(client.session, secret=config.shopify.api_secret.reveal())


def url(client) -> str:
    return str(client.make_url("/webhooks"))


async def woken(client, stub_broker, queue: str) -> list[int]:
    """Delivery ids the web process sent to `queue`'s process actor (once its sends ran)."""
    await client.app[WEBHOOK_WAKER].idle()
    ids: list[int] = []
    for raw in stub_broker.queues.get(queue, StubQueue()).queue:
        ids.extend(orjson.loads(raw)["args"][0])
    return ids


class StubQueue:
    queue: tuple = ()


async def applied(client, stub_worker, queue: str) -> None:
    """What the web process sent to `queue` (once its sends ran), run by a Dramatiq worker."""
    await client.app[WEBHOOK_WAKER].idle()
    await stub_worker.drain(queue)


async def test_a_privacy_delivery_is_committed_whole_then_applied(
    client, sender, stub_broker, config
):
    delivery, response = await sender.send(
        url(client), "customers/data_request", SHOP, DATA_REQUEST
    )
    assert response.status == 200
    assert (await response.json()) == {"status": "queued"}
    # The 200 came after the commit: the whole delivery is in PostgreSQL, payload included.
    row = await WebhookDelivery.get(shop_domain=SHOP, event_id=delivery.event_id)
    assert row.topic == "customers/data_request"
    assert row.state == "pending" and row.attempts == 0
    assert row.payload == delivery.body.decode()
    assert row.triggered_at is not None and row.received_at >= row.triggered_at
    assert row.webhook_id == delivery.attempts[0][0]
    assert row.next_attempt_at is not None and row.next_attempt_at > row.received_at
    # The broker only hears the id, and only to wake a worker.
    assert await woken(client, stub_broker, "privacy") == [row.id]
    message = orjson.loads(stub_broker.queues["privacy"].queue[0])
    assert message["actor_name"] == "process_privacy_webhooks"
    assert b"john@example.com" not in stub_broker.queues["privacy"].queue[0]

    assert await process_deliveries([row.id], outbox=config.outbox, redis=None) == {"done": 1}
    await row.refresh_from_db()
    assert row.state == "done" and row.attempts == 1 and row.done_at is not None
    # Applied once: a second wake-up for the same id finds nothing to do.
    assert await process_deliveries([row.id], outbox=config.outbox, redis=None) == {"skipped": 1}


async def test_app_uninstalled_goes_to_the_webhooks_queue(client, sender, stub_broker):
    _, response = await sender.send(url(client), "app/uninstalled", SHOP, {"id": 1})
    assert response.status == 200
    assert len(await woken(client, stub_broker, "webhooks")) == 1
    message = orjson.loads(stub_broker.queues["webhooks"].queue[0])
    assert message["actor_name"] == "process_webhooks"


@pytest.mark.parametrize("topic", sorted([*TOPICS, "carts/update"]))
async def test_bad_hmac_is_401_on_every_topic_and_changes_nothing(
    client, sender, stub_broker, topic
):
    delivery = sender.event(topic, SHOP, {"id": 1})
    response = await sender.deliver(url(client), delivery, secret="not-the-secret")
    assert response.status == 401
    assert response.content_type == "application/problem+json"
    body = await response.json()
    assert body["status"] == 401 and body["title"] == "Invalid HMAC"
    assert await WebhookDelivery.all().count() == 0
    assert all(not q.queue for q in stub_broker.queues.values())


async def test_missing_or_tampered_hmac_is_401(client, config):
    body = orjson.dumps(DATA_REQUEST)
    headers = {
        "X-Shopify-Topic": "customers/redact",
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Event-Id": str(uuid.uuid4()),
    }
    missing = await client.post("/webhooks", data=body, headers=headers)
    signed = webhook_hmac(body, config.shopify.api_secret.reveal())
    tampered = await client.post(
        "/webhooks", data=body + b" ", headers={**headers, "X-Shopify-Hmac-Sha256": signed}
    )
    assert missing.status == 401 and tampered.status == 401
    assert await WebhookDelivery.all().count() == 0


async def test_the_previous_secret_is_accepted_during_a_rotation(
    make_client, make_config, stub_broker
):
    config = make_config(SHOPIFY_PREVIOUS_API_SECRET="the-old-secret")
    client = await make_client(config)
    old = WebhookSender(client.session, secret="the-old-secret")
    new = WebhookSender(client.session, secret=config.shopify.api_secret.reveal())
    _, by_old = await old.send(url(client), "shop/redact", SHOP, {"shop_domain": SHOP})
    _, by_new = await new.send(url(client), "shop/redact", SHOP, {"shop_domain": SHOP})
    _, by_other = await WebhookSender(client.session, secret="another").send(
        url(client), "shop/redact", SHOP, {"shop_domain": SHOP}
    )
    assert (by_old.status, by_new.status, by_other.status) == (200, 200, 401)
    assert len(await woken(client, stub_broker, "privacy")) == 2


@pytest.mark.parametrize(
    ("drop", "expected_detail"),
    [
        ("X-Shopify-Topic", "X-Shopify-Topic"),
        ("X-Shopify-Shop-Domain", "X-Shopify-Shop-Domain"),
        ("ids", "X-Shopify-Webhook-Id"),
    ],
)
async def test_missing_required_headers_are_400(client, sender, drop, expected_detail):
    delivery = sender.event("customers/redact", SHOP, {"customer": {"id": 1}})
    headers = delivery.headers(sender._secret, webhook_id="w-1")
    if drop == "ids":
        del headers["X-Shopify-Event-Id"], headers["X-Shopify-Webhook-Id"]
    else:
        del headers[drop]
    response = await client.post("/webhooks", data=delivery.body, headers=headers)
    assert response.status == 400
    assert expected_detail in (await response.json())["detail"]
    assert await WebhookDelivery.all().count() == 0


async def test_a_bad_shop_domain_or_bad_json_is_400(client, sender, config):
    _, bad_shop = await sender.send(url(client), "shop/redact", "evil.example.com", {})
    body = b"{not json"
    headers = sender.event("shop/redact", SHOP, {}).headers(
        config.shopify.api_secret.reveal(), webhook_id="w"
    )
    headers["X-Shopify-Hmac-Sha256"] = webhook_hmac(body, config.shopify.api_secret.reveal())
    bad_json = await client.post("/webhooks", data=body, headers=headers)
    assert (bad_shop.status, bad_json.status) == (400, 400)
    assert await WebhookDelivery.all().count() == 0


async def test_a_body_over_the_limit_is_413(client, sender, config, stub_broker):
    limit = config.limits.webhook_max_body_bytes
    delivery = sender.event("customers/redact", SHOP, {"customer": {"id": 1}, "pad": "x" * limit})
    headers = delivery.headers(sender._secret, webhook_id="w-big")
    declared = await client.post("/webhooks", data=io.BytesIO(delivery.body), headers=headers)

    async def chunks():  # no Content-Length: the limit holds while streaming
        for start in range(0, len(delivery.body), 65536):
            yield delivery.body[start : start + 65536]

    streamed = await client.post("/webhooks", data=chunks(), headers=headers)
    for response in (declared, streamed):
        assert response.status == 413
        assert response.content_type == "application/problem+json"
    assert await WebhookDelivery.all().count() == 0
    assert all(not q.queue for q in stub_broker.queues.values())


async def test_the_webhook_id_is_the_key_when_there_is_no_event_id(client, sender, stub_broker):
    delivery = sender.event("customers/redact", SHOP, {"customer": {"id": 7}})
    headers = delivery.headers(sender._secret, webhook_id="only-webhook-id")
    del headers["X-Shopify-Event-Id"]
    first = await client.post("/webhooks", data=delivery.body, headers=headers)
    again = await client.post("/webhooks", data=delivery.body, headers=headers)
    assert (first.status, again.status) == (200, 200)
    assert (await again.json()) == {"status": "duplicate"}
    row = await WebhookDelivery.get(event_id="only-webhook-id")
    assert row.duplicates == 1
    assert len(await woken(client, stub_broker, "privacy")) == 1


async def test_a_redelivery_is_200_and_queued_once(client, sender, stub_broker):
    delivery, first = await sender.send(url(client), "customers/redact", SHOP, {"customer": {}})
    second = await sender.redeliver(url(client), delivery)
    third = await sender.redeliver(url(client), delivery)
    assert [first.status, second.status, third.status] == [200, 200, 200]
    assert len(await woken(client, stub_broker, "privacy")) == 1
    row = await WebhookDelivery.get(event_id=delivery.event_id)
    assert row.duplicates == 2 and row.last_duplicate_at is not None


async def test_concurrent_copies_are_200_and_queued_once(client, sender, stub_broker):
    delivery = sender.event("customers/data_request", SHOP, DATA_REQUEST)
    responses = await asyncio.gather(*(sender.deliver(url(client), delivery) for _ in range(12)))
    assert [r.status for r in responses] == [200] * 12
    statuses = sorted([(await r.json())["status"] for r in responses])
    assert statuses == ["duplicate"] * 11 + ["queued"]
    assert len(await woken(client, stub_broker, "privacy")) == 1
    assert (await WebhookDelivery.get(event_id=delivery.event_id)).duplicates == 11


@pytest.mark.parametrize("topic", DATA_TOPICS)
async def test_data_topics_go_to_the_sync(client, sender, stub_broker, topic):
    payload = {"id": 632910392, "updated_at": "2026-11-24T10:00:00-05:00"}
    _, response = await sender.send(url(client), topic, SHOP, payload)
    assert (await response.json()) == {"status": "queued"}
    [delivery_id] = await woken(client, stub_broker, "sync")
    assert orjson.loads(stub_broker.queues["sync"].queue[0])["actor_name"] == (
        "process_data_webhooks"
    )
    row = await WebhookDelivery.get(id=delivery_id)
    assert (row.topic, orjson.loads(row.payload)) == (topic, payload)


async def test_the_same_event_id_on_two_topics_is_two_deliveries(client, sender, stub_broker):
    redact = sender.event("customers/redact", SHOP, {"customer": {"id": 1}})
    export = sender.event("customers/data_request", SHOP, DATA_REQUEST)
    export.event_id = redact.event_id
    assert (await sender.deliver(url(client), redact)).status == 200
    assert (await sender.deliver(url(client), export)).status == 200
    assert len(await woken(client, stub_broker, "privacy")) == 2


@pytest.mark.parametrize("topic", ["carts/update", "orders/paid", "themes/publish"])
async def test_topics_we_do_not_handle_are_200_recorded_and_ignored(
    client, sender, stub_broker, topic, caplog
):
    caplog.set_level(logging.INFO, logger="server.webhooks.http")
    delivery, response = await sender.send(url(client), topic, SHOP, {"id": 1})
    assert response.status == 200
    assert (await response.json()) == {"status": "ignored"}
    row = await WebhookDelivery.get(event_id=delivery.event_id)
    assert row.state == "ignored" and row.payload is None
    await client.app[WEBHOOK_WAKER].idle()
    assert all(not q.queue for q in stub_broker.queues.values())
    assert any("ignored" in r.getMessage() for r in caplog.records)


async def test_broker_down_is_still_200_and_the_sweeper_sends_it_later(
    make_client, make_config, config, stub_broker
):
    dead = make_config(BROKER_URL="redis://127.0.0.1:1/0")
    broker = setup_broker(dead)  # every actor now sends to a broker that is not there
    try:
        client = await make_client(dead)
        sender = WebhookSender(client.session, secret=config.shopify.api_secret.reveal())
        delivery, response = await sender.send(url(client), "shop/redact", SHOP, {})
        # Committed in PostgreSQL: that is what the 200 means, the broker is only a wake-up.
        assert response.status == 200 and (await response.json()) == {"status": "queued"}
        row = await WebhookDelivery.get(event_id=delivery.event_id)
        assert row.state == "pending"
        await client.app[WEBHOOK_WAKER].idle()  # the wake-up was tried and lost

        stub = setup_broker(config, stub=True)  # the broker is back, empty
        assert (await sweep_once(config.outbox)).sends == []  # not overdue yet
        await WebhookDelivery.filter(id=row.id).update(  # outbox.stale_after_s goes by
            next_attempt_at=row.next_attempt_at - timedelta(seconds=config.outbox.stale_after_s)
        )
        swept = await sweep_once(config.outbox)
        assert swept.sends == [("process_privacy_webhooks", ([row.id],))]
        assert send_swept(swept, stub) == 1
        [raw] = stub.queues["privacy"].queue
        assert orjson.loads(raw)["args"] == [[row.id]]
        # Sent again once, then not before the stale bound passes again.
        assert (await sweep_once(config.outbox)).sends == []
        # Shopify's retry of it is a duplicate: nothing is applied twice.
        retry = await sender.redeliver(url(client), delivery)
        assert (await retry.json()) == {"status": "duplicate"}
    finally:
        broker.close()


@pytest.mark.slow  # fault injection: the database refuses connections
async def test_database_down_is_503(client, sender, clean_database):
    async with DatabaseDown(clean_database):
        _, response = await sender.send(url(client), "shop/redact", SHOP, {})
        assert response.status == 503
        assert response.headers["Retry-After"]
        assert response.content_type == "application/problem+json"
    _, after = await sender.send(url(client), "shop/redact", SHOP, {})
    assert after.status == 200


async def test_secrets_and_hmacs_never_reach_the_logs(client, sender, caplog):
    caplog.set_level(logging.DEBUG)
    delivery, _ = await sender.send(url(client), "customers/redact", SHOP, {"customer": {}})
    await sender.deliver(url(client), delivery, secret="wrong")
    text = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    for _, status in delivery.attempts:
        assert status in (200, 401)
    assert sender._secret not in text
    assert webhook_hmac(delivery.body, sender._secret) not in text


async def test_every_topic_wakes_a_declared_actor_on_its_flows_queue(stub_broker):
    queue_of = {topic: stub_broker.get_actor(row.actor).queue_name for topic, row in TOPICS.items()}
    assert {queue_of[t] for t in COMPLIANCE_TOPICS} == {"privacy"}
    assert {queue_of[t] for t in DATA_TOPICS} == {"sync"}
    assert queue_of["app/uninstalled"] == "webhooks"


@pytest.mark.parametrize(
    "triggered_at",
    ["9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00+14:00", "2026-13-45T99:00:00Z", "x" * 200],
)
async def test_one_odd_delivery_never_fails_its_neighbours(
    client, sender, stub_broker, triggered_at
):
    """X-Shopify-Triggered-At is outside the HMAC: a value no database could take is
    normalised at the edge, and the deliveries committed beside it are all taken."""
    odd = sender.event("customers/redact", SHOP, {"customer": {"id": 1}})
    odd.triggered_at = triggered_at
    legit = [sender.event("customers/redact", SHOP, {"customer": {"id": i}}) for i in range(60)]
    responses = await asyncio.gather(
        *(sender.deliver(url(client), d) for d in [*legit[:30], odd, *legit[30:]])
    )
    assert [r.status for r in responses] == [200] * 61
    assert await WebhookDelivery.filter(state="pending").count() == 61
    row = await WebhookDelivery.get(event_id=odd.event_id)
    assert row.triggered_at is None  # recorded as unknown
    print("odd X-Shopify-Triggered-At beside 60 deliveries: 61 answered 200, 61 stored")


async def test_a_payload_with_nul_characters_is_applied_without_them(
    client, sender, stub_worker, config
):
    await install_shop(config, SHOP)
    payload = {
        "id": 7001,
        "email": "nul\u0000@example.com",
        "first_name": "A\u0000B",
        "updated_at": "2026-11-24T10:00:00Z",
        "created_at": "2026-11-24T10:00:00Z",
    }
    delivery, response = await sender.send(url(client), "customers/create", SHOP, payload)
    assert response.status == 200
    await applied(client, stub_worker, "sync")
    assert (await WebhookDelivery.get(event_id=delivery.event_id)).state == "done"
    customer = await Customer.get(shopify_id=7001)
    assert customer.email == "nul@example.com" and customer.first_name == "AB"


async def test_a_delivery_that_keeps_failing_ends_failed_and_can_be_replayed(
    client, sender, stub_worker, config, base_env
):
    await install_shop(config, SHOP)
    # An order without the fields the sync needs: a payload no retry can fix.
    _, bad = await sender.send(url(client), "orders/create", SHOP, {"id": "not-a-number"})
    _, good = await sender.send(
        url(client),
        "products/create",
        SHOP,
        {
            "id": 8001,
            "title": "ok",
            "updated_at": "2026-11-24T10:00:00Z",
            "created_at": "2026-11-24T10:00:00Z",
            "variants": [],
        },
    )
    assert (bad.status, good.status) == (200, 200)
    await applied(client, stub_worker, "sync")
    assert sorted(await WebhookDelivery.all().values_list("state", flat=True)) == ["done", "failed"]
    failed = await WebhookDelivery.get(state="failed")
    assert failed.topic == "orders/create" and failed.attempts == 1
    assert failed.last_error and failed.last_error.startswith("PayloadError")
    # Visible to an operator: in /metrics and in `deliveries list`, then replayed.
    metrics = await (await client.get("/metrics")).text()
    assert 'webhook_deliveries{state="failed"} 1.0' in metrics
    listed = run_cli("deliveries", "list", "--json", env=base_env)
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert orjson.loads(line)["id"] == failed.id and orjson.loads(line)["kind"] == "webhook"
    replay = run_cli("deliveries", "retry", str(failed.id), env=base_env)
    assert replay.returncode == 0, replay.stderr
    await failed.refresh_from_db()
    assert failed.state == "pending" and failed.attempts == 0
    swept = await sweep_once(config.outbox)
    assert swept.sends == [("process_data_webhooks", ([failed.id],))]


async def test_a_transient_failure_is_retried_with_backoff_then_given_up(
    client, sender, make_config, monkeypatch
):
    config = make_config(OUTBOX_MAX_ATTEMPTS="2")
    calls = []

    async def flaky(topic, shop, payload, delivery):
        calls.append(topic)
        raise RuntimeError("the handler broke")

    from server.webhook_topics import Topic

    route = TOPICS["app/uninstalled"]
    monkeypatch.setitem(TOPICS, "app/uninstalled", Topic(flaky, route.actor))
    _, response = await sender.send(url(client), "app/uninstalled", SHOP, {"id": 1})
    assert response.status == 200
    delivery_id = (await WebhookDelivery.get(topic="app/uninstalled")).id
    assert await process_deliveries([delivery_id], outbox=config.outbox, redis=None) == {"retry": 1}
    row = await WebhookDelivery.get(id=delivery_id)
    assert row.state == "pending" and row.attempts == 1
    assert row.next_attempt_at > row.received_at + timedelta(seconds=5)  # backoff, not now
    assert await process_deliveries([delivery_id], outbox=config.outbox, redis=None) == {
        "failed": 1
    }
    await row.refresh_from_db()
    assert row.state == "failed" and row.last_error == "RuntimeError: the handler broke"
    assert len(calls) == 2
