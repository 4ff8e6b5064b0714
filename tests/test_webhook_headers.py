"""POST /webhooks takes Shopify's header names with the `X-` prefix and without it
(`Shopify-Topic`, `Shopify-Hmac-Sha256`, ...), under the same rules: HMAC first, the same
required headers, dedup on the same event id."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

import orjson
import pytest

from models import WebhookDelivery

SHOP = "headers-shop.myshopify.com"


def _signed(secret: str, body: bytes) -> str:
    # Shopify's algorithm: base64 of the HMAC-SHA256 of the raw body with the app's secret.
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _headers(prefix: str, secret: str, body: bytes, event_id: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        f"{prefix}Shopify-Topic": "customers/data_request",
        f"{prefix}Shopify-Hmac-Sha256": _signed(secret, body),
        f"{prefix}Shopify-Shop-Domain": SHOP,
        f"{prefix}Shopify-Webhook-Id": str(uuid.uuid4()),
        f"{prefix}Shopify-Event-Id": event_id,
        f"{prefix}Shopify-Triggered-At": "2026-12-01T10:00:00.000Z",
        f"{prefix}Shopify-API-Version": "2026-10",
    }


BODY = orjson.dumps({"shop_domain": SHOP, "customer": {"id": 1}, "orders_requested": []})


async def test_a_delivery_with_the_headers_without_x_is_stored_as_one_with_them(client, config):
    secret = config.shopify.api_secret.reveal()
    event_id = str(uuid.uuid4())
    response = await client.post(
        "/webhooks", data=BODY, headers=_headers("", secret, BODY, event_id)
    )
    assert response.status == 200
    assert (await response.json()) == {"status": "queued"}
    row = await WebhookDelivery.get(event_id=event_id)
    assert (row.shop_domain, row.topic, row.api_version) == (
        SHOP,
        "customers/data_request",
        "2026-10",
    )
    assert row.triggered_at is not None and row.payload == BODY.decode()
    # The same event in the X- form is the same delivery: a duplicate, nothing new.
    again = await client.post(
        "/webhooks", data=BODY, headers=_headers("X-", secret, BODY, event_id)
    )
    assert (await again.json()) == {"status": "duplicate"}
    assert await WebhookDelivery.filter(event_id=event_id).count() == 1


@pytest.mark.parametrize("prefix", ["", "X-"])
async def test_a_bad_hmac_in_either_form_is_401_and_stores_nothing(client, prefix):
    headers = _headers(prefix, "not-the-secret", BODY, str(uuid.uuid4()))
    response = await client.post("/webhooks", data=BODY, headers=headers)
    assert response.status == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert await WebhookDelivery.all().count() == 0


async def test_a_required_header_missing_in_the_form_without_x_is_400(client, config):
    headers = _headers("", config.shopify.api_secret.reveal(), BODY, str(uuid.uuid4()))
    del headers["Shopify-Topic"]
    response = await client.post("/webhooks", data=BODY, headers=headers)
    assert response.status == 400
    assert "Shopify-Topic" in (await response.json())["detail"]
    assert await WebhookDelivery.all().count() == 0
