"""POST /webhooks: verify, record (the dedup key), hand to the topic's actor, answer 200.

The delivery row and the broker send share one database transaction: the row commits only
once the message is in the broker, so a 200 always means "queued" (or "ignored", for
topics we do not handle), and a failed send leaves no row behind for Shopify's retry to
trip over. A concurrent copy of the same event waits on the row's unique key until the
first copy commits (then it is a duplicate) or rolls back (then it is the first).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
from aiohttp import web
from tortoise.exceptions import DBConnectionError, OperationalError
from tortoise.transactions import in_transaction

from actors.webhooks import TOPIC_ROUTES, TopicRoute
from server import keys
from server.logs import shop_var
from server.problem import Problem
from server.security.hmac import normalize_shop, verify_webhook_hmac
from server.tasks import BROKER_RETRY_AFTER_S, BrokerUnavailableError, enqueue

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
# Shopify waits 5 s; a store slower than this gets a 503 so Shopify retries.
STORE_TIMEOUT_S = 3.0
DB_RETRY_AFTER_S = "5"

_DB_DOWN = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.OperatorInterventionError,  # admin shutdown, cannot connect now
    asyncpg.ObjectNotInPrerequisiteStateError,  # database not accepting connections
    asyncpg.TooManyConnectionsError,
    DBConnectionError,
    OperationalError,
)

_RECORD_SQL = """
INSERT INTO webhook_deliveries (shop_domain, topic, event_id, webhook_id, api_version,
                                triggered_at, received_at, outcome, duplicates)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)
ON CONFLICT (shop_domain, topic, event_id) DO UPDATE SET
    duplicates = webhook_deliveries.duplicates + 1,
    last_duplicate_at = EXCLUDED.received_at
RETURNING (xmax = 0) AS inserted
"""


async def read_limited_body(request: web.Request, limit: int) -> bytes:
    """The raw body, read once; 413 as soon as it is over `limit` bytes."""
    too_large = Problem(
        413,
        f"the webhook body is over {limit} bytes",
        title="Payload Too Large",
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise too_large
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
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _secrets(request: web.Request) -> list[str]:
    shopify = request.app[keys.CONFIG].shopify
    values = [shopify.api_secret.reveal()]
    if shopify.previous_api_secret:
        values.append(shopify.previous_api_secret.reveal())  # during a secret rotation
    return values


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Problem(400, "the body is not valid JSON", title="Invalid JSON") from None
    if not isinstance(payload, dict):
        raise Problem(400, "the body must be a JSON object", title="Invalid JSON")
    return payload


async def receive_webhook(request: web.Request) -> web.Response:
    """Shopify's webhook delivery: 200 once queued (or a duplicate, or ignored)."""
    limit = request.app[keys.CONFIG].limits.webhook_max_body_bytes
    body = await read_limited_body(request, limit)
    # Before anything else is believed: the HMAC over the raw bytes.
    if not verify_webhook_hmac(body, request.headers.get(HMAC_HEADER), _secrets(request)):
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
    route = TOPIC_ROUTES.get(topic)
    payload = _payload(body) if route is not None else None

    received_at = datetime.now(UTC)
    triggered_at = _triggered_at(request)
    delivery = {
        "event_id": event_id,
        "webhook_id": request.headers.get(WEBHOOK_ID_HEADER, "")[:MAX_ID_CHARS],
        "triggered_at": triggered_at.isoformat() if triggered_at else None,
        "received_at": received_at.isoformat(),
    }
    try:
        async with asyncio.timeout(STORE_TIMEOUT_S):
            status = await _record_and_enqueue(
                route,
                topic=topic,
                shop=shop,
                payload=payload,
                delivery=delivery,
                api_version=request.headers.get(API_VERSION_HEADER, "")[:32],
                triggered_at=triggered_at,
                received_at=received_at,
            )
    except BrokerUnavailableError:
        raise Problem(
            503,
            "the job queue is unavailable; the delivery was not taken",
            headers={"Retry-After": BROKER_RETRY_AFTER_S},
        ) from None
    except _DB_DOWN as e:
        log.error("webhook not recorded: database unavailable (%s)", type(e).__name__)
        raise Problem(
            503,
            "the database is unavailable; the delivery was not taken",
            headers={"Retry-After": DB_RETRY_AFTER_S},
        ) from None
    if status == "ignored":
        log.info("webhook topic not handled; ignored", extra={"topic": topic, "shop": shop})
    return web.Response(body=b'{"status":"%s"}' % status.encode(), content_type="application/json")


async def _record_and_enqueue(
    route: TopicRoute | None,
    *,
    topic: str,
    shop: str,
    payload: dict[str, Any] | None,
    delivery: dict[str, Any],
    api_version: str,
    triggered_at: datetime | None,
    received_at: datetime,
) -> str:
    """Insert the delivery row and send its message in one transaction; the outcome."""
    outcome = "queued" if route is not None else "ignored"
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            _RECORD_SQL,
            [
                shop,
                topic,
                delivery["event_id"],
                delivery["webhook_id"],
                api_version,
                triggered_at,
                received_at,
                outcome,
            ],
        )
        if not rows[0]["inserted"]:
            return "duplicate"
        if route is not None:
            # Raising here rolls the row back: Shopify's retry will find no record.
            if route.with_delivery:
                await enqueue(route.actor, topic, shop, payload, delivery=delivery)
            else:
                await enqueue(route.actor, topic, shop, payload)
    return outcome
