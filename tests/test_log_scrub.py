"""No customer data in any log line, Dramatiq's own failure logging included."""

from __future__ import annotations

import logging
import uuid

import pytest
from dramatiq import Message

from server.logs import JsonFormatter
from tests.helpers import eventually

SHOP = "scrub-shop.myshopify.com"


def test_dramatiq_messages_format_as_actor_and_id_only():
    email = f"ann-{uuid.uuid4().hex}@example.com"
    message = Message(
        queue_name="q",
        actor_name="apply_data_webhook",
        args=({"email": email},),
        kwargs={},
        options={},
    )
    formatter = JsonFormatter()
    for msg, args in (
        ("Failed to process message %s with unhandled exception.", (message,)),
        ("Failed to process message %s with expected exception %s.", (message, "PayloadError")),
        ("Message %s was skipped.", (message,)),
        ("Received args=%r kwargs=%r.", (({"email": email},), {})),
    ):
        record = logging.LogRecord(
            "dramatiq.actor.Actor", logging.ERROR, __file__, 1, msg, args, None
        )
        line = formatter.format(record)
        assert email not in line
    record = logging.LogRecord(
        "dramatiq.worker.WorkerThread",
        logging.ERROR,
        __file__,
        1,
        "Failed to process message %s with unhandled exception.",
        (message,),
        None,
    )
    assert f"apply_data_webhook[{message.message_id}]" in formatter.format(record)


@pytest.mark.worker
async def test_failing_deliveries_leave_no_customer_data_in_the_worker_logs(
    config, redis_broker, aiohttp_client, start_worker
):
    from models import WebhookDelivery
    from server.web.app import create_app
    from tests.fake_shopify import WebhookSender
    from tests.helpers import install_shop

    client = await aiohttp_client(create_app(config, broker=redis_broker))
    await install_shop(config, SHOP)
    sender = WebhookSender(client.session, secret=config.shopify.api_secret.reveal())
    email = f"leak-{uuid.uuid4().hex}@example.com"
    phone = f"+1555{uuid.uuid4().int % 10**7:07d}"
    # A customer update the sync cannot read: its error message quotes the customer's data.
    payload = {"id": 7, "email": email, "phone": phone, "updated_at": f"when {email} {phone}"}
    _, response = await sender.send(
        str(client.make_url("/webhooks")), "customers/update", SHOP, payload
    )
    assert response.status == 200
    # A Dramatiq message that fails on every try: Dramatiq's own failure logging runs too
    # (its messages carry delivery ids only; the formatter shows actor and message id).
    from actors.webhooks import process_data_webhooks

    process_data_webhooks.send_with_options(
        args=(["not-an-id"],), max_retries=1, min_backoff=10, max_backoff=20
    )

    async def failed() -> bool:
        return await WebhookDelivery.filter(state="failed").exists()

    worker = start_worker()
    await eventually(failed, what="the delivery failed", process=worker)
    await worker.stop_async()
    row = await WebhookDelivery.get(state="failed")
    assert email in (row.last_error or "")  # kept in PostgreSQL, next to the payload
    output = worker.output
    assert "webhook delivery failed: PayloadError" in output, output[-3000:]
    assert "Failed to process message process_data_webhooks[" in output, output[-3000:]
    assert email not in output
    assert phone not in output
