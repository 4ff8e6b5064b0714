"""POST /webhooks: HMAC, size limit, headers, dedup, routing, and stores that are down."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid

import orjson
import pytest

from actors.broker import setup_broker
from models import WebhookDelivery
from server.webhook_topics import COMPLIANCE_TOPICS, DATA_TOPICS, KNOWN_TOPICS
from tests.fake_shopify import WebhookSender, webhook_hmac
from tests.helpers import DatabaseDown

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


def queued(stub_broker, queue: str) -> list[dict]:
    """Messages bound for `queue`, with each group-committed dispatch unpacked."""
    from actors.webhooks import TOPIC_ROUTES

    found = []
    for raw in stub_broker.queues.get("webhooks", StubQueue()).queue:
        message = orjson.loads(raw)
        if message["actor_name"] != "dispatch_webhooks":
            continue
        for item in message["args"][0]:
            route = TOPIC_ROUTES[item["topic"]]
            if route.actor.queue_name == queue:
                args = [item["topic"], item["shop"], item["payload"]]
                kwargs = {"delivery": item["delivery"]} if route.with_delivery else {}
                found.append({"actor_name": route.actor.actor_name, "args": args,
                              "kwargs": kwargs})
    return found


class StubQueue:
    queue: tuple = ()


async def test_a_privacy_delivery_is_recorded_and_queued(client, sender, stub_broker):
    delivery, response = await sender.send(
        url(client), "customers/data_request", SHOP, DATA_REQUEST
    )
    assert response.status == 200
    assert (await response.json()) == {"status": "queued"}
    row = await WebhookDelivery.get(shop_domain=SHOP, event_id=delivery.event_id)
    assert row.topic == "customers/data_request"
    assert row.outcome == "queued"
    assert row.triggered_at is not None and row.received_at >= row.triggered_at
    assert row.webhook_id == delivery.attempts[0][0]
    [message] = queued(stub_broker, "privacy")
    assert message["actor_name"] == "customers_data_request"
    assert message["args"] == ["customers/data_request", SHOP, DATA_REQUEST]
    assert message["kwargs"]["delivery"]["event_id"] == delivery.event_id


async def test_app_uninstalled_goes_to_the_webhooks_queue(client, sender, stub_broker):
    _, response = await sender.send(url(client), "app/uninstalled", SHOP, {"id": 1})
    assert response.status == 200
    [message] = queued(stub_broker, "webhooks")
    assert message["actor_name"] == "app_uninstalled"


@pytest.mark.parametrize("topic", sorted([*KNOWN_TOPICS, "carts/update"]))
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
    assert len(queued(stub_broker, "privacy")) == 2


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
    assert len(queued(stub_broker, "privacy")) == 1


async def test_a_redelivery_is_200_and_queued_once(client, sender, stub_broker):
    delivery, first = await sender.send(url(client), "customers/redact", SHOP, {"customer": {}})
    second = await sender.redeliver(url(client), delivery)
    third = await sender.redeliver(url(client), delivery)
    assert [first.status, second.status, third.status] == [200, 200, 200]
    assert len(queued(stub_broker, "privacy")) == 1
    row = await WebhookDelivery.get(event_id=delivery.event_id)
    assert row.duplicates == 2 and row.last_duplicate_at is not None


async def test_concurrent_copies_are_200_and_queued_once(client, sender, stub_broker):
    delivery = sender.event("customers/data_request", SHOP, DATA_REQUEST)
    responses = await asyncio.gather(*(sender.deliver(url(client), delivery) for _ in range(12)))
    assert [r.status for r in responses] == [200] * 12
    statuses = sorted([(await r.json())["status"] for r in responses])
    assert statuses == ["duplicate"] * 11 + ["queued"]
    assert len(queued(stub_broker, "privacy")) == 1
    assert (await WebhookDelivery.get(event_id=delivery.event_id)).duplicates == 11


@pytest.mark.parametrize("topic", DATA_TOPICS)
async def test_data_topics_go_to_the_sync(client, sender, stub_broker, topic):
    payload = {"id": 632910392, "updated_at": "2026-11-24T10:00:00-05:00"}
    _, response = await sender.send(url(client), topic, SHOP, payload)
    assert (await response.json()) == {"status": "queued"}
    [message] = queued(stub_broker, "sync")
    assert message["actor_name"] == "apply_data_webhook"
    assert message["args"] == [topic, SHOP, payload]


async def test_the_same_event_id_on_two_topics_is_two_deliveries(client, sender, stub_broker):
    redact = sender.event("customers/redact", SHOP, {"customer": {"id": 1}})
    export = sender.event("customers/data_request", SHOP, DATA_REQUEST)
    export.event_id = redact.event_id
    assert (await sender.deliver(url(client), redact)).status == 200
    assert (await sender.deliver(url(client), export)).status == 200
    assert len(queued(stub_broker, "privacy")) == 2


@pytest.mark.parametrize("topic", ["carts/update", "orders/paid", "themes/publish"])
async def test_topics_we_do_not_handle_are_200_recorded_and_ignored(
    client, sender, stub_broker, topic, caplog
):
    caplog.set_level(logging.INFO, logger="server.webhooks")
    delivery, response = await sender.send(url(client), topic, SHOP, {"id": 1})
    assert response.status == 200
    assert (await response.json()) == {"status": "ignored"}
    row = await WebhookDelivery.get(event_id=delivery.event_id)
    assert row.outcome == "ignored"
    assert all(not q.queue for q in stub_broker.queues.values())
    assert any("ignored" in r.getMessage() for r in caplog.records)


async def test_broker_down_is_503_and_the_retry_is_queued(
    make_client, make_config, config, stub_broker
):
    dead = make_config(BROKER_URL="redis://127.0.0.1:1/0")
    broker = setup_broker(dead)  # every actor now sends to a broker that is not there
    try:
        client = await make_client(dead)
        sender = WebhookSender(client.session, secret=config.shopify.api_secret.reveal())
        delivery, response = await sender.send(url(client), "shop/redact", SHOP, {})
        assert response.status == 503
        assert response.headers["Retry-After"]
        assert (await response.json())["status"] == 503
        assert await WebhookDelivery.all().count() == 0  # nothing recorded: not a duplicate

        stub = setup_broker(config, stub=True)  # the broker is back
        retry = await sender.redeliver(url(client), delivery)
        assert retry.status == 200 and (await retry.json()) == {"status": "queued"}
        assert len(queued(stub, "privacy")) == 1
    finally:
        broker.close()


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


async def test_compliance_topics_are_the_ones_routed_to_privacy_actors():
    from actors.webhooks import TOPIC_ROUTES

    for topic in COMPLIANCE_TOPICS:
        assert TOPIC_ROUTES[topic].actor.queue_name == "privacy"
    assert TOPIC_ROUTES["app/uninstalled"].actor.queue_name == "webhooks"
