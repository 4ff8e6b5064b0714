"""POST /webhooks: verify the HMAC over the raw body, validate, hand to the intake, answer.

A 200 means the delivery is committed in PostgreSQL (server/webhooks/intake.py); a store
that is down is a 503 with Retry-After (Shopify retries); bad input is a 4xx problem.
"""

from __future__ import annotations

import logging
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
from server.web.bodies import read_capped
from server.web.committers import committer_ctx
from server.web.limits import EDGE_LIMITS
from server.webhook_topics import TOPICS
from server.webhooks.intake import (
    DB_DOWN_ERRORS,
    STORE_TIMEOUT_S,
    Delivery,
    DeliveryRefused,
    delivery_committer,
)

log = logging.getLogger(__name__)

# Shopify sends each header as X-Shopify-Topic, or (newer deliveries) as Shopify-Topic: the
# same rules for both forms, the X- form first.
TOPIC_HEADER = "X-Shopify-Topic"
HMAC_HEADER = "X-Shopify-Hmac-Sha256"
SHOP_HEADER = "X-Shopify-Shop-Domain"
EVENT_ID_HEADER = "X-Shopify-Event-Id"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
TRIGGERED_AT_HEADER = "X-Shopify-Triggered-At"
API_VERSION_HEADER = "X-Shopify-API-Version"


def _get(headers: Any, name: str) -> str:
    """A Shopify header in either form (`X-Shopify-Topic` or `Shopify-Topic`), stripped."""
    value = headers.get(name)
    if value is None:
        value = headers.get(name[2:], "")
    return str(value).strip()


MAX_ID_CHARS = 255
MAX_TOPIC_CHARS = 128
MAX_API_VERSION_CHARS = 32
# X-Shopify-Triggered-At is informational (the HMAC does not cover it): a value outside
# these years is stored as unknown rather than trusted.
TRIGGERED_AT_YEARS = (2000, 2200)


def _too_large(limit: int) -> Problem:
    return Problem(413, f"the webhook body is over {limit} bytes", title="Payload Too Large")


async def read_limited_body(request: web.BaseRequest, limit: int) -> bytes:
    """The raw body, read once; 413 as soon as it is over `limit` bytes."""
    body = await read_capped(request, limit)
    if body is None:
        raise _too_large(limit)
    return body


def _header(headers: Any, name: str, *, max_chars: int) -> str:
    value = _get(headers, name)
    if not value:
        raise Problem(400, f"the {name} (or {name[2:]}) header is required", title="Missing header")
    if len(value) > max_chars or not value.isprintable():
        raise Problem(400, f"the {name} header is not valid", title="Invalid header")
    return value


def _triggered_at(headers: Any) -> datetime | None:
    value = _get(headers, TRIGGERED_AT_HEADER)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None  # informational only: a bad value is recorded as unknown
    if not TRIGGERED_AT_YEARS[0] <= parsed.year <= TRIGGERED_AT_YEARS[1]:
        return None  # out of any sane range: recorded as unknown
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _is_object(body: bytes) -> None:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Problem(400, "the body is not valid JSON", title="Invalid JSON") from None
    if not isinstance(payload, dict):
        raise Problem(400, "the body must be a JSON object", title="Invalid JSON")


def _printable(headers: Any, name: str, *, max_chars: int) -> str:
    """An optional header: empty, or printable and at most `max_chars` (else 400)."""
    value = _get(headers, name)
    if len(value) > max_chars or not value.isprintable():
        raise Problem(400, f"the {name} header is not valid", title="Invalid header")
    return value


_BAD_HMAC = f"the {HMAC_HEADER} (or Shopify-Hmac-Sha256) header is missing or does not verify"
_RESPONSES = {
    status: b'{"status":"%s"}' % status.encode() for status in ("queued", "duplicate", "ignored")
}


async def receive_webhook(request: web.BaseRequest, app: web.Application) -> web.Response:
    """Shopify's webhook delivery: 200 once committed (or a duplicate, or ignored).

    An intake lane (server/web/lanes.py): the per-shop ceiling is charged here, after the
    HMAC verified (anyone can forge the shop header)."""
    config = app[keys.CONFIG]
    headers = request.headers
    limits = app[EDGE_LIMITS]
    claimed = normalize_shop(_get(headers, SHOP_HEADER))
    if claimed is not None:
        # Known over its ceiling in this process: refused before anything is read or stored.
        wait_s = limits.limiter.blocked_for(limits.webhook_shop, claimed)
        if wait_s is not None:
            raise limits.refused(limits.webhook_shop.scope, wait_s)
    body = await read_limited_body(request, config.limits.webhook_max_body_bytes)
    # Before anything else is believed: the HMAC over the raw bytes.
    if not verify_webhook_hmac(
        body, _get(headers, HMAC_HEADER) or None, config.shopify.api_secrets()
    ):
        raise Problem(401, _BAD_HMAC, title="Invalid HMAC")
    topic = _header(headers, TOPIC_HEADER, max_chars=MAX_TOPIC_CHARS)
    _header(headers, SHOP_HEADER, max_chars=MAX_ID_CHARS)
    shop = claimed  # the same header, normalised above
    if shop is None:
        raise Problem(400, f"the {SHOP_HEADER} header is not a *.myshopify.com domain")
    shop_var.set(shop)
    event_id = _get(headers, EVENT_ID_HEADER) or _header(
        headers, WEBHOOK_ID_HEADER, max_chars=MAX_ID_CHARS
    )
    if len(event_id) > MAX_ID_CHARS or not event_id.isprintable():
        raise Problem(400, f"the {EVENT_ID_HEADER} header is not valid", title="Invalid header")
    payload: str | None = None
    if topic in TOPICS:
        _is_object(body)  # a handled topic's body must be a JSON object...
        payload = body.decode()  # ...so it is valid UTF-8 text, kept exactly as signed
    delivery = Delivery(
        shop=shop,
        topic=topic,
        event_id=event_id,
        webhook_id=_printable(headers, WEBHOOK_ID_HEADER, max_chars=MAX_ID_CHARS),
        api_version=_printable(headers, API_VERSION_HEADER, max_chars=MAX_API_VERSION_CHARS),
        triggered_at=_triggered_at(headers),
        payload=payload,
    )
    try:
        status = await app[WEBHOOK_COMMITTER].submit(delivery, size=len(body))
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
    # Verified and stored: this delivery counts against the shop's ceiling (over it only
    # blocks what follows).
    limits.charge_stored(limits.webhook_shop, shop)
    return web.Response(body=_RESPONSES[status], content_type="application/json")


WEBHOOK_COMMITTER = web.AppKey("webhook_committer", GroupCommitter[Delivery, str])
WEBHOOK_WAKER = web.AppKey("webhook_waker", Waker)


# The group committer of webhook deliveries and its waker, for the app's lifetime.
webhook_committer_ctx = committer_ctx(
    delivery_committer,
    committer=WEBHOOK_COMMITTER,
    waker=WEBHOOK_WAKER,
    name="webhook-wake",
    timeout_s=STORE_TIMEOUT_S,
)
