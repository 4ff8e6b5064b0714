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
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
import dramatiq.errors
import orjson
import redis
from aiohttp import web
from tortoise import Tortoise
from tortoise.exceptions import OperationalError

from actors.webhooks import TOPIC_ROUTES
from server import keys
from server.logs import shop_var
from server.problem import Problem
from server.security.hmac import normalize_shop, verify_webhook_hmac
from server.stores import STORE_DOWN_ERRORS
from server.tasks import BROKER_RETRY_AFTER_S, BrokerUnavailableError

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

# Everything that means "the database did not take it" (Shopify retries on 503).
_DB_DOWN: tuple[type[BaseException], ...] = (*STORE_DOWN_ERRORS, OperationalError)

# One statement for a whole flush: rows that are new come back with inserted = true.
_RECORD_BATCH_SQL = """
INSERT INTO webhook_deliveries (shop_domain, topic, event_id, webhook_id, api_version,
                                triggered_at, received_at, outcome, duplicates)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::timestamptz[], $7::timestamptz[], $8::text[], $9::int[])
ON CONFLICT (shop_domain, topic, event_id) DO UPDATE SET
    duplicates = webhook_deliveries.duplicates + 1 + EXCLUDED.duplicates,
    last_duplicate_at = EXCLUDED.received_at
RETURNING shop_domain, topic, event_id, (xmax = 0) AS inserted
"""

# Group commit: a flush waits this long for company, and carries at most this much.
FLUSH_INTERVAL_S = 0.002
MAX_BATCH_DELIVERIES = 256
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_CONCURRENT_FLUSHES = 2


@dataclass(slots=True)
class _Delivery:
    shop: str
    topic: str
    event_id: str
    webhook_id: str
    api_version: str
    triggered_at: datetime | None
    received_at: datetime
    message: dict[str, Any] | None  # None for a topic we do not handle
    size: int
    future: asyncio.Future[str]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.shop, self.topic, self.event_id)


