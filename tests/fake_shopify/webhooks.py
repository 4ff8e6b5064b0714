"""Deliver webhooks to the app exactly as Shopify does, retries included."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson

from tests.fake_shopify.registry import ISSUED_SECRETS


def webhook_hmac(body: bytes, secret: str) -> str:
    """The X-Shopify-Hmac-Sha256 value (also remembered: no log line may ever hold it)."""
    value = _webhook_hmac(body, secret)
    ISSUED_SECRETS.add(value)
    return value


def _webhook_hmac(body: bytes, secret: str) -> str:
    """`X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 of the raw body with the app secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class WebhookDelivery:
    """One event; `redeliver` sends it again as Shopify's retries do."""

    topic: str  # e.g. "orders/updated"
    shop: str
    body: bytes
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    triggered_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds")
    )
    api_version: str = "2026-10"
    attempts: list[tuple[str, int]] = field(default_factory=list)  # (webhook id, status)

    def headers(self, secret: str, *, webhook_id: str) -> dict[str, str]:
        """The headers of one delivery attempt."""
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": self.topic,
            "X-Shopify-Hmac-Sha256": webhook_hmac(self.body, secret),
            "X-Shopify-Shop-Domain": self.shop,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Event-Id": self.event_id,
            "X-Shopify-Triggered-At": self.triggered_at,
        }


class WebhookSender:
    """Signs and POSTs webhooks to an app URL."""

    def __init__(self, session: aiohttp.ClientSession, *, secret: str) -> None:
        self._session = session
        self._secret = secret

    def event(
        self, topic: str, shop: str, payload: Any, *, api_version: str = "2026-10"
    ) -> WebhookDelivery:
        """A new event (fresh event id) with `payload` serialized once, as sent."""
        return WebhookDelivery(
            topic=topic, shop=shop, body=orjson.dumps(payload), api_version=api_version
        )

    async def deliver(
        self, url: str, delivery: WebhookDelivery, *, secret: str | None = None
    ) -> aiohttp.ClientResponse:
        """POST one attempt (a new webhook id, same event id); return the response.

        `secret` overrides the signing secret (e.g. a wrong or rotated one).
        """
        webhook_id = str(uuid.uuid4())
        headers = delivery.headers(secret or self._secret, webhook_id=webhook_id)
        async with self._session.post(url, data=delivery.body, headers=headers) as resp:
            await resp.read()
        delivery.attempts.append((webhook_id, resp.status))
        return resp

    async def send(
        self, url: str, topic: str, shop: str, payload: Any
    ) -> tuple[WebhookDelivery, aiohttp.ClientResponse]:
        """Create an event and deliver it once."""
        delivery = self.event(topic, shop, payload)
        return delivery, await self.deliver(url, delivery)

    async def redeliver(self, url: str, delivery: WebhookDelivery) -> aiohttp.ClientResponse:
        """Shopify's retry of the same event: same event id and body, new webhook id."""
        return await self.deliver(url, delivery)
