"""POST /webhooks: verify the HMAC over the raw body, validate, hand to the intake, answer.

A 200 means the delivery is committed in PostgreSQL (server/webhooks/intake.py); a store
that is down is a 503 with Retry-After (Shopify retries); bad input is a 4xx problem.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from server.groupcommit import GroupCommitter
from server.logs import shop_var
from server.problem import Problem
from server.security.hmac import normalize_shop, verify_webhook_hmac
from server.wake import Waker
from server.web import keys
from server.webhooks.intake import (
    DB_DOWN_ERRORS,
    Delivery,
    DeliveryRefused,
    delivery_committer,
)
from server.webhooks.topics import TOPICS

log = logging.getLogger(__name__)

TOPIC_HEADER = "X-Shopify-Topic"
HMAC_HEADER = "X-Shopify-Hmac-Sha256"
SHOP_HEADER = "X-Shopify-Shop-Domain"
EVENT_ID_HEADER = "X-Shopify-Event-Id"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
TRIGGERED_AT_HEADER = "X-Shopify-Triggered-At"
API_VERSION_HEADER = "X-Shopify-API-Version"

MAX_ID_CHARS = 255
MAX_TOPIC_CHARS = 128
MAX_API_VERSION_CHARS = 32
# X-Shopify-Triggered-At is informational (the HMAC does not cover it): a value outside
# these years is stored as unknown rather than trusted.
TRIGGERED_AT_YEARS = (2000, 2200)


def _too_large(limit: int) -> Problem:
    return Problem(413, f"the webhook body is over {limit} bytes", title="Payload Too Large")


async def read_limited_body(request: web.Request, limit: int) -> bytes:
    """The raw body, read once; 413 as soon as it is over `limit` bytes."""
    length = request.content_length
    if length is not None:
        if length > limit:
            raise _too_large(limit)
        # The common case (Shopify sends Content-Length): one read, no chunk loop.
        return await request.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _header(request: web.Request, name: str, *, max_chars: int) -> str:
    value = request.headers.get(name, "").strip()
    if not value:
        raise Problem(400, f"the {name} header is required", title="Missing header")
    if len(value) > max_chars or not value.isprintable():
        raise Problem(400, f"the {name} header is not valid", title="Invalid header")
    return value


def _triggered_at(request: web.Request) -> datetime | None:
    value = request.headers.get(TRIGGERED_AT_HEADER, "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None  # informational only: a bad value is recorded as unknown
    if not TRIGGERED_AT_YEARS[0] <= parsed.year <= TRIGGERED_AT_YEARS[1]:
        return None  # out of any sane range: recorded as unknown
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Problem(400, "the body is not valid JSON", title="Invalid JSON") from None
    if not isinstance(payload, dict):
        raise Problem(400, "the body must be a JSON object", title="Invalid JSON")
    return payload


def _printable(request: web.Request, name: str, *, max_chars: int) -> str:
    """An optional header: empty, or printable and at most `max_chars` (else 400)."""
    value = request.headers.get(name, "").strip()
    if len(value) > max_chars or not value.isprintable():
        raise Problem(400, f"the {name} header is not valid", title="Invalid header")
    return value


async def receive_webhook(request: web.Request) -> web.Response:
    """Shopify's webhook delivery: 200 once committed (or a duplicate, or ignored)."""
    limit = request.app[keys.CONFIG].limits.webhook_max_body_bytes
    body = await read_limited_body(request, limit)
    # Before anything else is believed: the HMAC over the raw bytes.
    if not verify_webhook_hmac(
        body, request.headers.get(HMAC_HEADER), request.app[keys.CONFIG].shopify.api_secrets()
    ):
        raise Problem(
            401, f"the {HMAC_HEADER} header is missing or does not verify", title="Invalid HMAC"
        )
    topic = _header(request, TOPIC_HEADER, max_chars=MAX_TOPIC_CHARS)
    shop = normalize_shop(_header(request, SHOP_HEADER, max_chars=MAX_ID_CHARS))
    if shop is None:
        raise Problem(400, f"the {SHOP_HEADER} header is not a *.myshopify.com domain")
    shop_var.set(shop)
    event_id = request.headers.get(EVENT_ID_HEADER, "").strip() or _header(
        request, WEBHOOK_ID_HEADER, max_chars=MAX_ID_CHARS
    )
    if len(event_id) > MAX_ID_CHARS or not event_id.isprintable():
        raise Problem(400, f"the {EVENT_ID_HEADER} header is not valid", title="Invalid header")
    payload: str | None = None
    if topic in TOPICS:
        _payload(body)  # a handled topic's body must be a JSON object...
        payload = body.decode()  # ...so it is valid UTF-8 text, kept exactly as signed
    delivery = Delivery(
        shop=shop,
        topic=topic,
        event_id=event_id,
        webhook_id=_printable(request, WEBHOOK_ID_HEADER, max_chars=MAX_ID_CHARS),
        api_version=_printable(request, API_VERSION_HEADER, max_chars=MAX_API_VERSION_CHARS),
        triggered_at=_triggered_at(request),
        received_at=datetime.now(UTC),
        payload=payload,
    )
    try:
        status = await request.app[WEBHOOK_COMMITTER].submit(delivery, size=len(body))
    except DeliveryRefused:
        raise Problem(
            400, "a value of the delivery could not be stored", title="Invalid delivery"
        ) from None
    except DB_DOWN_ERRORS as e:
        log.error("webhook not recorded: database unavailable (%s)", type(e).__name__)
        raise Problem.unavailable(
            "the database is unavailable; the delivery was not taken"
        ) from None
    if status == "ignored":
        log.info("webhook topic not handled; ignored", extra={"topic": topic, "shop": shop})
    return web.Response(body=b'{"status":"%s"}' % status.encode(), content_type="application/json")


WEBHOOK_COMMITTER = web.AppKey("webhook_committer", GroupCommitter[Delivery, str])
WEBHOOK_WAKER = web.AppKey("webhook_waker", Waker)


async def webhook_committer_ctx(app: web.Application) -> AsyncIterator[None]:
    """The group committer of webhook deliveries and its waker, for the app's lifetime."""
    waker = Waker(name="webhook-wake")
    committer = delivery_committer(waker, stale_after_s=app[keys.CONFIG].outbox.stale_after_s)
    committer.start()
    app[WEBHOOK_COMMITTER] = committer
    app[WEBHOOK_WAKER] = waker
    yield
    await committer.close()
    await waker.close()