class DeliveryCommitter:
    """Group commit of webhook deliveries: one transaction and one broker message per flush.

    Each request waits for its flush. In the flush, one INSERT records every delivery (the
    unique key dedups against earlier ones; copies inside the flush are folded first), and
    the new deliveries go to the broker as one `dispatch_webhooks` message, inside the same
    transaction: the rows commit only once the message is in the broker. A flush that
    fails fails all of its requests (503), and none of its rows stay behind.
    """

    def __init__(
        self,
        send: Callable[[list[dict[str, Any]]], object],
        *,
        interval_s: float = FLUSH_INTERVAL_S,
        max_deliveries: int = MAX_BATCH_DELIVERIES,
        max_bytes: int = MAX_BATCH_BYTES,
        max_flushes: int = MAX_CONCURRENT_FLUSHES,
    ) -> None:
        self._send = send
        self._interval_s = interval_s
        self._max_deliveries = max_deliveries
        self._max_bytes = max_bytes
        self._pending: deque[_Delivery] = deque()
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(max_flushes)
        self._flushes: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        # Dramatiq's send is blocking I/O: its own thread, never the event loop.
        self._executor = ThreadPoolExecutor(max_workers=max_flushes,
                                            thread_name_prefix="webhook-send")

    def start(self) -> None:
        """Start the flusher on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook-commit")

    async def close(self) -> None:
        """Flush what is waiting, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
        self._executor.shutdown(wait=True)

    async def submit(self, delivery: _Delivery) -> str:
        """Wait for the delivery's flush; its outcome (queued, ignored or duplicate)."""
        if self._closing:
            raise BrokerUnavailableError("shutting down")
        self._pending.append(delivery)
        self._wakeup.set()
        return await delivery.future

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if not self._pending:
                if self._closing:
                    return
                continue
            if self._interval_s > 0 and not self._closing:
                await asyncio.sleep(self._interval_s)
            while self._pending:
                await self._slots.acquire()
                batch = self._take()
                task = asyncio.get_running_loop().create_task(self._flush(batch))
                self._flushes.add(task)
                task.add_done_callback(self._flushes.discard)

    def _take(self) -> list[_Delivery]:
        batch: list[_Delivery] = []
        size = 0
        while self._pending and len(batch) < self._max_deliveries:
            item = self._pending[0]
            if batch and size + item.size > self._max_bytes:
                break
            batch.append(self._pending.popleft())
            size += item.size
        return batch

    async def _flush(self, batch: list[_Delivery]) -> None:
        try:
            outcomes = await self._record_and_send(batch)
        except BaseException as e:  # every waiter learns the flush failed, whatever it was
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(e)
            if not isinstance(e, Exception):
                raise
        else:
            for item, outcome in zip(batch, outcomes, strict=True):
                if not item.future.done():
                    item.future.set_result(outcome)
        finally:
            self._slots.release()

    async def _record_and_send(self, batch: list[_Delivery]) -> list[str]:
        # Copies of one event inside the flush: the first stands for them, the rest count.
        first: dict[tuple[str, str, str], _Delivery] = {}
        extra: dict[tuple[str, str, str], int] = {}
        for item in batch:
            if item.key in first:
                extra[item.key] = extra.get(item.key, 0) + 1
            else:
                first[item.key] = item
        # In key order: two concurrent flushes then lock shared keys in the same order and
        # never deadlock on each other.
        rows = sorted(first.values(), key=lambda d: d.key)
        # The raw asyncpg connection: this is the hot path of every delivery, and the ORM's
        # wrappers around a single statement cost more than the statement here.
        async with (
            Tortoise.get_connection("default").acquire_connection() as conn,
            conn.transaction(),
        ):
            result = await conn.fetch(
                _RECORD_BATCH_SQL,
                *[
                    [d.shop for d in rows],
                    [d.topic for d in rows],
                    [d.event_id for d in rows],
                    [d.webhook_id for d in rows],
                    [d.api_version for d in rows],
                    [d.triggered_at for d in rows],
                    [d.received_at for d in rows],
                    ["queued" if d.message is not None else "ignored" for d in rows],
                    [extra.get(d.key, 0) for d in rows],
                ],
            )
            inserted = {
                (r["shop_domain"], r["topic"], r["event_id"]) for r in result if r["inserted"]
            }
            messages = [d.message for d in rows if d.key in inserted and d.message is not None]
            if messages:
                loop = asyncio.get_running_loop()
                try:
                    await loop.run_in_executor(self._executor, self._send, messages)
                except (dramatiq.errors.DramatiqError, redis.RedisError, OSError) as e:
                    # Raising rolls the rows back: Shopify's retry will find no record.
                    log.error("broker refused %d webhook deliveries: %s", len(messages),
                              type(e).__name__)
                    raise BrokerUnavailableError("dispatch_webhooks") from e
        outcomes = []
        seen: set[tuple[str, str, str]] = set()
        for item in batch:
            if item.key in inserted and item.key not in seen:
                seen.add(item.key)
                outcomes.append("queued" if item.message is not None else "ignored")
            else:
                outcomes.append("duplicate")
        return outcomes


async def read_limited_body(request: web.Request, limit: int) -> bytes:
    """The raw body, read once; 413 as soon as it is over `limit` bytes."""
    too_large = Problem(
        413,
        f"the webhook body is over {limit} bytes",
        title="Payload Too Large",
    )
    length = request.content_length
    if length is not None:
        if length > limit:
            raise too_large
        # The common case (Shopify sends Content-Length): one read, no chunk loop.
        return await request.read()
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
    event = {
        "event_id": event_id,
        "webhook_id": request.headers.get(WEBHOOK_ID_HEADER, "")[:MAX_ID_CHARS],
        "triggered_at": triggered_at.isoformat() if triggered_at else None,
        "received_at": received_at.isoformat(),
    }
    delivery = _Delivery(
        shop=shop,
        topic=topic,
        event_id=event_id,
        webhook_id=str(event["webhook_id"]),
        api_version=request.headers.get(API_VERSION_HEADER, "")[:32],
        triggered_at=triggered_at,
        received_at=received_at,
        message=(
            {"topic": topic, "shop": shop, "payload": payload, "delivery": event}
            if route is not None
            else None
        ),
        size=len(body),
        future=asyncio.get_running_loop().create_future(),
    )
    try:
        async with asyncio.timeout(STORE_TIMEOUT_S):
            status = await request.app[WEBHOOK_COMMITTER].submit(delivery)
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


WEBHOOK_COMMITTER = web.AppKey("webhook_committer", DeliveryCommitter)


async def webhook_committer_ctx(app: web.Application) -> AsyncIterator[None]:
    """The group committer of webhook deliveries, for the app's lifetime."""
    from actors.webhooks import dispatch_webhooks

    committer = DeliveryCommitter(dispatch_webhooks.send)
    committer.start()
    app[WEBHOOK_COMMITTER] = committer
    yield
    await committer.close()
